"""Deadlines: SLA clocks on requests, the legal extension, the sweep and auto-close.

The calendar arithmetic is pure code in ``app.calendar``; this package ties
it to the database (policies, the municipal override table, ticket columns).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from app.calendar import parse_office_hours
from app.config import ConfigError


def check_settings(config) -> None:
    try:
        parse_office_hours(config["OFFICE_HOURS"])
    except ValueError as exc:
        raise ConfigError(f"OFFICE_HOURS: {exc}") from exc
    try:
        ZoneInfo(config["OFFICE_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"OFFICE_TIMEZONE: unknown zone {config['OFFICE_TIMEZONE']!r}") from exc


def init_app(app: Flask) -> None:
    """Register the staff pages (extension form, holiday admin), template helpers, CLI.

    :raise ConfigError: when ``OFFICE_HOURS`` or ``OFFICE_TIMEZONE`` cannot be
        read, so a typo stops start-up instead of failing every new request.
    """
    check_settings(app.config)
    from app.deadlines.cli import deadlines_cli
    from app.deadlines.clock import can_extend
    from app.deadlines.display import deadline_state, first_response_state
    from app.deadlines.forms import ExtensionForm
    from app.deadlines.routes import bp

    app.register_blueprint(bp)
    app.cli.add_command(deadlines_cli)
    app.add_template_filter(deadline_state, "deadline_state")
    app.add_template_filter(first_response_state, "first_response_state")
    app.add_template_global(lambda: ExtensionForm(formdata=None), "new_extension_form")
    app.add_template_global(can_extend, "can_extend_deadline")
