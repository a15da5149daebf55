"""Staff productivity: canned answers, saved queue filters, bulk actions, shortcuts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.productivity import templating
    from app.productivity.routes import bp

    app.register_blueprint(bp)
    templating.init_app(app)
