"""The survey a resident is invited to when a request is resolved, and its link.

The link carries a token: the survey id and a random nonce kept in the row,
signed with the app's secret key (itsdangerous). A changed character breaks
the signature; a forged id without the nonce does not match the row. The
token itself does not expire: the row's ``expires_at`` decides, so the email
and the status page show the same link, valid until the same moment. It is
single use because the answer is stored on that same row, at most once.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from app.database import utcnow
from app.domain import DomainError
from app.surveys.models import ResolutionSurvey
from app.templating import local_date
from app.tickets.models import Status, Ticket

# B105 (bandit): a salt (namespace), not a secret
TOKEN_SALT = "conectados.resolution-survey"  # nosec B105
# A request whose resolution stands: resolved, or closed after being resolved.
SURVEYABLE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


class Availability(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"
    REOPENED = "reopened"  # the request is being worked on again


class InvalidSurveyLink(DomainError):
    """The token was altered, truncated, or does not belong to any survey."""


class SurveyUnavailable(DomainError):
    """The survey cannot be answered now; ``availability`` says why."""

    def __init__(self, message: str, availability: Availability):
        super().__init__(message)
        self.availability = availability


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def make_token(survey: ResolutionSurvey) -> str:
    """The signed token of ``survey`` (deterministic: same survey, same token)."""
    return _serializer().dumps([survey.id, survey.nonce])


def survey_from_token(session: Session, token: str) -> ResolutionSurvey:
    """The survey a token points to.

    :raise InvalidSurveyLink: if the signature does not match (tampered or cut
        short), the payload is malformed, or no survey has that id and nonce.
    """
    message = _("Este enlace de encuesta no es válido. Puede que se haya cortado o "
                "modificado al copiarlo.")
    try:
        payload = _serializer().loads(token or "")
    except BadSignature:
        raise InvalidSurveyLink(message) from None
    if (not isinstance(payload, list) or len(payload) != 2
            or not isinstance(payload[0], int) or not isinstance(payload[1], str)):
        raise InvalidSurveyLink(message)
    survey = session.get(ResolutionSurvey, payload[0])
    if survey is None or not secrets.compare_digest(survey.nonce, payload[1]):
        raise InvalidSurveyLink(message)
    return survey


def availability(survey: ResolutionSurvey, now: datetime | None = None) -> Availability:
    """Whether ``survey`` can be answered at ``now``, and if not, why."""
    now = now or utcnow()
    if survey.answered:
        return Availability.ANSWERED
    if now >= survey.expires_at:
        return Availability.EXPIRED
    if survey.ticket.status not in SURVEYABLE_STATUSES:
        return Availability.REOPENED
    return Availability.OPEN


def ensure_answerable(survey: ResolutionSurvey, now: datetime | None = None) -> None:
    """Return if ``survey`` can be answered now.

    :raise SurveyUnavailable: with a Spanish message if it was answered
        already, its link expired, or the request was reopened meanwhile.
    """
    state = availability(survey, now)
    if state is Availability.OPEN:
        return
    if state is Availability.ANSWERED:
        message = _("Ya respondiste esta encuesta el %(date)s. Solo se puede responder una "
                    "vez por solicitud. ¡Gracias por tu opinión!",
                    date=local_date(survey.responded_at))
    elif state is Availability.EXPIRED:
        message = _("Este enlace venció el %(date)s y ya no recibe respuestas. Si tu "
                    "problema sigue, puedes hacer una nueva solicitud.",
                    date=local_date(survey.expires_at))
    else:
        message = _("Tu solicitud se reabrió y está en gestión otra vez. Cuando se "
                    "resuelva te pediremos tu opinión.")
    raise SurveyUnavailable(message, state)


def invite_after_resolution(session: Session, ticket: Ticket, *, now: datetime | None = None,
                            emailed: bool = False) -> ResolutionSurvey | None:
    """Open (or re-open) the satisfaction survey of a request just resolved.

    Called by ``tickets.lifecycle.transition`` on every move to ``resolved``.
    The first resolution creates the survey; a later one (after a reopen)
    renews its validity if it is still unanswered. Returns None, creating
    nothing, when the request's survey was answered already: one answer per
    request. ``emailed`` records that the resolution email carries the link
    (the reminder job only reminds those). Flushes, never commits.
    """
    now = now or utcnow()
    expires_at = now + timedelta(days=current_app.config["SURVEY_LINK_DAYS"])
    survey = ticket.resolution_survey
    if survey is None:
        survey = ResolutionSurvey(ticket=ticket, invited_at=now, expires_at=expires_at)
        session.add(survey)
    elif survey.answered:
        return None
    else:
        survey.invited_at = now
        survey.expires_at = expires_at
    if emailed:
        survey.emailed_at = now
    session.flush()
    return survey


def resolution_survey_url(ticket: Ticket, external: bool = False,
                          now: datetime | None = None) -> str | None:
    """Link to the request's survey while it can be answered, else None.

    ``external=True`` gives an absolute link on ``PUBLIC_BASE_URL`` (emails);
    otherwise a path on the current site (pages).
    """
    survey = ticket.resolution_survey
    if survey is None or availability(survey, now) is not Availability.OPEN:
        return None
    return survey_url(survey, external=external)


def survey_url(survey: ResolutionSurvey, external: bool = False) -> str:
    token = make_token(survey)
    if external:
        return f"{current_app.config['PUBLIC_BASE_URL']}/encuesta/{token}"
    return url_for("surveys_public.resolution_survey", token=token)
