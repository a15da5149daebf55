"""A request's SLA clock: due dates at intake, pauses, durations, the legal extension.

``start_clock`` is called once by ``tickets.intake.submit``;
``after_transition`` by ``tickets.lifecycle.transition`` after every status
change; ``record_first_response`` by ``tickets.timeline.add_public_reply``.
They flush but never commit.

Due dates are pushed, never recomputed from scratch: when the clock resumes
after a pause (``waiting_resident``, or a resolved request reopened), each
pending instant is moved forward by the office time the pause took, so a
pause never shortens a deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.calendar import BusinessCalendar
from app.catalog.models import Category
from app.catalog.sla import PolicyKind, SlaPolicy, TargetUnit
from app.database import utcnow
from app.deadlines.calendar_source import load_calendar
from app.domain import DomainError, ValidationFailed
from app.i18n import stored_text, written_for
from app.notifications.emails import status_page_url
from app.notifications.outbox import enqueue
from app.tickets.models import (
    ActorKind,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
)

LEY_20285_DAYS = 20
LEY_20285_EXTENSION_DAYS = 10
REASON_MAX = 2000


@dataclass(frozen=True)
class EffectivePolicy:
    """The targets a request runs with: its category's policy or the default."""

    kind: PolicyKind
    first_response_target: int | None
    first_response_unit: TargetUnit
    resolution_target: int | None
    resolution_unit: TargetUnit
    warn_percent: int
    extension_days: int | None


def effective_policy(category: Category | None) -> EffectivePolicy:
    """The category's ``SlaPolicy``, or the configured default (``SLA_DEFAULT_*``).

    A Ley 20.285 policy without targets gets the legal 20 + 10 business days.
    """
    config = current_app.config
    policy: SlaPolicy | None = category.sla_policy if category is not None else None
    if policy is None:
        return EffectivePolicy(
            kind=PolicyKind.SERVICE,
            first_response_target=config["SLA_DEFAULT_FIRST_RESPONSE_HOURS"] or None,
            first_response_unit=TargetUnit.BUSINESS_HOURS,
            resolution_target=config["SLA_DEFAULT_RESOLUTION_DAYS"] or None,
            resolution_unit=TargetUnit.BUSINESS_DAYS,
            warn_percent=config["SLA_WARN_PERCENT"],
            extension_days=None,
        )
    legal = policy.kind is PolicyKind.LEY_20285
    return EffectivePolicy(
        kind=policy.kind,
        first_response_target=policy.first_response_target,
        first_response_unit=policy.first_response_unit,
        resolution_target=policy.resolution_target or (LEY_20285_DAYS if legal else None),
        resolution_unit=TargetUnit.BUSINESS_DAYS if legal else policy.resolution_unit,
        warn_percent=policy.warn_percent,
        extension_days=policy.extension_days or (LEY_20285_EXTENSION_DAYS if legal else None),
    )


def due_after(calendar: BusinessCalendar, start: datetime, target: int | None,
              unit: TargetUnit) -> datetime | None:
    if target is None:
        return None
    if unit is TargetUnit.BUSINESS_DAYS:
        return calendar.add_business_days(start, target)
    return calendar.add_business_hours(start, target)


def warn_instant(calendar: BusinessCalendar, start: datetime, due: datetime | None,
                 percent: int) -> datetime | None:
    """The instant at ``percent`` of the office time between ``start`` and ``due``."""
    if due is None:
        return None
    total = calendar.business_seconds_between(start, due)
    return calendar.add_business_seconds(start, total * min(max(percent, 0), 100) / 100)


def start_clock(session: Session, ticket: Ticket, now: datetime) -> None:
    """Set the request's due dates and warning instant from its category's policy."""
    calendar = load_calendar(session)
    policy = effective_policy(ticket.category)
    ticket.clock_kind = policy.kind.value
    ticket.first_response_due_at = due_after(
        calendar, now, policy.first_response_target, policy.first_response_unit)
    ticket.resolution_due_at = due_after(
        calendar, now, policy.resolution_target, policy.resolution_unit)
    ticket.resolution_warn_at = warn_instant(
        calendar, now, ticket.resolution_due_at, policy.warn_percent)
    ticket.first_response_warn_at = warn_instant(
        calendar, now, ticket.first_response_due_at, policy.warn_percent)
    session.flush()


def business_seconds_so_far(calendar: BusinessCalendar, ticket: Ticket,
                            until: datetime) -> int:
    """Office seconds from intake to ``until``, minus the pauses recorded so far."""
    elapsed = calendar.business_seconds_between(ticket.created_at, until)
    return max(int(round(elapsed)) - (ticket.paused_business_seconds or 0), 0)


def record_first_response(session: Session, ticket: Ticket, now: datetime) -> None:
    """Store the business time to the first response, once (for the dashboards)."""
    if ticket.first_response_at is None or ticket.first_response_business_seconds is not None:
        return
    ticket.first_response_business_seconds = business_seconds_so_far(
        load_calendar(session), ticket, ticket.first_response_at)


@stored_text()  # the timeline notes on pauses
def after_transition(session: Session, ticket: Ticket, event: TicketEvent,
                     now: datetime) -> None:
    """Pause, resume or stop the clock after the status change in ``event``."""
    current, target = event.from_status, event.to_status
    calendar = load_calendar(session)
    if current is Status.WAITING_RESIDENT and ticket.paused_since is not None:
        _resume(session, calendar, ticket, ticket.paused_since, now, target, _(
            "El plazo estuvo detenido mientras esperábamos la respuesta del vecino/a"))
        ticket.paused_since = None
    elif current is Status.RESOLVED and target is Status.IN_PROGRESS:
        resolved_since = _last_resolved_at(ticket) or now
        _resume(session, calendar, ticket, resolved_since, now, target, _(
            "El plazo estuvo detenido mientras la solicitud estaba resuelta"))
        ticket.resolution_business_seconds = None
        ticket.autoclose_notice_at = None
    if target is Status.WAITING_RESIDENT:
        ticket.paused_since = now
    if ticket.first_response_at is not None and ticket.first_response_business_seconds is None:
        ticket.first_response_business_seconds = business_seconds_so_far(
            calendar, ticket, ticket.first_response_at)
    if target is Status.RESOLVED:
        ticket.resolution_business_seconds = business_seconds_so_far(calendar, ticket, now)
        ticket.autoclose_notice_at = None
    session.flush()


def _last_resolved_at(ticket: Ticket) -> datetime | None:
    moments = [e.created_at for e in ticket.events
               if e.kind is EventKind.STATUS_CHANGED and e.to_status is Status.RESOLVED]
    return max(moments) if moments else None


def _resume(session: Session, calendar: BusinessCalendar, ticket: Ticket,
            since: datetime, now: datetime, target: Status | None, why: str) -> None:
    paused = int(round(calendar.business_seconds_between(since, now)))
    ticket.paused_business_seconds = (ticket.paused_business_seconds or 0) + paused
    if paused <= 0 or target is None or not target.is_open:
        return
    if ticket.first_response_at is None:
        if ticket.first_response_due_at is not None:
            ticket.first_response_due_at = calendar.add_business_seconds(
                ticket.first_response_due_at, paused)
        if ticket.first_response_warn_at is not None:
            ticket.first_response_warn_at = calendar.add_business_seconds(
                ticket.first_response_warn_at, paused)
    if ticket.resolution_due_at is not None:
        ticket.resolution_due_at = calendar.add_business_seconds(ticket.resolution_due_at, paused)
    if ticket.resolution_warn_at is not None:
        ticket.resolution_warn_at = calendar.add_business_seconds(
            ticket.resolution_warn_at, paused)
    reset_stale_alerts(session, ticket, now)
    body = _("%(why)s (%(duration)s hábiles).", why=why, duration=format_duration(paused))
    if ticket.resolution_due_at is not None:
        body += " " + _("Nuevo plazo: %(due)s.", due=local_text(ticket.resolution_due_at))
    session.add(TicketEvent(
        ticket=ticket, kind=EventKind.DEADLINE_CHANGED, visibility=EventVisibility.PUBLIC,
        actor_kind=ActorKind.SYSTEM, body=body, created_at=now))


@stored_text()  # the timeline note
def reset_stale_alerts(session: Session, ticket: Ticket, now: datetime) -> list[str]:
    """Clear the warning and breach flags that moved due dates made premature.

    A flag's basis is the instant that triggered it: the warning instant for
    ``warned_at``/``first_response_warned_at``, the due date for
    ``breached_at``/``first_response_breached_at``. When that instant moved
    later than ``now`` (a Ley 20.285 extension, a resumed clock), the request
    is back before its threshold, so the flag is cleared and the sweep warns
    or escalates again, once, for the new date. When the moved instant is
    still past (a pause never grants time: a request warned or late before
    its pause is still so when it resumes), the alert already sent stands
    and nothing is sent twice. Each reset is an internal timeline line.
    Returns the names of the flags cleared.
    """
    pairs = [
        ("warned_at", ticket.resolution_warn_at,
         _("aviso de plazo de resolución por vencer")),
        ("breached_at", ticket.resolution_due_at, _("plazo de resolución vencido")),
        ("first_response_warned_at", ticket.first_response_warn_at,
         _("aviso de plazo de primera respuesta por vencer")),
        ("first_response_breached_at", ticket.first_response_due_at,
         _("plazo de primera respuesta vencido")),
    ]
    cleared, labels = [], []
    for column, basis, text in pairs:
        flagged = getattr(ticket, column)
        if flagged is not None and basis is not None and basis > now:
            setattr(ticket, column, None)
            cleared.append(column)
            labels.append(text)
    if cleared:
        session.add(TicketEvent(
            ticket=ticket, kind=EventKind.SLA_ALERT, visibility=EventVisibility.INTERNAL,
            actor_kind=ActorKind.SYSTEM, created_at=now,
            body=_("El plazo se movió: se volverá a alertar según el nuevo plazo (%(what)s).",
                   what=", ".join(labels))))
    return cleared


def format_duration(seconds: int) -> str:
    """``"3 h 20 min"`` for an amount of office time."""
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    if hours and minutes:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    if hours:
        return _("%(h)d h", h=hours)
    return _("%(m)d min", m=minutes)


def local_text(instant: datetime) -> str:
    """An instant in the office time zone, written for the active language."""
    from app.templating import local_datetime

    return local_datetime(instant, "long")


class ExtensionRefused(DomainError):
    """The legal deadline cannot be extended (wrong clock, already extended, expired)."""


def can_extend(ticket: Ticket, now: datetime | None = None) -> bool:
    """Whether ``extend_legal_deadline`` would accept this request now (given a reason)."""
    return (ticket.clock_kind == PolicyKind.LEY_20285.value
            and ticket.deadline_extended_at is None
            and ticket.status.is_open and ticket.resolution_due_at is not None
            and (now or utcnow()) <= ticket.resolution_due_at)


def extend_legal_deadline(session: Session, ticket: Ticket, *, actor: User, reason: str,
                          now: datetime) -> TicketEvent:
    """Extend a Ley 20.285 request's deadline once, by the policy's extension days.

    The extension is a public timeline event and the resident is emailed.
    Ley 20.285 art. 14 lets the body extend once, with notice before the
    original deadline expires, so an expired deadline cannot be extended.

    :raise ValidationFailed: if ``reason`` is empty or too long.
    :raise ExtensionRefused: if the request does not run a Ley 20.285 clock,
        was already extended, is not open, or its deadline has passed.
    """
    reason = (reason or "").strip()
    if not reason:
        message = _("Escribe el motivo de la prórroga.")
        raise ValidationFailed(message, {"reason": [message]})
    if len(reason) > REASON_MAX:
        message = _("El motivo puede tener como máximo %(n)d caracteres.", n=REASON_MAX)
        raise ValidationFailed(message, {"reason": [message]})
    if ticket.clock_kind != PolicyKind.LEY_20285.value or ticket.resolution_due_at is None:
        raise ExtensionRefused(_("Solo las solicitudes de acceso a la información "
                                 "(Ley 20.285) pueden prorrogarse."))
    if ticket.deadline_extended_at is not None:
        raise ExtensionRefused(_("El plazo de esta solicitud ya fue prorrogado una vez; "
                                 "la Ley 20.285 permite una sola prórroga."))
    if not ticket.status.is_open:
        raise ExtensionRefused(_("La solicitud ya no está abierta."))
    if now > ticket.resolution_due_at:
        raise ExtensionRefused(_("El plazo ya venció; la prórroga debe comunicarse "
                                 "antes del vencimiento."))
    calendar = load_calendar(session)
    days = effective_policy(ticket.category).extension_days or LEY_20285_EXTENSION_DAYS
    old_due = ticket.resolution_due_at
    ticket.resolution_due_at = calendar.add_business_days(old_due, days)
    if ticket.resolution_warn_at is not None:
        ticket.resolution_warn_at = calendar.add_business_seconds(
            ticket.resolution_warn_at,
            calendar.business_seconds_between(old_due, ticket.resolution_due_at))
    reset_stale_alerts(session, ticket, now)
    ticket.deadline_extended_at = now
    ticket.updated_at = now
    with stored_text():
        body = _("Plazo prorrogado por %(days)d días hábiles (Ley 20.285, art. 14), "
                 "hasta el %(due)s. Motivo: %(reason)s",
                 days=days, due=local_text(ticket.resolution_due_at), reason=reason)
    event = TicketEvent(
        ticket=ticket, kind=EventKind.DEADLINE_CHANGED, visibility=EventVisibility.PUBLIC,
        actor_kind=ActorKind.STAFF, actor=actor, created_at=now, body=body,
    )
    session.add(event)
    session.flush()
    if ticket.contact_email:
        with written_for(ticket.locale):  # the resident's language
            enqueue(
                session, recipient=ticket.contact_email,
                subject=_("Se prorrogó el plazo de tu solicitud %(number)s",
                          number=ticket.public_number),
                template="deadline_extended",
                context={"ticket": ticket, "days": days, "reason": reason,
                         "old_due": local_text(old_due),
                         "new_due": local_text(ticket.resolution_due_at),
                         "status_url": status_page_url(ticket),
                         "municipality": current_app.config["MUNICIPALITY_NAME"]},
                ticket_id=ticket.id, now=now, locale=ticket.locale,
            )
    return event
