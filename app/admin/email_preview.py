"""Preview every email the app sends, rendered from a realistic sample.

The sample (a department, staff, two requests, a merge, a reply, a
resolution, an unhappy survey answer, the reminder and digest jobs) is built
with the real services, so each email comes out with its real subject and
context. ``sample_emails`` only flushes: the caller MUST roll the session
back afterwards (the admin view does), so nothing of it is ever saved or
delivered.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.accounts.password_reset import request_reset
from app.accounts.services import create_user
from app.catalog.models import Category, Department, Visibility
from app.catalog.sla import PolicyKind, SlaPolicy
from app.channels.email.intake import ingest_message, load_settings
from app.channels.email.models import InboundSource
from app.database import utcnow
from app.deadlines.clock import extend_legal_deadline
from app.deadlines.sweep import send_autoclose_notice
from app.notifications.models import OutboxMessage
from app.notifications.preferences import NewTicketMode, StaffNotificationPreference
from app.notifications.staff import (
    FIRST_RESPONSE,
    notify_assigned,
    notify_sla_breach,
    notify_sla_warning,
    send_staff_digests,
)
from app.residents.links import request_link
from app.surveys.resolution import ResolutionAnswer, answer_survey, send_reminders
from app.tickets import intake, lifecycle, merging, timeline
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Status

SAMPLE_DOMAIN = "example.com"  # reserved for examples (RFC 2606)


@dataclass(frozen=True)
class EmailSample:
    template: str
    has_html_template: bool
    subject: str | None = None
    recipient: str | None = None
    body_text: str | None = None
    body_html: str | None = None


def email_templates() -> list[tuple[str, bool]]:
    """(name, has HTML) of every email in ``templates/emails`` (not the ``_`` partials)."""
    folder = Path(current_app.template_folder) / "emails"
    names = sorted({p.stem for p in folder.glob("*.txt") if not p.name.startswith("_")})
    return [(name, (folder / f"{name}.html").exists()) for name in names]


def _build_sample(session: Session, locale: str | None) -> set[int]:
    """Create the sample through the services; returns the sample tickets' ids.

    Its residents filed in, and its staff chose, ``locale``.
    """
    now = utcnow()
    earlier = now - timedelta(days=1)
    unique = secrets.token_hex(4)  # never clashes with a real department or category
    department = Department(name=f"Alumbrado Público (ejemplo {unique})",
                            slug=f"ejemplo-{unique}", email=f"alumbrado@{SAMPLE_DOMAIN}")
    category = Category(name="Luminaria apagada", slug=f"ejemplo-luminaria-{unique}",
                        department=department, visibility=Visibility.PUBLIC)
    session.add_all([department, category])
    session.flush()

    def staff(role: Role, name: str, email: str):
        user = create_user(session, email=f"{email}.{unique}@{SAMPLE_DOMAIN}", name=name,
                           # B106 (bandit): a sample account, rolled back with the preview
                           password="ejemplo-no-se-guarda", role=role,  # nosec B106
                           departments=[department])
        user.created_at = earlier
        user.locale = locale
        return user

    agent = staff(Role.AGENT, "Pedro Soto", "agente")
    supervisor = staff(Role.SUPERVISOR, "Carmen Rojas", "supervisora")
    session.add(StaffNotificationPreference(user_id=agent.id,
                                            new_ticket=NewTicketMode.IMMEDIATE))
    session.flush()

    ticket = intake.submit(
        session, category=category, channel=Channel.WEB, consent=True,
        description="La luminaria del pasaje está apagada hace una semana.",
        address="Pasaje Los Aromos 1234", locale=locale,
        contact=ResidentContact(name="Rosa Pérez", email=f"rosa.perez@{SAMPLE_DOMAIN}"))
    duplicate = intake.submit(
        session, category=category, channel=Channel.WEB, consent=True,
        description="No hay luz en el pasaje Los Aromos.", locale=locale,
        contact=ResidentContact(name="Juan Díaz", email=f"juan.diaz@{SAMPLE_DOMAIN}"))
    merging.merge(session, duplicate, ticket, actor=supervisor,
                  reason="Es la misma luminaria.")
    notify_assigned(session, ticket, agent, now=now)
    ticket.resolution_due_at = now + timedelta(days=2)
    notify_sla_warning(session, ticket, now=now)
    notify_sla_breach(session, ticket, now=now)
    notify_sla_warning(session, ticket, now=now, deadline=FIRST_RESPONSE)
    notify_sla_breach(session, ticket, now=now, deadline=FIRST_RESPONSE)
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                         note="Una cuadrilla irá esta semana.")
    timeline.add_public_reply(session, ticket, author=agent,
                              body="Mañana en la mañana cambiamos la ampolleta.\nSaludos.")
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=agent,
                         note="Cambiamos la ampolleta.")
    survey = ticket.resolution_survey
    if survey is not None:
        reminder_days = current_app.config["SURVEY_REMINDER_DAYS"]
        survey.invited_at = survey.emailed_at = now - timedelta(days=reminder_days, hours=1)
        session.flush()
        send_reminders(session, now=now)
        answer_survey(session, survey, ResolutionAnswer(
            resolved="no", rating=1, comment="Se volvió a apagar la misma noche."), now=now)
    send_staff_digests(session, now + timedelta(minutes=1))
    if ticket.status is Status.RESOLVED:
        send_autoclose_notice(session, ticket, now, now + timedelta(days=2))
    request_link(session, ticket.contact_email, locale=locale, now=now)
    request_reset(session, agent.email, base_url=current_app.config["PUBLIC_BASE_URL"],
                  locale=locale, now=now)

    legal = Category(name="Acceso a la información (Ley 20.285)",
                     slug=f"ejemplo-transparencia-{unique}", department=department,
                     visibility=Visibility.PRIVATE,
                     sla_policy=SlaPolicy(name=f"Ley 20.285 (ejemplo {unique})",
                                          kind=PolicyKind.LEY_20285))
    session.add(legal)
    session.flush()
    information = intake.submit(
        session, category=legal, channel=Channel.EMAIL, consent=True,
        description="Solicito copia del contrato de mantención de luminarias 2025.",
        locale=locale,
        contact=ResidentContact(name="Ana Muñoz", email=f"ana.munoz@{SAMPLE_DOMAIN}"))
    extend_legal_deadline(session, information, actor=supervisor, now=now,
                          reason="Hay que reunir documentos de otra unidad.")
    lifecycle.transition(session, information, Status.CLOSED, actor=supervisor,
                         note="Se entregó la copia del contrato.")
    settings = load_settings(session, {**current_app.config,
                                       "EMAIL_DEFAULT_CATEGORY": legal.slug})
    reply = (f"From: Ana Muñoz <{information.contact_email}>\nTo: solicitudes@{SAMPLE_DOMAIN}\n"
             f"Subject: Re: {information.formatted_tracking_code}\n"
             f"Message-ID: <ejemplo-{unique}@{SAMPLE_DOMAIN}>\nMIME-Version: 1.0\n"
             "Content-Type: text/plain; charset=utf-8\n\nFalta el anexo 2.\n").encode()
    ingest_message(session, reply, settings=settings, source=InboundSource.PIPE, now=now)
    return {ticket.id, duplicate.id, information.id}


def sample_emails(session: Session, locale: str | None = None) -> list[EmailSample]:
    """One rendered sample of every email template, as a recipient whose
    language is ``locale`` (None: Spanish) gets it; flushes only, caller rolls back."""
    first_id = session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    ticket_ids = _build_sample(session, locale)
    rows = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.id > first_id)
        .order_by(OutboxMessage.id)).all()
    by_template: dict[str, OutboxMessage] = {}
    for row in rows:
        # Jobs such as the digest also look at real data: keep only the sample's mail.
        if row.ticket_id in ticket_ids or row.recipient.endswith("@" + SAMPLE_DOMAIN):
            by_template.setdefault(row.template, row)
    samples = []
    for name, has_html in email_templates():
        row = by_template.get(name)
        if row is None:
            samples.append(EmailSample(template=name, has_html_template=has_html))
        else:
            samples.append(EmailSample(
                template=name, has_html_template=has_html, subject=row.subject,
                recipient=row.recipient, body_text=row.body_text, body_html=row.body_html))
    return samples
