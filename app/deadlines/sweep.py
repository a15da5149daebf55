"""Scheduled jobs over the due-date columns: SLA warnings and breaches, auto-close.

There is no job per request: each run reads the indexed instants on
``tickets``. A warning or breach is claimed with one conditional
``UPDATE ... WHERE warned_at IS NULL ... RETURNING id`` (on PostgreSQL over
rows picked ``FOR UPDATE SKIP LOCKED``), so of two sweeps running at once
(two scheduler hosts, or a rerun) only one gets each row and only that one
queues the email. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from app.database import utcnow
from app.deadlines.calendar_source import load_calendar
from app.deadlines.clock import local_text
from app.i18n import written_for
from app.notifications.emails import status_page_url
from app.notifications.outbox import enqueue
from app.notifications.staff import FIRST_RESPONSE, notify_sla_breach, notify_sla_warning
from app.tickets import lifecycle
from app.tickets.models import (
    OPEN_STATUSES,
    ActorKind,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
)

# Statuses whose clock runs; waiting_resident is paused (due dates move on resume).
RUNNING = sorted(OPEN_STATUSES - {Status.WAITING_RESIDENT})


@dataclass
class SweepReport:
    warned: int = 0
    breached: int = 0
    first_response_warned: int = 0
    first_response_breached: int = 0


def _claim(session: Session, column, now: datetime, *conditions) -> list[Ticket]:
    """Set ``column`` to ``now`` on running requests matching ``conditions`` that
    lack it, and return the rows this call got (not those a concurrent call got)."""
    candidates = (sa.select(Ticket.id)
                  .where(column.is_(None), Ticket.status.in_(RUNNING), *conditions)
                  .order_by(Ticket.id))
    if session.get_bind().dialect.name == "postgresql":
        # Rows another sweep (or a staff edit) holds are left for the next run,
        # rather than waited for: no blocking, and no lock-order deadlock.
        candidates = candidates.with_for_update(skip_locked=True)
    ids = session.execute(
        sa.update(Ticket)
        .where(Ticket.id.in_(candidates.scalar_subquery()), column.is_(None))
        .values({column.key: now})
        .returning(Ticket.id),
        execution_options={"synchronize_session": False},
    ).scalars().all()
    if not ids:
        return []
    return list(session.scalars(
        sa.select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)
        .execution_options(populate_existing=True)))


def sweep_deadlines(session: Session, now: datetime | None = None) -> SweepReport:
    """Warn once at the threshold and escalate once at the due date.

    Both deadlines are swept: resolution (``warned_at``/``breached_at``) and,
    while no staff member has answered yet (``first_response_at`` is NULL),
    first response (``first_response_warned_at``/``first_response_breached_at``).
    A request already past a due date is not warned for it, only escalated.
    """
    now = now or utcnow()
    report = SweepReport()
    for ticket in _claim(session, Ticket.warned_at, now,
                         Ticket.resolution_warn_at <= now, Ticket.resolution_due_at > now):
        queued = notify_sla_warning(session, ticket, now=now)
        _alert_event(session, ticket, now, _(
            "Aviso de plazo por vencer: %(n)d correo(s) al equipo.", n=queued))
        report.warned += 1
    for ticket in _claim(session, Ticket.breached_at, now, Ticket.resolution_due_at <= now):
        queued = notify_sla_breach(session, ticket, now=now)
        _alert_event(session, ticket, now, _(
            "Plazo vencido: %(n)d correo(s) de escalamiento.", n=queued))
        report.breached += 1
    unanswered = Ticket.first_response_at.is_(None)
    for ticket in _claim(session, Ticket.first_response_warned_at, now, unanswered,
                         Ticket.first_response_warn_at <= now,
                         Ticket.first_response_due_at > now):
        queued = notify_sla_warning(session, ticket, now=now, deadline=FIRST_RESPONSE)
        _alert_event(session, ticket, now, _(
            "Aviso de plazo de primera respuesta por vencer: %(n)d correo(s) al equipo.",
            n=queued))
        report.first_response_warned += 1
    for ticket in _claim(session, Ticket.first_response_breached_at, now, unanswered,
                         Ticket.first_response_due_at <= now):
        queued = notify_sla_breach(session, ticket, now=now, deadline=FIRST_RESPONSE)
        _alert_event(session, ticket, now, _(
            "Plazo de primera respuesta vencido: %(n)d correo(s) de escalamiento.", n=queued))
        report.first_response_breached += 1
    session.flush()
    return report


def _alert_event(session: Session, ticket: Ticket, now: datetime, body: str) -> None:
    session.add(TicketEvent(ticket=ticket, kind=EventKind.SLA_ALERT,
                            visibility=EventVisibility.INTERNAL, actor_kind=ActorKind.SYSTEM,
                            body=body, created_at=now))


@dataclass
class AutoCloseReport:
    noticed: int = 0
    closed: int = 0


def _resident_wrote_since(ticket: Ticket, since: datetime) -> bool:
    """True when the resident acted on the request after ``since`` (a survey answer aside)."""
    return any(e.actor_kind is ActorKind.RESIDENT and e.created_at > since
               and e.kind is not EventKind.SURVEY_ANSWERED for e in ticket.events)


def auto_close_resolved(session: Session, now: datetime | None = None) -> AutoCloseReport:
    """Tell the resident, then close resolved requests nobody answered.

    ``AUTO_CLOSE_NOTICE_BUSINESS_DAYS`` before the close (which falls
    ``AUTO_CLOSE_BUSINESS_DAYS`` business days after the resolution) the
    resident gets one notice; the close itself happens only after that
    notice, at least the notice period later, through
    ``lifecycle.transition`` as the system. A resident reply or a reopening
    in between stops it. On PostgreSQL the candidate rows are locked with
    ``FOR UPDATE SKIP LOCKED``, so a concurrent run skips them.
    """
    now = now or utcnow()
    config = current_app.config
    close_days = config["AUTO_CLOSE_BUSINESS_DAYS"]
    notice_days = min(config["AUTO_CLOSE_NOTICE_BUSINESS_DAYS"], close_days)
    report = AutoCloseReport()
    if close_days <= 0:
        return report
    calendar = load_calendar(session)
    query = (sa.select(Ticket)
             .where(Ticket.status == Status.RESOLVED, Ticket.resolved_at.is_not(None),
                    Ticket.resolved_at <= now)
             .order_by(Ticket.id)
             .options(selectinload(Ticket.events))
             .execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Ticket)
    for ticket in session.scalars(query).all():
        if _resident_wrote_since(ticket, ticket.resolved_at):
            continue
        close_at = calendar.add_business_days(ticket.resolved_at, close_days)
        if ticket.autoclose_notice_at is None:
            notice_at = calendar.add_business_days(ticket.resolved_at, close_days - notice_days)
            if now >= notice_at:
                send_autoclose_notice(session, ticket, now,
                             max(close_at, calendar.add_business_days(now, notice_days)))
                report.noticed += 1
            continue  # never notice and close in the same run
        close_at = max(close_at, calendar.add_business_days(ticket.autoclose_notice_at,
                                                            notice_days))
        if now >= close_at:
            lifecycle.transition(
                session, ticket, Status.CLOSED, actor=None, actor_kind=ActorKind.SYSTEM,
                note=_("Cerrada automáticamente: pasaron %(n)d días hábiles desde que se "
                       "resolvió sin respuesta del vecino/a.", n=close_days), now=now)
            report.closed += 1
    session.flush()
    return report


def send_autoclose_notice(session: Session, ticket: Ticket, now: datetime,
                          close_at: datetime) -> None:
    """Tell the resident their resolved request closes at ``close_at``; stamp it."""
    ticket.autoclose_notice_at = now
    if ticket.contact_email:
        with written_for(ticket.locale):  # the resident's language
            enqueue(session, recipient=ticket.contact_email,
                    subject=_("Tu solicitud %(number)s se cerrará pronto",
                              number=ticket.public_number),
                    template="autoclose_notice",
                    context={"ticket": ticket, "close_at": local_text(close_at),
                             "status_url": status_page_url(ticket),
                             "municipality": current_app.config["MUNICIPALITY_NAME"]},
                    ticket_id=ticket.id, now=now, locale=ticket.locale)
    _alert_event(session, ticket, now, _("Aviso de cierre automático enviado al vecino/a "
                                         "(cierre previsto: %(date)s).", date=local_text(close_at)))
