"""What a dashboard figure counts: the filters and the viewer's departments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.accounts.models import User
from app.metrics.periods import local_midnight
from app.tickets.access import visible_tickets
from app.tickets.models import Channel, Status, Ticket


@dataclass(frozen=True)
class MetricsFilter:
    """Requests filed from ``first_day`` to ``last_day`` (local days, inclusive).

    ``department_ids`` empty means every department the viewer may see;
    ``viewer`` None means no access restriction (CLI, tests); otherwise
    ``app.tickets.access.visible_tickets`` decides. Requests merged as
    duplicates are never counted: they are part of the surviving request.
    Additive figures read the days already rolled up from ``metrics.rollup``.
    """

    first_day: date | None = None
    last_day: date | None = None
    tz: ZoneInfo = ZoneInfo("America/Santiago")
    department_ids: tuple[int, ...] = ()
    category_id: int | None = None
    channel: Channel | None = None
    macrosector_id: int | None = None
    viewer: User | None = None
    use_rollups: bool = True  # False: every figure from the requests themselves

    def conditions(self, *, with_dates: bool = True) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = [Ticket.status != Status.DUPLICATE]
        if with_dates and self.first_day is not None:
            found.append(Ticket.created_at >= local_midnight(self.first_day, self.tz))
        if with_dates and self.last_day is not None:
            found.append(Ticket.created_at
                         < local_midnight(self.last_day + timedelta(days=1), self.tz))
        if self.department_ids:
            found.append(Ticket.department_id.in_(self.department_ids))
        if self.category_id is not None:
            found.append(Ticket.category_id == self.category_id)
        if self.channel is not None:
            found.append(Ticket.channel == self.channel)
        if self.macrosector_id is not None:
            found.append(Ticket.macrosector_id == self.macrosector_id)
        return found

    def select(self, *columns, with_dates: bool = True) -> sa.Select:
        """``SELECT columns FROM tickets`` restricted to the viewer and the filters."""
        base = visible_tickets(self.viewer) if self.viewer is not None else sa.select(Ticket)
        return (base.with_only_columns(*columns).select_from(Ticket)
                .where(*self.conditions(with_dates=with_dates)))

    def ticket_ids(self, *, with_dates: bool = True) -> sa.Select:
        return self.select(Ticket.id, with_dates=with_dates)
