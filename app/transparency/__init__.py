"""Public transparency pages ("Transparencia Focalizada") and open data.

Public figures come from ``app.metrics.public`` (SQL aggregates with
small-number suppression), cached by ``app.transparency.cache``. Departments
write monthly progress updates at /gestion/transparencia.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the public and staff blueprints and the figures cache."""
    from app.metrics import percentile  # noqa: F401  (SQLite aggregate on every connection)
    from app.transparency.cache import init_cache
    from app.transparency.routes import public_bp, staff_bp

    app.config.setdefault("TRANSPARENCY_MIN_N", 5)
    app.config.setdefault("TRANSPARENCY_CACHE_SECONDS", 600)
    app.config.setdefault("OPEN_DATA_YEARS", 3)
    init_cache(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
