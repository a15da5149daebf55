"""The sets of requests behind the dashboard figures, as SQL conditions.

A dashboard link to the staff queue carries ``cifra=<key>`` (plus the
dashboard's own filters and filing days); ``queue_filters`` turns it into
the condition below, so the queue lists exactly the requests the figure
counts. Each condition restates a definition of ``queries`` (see its module
docstring): keep the two in step; ``tests/test_metrics_links.py`` compares
every linked figure with the rows of its queue.

Every segment leaves out requests merged as duplicates, as the dashboard
does. The ones that depend on "now" (open and overdue, in progress) are
evaluated when the queue is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.catalog.sla import PolicyKind
from app.metrics.expressions import finished_at, is_open
from app.surveys.models import ResolutionSurvey
from app.tickets.models import Status, Ticket

Condition = Callable[[datetime], sa.ColumnElement[bool]]


def _finished():
    return sa.not_(is_open())


def _has_due():
    return Ticket.resolution_due_at.is_not(None)


def _legal():
    return sa.and_(Ticket.clock_kind == PolicyKind.LEY_20285.value, _has_due())


def _legal_late(now: datetime):
    due = Ticket.resolution_due_at
    return sa.or_(sa.and_(_finished(), finished_at() > due), sa.and_(is_open(), due <= now))


def _surveyed(*conditions):
    # One survey per request at most (unique ticket_id), so EXISTS counts like the
    # survey totals do.
    return sa.exists().where(ResolutionSurvey.ticket_id == Ticket.id, *conditions)


def _extended():
    return Ticket.deadline_extended_at.is_not(None)


# key: (label shown on the queue, condition at ``now``)
SEGMENTS: dict[str, tuple[object, Condition]] = {
    "ingresadas": (_l("Ingresadas (sin duplicadas)"), lambda now: sa.true()),
    "con-plazo": (_l("Con plazo de resolución"), lambda now: _has_due()),
    "a-tiempo": (_l("Resueltas a tiempo"), lambda now: sa.and_(
        _has_due(), _finished(), finished_at() <= Ticket.resolution_due_at)),
    "con-atraso": (_l("Resueltas con atraso"), lambda now: sa.and_(
        _has_due(), _finished(), finished_at() > Ticket.resolution_due_at)),
    "abiertas-en-plazo": (_l("Abiertas, dentro del plazo"), lambda now: sa.and_(
        _has_due(), is_open(), Ticket.resolution_due_at > now)),
    "vencidas": (_l("Abiertas y ya vencidas"), lambda now: sa.and_(
        _has_due(), is_open(), Ticket.resolution_due_at <= now)),
    "terminadas-con-plazo": (_l("Terminadas con plazo"), lambda now: sa.and_(
        _has_due(), _finished())),
    "ley-20285": (_l("Ley 20.285: todas"), lambda now: _legal()),
    "ley-20285-a-tiempo": (_l("Ley 20.285: respondidas a tiempo"), lambda now: sa.and_(
        _legal(), sa.not_(_legal_late(now)), sa.not_(_extended()), _finished())),
    "ley-20285-prorroga": (_l("Ley 20.285: con prórroga"), lambda now: sa.and_(
        _legal(), sa.not_(_legal_late(now)), _extended())),
    "ley-20285-fuera-de-plazo": (_l("Ley 20.285: fuera de plazo"), lambda now: sa.and_(
        _legal(), _legal_late(now))),
    "ley-20285-en-curso": (_l("Ley 20.285: en curso, dentro del plazo"), lambda now: sa.and_(
        _legal(), sa.not_(_legal_late(now)), sa.not_(_extended()), is_open())),
    "con-primera-respuesta": (_l("Con primera respuesta"),
                              lambda now: Ticket.first_response_at.is_not(None)),
    "con-resolucion": (_l("Con fecha de resolución"),
                       lambda now: Ticket.resolved_at.is_not(None)),
    "encuesta-enviada": (_l("Con encuesta enviada"), lambda now: _surveyed()),
    "encuesta-respondida": (_l("Con encuesta respondida"), lambda now: _surveyed(
        ResolutionSurvey.responded_at.is_not(None))),
}


def segment_condition(key: str, now: datetime) -> sa.ColumnElement[bool]:
    """The WHERE condition of segment ``key`` at ``now``, duplicates left out.

    :raise KeyError: for an unknown key.
    """
    _label, condition = SEGMENTS[key]
    return sa.and_(Ticket.status != Status.DUPLICATE, condition(now))


def segment_label(key: str) -> str:
    return str(SEGMENTS[key][0])
