"""Instants the metrics group by, computed in Python so SQL only compares.

Months are local (office time zone) months; ageing counts business days of
the business calendar. Both become ascending lists of UTC instants that
``expressions.bucket_index`` turns into a CASE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from app.calendar import BusinessCalendar

# Ageing buckets in business days: (label, lowest age, highest age or None).
AGEING_BUCKETS = [
    ("0–2", 0, 2),
    ("3–5", 3, 5),
    ("6–10", 6, 10),
    ("11–20", 11, 20),
    (_l("Más de 20"), 21, None),
]

PRESETS = {
    "este-mes": _l("Este mes"),
    "30-dias": _l("Últimos 30 días"),
    "90-dias": _l("Últimos 90 días"),
    "este-ano": _l("Este año"),
}
_SCAN_LIMIT = 3660


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of local ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """First and last local day (inclusive) of a preset ending ``today``.

    :raise KeyError: for an unknown preset.
    """
    if preset == "este-mes":
        return today.replace(day=1), today
    if preset == "30-dias":
        return today - timedelta(days=29), today
    if preset == "90-dias":
        return today - timedelta(days=89), today
    if preset == "este-ano":
        return today.replace(month=1, day=1), today
    raise KeyError(preset)


def month_starts(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s month to ``last``'s."""
    months = []
    current = first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def month_boundaries(first: date, last: date, tz: ZoneInfo) -> list[datetime]:
    """Local month starts as UTC instants, plus the start of the month after ``last``."""
    months = month_starts(first, last)
    after = (months[-1] + timedelta(days=32)).replace(day=1) if months else first
    return [local_midnight(m, tz) for m in [*months, after]]


def business_days_back(calendar: BusinessCalendar, today: date, count: int) -> date:
    """The ``count``-th business day counting back from ``today`` (``today`` is 1 if
    it is a business day).

    A request's age in business days is the number of business days after
    its local filing date up to ``today``, so it is at most N exactly when it
    was filed on or after ``business_days_back(today, N + 1)``.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    day, found = today, 0
    for _ in range(_SCAN_LIMIT):
        if calendar.is_business_day(day):
            found += 1
            if found == count:
                return day
        day -= timedelta(days=1)
    raise ValueError("calendar has no business day in ten years")


@dataclass(frozen=True)
class AgeingBoundaries:
    """Where the ageing buckets start and end.

    ``instants`` are the ascending UTC instants between buckets (for
    ``bucket_index``); ``first_days``/``last_days`` give, per bucket in
    ``AGEING_BUCKETS`` order (youngest first), the local filing days it
    holds (None: no limit on that side), for links to the queue.
    """

    instants: list[datetime]
    first_days: list[date | None]
    last_days: list[date | None]

    def bucket_position(self, index: int) -> int:
        """The ``AGEING_BUCKETS`` position of a ``bucket_index`` value."""
        return len(self.instants) - 1 - index if index >= 0 else len(self.instants)


def ageing_boundaries(calendar: BusinessCalendar, now: datetime) -> AgeingBoundaries:
    """Boundaries of ``AGEING_BUCKETS`` at ``now`` on ``calendar``."""
    today = now.astimezone(calendar.tz).date()
    # Youngest bucket first: bucket i holds ages <= highest_i, i.e. filed on or
    # after the (highest_i + 1)-th business day back.
    limits = [business_days_back(calendar, today, high + 1)
              for _label, _low, high in AGEING_BUCKETS if high is not None]
    first_days: list[date | None] = [*limits, None]
    last_days: list[date | None] = [None] + [d - timedelta(days=1) for d in limits]
    instants = sorted(local_midnight(d, calendar.tz) for d in limits)
    return AgeingBoundaries(instants=instants, first_days=first_days, last_days=last_days)


# Ranges up to this many days are charted by week, longer ones by month.
WEEKLY_MAX_DAYS = 120


def time_grain(first: date, last: date) -> str:
    """``"semana"`` for a range of up to ``WEEKLY_MAX_DAYS`` days, else ``"mes"``."""
    return "semana" if (last - first).days + 1 <= WEEKLY_MAX_DAYS else "mes"


def period_spans(first: date, last: date, grain: str) -> list[tuple[date, date]]:
    """The weeks (Monday to Sunday) or months touching ``first``..``last``, each
    clipped to the range: ``(first day, last day)``, inclusive, in order.

    :raise ValueError: for an unknown grain.
    """
    if grain == "semana":
        start = first - timedelta(days=first.weekday())
        step = lambda day: day + timedelta(days=7)  # noqa: E731 - a tiny local rule
    elif grain == "mes":
        start = first.replace(day=1)
        step = lambda day: (day + timedelta(days=32)).replace(day=1)  # noqa: E731
    else:
        raise ValueError(f"unknown grain {grain!r}")
    spans = []
    while start <= last:
        after = step(start)
        spans.append((max(start, first), min(after - timedelta(days=1), last)))
        start = after
    return spans


def span_boundaries(spans: list[tuple[date, date]], tz: ZoneInfo) -> list[datetime]:
    """Each span's local start as a UTC instant, plus the end of the last span."""
    if not spans:
        return []
    return [local_midnight(first, tz) for first, _last in spans] + [
        local_midnight(spans[-1][1] + timedelta(days=1), tz)]
