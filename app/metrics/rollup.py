"""Daily rollups of the dashboard's additive figures, kept by a scheduler job.

One row per local filing day × department × category × channel × clock kind
holds what adds up exactly: requests filed; finished with a due date, on
time or late; Ley 20.285 requests finished on time, within the extension or
late; and the after-resolution survey totals (the dashboard's volume, SLA,
Ley 20.285, satisfaction and ranking counts). Open requests are not rolled
up: whether one is overdue depends on the moment, so the queries count them
live (the open-requests index). Medians and p90 do not add up and stay live.

``refresh`` rebuilds whole days: each day after the last one rolled up,
through yesterday; the last ``recent_days``; and the filing day of every
request changed (``updated_at``) or surveyed since the previous refresh. So
a figure about past days is at most one refresh interval old, and today is
always counted live. ``coverage`` tells a query which days it may read here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.catalog.sla import PolicyKind
from app.database import UTCDateTime
from app.extensions import db
from app.metrics.expressions import bucket_index, count_if, finished_at, is_open
from app.metrics.filters import MetricsFilter
from app.metrics.periods import local_midnight
from app.surveys.models import ResolutionSurvey
from app.surveys.results import satisfaction_columns
from app.tickets.models import Channel, Status, Ticket, _str_enum

CHUNK_DAYS = 31  # days rebuilt per grouped query
# A change committed just before a refresh started may carry an older updated_at.
CHANGE_MARGIN = timedelta(minutes=10)
SURVEY_FIELDS = ("invited", "answered", "yes", "no", "partly", "rating_sum", "courtesy_sum",
                 "courtesy_n", "time_sum", "time_n", "reopened", "flagged")
COUNT_FIELDS = ("filed", "due_on_time", "due_late", "legal_on_time", "legal_extended",
                "legal_late")


class DailyRollup(db.Model):
    """The additive figures of the requests filed on one local day, per segment.

    ``clock_kind`` is ``""`` for requests without a legal clock. Counts leave
    out requests merged as duplicates, like every dashboard figure.
    """

    __tablename__ = "metrics_daily"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"),
                                               primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), primary_key=True)
    channel: Mapped[Channel] = mapped_column(_str_enum(Channel), primary_key=True)
    clock_kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    filed: Mapped[int]
    due_on_time: Mapped[int]  # finished at or before the due date
    due_late: Mapped[int]  # finished after it
    legal_on_time: Mapped[int]  # Ley 20.285, finished, not late, not extended
    legal_extended: Mapped[int]  # ... finished within the extension
    legal_late: Mapped[int]  # ... finished late
    invited: Mapped[int]
    answered: Mapped[int]
    yes: Mapped[int]
    no: Mapped[int]
    partly: Mapped[int]
    rating_sum: Mapped[int]
    courtesy_sum: Mapped[int]
    courtesy_n: Mapped[int]
    time_sum: Mapped[int]
    time_n: Mapped[int]
    reopened: Mapped[int]
    flagged: Mapped[int]


class RollupState(db.Model):
    """The one row saying how far ``metrics_daily`` goes (id is always 1)."""

    __tablename__ = "metrics_rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    through_day: Mapped[date] = mapped_column(sa.Date)  # last local day rolled up
    timezone: Mapped[str] = mapped_column(sa.String(64))  # of the local days
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the last refresh began


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Coverage:
    """How a filter's days split: ``first``..``last`` from the rollup, the rest live."""

    first: date
    last: date
    live: MetricsFilter | None  # the days after ``last``, counted from the requests

    def rollup_select(self, f: MetricsFilter, *columns) -> sa.Select:
        """``SELECT columns FROM metrics_daily`` for the rolled days, with ``f``'s filters
        and the viewer's departments (the rule of ``tickets.access``)."""
        r = DailyRollup
        query = sa.select(*columns).select_from(r).where(r.day >= self.first,
                                                         r.day <= self.last)
        if f.department_ids:
            query = query.where(r.department_id.in_(f.department_ids))
        if f.viewer is not None and not f.viewer.role.sees_all_departments:
            query = query.where(r.department_id.in_(f.viewer.department_ids or {-1}))
        if f.category_id is not None:
            query = query.where(r.category_id == f.category_id)
        if f.channel is not None:
            query = query.where(r.channel == f.channel)
        return query

    def open_before_live(self, f: MetricsFilter) -> list[sa.ColumnElement[bool]]:
        """Conditions for the requests of the rolled days the rollup does not hold:
        those still open (the live days are counted whole, apart)."""
        found = [is_open()]
        if self.live is not None:
            found.append(Ticket.created_at < local_midnight(self.live.first_day, f.tz))
        return found


def coverage(session: Session, f: MetricsFilter) -> Coverage | None:
    """The rolled-up part of ``f``'s date range, or None when it must all be live:
    no date range, a macrosector filter (not a rollup dimension), no refresh
    yet, another time zone, or a range after the last rolled-up day."""
    if not f.use_rollups or f.first_day is None or f.last_day is None \
            or f.macrosector_id is not None:
        return None
    state = session.get(RollupState, 1)
    if state is None or state.timezone != f.tz.key:
        return None
    last = min(f.last_day, state.through_day)
    if last < f.first_day:
        return None
    live = replace(f, first_day=last + timedelta(days=1)) if last < f.last_day else None
    return Coverage(f.first_day, last, live)


# --- refreshing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefreshReport:
    days: int  # days rebuilt
    rows: int  # rollup rows written
    through_day: date | None


def _ticket_columns() -> list:
    due = Ticket.resolution_due_at
    finished = sa.not_(is_open())
    legal = sa.and_(finished, due.is_not(None),
                    Ticket.clock_kind == PolicyKind.LEY_20285.value)
    late = finished_at() > due
    extended = Ticket.deadline_extended_at.is_not(None)
    return [sa.func.count(),
            count_if(sa.and_(finished, due.is_not(None), finished_at() <= due)),
            count_if(sa.and_(finished, due.is_not(None), late)),
            count_if(sa.and_(legal, sa.not_(late), sa.not_(extended))),
            count_if(sa.and_(legal, sa.not_(late), extended)),
            count_if(sa.and_(legal, late))]


def rebuild_days(session: Session, first: date, last: date, tz: ZoneInfo) -> int:
    """Replace the rollup rows of local days ``first``..``last`` (at most
    ``CHUNK_DAYS``) with two grouped queries; returns the rows written."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    boundaries = [local_midnight(d, tz) for d in [*days, last + timedelta(days=1)]]
    day = bucket_index(Ticket.created_at, boundaries)
    key = (day, Ticket.department_id, Ticket.category_id, Ticket.channel,
           sa.func.coalesce(Ticket.clock_kind, ""))
    where = (Ticket.created_at >= boundaries[0], Ticket.created_at < boundaries[-1],
             Ticket.status != Status.DUPLICATE)
    rows: dict[tuple, dict] = {}
    for values in session.execute(sa.select(*key, *_ticket_columns()).where(*where)
                                  .group_by(*key)):
        rows[tuple(values[:5])] = dict(zip(COUNT_FIELDS, values[5:], strict=True))
    surveys = (sa.select(*key, *satisfaction_columns()).select_from(ResolutionSurvey)
               .join(Ticket, ResolutionSurvey.ticket_id == Ticket.id).where(*where)
               .group_by(*key))
    for values in session.execute(surveys):
        rows.setdefault(tuple(values[:5]), dict.fromkeys(COUNT_FIELDS, 0)).update(
            zip(SURVEY_FIELDS, (int(v or 0) for v in values[5:]), strict=True))
    session.execute(sa.delete(DailyRollup).where(DailyRollup.day >= first,
                                                 DailyRollup.day <= last))
    records = [{"day": days[index], "department_id": department, "category_id": category,
                "channel": channel, "clock_kind": clock,
                **dict.fromkeys(SURVEY_FIELDS, 0), **figures}
               for (index, department, category, channel, clock), figures in rows.items()]
    if records:
        session.execute(sa.insert(DailyRollup), records)
    return len(records)


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days, each ≤ ``CHUNK_DAYS``."""
    runs: list[tuple[date, date]] = []
    for d in sorted(days):
        if runs and (d - runs[-1][1]).days == 1 and (d - runs[-1][0]).days < CHUNK_DAYS:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _changed_days(session: Session, since: datetime, tz: ZoneInfo) -> set[date]:
    """Filing days of the requests changed or surveyed since ``since``."""
    changed = sa.select(Ticket.created_at).where(Ticket.updated_at >= since)
    surveyed = (sa.select(Ticket.created_at)
                .join(ResolutionSurvey, ResolutionSurvey.ticket_id == Ticket.id)
                .where(sa.or_(ResolutionSurvey.invited_at >= since,
                              ResolutionSurvey.responded_at >= since)))
    return {created.astimezone(tz).date()
            for created in session.scalars(sa.union(changed, surveyed))}


def refresh(session: Session, now: datetime, tz: ZoneInfo, *, recent_days: int = 35
            ) -> RefreshReport:
    """Bring ``metrics_daily`` up to yesterday (local); flushes, never commits.

    The first refresh, or one after a change of time zone, rebuilds every day
    since the first request.
    """
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    state = session.get(RollupState, 1)
    if state is not None and state.timezone != tz.key:
        session.execute(sa.delete(DailyRollup))
        session.delete(state)
        session.flush()
        state = None
    if state is None:
        oldest = session.scalar(sa.select(sa.func.min(Ticket.created_at)))
        start = oldest.astimezone(tz).date() if oldest is not None else yesterday
        days = {start + timedelta(days=i) for i in range((yesterday - start).days + 1)}
    else:
        start = min(state.through_day + timedelta(days=1),
                    yesterday - timedelta(days=recent_days - 1))
        days = {start + timedelta(days=i) for i in range((yesterday - start).days + 1)}
        days |= {d for d in _changed_days(session, state.refreshed_at - CHANGE_MARGIN, tz)
                 if d <= yesterday}
    rows = sum(rebuild_days(session, first, last, tz) for first, last in _runs(days))
    if state is None:
        state = RollupState(id=1, through_day=yesterday, timezone=tz.key, refreshed_at=now)
        session.add(state)
    state.through_day, state.refreshed_at = yesterday, now
    session.flush()
    return RefreshReport(days=len(days), rows=rows, through_day=yesterday)
