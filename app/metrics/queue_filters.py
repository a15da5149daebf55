"""Extra staff-queue filters the dashboard links use: channel, macrosector, filing
days, and the figure the link came from.

``canal`` (a channel value), ``macrosector`` (id), ``desde``/``hasta``
(local filing days, ISO dates, inclusive), ``cifra`` (a key of
``segments.SEGMENTS``: the requests one dashboard figure counts, e.g.
``vencidas``). Unreadable values are ignored, like the queue's other filters.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.catalog.models import Macrosector
from app.database import utcnow
from app.metrics.periods import local_midnight
from app.metrics.segments import SEGMENTS, segment_condition, segment_label
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
    segment = args.get("cifra", "")
    if segment in SEGMENTS:
        query = query.where(segment_condition(segment, utcnow()))
        applied["cifra"] = segment
    return query, applied


def describe_extra_filters(session, applied: dict) -> list[str]:
    """One Spanish line per extra filter in ``applied``, for the queue to show."""
    lines = []
    if "cifra" in applied:
        lines.append(_("Cifra del tablero: %(name)s", name=segment_label(applied["cifra"])))
    if "canal" in applied:
        lines.append(_("Canal: %(name)s", name=Channel(applied["canal"]).label))
    if "macrosector" in applied:
        macrosector = session.get(Macrosector, applied["macrosector"])
        if macrosector is not None:
            lines.append(_("Macrosector: %(name)s", name=macrosector.name))
    first, last = applied.get("desde"), applied.get("hasta")
    if first or last:
        lines.append(_("Ingresadas del %(first)s al %(last)s",
                       first=_local_text(first) if first else "…",
                       last=_local_text(last) if last else "…"))
    return lines


def _local_text(iso_day: str) -> str:
    return date.fromisoformat(iso_day).strftime("%d-%m-%Y")
