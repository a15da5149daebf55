"""The survey builder: surveys, their questions and options, order and dates.

Once a survey has a response its questions are locked (no adding, editing,
moving or deleting), so every answer keeps meaning what it meant when given;
its title, description and dates stay editable, so it can be closed early or
extended. Dates are days in America/Santiago: a survey opens at 00:00 of its
first day and closes at 24:00 of its last.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.database import utcnow
from app.domain import DomainError, ValidationFailed
from app.surveys.models import (
    QuestionKind,
    Survey,
    SurveyKind,
    SurveyOption,
    SurveyQuestion,
    SurveySubmission,
)

LOCAL_TZ = ZoneInfo("America/Santiago")
TITLE_MAX = 200
DESCRIPTION_MAX = 4000
PROMPT_MAX = 300
HELP_MAX = 500
OPTION_MAX = 200
LABEL_MAX = 60
OPTIONS_MIN, OPTIONS_MAX = 2, 20
SCALE_MIN, SCALE_MAX = 2, 10


class SurveyLocked(DomainError):
    """The survey has responses, so its questions can no longer change."""


@dataclass
class SurveyInput:
    title: str | None
    kind: str | None
    description: str | None = ""
    ask_demographics: bool = False
    opens_on: date | None = None
    closes_on: date | None = None


@dataclass
class QuestionInput:
    kind: str | None
    prompt: str | None
    help_text: str | None = ""
    required: bool = False
    options: str | None = ""  # one option per line (single and multiple choice)
    scale_max: int | str | None = 5
    low_label: str | None = None
    high_label: str | None = None


def local_day_start(day: date) -> datetime:
    """00:00 of ``day`` in America/Santiago, as an aware UTC-comparable instant."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def opens_on(survey: Survey) -> date | None:
    return survey.opens_at.astimezone(LOCAL_TZ).date() if survey.opens_at else None


def closes_on(survey: Survey) -> date | None:
    """The last day a survey takes answers (it closes at the end of it)."""
    if survey.closes_at is None:
        return None
    return (survey.closes_at.astimezone(LOCAL_TZ) - timedelta(microseconds=1)).date()


def has_responses(session: Session, survey: Survey) -> bool:
    return session.scalar(
        sa.select(SurveySubmission.id).where(SurveySubmission.survey_id == survey.id).limit(1)
    ) is not None


def _slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "encuesta"


def _unique_slug(session: Session, title: str) -> str:
    base = _slugify(title)
    slug, n = base, 1
    while session.scalar(sa.select(Survey.id).where(Survey.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_survey(data: SurveyInput) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    title = (data.title or "").strip()
    description = (data.description or "").strip()
    if not title:
        errors["title"] = [_("Escribe el título de la encuesta.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("El título puede tener como máximo %(n)d caracteres.", n=TITLE_MAX)]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("La presentación puede tener como máximo %(n)d caracteres.",
                                   n=DESCRIPTION_MAX)]
    try:
        kind = SurveyKind(data.kind or "")
    except ValueError:
        kind = None
        errors["kind"] = [_("Elige para quién es la encuesta.")]
    if data.opens_on and data.closes_on and data.closes_on < data.opens_on:
        errors["closes_on"] = [_("El cierre no puede ser antes de la publicación.")]
    values = {
        "title": title, "description": description, "kind": kind,
        "ask_demographics": bool(data.ask_demographics) and kind is SurveyKind.COMMUNITY,
        "opens_at": local_day_start(data.opens_on) if data.opens_on else None,
        "closes_at": (local_day_start(data.closes_on + timedelta(days=1))
                      if data.closes_on else None),
    }
    return values, errors


def create_survey(session: Session, data: SurveyInput, *, created_by: User | None,
                  now: datetime | None = None) -> Survey:
    """Create a survey (a draft unless it has a publication day).

    :raise ValidationFailed: if the title or kind is missing or too long, the
        closing day is before the opening day, or a publication day is given
        (a survey without questions cannot be published).
    """
    values, errors = _clean_survey(data)
    if values["opens_at"] is not None:
        errors.setdefault("opens_on", []).append(
            _("Guarda la encuesta y agrega sus preguntas antes de publicarla."))
    if errors:
        raise ValidationFailed(_("Revisa los datos de la encuesta."), errors)
    survey = Survey(slug=_unique_slug(session, values["title"]), created_by=created_by,
                    created_at=now or utcnow(), **values)
    session.add(survey)
    session.flush()
    return survey


def update_survey(session: Session, survey: Survey, data: SurveyInput) -> Survey:
    """Change a survey's texts, dates and (without responses) its kind.

    :raise ValidationFailed: on bad input, when publishing a survey with no
        questions, or changing the kind of a survey that has responses.
    """
    values, errors = _clean_survey(data)
    if values["opens_at"] is not None and not survey.questions:
        errors.setdefault("opens_on", []).append(
            _("Agrega al menos una pregunta antes de publicar la encuesta."))
    if values["kind"] is not None and values["kind"] is not survey.kind \
            and has_responses(session, survey):
        errors["kind"] = [_("La encuesta ya tiene respuestas: no se puede cambiar para "
                            "quién es.")]
    if errors:
        raise ValidationFailed(_("Revisa los datos de la encuesta."), errors)
    for key, value in values.items():
        setattr(survey, key, value)
    session.flush()
    return survey


def publish_now(session: Session, survey: Survey, *, now: datetime | None = None) -> None:
    """Open the survey from now on (and re-open it if it had closed).

    :raise DomainError: if it has no questions.
    """
    now = now or utcnow()
    if not survey.questions:
        raise DomainError(_("Agrega al menos una pregunta antes de publicar la encuesta."))
    if survey.opens_at is None or survey.opens_at > now:
        survey.opens_at = now
    if survey.closes_at is not None and survey.closes_at <= now:
        survey.closes_at = None
    session.flush()


def close_now(session: Session, survey: Survey, *, now: datetime | None = None) -> None:
    """Stop taking answers from now on.

    :raise DomainError: if the survey is not open.
    """
    now = now or utcnow()
    if not survey.is_open(now):
        raise DomainError(_("La encuesta no está abierta."))
    survey.closes_at = now
    session.flush()


def _ensure_unlocked(session: Session, survey: Survey) -> None:
    if has_responses(session, survey):
        raise SurveyLocked(_("La encuesta ya tiene respuestas: sus preguntas ya no se pueden "
                             "cambiar, para que todas las respuestas signifiquen lo mismo."))


def _clean_question(data: QuestionInput) -> tuple[dict, list[str], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    try:
        kind = QuestionKind(data.kind or "")
    except ValueError:
        kind = None
        errors["kind"] = [_("Elige el tipo de pregunta.")]
    prompt = (data.prompt or "").strip()
    help_text = (data.help_text or "").strip()
    if not prompt:
        errors["prompt"] = [_("Escribe la pregunta.")]
    elif len(prompt) > PROMPT_MAX:
        errors["prompt"] = [_("La pregunta puede tener como máximo %(n)d caracteres.",
                              n=PROMPT_MAX)]
    if len(help_text) > HELP_MAX:
        errors["help_text"] = [_("La ayuda puede tener como máximo %(n)d caracteres.",
                                 n=HELP_MAX)]
    options: list[str] = []
    values = {"kind": kind, "prompt": prompt, "help_text": help_text,
              "required": bool(data.required), "scale_max": None, "low_label": None,
              "high_label": None}
    if kind is not None and kind.has_options:
        for line in (data.options or "").splitlines():
            line = line.strip()
            if line and line.casefold() not in {o.casefold() for o in options}:
                options.append(line)
        if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
            errors["options"] = [_("Escribe entre %(min)d y %(max)d opciones distintas, una "
                                   "por línea.", min=OPTIONS_MIN, max=OPTIONS_MAX)]
        elif any(len(o) > OPTION_MAX for o in options):
            errors["options"] = [_("Cada opción puede tener como máximo %(n)d caracteres.",
                                   n=OPTION_MAX)]
    elif kind is QuestionKind.RATING:
        try:
            scale_max = int(data.scale_max)
        except (TypeError, ValueError):
            scale_max = 0
        if not SCALE_MIN <= scale_max <= SCALE_MAX:
            errors["scale_max"] = [_("La escala va de 1 hasta un número entre %(min)d y "
                                     "%(max)d.", min=SCALE_MIN, max=SCALE_MAX)]
        low = (data.low_label or "").strip() or None
        high = (data.high_label or "").strip() or None
        for field, label in (("low_label", low), ("high_label", high)):
            if label and len(label) > LABEL_MAX:
                errors[field] = [_("Puede tener como máximo %(n)d caracteres.", n=LABEL_MAX)]
        values.update(scale_max=scale_max, low_label=low, high_label=high)
    return values, options, errors


def add_question(session: Session, survey: Survey, data: QuestionInput) -> SurveyQuestion:
    """Add a question at the end of the survey.

    :raise SurveyLocked: if the survey has responses.
    :raise ValidationFailed: with per-field messages.
    """
    _ensure_unlocked(session, survey)
    values, options, errors = _clean_question(data)
    if errors:
        raise ValidationFailed(_("Revisa los datos de la pregunta."), errors)
    position = max((q.position for q in survey.questions), default=0) + 1
    question = SurveyQuestion(survey=survey, position=position, **values)
    question.options = [SurveyOption(position=i, label=label)
                        for i, label in enumerate(options, start=1)]
    session.add(question)
    session.flush()
    return question


def update_question(session: Session, question: SurveyQuestion,
                    data: QuestionInput) -> SurveyQuestion:
    """Replace a question's text, kind, settings and options.

    :raise SurveyLocked: if its survey has responses.
    :raise ValidationFailed: with per-field messages.
    """
    _ensure_unlocked(session, question.survey)
    values, options, errors = _clean_question(data)
    if errors:
        raise ValidationFailed(_("Revisa los datos de la pregunta."), errors)
    for key, value in values.items():
        setattr(question, key, value)
    if [o.label for o in question.options] != options:
        question.options = [SurveyOption(position=i, label=label)
                            for i, label in enumerate(options, start=1)]
    session.flush()
    return question


def question_form_values(question: SurveyQuestion) -> QuestionInput:
    """A question as builder input, to fill the edit form."""
    return QuestionInput(kind=question.kind.value, prompt=question.prompt,
                         help_text=question.help_text, required=question.required,
                         options="\n".join(o.label for o in question.options),
                         scale_max=question.scale_max or 5, low_label=question.low_label,
                         high_label=question.high_label)


def delete_question(session: Session, question: SurveyQuestion) -> None:
    """Delete a question and its options.

    :raise SurveyLocked: if its survey has responses.
    """
    survey = question.survey
    _ensure_unlocked(session, survey)
    survey.questions.remove(question)
    session.flush()


def move_question(session: Session, question: SurveyQuestion, offset: int) -> None:
    """Move a question ``offset`` places (-1 up, +1 down); nothing at either end.

    Positions are renumbered 1..n, so gaps and ties left by earlier edits go.

    :raise SurveyLocked: if its survey has responses.
    """
    survey = question.survey
    _ensure_unlocked(session, survey)
    ordered = sorted(survey.questions, key=lambda q: (q.position, q.id))
    index = ordered.index(question)
    target = index + offset
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    session.flush()
