"""Public transparency figures, aggregated in SQL with small-number suppression.

Per month (in the office time zone) for the last 12 months, for the whole
municipality or one department:

- ``received``: requests created that month (merged duplicates not counted);
- ``resolved``: requests whose ``resolved_at`` falls in that month;
- ``median_days``: median ``resolution_business_seconds`` of those, in
  business days (seconds / average office seconds per business day);
- ``on_time_percent``: of those with a ``resolution_due_at``, the share
  resolved at or before it;
- ``satisfaction``: average survey rating (1-5) of those.

Suppression happens here, not in the template: a figure built from fewer than
``min_n`` requests (or ratings) is ``None``, so no cached or exported value
can carry it. Every query groups in the database; the month of an instant is a
CASE over the month boundaries computed in Python (portable, time-zone exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.calendar import parse_office_hours
from app.metrics.percentile import percentile_cont
from app.surveys.models import ResolutionSurvey
from app.tickets.models import Status, Ticket

MONTHS = 12


@dataclass(frozen=True)
class MonthFigures:
    month: date  # first day of the month
    received: int | None
    resolved: int | None
    median_days: float | None
    on_time_percent: float | None
    satisfaction: float | None


def month_starts(now: datetime, tz: ZoneInfo, months: int) -> list[date]:
    """The first days of the last ``months`` months up to ``now``'s month, oldest first."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def month_bucket(column, months: list[date], tz: ZoneInfo):
    """SQL: the ``YYYY-MM`` of ``column`` among ``months`` (NULL outside them)."""
    return sa.case(*[((column >= _utc(m, tz)) & (column < _utc(next_month(m), tz)),
                      m.strftime("%Y-%m")) for m in months], else_=None)


def business_day_seconds(office_hours: str) -> float:
    """Average office seconds of a business weekday (9 h Mon-Thu, 8 h Fri → 8.8 h)."""
    spans = parse_office_hours(office_hours).values()
    seconds = [(datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds()
               for a, b in spans]
    return sum(seconds) / len(seconds)


def _keep(value, n: int, min_n: int):
    return value if n >= min_n else None


def public_figures(session: Session, *, now: datetime, tz: ZoneInfo, office_hours: str,
                   min_n: int, department_id: int | None = None,
                   months: int = MONTHS) -> tuple[list[MonthFigures], MonthFigures]:
    """The month rows (oldest first) and the total of the whole period, suppressed.

    Four grouped queries, whatever the number of requests.
    """
    starts = month_starts(now, tz, months)
    period_start, period_end = _utc(starts[0], tz), _utc(next_month(starts[-1]), tz)
    day_seconds = business_day_seconds(office_hours)
    scope = [Ticket.status != Status.DUPLICATE]
    if department_id is not None:
        scope.append(Ticket.department_id == department_id)

    created = month_bucket(Ticket.created_at, starts, tz).label("bucket")
    received_q = (sa.select(created, sa.func.count())
                  .where(*scope, Ticket.created_at >= period_start,
                         Ticket.created_at < period_end))
    received = {key: n for key, n in session.execute(received_q.group_by(created))}
    received_total = session.scalar(
        sa.select(sa.func.count()).select_from(Ticket)
        .where(*scope, Ticket.created_at >= period_start, Ticket.created_at < period_end))

    resolved = month_bucket(Ticket.resolved_at, starts, tz).label("bucket")
    with_due = Ticket.resolution_due_at.is_not(None)
    measures = (
        sa.func.count(),
        sa.func.count(Ticket.resolution_business_seconds),
        percentile_cont(Ticket.resolution_business_seconds, 0.5),
        sa.func.count(Ticket.resolution_due_at),
        sa.func.sum(sa.case((with_due & (Ticket.resolved_at <= Ticket.resolution_due_at), 1),
                            else_=0)),
        sa.func.count(ResolutionSurvey.rating),
        sa.func.avg(ResolutionSurvey.rating),
    )
    def resolved_select(*columns):
        return (sa.select(*columns).select_from(Ticket)
                .outerjoin(ResolutionSurvey, ResolutionSurvey.ticket_id == Ticket.id)
                .where(*scope, Ticket.resolved_at >= period_start,
                       Ticket.resolved_at < period_end))

    by_month = {row[0]: row[1:] for row in session.execute(
        resolved_select(resolved, *measures).group_by(resolved))}
    total_row = session.execute(resolved_select(*measures)).one()

    def figures(month: date, n_received: int, row) -> MonthFigures:
        n, n_seconds, median, n_due, on_time, n_rated, rating = row or (0, 0, None, 0, 0, 0,
                                                                         None)
        return MonthFigures(
            month=month,
            received=_keep(n_received, n_received, min_n),
            resolved=_keep(n, n, min_n),
            median_days=_keep(None if median is None else float(median) / day_seconds,
                              n_seconds, min_n),
            on_time_percent=_keep(100.0 * (on_time or 0) / n_due if n_due else None,
                                  n_due, min_n),
            satisfaction=_keep(None if rating is None else float(rating), n_rated, min_n),
        )

    rows = [figures(m, received.get(m.strftime("%Y-%m"), 0), by_month.get(m.strftime("%Y-%m")))
            for m in starts]
    total = figures(starts[0], received_total or 0, tuple(total_row))
    return rows, total
