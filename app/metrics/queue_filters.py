"""Extra staff-queue filters the dashboard links use: channel, macrosector, filing days.

``canal`` (a channel value), ``macrosector`` (id), ``desde``/``hasta``
(local filing days, ISO dates, inclusive). Unreadable values are ignored,
like the queue's other filters.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.metrics.periods import local_midnight
from app.tickets.models import Channel, Ticket


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def queue_extra_filters(query: sa.Select, args) -> tuple[sa.Select, dict]:
    """``query`` narrowed by the extra filters in ``args``, and the ones applied."""
    applied: dict = {}
    channel = args.get("canal", "")
    if channel in {c.value for c in Channel}:
        query = query.where(Ticket.channel == Channel(channel))
        applied["canal"] = channel
    macrosector = args.get("macrosector", type=int)
    if macrosector:
        query = query.where(Ticket.macrosector_id == macrosector)
        applied["macrosector"] = macrosector
    tz = ZoneInfo(current_app.config["OFFICE_TIMEZONE"])
    first, last = _day(args.get("desde")), _day(args.get("hasta"))
    if first:
        query = query.where(Ticket.created_at >= local_midnight(first, tz))
        applied["desde"] = first.isoformat()
    if last:
        query = query.where(Ticket.created_at < local_midnight(last + timedelta(days=1), tz))
        applied["hasta"] = last.isoformat()
    return query, applied
