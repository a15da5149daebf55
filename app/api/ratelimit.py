"""Rate limits for the API and Open311, on Flask-Limiter's storage.

Limits are checked explicitly in the views (one line, easy to see) rather
than by decorators, so the REST API and Open311 can answer a breach in their
own error format. The storage is ``RATELIMIT_STORAGE_URI`` (memory by
default; Redis when several web hosts run).
"""

from __future__ import annotations

import time

from flask import current_app
from limits import parse

from app.extensions import limiter


class RateLimited(Exception):
    """The caller spent its allowance; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


def check(bucket: str, setting: str, key: str) -> None:
    """Count one hit of ``key`` in ``bucket`` against the limit in config ``setting``.

    :raise RateLimited: when the limit (e.g. ``"60/minute"``) is exceeded.
    """
    if not limiter.enabled:
        return
    item = parse(current_app.config[setting])
    strategy = limiter.limiter
    if not strategy.hit(item, bucket, key):
        reset_at, _remaining = strategy.get_window_stats(item, bucket, key)
        raise RateLimited(max(1, int(reset_at - time.time())))
