"""Template filters and globals shared by all pages and emails."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime

from app.i18n import current_locale
from app.tickets.models import Status

# Per language: "long" for pages and emails, "short" for tables and exports.
# Spanish keeps the Chilean 24-hour day-month-year order; English reads
# "1 December 2026, 14:05" (day first, so dates are never read US-style).
DATETIME_PATTERNS = {
    "es": {"long": "d 'de' MMMM 'de' y, HH:mm", "short": "dd-MM-y HH:mm",
           "day_time": "d 'de' MMMM 'a las' HH:mm"},
    "en": {"long": "d MMMM y, HH:mm", "short": "dd-MM-y HH:mm",
           "day_time": "d MMMM 'at' HH:mm"},
}
DATE_PATTERNS = {
    "es": {"long": "d 'de' MMMM 'de' y", "weekday": "EEEE d 'de' MMMM 'de' y",
           "month": "MMMM 'de' y", "short": "dd-MM-y"},
    "en": {"long": "d MMMM y", "weekday": "EEEE d MMMM y", "month": "MMMM y",
           "short": "dd-MM-y"},
}


def _language() -> str:
    return "en" if current_locale().startswith("en") else "es"


def local_datetime(value: datetime | None, style: str = "medium") -> str:
    """A UTC instant shown in America/Santiago, in the user's locale.

    ``style`` is ``long``, ``short``, a Babel style (``medium``...) or a CLDR pattern.
    """
    if value is None:
        return ""
    return format_datetime(value, DATETIME_PATTERNS[_language()].get(style, style))


def local_date(value: date | datetime | None, style: str = "long") -> str:
    """A day in the user's locale (an instant: its day in America/Santiago).

    ``style`` is ``long`` («31 de diciembre de 2026» / «31 December 2026»),
    ``weekday``, ``month`` («diciembre de 2026» / «December 2026») or ``short``.
    """
    if value is None:
        return ""
    return format_date(value, DATE_PATTERNS[_language()][style])


def init_app(app: Flask) -> None:
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(local_date, "local_date")
    app.add_template_global(Status, "Status")

    @app.context_processor
    def municipality():
        return {"municipality_name": app.config["MUNICIPALITY_NAME"]}
