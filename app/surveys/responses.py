"""Answering a diagnostic survey: community (public) and staff (anonymous, once each)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import Macrosector
from app.database import utcnow
from app.domain import DomainError, ValidationFailed
from app.surveys.builder import LOCAL_TZ, closes_on
from app.surveys.models import (
    AgeRange,
    Disability,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveyParticipation,
    SurveyState,
    SurveySubmission,
)
from app.templating import local_date

TEXT_MAX = 2000


class SurveyNotOpen(DomainError):
    """The survey is a draft, not open yet, or closed."""


class AlreadyAnswered(DomainError):
    """This staff member already answered this staff survey."""


@dataclass
class Demographics:
    """Optional answers of a community survey, as raw form values."""

    age_range: str | None = None
    disability: str | None = None
    macrosector_id: str | int | None = None


def ensure_open(survey: Survey, now: datetime | None = None) -> None:
    """:raise SurveyNotOpen: with a Spanish message unless the survey takes answers now."""
    state = survey.state(now)
    if state is SurveyState.OPEN:
        return
    if state is SurveyState.SCHEDULED:
        raise SurveyNotOpen(_("Esta encuesta todavía no está abierta. Abre el %(date)s.",
                              date=local_date(survey.opens_at)))
    if state is SurveyState.CLOSED:
        raise SurveyNotOpen(_("Esta encuesta cerró el %(date)s. Gracias por tu interés.",
                              date=local_date(closes_on(survey))))
    raise SurveyNotOpen(_("Esta encuesta no está publicada."))


def has_participated(session: Session, survey: Survey, user: User) -> bool:
    return session.get(SurveyParticipation, (survey.id, user.id)) is not None


def _values(raw: Mapping[str, Sequence[str]], name: str) -> list[str]:
    return [v for v in (raw.get(name) or []) if v not in (None, "")]


def _parse_answers(survey: Survey, raw: Mapping[str, Sequence[str]]):
    """Validated answers as (question, option_id, number, text) tuples, and errors."""
    answers: list[tuple] = []
    errors: dict[str, list[str]] = {}
    for question in survey.questions:
        name = question.field_name
        values = _values(raw, name)
        if not values:
            if question.required:
                errors[name] = [_("Responde esta pregunta.") if question.kind is not
                                QuestionKind.MULTIPLE else _("Elige al menos una opción.")]
            continue
        if question.kind is QuestionKind.TEXT:
            text = values[0].strip()
            if len(text) > TEXT_MAX:
                errors[name] = [_("La respuesta puede tener como máximo %(n)d caracteres.",
                                  n=TEXT_MAX)]
            elif text:
                answers.append((question, None, None, text))
            elif question.required:
                errors[name] = [_("Responde esta pregunta.")]
            continue
        if question.kind is QuestionKind.RATING:
            try:
                number = int(values[0])
            except ValueError:
                number = None
            if len(values) != 1 or number not in question.scale:
                errors[name] = [_("Elige una nota del 1 al %(n)d.", n=question.scale[-1])]
            else:
                answers.append((question, None, number, None))
            continue
        valid = {str(o.id): o.id for o in question.options}
        chosen = list(dict.fromkeys(values))  # keep order, drop repeats
        if any(v not in valid for v in chosen) or (
                question.kind is QuestionKind.SINGLE and len(chosen) != 1):
            errors[name] = [_("Elige una de las opciones de la lista.")]
            continue
        answers.extend((question, valid[v], None, None) for v in chosen)
    return answers, errors


def _parse_demographics(session: Session, data: Demographics, errors: dict[str, list[str]]):
    age = disability = macrosector = None
    if data.age_range:
        try:
            age = AgeRange(data.age_range)
        except ValueError:
            errors["age_range"] = [_("Elige un tramo de edad de la lista.")]
    if data.disability:
        try:
            disability = Disability(data.disability)
        except ValueError:
            errors["disability"] = [_("Elige una opción de la lista.")]
    if data.macrosector_id not in (None, ""):
        try:
            macrosector = session.get(Macrosector, int(data.macrosector_id))
        except (TypeError, ValueError):
            macrosector = None
        if macrosector is None:
            errors["macrosector"] = [_("Elige un sector de la lista.")]
    return age, disability, macrosector


def submit_response(session: Session, survey: Survey, raw: Mapping[str, Sequence[str]], *,
                    demographics: Demographics | None = None, staff_member: User | None = None,
                    now: datetime | None = None) -> SurveySubmission:
    """Store one anonymous response; ``raw`` maps each question's field name to its values.

    Community surveys take anyone's answers, plus the optional demographic
    ones when the survey asks them; they keep only the day of the answer.
    Staff surveys need ``staff_member`` and record, in a separate table with
    no link to the answers, only that this member answered; the answers keep
    no user, no time. Flushes, never commits; after ``AlreadyAnswered`` the
    caller must roll back.

    :raise SurveyNotOpen: if the survey does not take answers now.
    :raise AlreadyAnswered: if ``staff_member`` answered this survey before
        (also when two submissions race).
    :raise ValidationFailed: with messages per question field (``q<id>``).
    """
    now = now or utcnow()
    ensure_open(survey, now)
    staff = survey.kind is SurveyKind.STAFF
    if staff:
        if staff_member is None:
            raise SurveyNotOpen(_("Esta encuesta es solo para funcionarios municipales."))
        if has_participated(session, survey, staff_member):
            raise AlreadyAnswered(_("Ya respondiste esta encuesta. Se puede responder una "
                                    "sola vez por persona."))
    answers, errors = _parse_answers(survey, raw)
    age = disability = macrosector = None
    if survey.demographics_enabled:
        age, disability, macrosector = _parse_demographics(
            session, demographics or Demographics(), errors)
    if errors:
        raise ValidationFailed(_("Revisa las respuestas marcadas."), errors)
    if not answers:
        raise ValidationFailed(_("Responde al menos una pregunta."), {})

    if staff:
        session.add(SurveyParticipation(survey_id=survey.id, user_id=staff_member.id))
        try:
            session.flush()
        except IntegrityError:
            raise AlreadyAnswered(_("Ya respondiste esta encuesta. Se puede responder una "
                                    "sola vez por persona.")) from None
    submission = SurveySubmission(
        survey_id=survey.id,
        submitted_on=None if staff else now.astimezone(LOCAL_TZ).date(),
        age_range=age, disability=disability, macrosector=macrosector,
        answers=[SurveyAnswer(question_id=q.id, option_id=option_id, number=number, text=text)
                 for q, option_id, number, text in answers],
    )
    session.add(submission)
    session.flush()
    return submission


def open_staff_surveys(session: Session, user: User, now: datetime | None = None):
    """Open staff surveys, each with whether ``user`` answered it already."""
    now = now or utcnow()
    surveys = session.scalars(
        sa.select(Survey).where(Survey.kind == SurveyKind.STAFF, Survey.opens_at <= now,
                                sa.or_(Survey.closes_at.is_(None), Survey.closes_at > now))
        .order_by(Survey.opens_at.desc())).all()
    answered = set(session.scalars(
        sa.select(SurveyParticipation.survey_id)
        .where(SurveyParticipation.user_id == user.id)))
    return [(survey, survey.id in answered) for survey in surveys]
