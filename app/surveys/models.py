"""Survey tables.

``ResolutionSurvey`` is one row per request: the invitation sent when it is
resolved and, once answered, the answer (so a request has at most one).

The diagnostic surveys are ``Survey`` → ``SurveyQuestion`` → ``SurveyOption``,
answered as ``SurveySubmission`` → ``SurveyAnswer``. Submissions never hold a
user id. For staff surveys, ``SurveyParticipation`` records only *that* a staff
member answered (so each answers once), in a table with no link to the
submission: no shared id, no timestamp, and submission/answer ids are random
strings, so ordering rows by id does not pair a participation with an answer.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Macrosector
from app.database import UTCDateTime, utcnow
from app.extensions import db
from app.tickets.models import Ticket


def _str_enum(enum_cls: type[enum.Enum], length: int = 16) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, length=length,
                   values_callable=lambda e: [m.value for m in e])


def random_id() -> str:
    """A 128-bit random hex id: carries no order and no time."""
    return secrets.token_hex(16)


# --- the survey after resolution ----------------------------------------------------------

class ResolvedAnswer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    PARTLY = "partly"

    @property
    def label(self) -> str:
        return str(RESOLVED_ANSWER_LABELS[self])


RESOLVED_ANSWER_LABELS = {
    ResolvedAnswer.YES: _l("Sí"),
    ResolvedAnswer.NO: _l("No"),
    ResolvedAnswer.PARTLY: _l("En parte"),
}


class ResolutionSurvey(db.Model):
    """The satisfaction survey of one request: invitation, then its single answer."""

    __tablename__ = "resolution_surveys"
    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        sa.CheckConstraint("courtesy_rating BETWEEN 1 AND 5", name="courtesy_range"),
        sa.CheckConstraint("time_rating BETWEEN 1 AND 5", name="time_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    # Secret half of the link; the link is this plus the id, signed.
    nonce: Mapped[str] = mapped_column(sa.String(32), default=lambda: secrets.token_hex(12))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Last time the link went out by email (None: only on the status page).
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_answer: Mapped[ResolvedAnswer | None] = mapped_column(_str_enum(ResolvedAnswer))
    rating: Mapped[int | None]
    courtesy_rating: Mapped[int | None]
    time_rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    reopen_requested: Mapped[bool] = mapped_column(default=False)
    reopened: Mapped[bool] = mapped_column(default=False)
    # Unhappy answer (no, or rating 1-2): the department supervisor was told.
    flagged: Mapped[bool] = mapped_column(default=False)

    ticket: Mapped[Ticket] = relationship(
        backref=backref("resolution_survey", uselist=False, passive_deletes=True))

    @property
    def answered(self) -> bool:
        return self.responded_at is not None

    def __repr__(self) -> str:
        return f"<ResolutionSurvey ticket={self.ticket_id} answered={self.answered}>"


# --- diagnostic surveys ---------------------------------------------------------------------

class SurveyKind(enum.StrEnum):
    COMMUNITY = "community"  # public, for residents; optional demographic questions
    STAFF = "staff"  # for logged-in staff; anonymous, one response each

    @property
    def label(self) -> str:
        return str(SURVEY_KIND_LABELS[self])


SURVEY_KIND_LABELS = {
    SurveyKind.COMMUNITY: _l("Diagnóstico comunitario (pública)"),
    SurveyKind.STAFF: _l("Diagnóstico interno (funcionarios)"),
}


class SurveyState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(SURVEY_STATE_LABELS[self])


SURVEY_STATE_LABELS = {
    SurveyState.DRAFT: _l("Borrador"),
    SurveyState.SCHEDULED: _l("Programada"),
    SurveyState.OPEN: _l("Abierta"),
    SurveyState.CLOSED: _l("Cerrada"),
}


class QuestionKind(enum.StrEnum):
    RATING = "rating"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"

    @property
    def label(self) -> str:
        return str(QUESTION_KIND_LABELS[self])

    @property
    def has_options(self) -> bool:
        return self in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


QUESTION_KIND_LABELS = {
    QuestionKind.RATING: _l("Escala de notas"),
    QuestionKind.SINGLE: _l("Selección única"),
    QuestionKind.MULTIPLE: _l("Selección múltiple"),
    QuestionKind.TEXT: _l("Texto libre"),
}


class Survey(db.Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[SurveyKind] = mapped_column(_str_enum(SurveyKind))
    # Community surveys only: also ask age range, disability and macrosector.
    ask_demographics: Mapped[bool] = mapped_column(default=False)
    # Not published while opens_at is None; open from opens_at until closes_at.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="(SurveyQuestion.position, SurveyQuestion.id)",
        cascade="all, delete-orphan")

    def state(self, now: datetime | None = None) -> SurveyState:
        now = now or utcnow()
        if self.opens_at is None:
            return SurveyState.DRAFT
        if now < self.opens_at:
            return SurveyState.SCHEDULED
        if self.closes_at is not None and now >= self.closes_at:
            return SurveyState.CLOSED
        return SurveyState.OPEN

    def is_open(self, now: datetime | None = None) -> bool:
        return self.state(now) is SurveyState.OPEN

    @property
    def demographics_enabled(self) -> bool:
        return self.kind is SurveyKind.COMMUNITY and self.ask_demographics

    def __repr__(self) -> str:
        return f"<Survey {self.slug}>"


class SurveyQuestion(db.Model):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(_str_enum(QuestionKind))
    prompt: Mapped[str] = mapped_column(sa.String(300))
    help_text: Mapped[str] = mapped_column(sa.String(500), default="")
    required: Mapped[bool] = mapped_column(default=False)
    # Rating questions: a scale from 1 to scale_max, with optional end labels.
    scale_max: Mapped[int | None]
    low_label: Mapped[str | None] = mapped_column(sa.String(60))
    high_label: Mapped[str | None] = mapped_column(sa.String(60))

    survey: Mapped[Survey] = relationship(back_populates="questions")
    options: Mapped[list[SurveyOption]] = relationship(
        back_populates="question", order_by="(SurveyOption.position, SurveyOption.id)",
        cascade="all, delete-orphan")

    @property
    def field_name(self) -> str:
        """Name and id of its input on the answer form."""
        return f"q{self.id}"

    @property
    def scale(self) -> list[int]:
        return list(range(1, (self.scale_max or 5) + 1))


class SurveyOption(db.Model):
    __tablename__ = "survey_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(sa.String(200))

    question: Mapped[SurveyQuestion] = relationship(back_populates="options")


class AgeRange(enum.StrEnum):
    UNDER_18 = "0-17"
    FROM_18 = "18-29"
    FROM_30 = "30-44"
    FROM_45 = "45-59"
    FROM_60 = "60+"

    @property
    def label(self) -> str:
        return str(AGE_RANGE_LABELS[self])


AGE_RANGE_LABELS = {
    AgeRange.UNDER_18: _l("Menos de 18 años"),
    AgeRange.FROM_18: _l("18 a 29 años"),
    AgeRange.FROM_30: _l("30 a 44 años"),
    AgeRange.FROM_45: _l("45 a 59 años"),
    AgeRange.FROM_60: _l("60 años o más"),
}


class Disability(enum.StrEnum):
    YES = "yes"
    NO = "no"

    @property
    def label(self) -> str:
        return str(DISABILITY_LABELS[self])


DISABILITY_LABELS = {
    Disability.YES: _l("Sí"),
    Disability.NO: _l("No"),
}


class SurveySubmission(db.Model):
    """One person's answers to a diagnostic survey; never linked to a user."""

    __tablename__ = "survey_submissions"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_id)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    # Day only, and only for community surveys (staff answers carry no time).
    submitted_on: Mapped[date | None] = mapped_column(sa.Date)
    # Optional demographic answers (community surveys that ask them).
    age_range: Mapped[AgeRange | None] = mapped_column(_str_enum(AgeRange, 8))
    disability: Mapped[Disability | None] = mapped_column(_str_enum(Disability, 8))
    macrosector_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("macrosectors.id", ondelete="SET NULL"))

    macrosector: Mapped[Macrosector | None] = relationship()
    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="submission", cascade="all, delete-orphan")


class SurveyAnswer(db.Model):
    """One answer: a number (rating), an option (one row per chosen option) or text."""

    __tablename__ = "survey_answers"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_id)
    submission_id: Mapped[str] = mapped_column(
        sa.ForeignKey("survey_submissions.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("survey_options.id", ondelete="CASCADE"), index=True)
    number: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(sa.Text)

    submission: Mapped[SurveySubmission] = relationship(back_populates="answers")
    question: Mapped[SurveyQuestion] = relationship()
    option: Mapped[SurveyOption | None] = relationship()


class SurveyParticipation(db.Model):
    """That a staff member answered a staff survey, and nothing about what."""

    __tablename__ = "survey_participations"

    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
