"""Office-hours arithmetic: add business hours or days, measure business time.

Every instant in and out is timezone-aware (UTC or any zone); the office
hours are wall-clock times in the calendar's zone, so a DST change moves the
UTC offset of 08:30 but never the 08:30 itself. Durations are real seconds,
so a 08:30-17:30 day is nine hours whichever offset it has.

Conventions:
- An office day is the half-open wall-clock span ``[open, close)`` of a
  weekday with hours that is not a holiday; ``close`` itself still counts as
  "within office hours" for a due date (a deadline at 17:30 is on time).
- N business days from an instant end at the close of the N-th business day
  strictly after the instant's local date (the filing day never counts, as
  for Ley 20.285 "días hábiles" from the day after filing).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Monday=0 ... Sunday=6, as ``date.weekday()``.
OfficeHours = Mapping[int, tuple[time, time]]

_DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_SPEC_RE = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<open>\d{1,2}:\d{2})\s*-\s*(?P<close>\d{1,2}:\d{2})\s*$")
# Guards against looping forever over a calendar with no office time at all.
_MAX_DAYS_SCANNED = 3660


def parse_office_hours(spec: str) -> dict[int, tuple[time, time]]:
    """Parse ``"mon-thu 08:30-17:30, fri 08:30-16:30"`` into weekday spans.

    :raise ValueError: on an unknown day, a malformed time, or open >= close.
    """
    hours: dict[int, tuple[time, time]] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        match = _SPEC_RE.match(part.lower())
        if not match:
            raise ValueError(f"office hours: cannot read {part.strip()!r}")
        first = _DAY_NAMES.get(match["first"])
        last = _DAY_NAMES.get(match["last"] or match["first"])
        if first is None or last is None or last < first:
            raise ValueError(f"office hours: bad day range in {part.strip()!r}")
        opens = time.fromisoformat(match["open"].zfill(5))
        closes = time.fromisoformat(match["close"].zfill(5))
        if opens >= closes:
            raise ValueError(f"office hours: opening must be before closing in {part!r}")
        for day in range(first, last + 1):
            hours[day] = (opens, closes)
    if not hours:
        raise ValueError("office hours: no day has hours")
    return hours


@dataclass(frozen=True)
class BusinessCalendar:
    """Office hours by weekday in ``tz``, minus the dates in ``holidays``."""

    hours: OfficeHours
    tz: ZoneInfo
    holidays: Container[date] = field(default_factory=frozenset)

    # -- days -----------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.hours and day not in self.holidays

    def office_span(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening and closing instants (aware, in ``tz``), or None."""
        if not self.is_business_day(day):
            return None
        opens, closes = self.hours[day.weekday()]
        return (datetime.combine(day, opens, self.tz), datetime.combine(day, closes, self.tz))

    def _spans_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Office spans from ``start`` on, the first one clipped to start at it."""
        start_utc = start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS_SCANNED):
            span = self.office_span(day)
            day += timedelta(days=1)
            if span is None:
                continue
            opens, closes = (s.astimezone(UTC) for s in span)
            if closes <= start_utc:
                continue
            yield max(opens, start_utc), closes
        raise ValueError("calendar has no office time in ten years")

    # -- adding -----------------------------------------------------------------

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant after ``seconds`` of office time from ``start`` (UTC).

        With ``seconds`` > 0 the answer lies within office hours (possibly at
        a closing time); with 0 it is ``start`` moved forward to the next
        office moment if it was outside office hours.
        """
        _check_aware(start)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        remaining = timedelta(seconds=seconds)
        for opens, closes in self._spans_from(start):
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("unreachable")  # _spans_from raises first

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        return self.add_business_seconds(start, hours * 3600)

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """Closing time of the ``days``-th business day after ``start``'s local date (UTC).

        ``days`` = 0 gives the close of ``start``'s own day if that is a
        business day, else the close of the next one.
        """
        _check_aware(start)
        if days < 0:
            raise ValueError("days must not be negative")
        day = start.astimezone(self.tz).date()
        if days == 0:
            for _ in range(_MAX_DAYS_SCANNED):
                if self.is_business_day(day):
                    break
                day += timedelta(days=1)
            else:
                raise ValueError("calendar has no business day in ten years")
        counted = 0
        for _ in range(_MAX_DAYS_SCANNED * 2):
            if counted == days:
                break
            day += timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        else:
            raise ValueError("calendar has no business day in ten years")
        span = self.office_span(day)
        if span is None:  # is_business_day() promised office hours on that day
            raise RuntimeError(f"business day {day} has no office span")
        return span[1].astimezone(UTC)

    # -- measuring --------------------------------------------------------------

    def business_seconds_between(
        self, start: datetime, end: datetime,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> float:
        """Office seconds in ``[start, end)``, minus office seconds inside ``pauses``.

        Overlapping pauses count once; pause parts outside ``[start, end)`` are
        ignored. Returns 0 when ``end`` <= ``start``.
        """
        _check_aware(start)
        _check_aware(end)
        if end <= start:
            return 0.0
        total = self._office_seconds(start, end)
        for p_start, p_end in _merge(pauses):
            lo, hi = max(p_start, start), min(p_end, end)
            if lo < hi:
                total -= self._office_seconds(lo, hi)
        return max(total, 0.0)

    def _office_seconds(self, start: datetime, end: datetime) -> float:
        end_utc = end.astimezone(UTC)
        total = 0.0
        day = start.astimezone(self.tz).date()
        last_day = end.astimezone(self.tz).date()
        start_utc = start.astimezone(UTC)
        while day <= last_day:
            span = self.office_span(day)
            day += timedelta(days=1)
            if span is None:
                continue
            lo = max(span[0].astimezone(UTC), start_utc)
            hi = min(span[1].astimezone(UTC), end_utc)
            if lo < hi:
                total += (hi - lo).total_seconds()
        return total

    def is_within_office_hours(self, instant: datetime) -> bool:
        """True when ``instant`` is in ``[open, close]`` of a business day."""
        span = self.office_span(instant.astimezone(self.tz).date())
        return span is not None and span[0] <= instant <= span[1]


def _check_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given; use a timezone-aware value")


def _merge(pauses: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    spans = sorted((a, b) for a, b in pauses if a < b)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
