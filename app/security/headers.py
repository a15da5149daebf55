"""Security headers on every response (a small ``after_request``, not Talisman).

Flask-Talisman would also do this, but it forces its own HTTPS redirect and
session-cookie settings, and the few pages that need another policy (survey
embeds, served attachments) already set their own ``Content-Security-Policy``;
one function that adds what is missing is easier to read and to test.

- ``Content-Security-Policy``: ``CSP`` below, with ``frame-ancestors 'none'``.
  No inline scripts or styles anywhere in ``templates/`` (emails excepted:
  they are never served by the app), so nothing needs ``'unsafe-inline'``.
  A response that already has a CSP keeps it, with the site's directives
  added for those it does not name (survey embeds set only
  ``frame-ancestors $SURVEY_EMBED_ANCESTORS``; attachments set their own
  sandbox policy).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``X-Frame-Options: DENY`` (older browsers; not for embeds).
- ``Strict-Transport-Security`` only in production (``CONECTADOS_ENV=production``);
  the app never redirects to HTTPS itself: the proxy does (docs/DEPLOYMENT.md).
"""

from __future__ import annotations

from flask import Flask
from flask.wrappers import Response

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}
HSTS = "max-age=31536000; includeSubDomains"


def _merge_csp(existing: str | None) -> str:
    directives = {}
    for part in (existing or "").split(";"):
        name, _sep, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    # A policy with its own default-src (attachments: 'none') keeps its sources.
    own_sources = "default-src" in directives
    for name, value in CSP.items():
        if name not in directives and not (own_sources and name.endswith("-src")):
            directives[name] = value
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


def secure_headers(response: Response, *, production: bool) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = _merge_csp(headers.get("Content-Security-Policy"))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
        headers.setdefault("X-Frame-Options", "DENY")
    if production:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    production = app.config.get("CONECTADOS_ENV") == "production"

    @app.after_request
    def _add_security_headers(response: Response) -> Response:
        return secure_headers(response, production=production)
