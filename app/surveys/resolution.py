"""Answering the survey after resolution; reopening, flagging and the reminder job."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import Role, User, department_membership
from app.catalog.models import Department
from app.database import utcnow
from app.domain import ValidationFailed
from app.i18n import stored_text, written_for
from app.notifications.emails import status_page_url
from app.notifications.outbox import enqueue
from app.surveys.invitations import (
    SURVEYABLE_STATUSES,
    Availability,
    SurveyUnavailable,
    ensure_answerable,
    survey_url,
)
from app.surveys.models import ResolutionSurvey, ResolvedAnswer
from app.templating import local_date
from app.tickets import lifecycle
from app.tickets.models import (
    ActorKind,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
)

log = logging.getLogger(__name__)

COMMENT_MAX = 2000
RATING_RANGE = range(1, 6)
# A rating at or below this, or a "no", flags the request and may reopen it.
UNHAPPY_RATING = 2


@dataclass
class ResolutionAnswer:
    """What the resident sent, as raw form values (validated by ``answer_survey``)."""

    resolved: str | None
    rating: str | int | None
    courtesy_rating: str | int | None = None
    time_rating: str | int | None = None
    comment: str | None = None
    reopen: bool = False


@dataclass
class AnswerOutcome:
    survey: ResolutionSurvey
    flagged: bool  # the department supervisor was told
    reopened: bool  # the request went back to "in progress"
    reopen_refused: bool  # reopening was asked but the request is closed for good


def is_unhappy(resolved: ResolvedAnswer | None, rating: int | None) -> bool:
    return resolved is ResolvedAnswer.NO or (rating is not None and rating <= UNHAPPY_RATING)


def _rating(value, field: str, errors: dict[str, list[str]], *, required: bool) -> int | None:
    if value in (None, ""):
        if required:
            errors[field] = [_("Elige una nota del 1 al 5.")]
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number not in RATING_RANGE:
        errors[field] = [_("Elige una nota del 1 al 5.")]
        return None
    return number


def _validate(answer: ResolutionAnswer):
    errors: dict[str, list[str]] = {}
    try:
        resolved = ResolvedAnswer(answer.resolved or "")
    except ValueError:
        resolved = None
        errors["resolved"] = [_("Indica si se resolvió tu solicitud: sí, no o en parte.")]
    rating = _rating(answer.rating, "rating", errors, required=True)
    courtesy = _rating(answer.courtesy_rating, "courtesy_rating", errors, required=False)
    time = _rating(answer.time_rating, "time_rating", errors, required=False)
    comment = (answer.comment or "").strip() or None
    if comment and len(comment) > COMMENT_MAX:
        errors["comment"] = [_("El comentario puede tener como máximo %(n)d caracteres.",
                               n=COMMENT_MAX)]
    if answer.reopen and "resolved" not in errors and "rating" not in errors \
            and not is_unhappy(resolved, rating):
        errors["reopen"] = [_("Podemos reabrir la solicitud si respondiste «No» o si "
                              "calificaste con 1 o 2. Si algo quedó pendiente, cuéntanos "
                              "en el comentario.")]
    if errors:
        raise ValidationFailed(_("Revisa las respuestas marcadas."), errors)
    return resolved, rating, courtesy, time, comment


def answer_survey(session: Session, survey: ResolutionSurvey, answer: ResolutionAnswer, *,
                  now: datetime | None = None, notify: bool = True) -> AnswerOutcome:
    """Record the resident's single answer to the survey of a resolved request.

    A "no" or a rating of 1–2 flags the request: every active supervisor of
    its department (or the department's address, if it has none) gets an
    email through the outbox. If the resident also asked for it, the request
    is reopened through ``lifecycle.transition`` (resolved → in progress, by
    the resident); a request already closed cannot reopen, and the outcome
    says so. The answer leaves an internal ``survey_answered`` event.
    Flushes, never commits. ``notify=False`` queues no email (demo data).

    :raise SurveyUnavailable: if the survey was answered already (also when
        another submission wins a race), its link expired, or the request
        was reopened meanwhile.
    :raise ValidationFailed: with per-field Spanish messages.
    """
    now = now or utcnow()
    ensure_answerable(survey, now)
    resolved, rating, courtesy, time, comment = _validate(answer)
    unhappy = is_unhappy(resolved, rating)

    # Claim the survey in one conditional UPDATE: of two concurrent answers,
    # exactly one matches "responded_at IS NULL".
    claimed = session.execute(
        sa.update(ResolutionSurvey)
        .where(ResolutionSurvey.id == survey.id, ResolutionSurvey.responded_at.is_(None))
        .values(responded_at=now, resolved_answer=resolved, rating=rating,
                courtesy_rating=courtesy, time_rating=time, comment=comment,
                reopen_requested=answer.reopen, flagged=unhappy)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(survey)
    if claimed != 1:
        ensure_answerable(survey, now)  # raises: answered by the other submission
        raise SurveyUnavailable(_("Ya respondiste esta encuesta."), Availability.ANSWERED)

    ticket = survey.ticket
    session.add(TicketEvent(
        ticket=ticket, kind=EventKind.SURVEY_ANSWERED, visibility=EventVisibility.INTERNAL,
        actor_kind=ActorKind.RESIDENT, body=summary(survey), created_at=now,
    ))
    session.flush()

    reopened = reopen_refused = False
    if answer.reopen and unhappy:
        if ticket.status is Status.RESOLVED:
            with stored_text():
                note = _("Reabierta a pedido del vecino/a en la encuesta de satisfacción.")
            lifecycle.transition(
                session, ticket, Status.IN_PROGRESS, actor=None,
                actor_kind=ActorKind.RESIDENT, now=now, notify=notify, note=note)
            reopened = survey.reopened = True
        else:
            reopen_refused = True
    if unhappy and notify:
        queue_supervisor_flag(session, survey, now=now)
    session.flush()
    return AnswerOutcome(survey=survey, flagged=unhappy, reopened=reopened,
                         reopen_refused=reopen_refused)


def summary(survey: ResolutionSurvey, locale: str | None = None) -> str:
    """One paragraph with the answers: Spanish for the timeline, or an email's ``locale``."""
    with written_for(locale):
        return _summary_text(survey)


def _summary_text(survey: ResolutionSurvey) -> str:
    parts = [_("¿Se resolvió?: %(answer)s", answer=survey.resolved_answer.label),
             _("Satisfacción: %(n)d de 5", n=survey.rating)]
    if survey.courtesy_rating:
        parts.append(_("Trato: %(n)d de 5", n=survey.courtesy_rating))
    if survey.time_rating:
        parts.append(_("Tiempo de respuesta: %(n)d de 5", n=survey.time_rating))
    if survey.reopen_requested:
        parts.append(_("Pidió reabrir la solicitud"))
    text = " · ".join(parts)
    if survey.comment:
        text += "\n" + _("Comentario: %(comment)s", comment=survey.comment)
    return text


def supervisor_recipients(session: Session, department: Department
                          ) -> list[tuple[str, str | None]]:
    """``(email, locale)`` of the department's active supervisors; else its own
    address (in Spanish); else none."""
    recipients = [(email, locale) for email, locale in session.execute(
        sa.select(User.email, User.locale)
        .join(department_membership, department_membership.c.user_id == User.id)
        .where(department_membership.c.department_id == department.id,
               User.role == Role.SUPERVISOR, User.active)
        .order_by(User.email))]
    if not recipients and department.email:
        recipients = [(department.email, None)]
    return recipients


def queue_supervisor_flag(session: Session, survey: ResolutionSurvey, *,
                          now: datetime | None = None) -> int:
    """Queue the 'unhappy survey answer' email to the department; returns how many."""
    ticket = survey.ticket
    recipients = supervisor_recipients(session, ticket.department)
    if not recipients:
        log.warning("unhappy survey on %s: department %s has no supervisor or email",
                    ticket.public_number, ticket.department.slug)
    base = current_app.config["PUBLIC_BASE_URL"]
    for recipient, locale in recipients:
        with written_for(locale):  # the supervisor's language
            enqueue(
                session, recipient=recipient, ticket_id=ticket.id, now=now, locale=locale,
                subject=_("Encuesta con respuesta negativa: solicitud %(number)s",
                          number=ticket.public_number),
                template="survey_flagged",
                context={"ticket": ticket, "survey": survey,
                         "summary": summary(survey, locale),
                         "staff_url": f"{base}/gestion/solicitudes/{ticket.id}",
                         "municipality": current_app.config["MUNICIPALITY_NAME"]},
            )
    return len(recipients)


def send_reminders(session: Session, *, now: datetime | None = None,
                   limit: int = 200) -> int:
    """Queue one reminder per survey emailed ``SURVEY_REMINDER_DAYS`` ago and unanswered.

    Only surveys whose link went out by email, still open, on a request that
    is resolved or closed and has an email address. Each survey is reminded
    at most once, also when two runs overlap: a conditional UPDATE claims it.
    Flushes, never commits. Returns how many reminders were queued.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["SURVEY_REMINDER_DAYS"])
    due = session.scalars(
        sa.select(ResolutionSurvey).join(ResolutionSurvey.ticket)
        .where(ResolutionSurvey.responded_at.is_(None),
               ResolutionSurvey.reminder_sent_at.is_(None),
               ResolutionSurvey.emailed_at.is_not(None),
               ResolutionSurvey.invited_at <= cutoff,
               ResolutionSurvey.expires_at > now,
               Ticket.status.in_(SURVEYABLE_STATUSES),
               Ticket.contact_email.is_not(None))
        .order_by(ResolutionSurvey.id).limit(limit)
    ).all()
    queued = 0
    for survey in due:
        claimed = session.execute(
            sa.update(ResolutionSurvey)
            .where(ResolutionSurvey.id == survey.id,
                   ResolutionSurvey.reminder_sent_at.is_(None),
                   ResolutionSurvey.responded_at.is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        ticket = survey.ticket
        with written_for(ticket.locale):  # the resident's language
            enqueue(
                session, recipient=ticket.contact_email, ticket_id=ticket.id, now=now,
                locale=ticket.locale,
                subject=_("¿Se resolvió tu solicitud %(number)s?", number=ticket.public_number),
                template="survey_reminder",
                context={"ticket": ticket, "survey_url": survey_url(survey, external=True),
                         "status_url": status_page_url(ticket),
                         "expires_on": local_date(survey.expires_at),
                         "municipality": current_app.config["MUNICIPALITY_NAME"]},
            )
        queued += 1
    session.flush()
    return queued
