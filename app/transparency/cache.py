"""The cache of the public figures (Flask-Caching).

SimpleCache (per process) by default; Redis when ``CACHE_REDIS_URL`` is set,
so every web worker shares one copy. Entries live
``TRANSPARENCY_CACHE_SECONDS`` (default 600): the public page may show a
figure up to ten minutes old, and under load the database answers at most one
set of aggregate queries per page per ten minutes per cache.
"""

from __future__ import annotations

from flask import Flask
from flask_caching import Cache

cache = Cache()

MUNICIPALITY_KEY = "transparency:municipality"


def department_key(slug: str) -> str:
    return f"transparency:department:{slug}"


def page_key(locale: str, path: str) -> str:
    """The rendered public page ``path`` in ``locale``, for anonymous visitors."""
    return f"transparency:page:{locale}:{path}"


def init_cache(app: Flask) -> None:
    if app.config.get("CACHE_REDIS_URL"):
        app.config.setdefault("CACHE_TYPE", "RedisCache")
    else:
        app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", app.config["TRANSPARENCY_CACHE_SECONDS"])
    app.config.setdefault("CACHE_KEY_PREFIX", "conectados:")
    cache.init_app(app)
