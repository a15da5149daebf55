"""The emails staff receive, each one honouring the recipient's preferences.

``notify_*`` are called by the services that cause them (intake, assignment,
the SLA sweep) in the caller's transaction; they only queue outbox rows and
flush. ``send_staff_digests`` is the "staff-digest" scheduler job's work.
Every function returns how many emails it queued, each in its recipient's
language (``User.locale``; a department's shared address gets Spanish).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Role, User, department_membership
from app.i18n import written_for
from app.notifications.outbox import UnsafeRecipient, enqueue
from app.notifications.preferences import (
    NewTicketMode,
    NoticeKind,
    StaffNotificationPreference,
    preference_for,
)
from app.tickets.models import Ticket

log = logging.getLogger(__name__)

DIGEST_PERIODS = {NewTicketMode.HOURLY: timedelta(hours=1),
                  NewTicketMode.DAILY: timedelta(days=1)}
# A digest is due a little before its full period, so an hourly job that
# fires a few seconds early does not push it to the next hour.
DIGEST_SLACK = 0.9
DIGEST_MAX_ITEMS = 100
# Which due date an SLA notice is about (the ``deadline`` its templates get).
RESOLUTION = "resolution"
FIRST_RESPONSE = "first_response"


def staff_ticket_url(ticket: Ticket) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/gestion/solicitudes/{ticket.id}"


def _preferences_url() -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/gestion/avisos"


def _members(session: Session, department_id: int, roles: tuple[Role, ...] | None = None,
             ) -> list[tuple[User, StaffNotificationPreference]]:
    """Active members of a department (optionally of some roles) with their preferences."""
    query = (
        sa.select(User)
        .join(department_membership, department_membership.c.user_id == User.id)
        .where(department_membership.c.department_id == department_id, User.active)
        .order_by(User.email)
    )
    if roles:
        query = query.where(User.role.in_(roles))
    return [(user, preference_for(session, user)) for user in session.scalars(query)]


def _queue(session: Session, *, recipient: str, locale: str | None, subject: str,
           template: str, ticket: Ticket | None, now: datetime, **context) -> int:
    """Queue one staff email; 0 (logged, not raised) for an unusable address.

    A bad staff or department address must not undo the resident's request
    or the sweep that triggered the notice.
    """
    try:
        enqueue(
            session, recipient=recipient, subject=subject, template=template,
            ticket_id=ticket.id if ticket is not None else None, now=now, locale=locale,
            context={"ticket": ticket,
                     "municipality": current_app.config["MUNICIPALITY_NAME"],
                     "preferences_url": _preferences_url(),
                     "staff_url": staff_ticket_url(ticket) if ticket is not None else None,
                     **context},
        )
    except UnsafeRecipient:
        log.warning("staff email %s not queued: unusable address (ticket %s)", template,
                    ticket.id if ticket is not None else None)  # never the address itself
        return 0
    return 1


def notify_new_ticket(session: Session, ticket: Ticket, *, now: datetime) -> int:
    """Email the department's members who want each new request at once.

    Members on a digest get it in the next ``send_staff_digests``; the staff
    member who entered the request is not told about it.
    """
    queued = 0
    for user, preference in _members(session, ticket.department_id):
        if preference.new_ticket is not NewTicketMode.IMMEDIATE:
            continue
        if ticket.created_by_id == user.id:
            continue
        with written_for(user.locale):
            queued += _queue(session, recipient=user.email, locale=user.locale,
                             ticket=ticket, now=now, template="staff_new_ticket",
                             subject=_("Solicitud nueva %(number)s: %(category)s",
                                       number=ticket.public_number,
                                       category=ticket.category.name))
    return queued


def notify_assigned(session: Session, ticket: Ticket, assignee: User, *,
                    now: datetime) -> int:
    """Tell ``assignee`` a request was assigned to them, unless they opted out."""
    if not assignee.active or not preference_for(session, assignee).wants(NoticeKind.ASSIGNED):
        return 0
    with written_for(assignee.locale):
        return _queue(session, recipient=assignee.email, locale=assignee.locale,
                      ticket=ticket, now=now, template="staff_assigned", assignee=assignee,
                      subject=_("Se te asignó la solicitud %(number)s",
                                number=ticket.public_number))


def notify_sla_warning(session: Session, ticket: Ticket, *, now: datetime,
                       deadline: str = RESOLUTION) -> int:
    """Warn the department's agents and supervisors that 75% of the time is used.

    ``deadline`` says which one: ``RESOLUTION`` or ``FIRST_RESPONSE``.
    """
    queued = 0
    for user, preference in _members(session, ticket.department_id,
                                     (Role.AGENT, Role.SUPERVISOR)):
        if not preference.wants(NoticeKind.SLA_WARNING):
            continue
        with written_for(user.locale):
            if deadline == FIRST_RESPONSE:
                subject = _("Plazo de primera respuesta por vencer: solicitud %(number)s",
                            number=ticket.public_number)
            else:
                subject = _("Plazo por vencer: solicitud %(number)s",
                            number=ticket.public_number)
            queued += _queue(session, recipient=user.email, locale=user.locale,
                             ticket=ticket, now=now, template="staff_sla_warning",
                             subject=subject, deadline=deadline)
    return queued


def notify_sla_breach(session: Session, ticket: Ticket, *, now: datetime,
                      deadline: str = RESOLUTION) -> int:
    """Escalate a missed deadline (``RESOLUTION`` or ``FIRST_RESPONSE``) to the
    department's supervisors.

    When no supervisor receives it (none, or all opted out), it goes to the
    department's own address, so an escalation always lands somewhere if it
    can; with neither, it is logged.
    """
    recipients = [(user.email, user.locale) for user, preference in
                  _members(session, ticket.department_id, (Role.SUPERVISOR,))
                  if preference.wants(NoticeKind.SLA_BREACH)]
    if not recipients and ticket.department.email:
        recipients = [(ticket.department.email, None)]  # a shared box: Spanish
    if not recipients:
        log.warning("SLA breach of %s: department %s has no supervisor or email",
                    ticket.public_number, ticket.department.slug)
    queued = 0
    for recipient, locale in recipients:
        with written_for(locale):
            if deadline == FIRST_RESPONSE:
                subject = _("Plazo de primera respuesta vencido: solicitud %(number)s",
                            number=ticket.public_number)
            else:
                subject = _("Plazo vencido: solicitud %(number)s", number=ticket.public_number)
            queued += _queue(session, recipient=recipient, locale=locale, ticket=ticket,
                             now=now, template="staff_sla_breach", subject=subject,
                             deadline=deadline)
    return queued


def _claim_digest(session: Session, user: User, previous: datetime | None,
                  now: datetime) -> bool:
    """Move the user's ``last_digest_at`` from ``previous`` to ``now``, at most once.

    A conditional UPDATE (or the primary key, for a first digest) makes two
    overlapping runs claim the same window only once.
    """
    exists = session.scalar(sa.select(StaffNotificationPreference.user_id)
                            .where(StaffNotificationPreference.user_id == user.id))
    if exists is None:
        try:
            with session.begin_nested():
                session.add(StaffNotificationPreference(user_id=user.id, last_digest_at=now))
        except IntegrityError:
            return False
        return True
    column = StaffNotificationPreference.last_digest_at
    claimed = session.execute(
        sa.update(StaffNotificationPreference)
        .where(StaffNotificationPreference.user_id == user.id,
               column.is_(None) if previous is None else column == previous)
        .values(last_digest_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return claimed == 1


def send_staff_digests(session: Session, now: datetime) -> int:
    """Queue one summary email per staff member on a digest who has one due.

    It lists the requests created in their departments since their previous
    digest (the first one covers at most one period), and records the new
    ``last_digest_at`` even when there was nothing to list, so no request is
    ever listed twice. Flushes, never commits.
    """
    users = session.scalars(
        sa.select(User).where(User.active, User.id.in_(
            sa.select(department_membership.c.user_id))).order_by(User.id)).all()
    queued = 0
    for user in users:
        preference = preference_for(session, user)
        period = DIGEST_PERIODS.get(preference.new_ticket)
        if period is None:
            continue
        previous = preference.last_digest_at
        if previous is not None and now - previous < period * DIGEST_SLACK:
            continue
        start = previous or max(user.created_at, now - period)
        if not _claim_digest(session, user, previous, now):
            continue
        tickets = session.scalars(
            sa.select(Ticket)
            .where(Ticket.department_id.in_(user.department_ids),
                   Ticket.created_at > start, Ticket.created_at <= now,
                   sa.or_(Ticket.created_by_id.is_(None), Ticket.created_by_id != user.id))
            .order_by(Ticket.created_at, Ticket.id)
            .limit(DIGEST_MAX_ITEMS + 1)
        ).all()
        if not tickets:
            continue
        shown = tickets[:DIGEST_MAX_ITEMS]
        more = len(tickets) > DIGEST_MAX_ITEMS
        with written_for(user.locale):
            queued += _queue(
                session, recipient=user.email, locale=user.locale, ticket=None, now=now,
                template="staff_digest", tickets=shown, more=more, since=start,
                base_url=current_app.config["PUBLIC_BASE_URL"],
                subject=ngettext("Resumen: %(num)d solicitud nueva en tus departamentos",
                                 "Resumen: %(num)d solicitudes nuevas en tus departamentos",
                                 len(shown)))
    session.flush()
    return queued
