"""Security plumbing: headers, health checks, proxy addresses, abuse limits.

See docs/SECURITY.md for the threat model and the access matrix, and
``app.accounts.permissions`` for the role checks.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    from app.extensions import login_manager
    from app.security import headers
    from app.security.health import bp as health_bp

    # Behind N trusted reverse proxies, take the client address (and scheme,
    # host) from their X-Forwarded-* headers, so per-address limits see the
    # real client. 0 (the default) trusts no header at all.
    proxies = app.config.get("PROXY_COUNT", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies)
    # A session cookie used from another address or browser is dropped.
    login_manager.session_protection = "strong"
    headers.init_app(app)
    from app.security.honeypot import new_stamp

    app.add_template_global(new_stamp, "form_started_stamp")
    app.register_blueprint(health_bp)
