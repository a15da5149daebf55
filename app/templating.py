"""Template filters and globals shared by all pages and emails."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime

from app.tickets.models import Status


def local_datetime(value: datetime | None, style: str = "medium") -> str:
    """A UTC instant shown in America/Santiago, in the user's locale."""
    if value is None:
        return ""
    patterns = {"long": "d 'de' MMMM 'de' y, HH:mm", "short": "dd-MM-y HH:mm"}
    return format_datetime(value, patterns.get(style, style))


def init_app(app: Flask) -> None:
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_global(Status, "Status")

    @app.context_processor
    def municipality():
        return {"municipality_name": app.config["MUNICIPALITY_NAME"]}
