"""A gentle bot check for the public request form: a honeypot and a fill time.

- ``website``: a text field in a ``<div hidden>``. Browsers do not show it,
  screen readers do not announce it and the keyboard cannot reach it, so a
  person never fills it; form-filling bots do.
- ``form_started``: the time the form was shown, signed with ``SECRET_KEY``
  (itsdangerous). A submission less than ``FORM_MIN_FILL_SECONDS`` after it,
  or with a missing or forged stamp, looks automatic.

Either way nothing is dropped: the view shows the same form, filled in, with
«¿Eres una persona? Revisa los datos y envía de nuevo», and a fresh stamp.
A person simply sends again. ``FORM_MIN_FILL_SECONDS=0`` turns the time check
off (the HTTP tests post at once); the honeypot always applies.
"""

from __future__ import annotations

import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

HONEYPOT_FIELD = "website"
STAMP_FIELD = "form_started"
_SALT = "conectados-form-started"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def new_stamp(now: float | None = None) -> str:
    """A signed stamp of ``now`` (seconds) for the form's hidden field."""
    return _serializer().dumps(int((now if now is not None else time.time()) * 1000))


def looks_automatic(form_data, now: float | None = None) -> bool:
    """True when the honeypot is filled or the form came back too fast."""
    if (form_data.get(HONEYPOT_FIELD) or "").strip():
        return True
    minimum = current_app.config.get("FORM_MIN_FILL_SECONDS", 2)
    if not minimum:
        return False
    try:
        started_ms = int(_serializer().loads(form_data.get(STAMP_FIELD) or ""))
    except (BadSignature, TypeError, ValueError):
        return True
    now = now if now is not None else time.time()
    return (now * 1000 - started_ms) < minimum * 1000
