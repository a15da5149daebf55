"""Administration pages: catalogue, staff, API keys and email previews (admins only)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.admin.routes import bp

    app.register_blueprint(bp)
