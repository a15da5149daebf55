"""Abuse limits on the public and login pages (Flask-Limiter, per client address).

The limits are settings (``*_RATE_LIMIT``, Flask-Limiter syntax such as
``"10/minute;50/hour"``); the storage is ``RATELIMIT_STORAGE_URI`` (memory by
default, Redis when several web processes run). The address is the client's
as seen through ``PROXY_COUNT`` trusted proxies (``ProxyFix``). The REST API
and Open311 keep their own checks in ``app.api.ratelimit`` on the same storage.

A breach answers 429 with a Spanish page (``app.errors``).
"""

from __future__ import annotations

from flask import current_app
from flask.wrappers import Response
from flask_babel import gettext as _

from app.extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


def _is_miss(response: Response) -> bool:
    """Only unknown or mistyped codes count towards the tracking limit."""
    return response.status_code in (404, 422)


# POST /gestion/ingresar and the reset form: guessing passwords from one address.
# (Each account also locks progressively: accounts.services.authenticate.)
def _message() -> str:
    # Machine endpoints (API, Open311) show the breach's description.
    return _("Demasiados intentos seguidos; espera un minuto y vuelve a intentarlo.")


login_limit = limiter.shared_limit(_setting("LOGIN_RATE_LIMIT"), scope="login",
                                   methods=["POST"], error_message=_message)
reset_limit = limiter.shared_limit(_setting("PASSWORD_RESET_RATE_LIMIT"),
                                   scope="password-reset", methods=["POST"],
                                   error_message=_message)

# The resident form's POST.
submission_limit = limiter.limit(_setting("SUBMIT_RATE_LIMIT"), methods=["POST"],
                                 error_message=_message)

# Every page reached by a tracking code shares one budget of misses per address,
# so nobody can walk the code space; right codes do not count.
tracking_limit = limiter.shared_limit(_setting("TRACKING_MISS_RATE_LIMIT"),
                                      scope="tracking-misses", deduct_when=_is_miss,
                                      error_message=_message)
