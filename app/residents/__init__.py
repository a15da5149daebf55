"""Resident access to "Mis solicitudes" by a passwordless email link."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.residents.routes import bp

    app.register_blueprint(bp)
