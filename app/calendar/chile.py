"""Chile's public holidays (``holidays`` package) with municipal overrides."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays


class MunicipalHolidays:
    """National holidays of Chile, plus extra closures, minus working-day overrides.

    A container of dates (``day in calendar_holidays``); the national list
    is computed per year on demand, so it covers any date asked about.
    """

    def __init__(self, closures: Iterable[date] = (), working_days: Iterable[date] = ()):
        self._national = holidays.country_holidays("CL")  # expands years lazily
        self.closures = frozenset(closures)
        self.working_days = frozenset(working_days)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self.working_days:
            return False
        return day in self.closures or day in self._national

    def name(self, day: date) -> str | None:
        """The national holiday's name (English, from the package), if any."""
        return self._national.get(day)


def national_holidays(years: Iterable[int], language: str = "es") -> dict[date, str]:
    """Chile's public holidays in ``years``, named in ``language`` (``es`` or ``en``)."""
    names = "en_US" if language == "en" else "es"
    return dict(holidays.country_holidays("CL", years=list(years), language=names))
