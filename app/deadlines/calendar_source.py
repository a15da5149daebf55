"""Build the business calendar from the settings and the override table."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.calendar import BusinessCalendar, parse_office_hours
from app.calendar.chile import MunicipalHolidays
from app.deadlines.models import HolidayOverride, OverrideKind


def load_calendar(session: Session) -> BusinessCalendar:
    """The calendar in force now: ``OFFICE_HOURS``, ``OFFICE_TIMEZONE``, CL holidays
    plus the municipal closures, minus the working-day overrides.

    :raise ValueError: if ``OFFICE_HOURS`` cannot be read.
    """
    config = current_app.config
    rows = session.execute(sa.select(HolidayOverride.day, HolidayOverride.kind)).all()
    holidays = MunicipalHolidays(
        closures=[day for day, kind in rows if kind is OverrideKind.CLOSURE],
        working_days=[day for day, kind in rows if kind is OverrideKind.WORKING_DAY],
    )
    return BusinessCalendar(hours=parse_office_hours(config["OFFICE_HOURS"]),
                            tz=ZoneInfo(config["OFFICE_TIMEZONE"]), holidays=holidays)
