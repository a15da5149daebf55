"""Pages residents reach without logging in: the survey after resolution (by its
signed link) and community surveys (public, linkable and embeddable)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.catalog.models import Macrosector
from app.domain import DomainError, ValidationFailed
from app.extensions import csrf, db
from app.forms import apply_domain_errors
from app.surveys import invitations, resolution, responses
from app.surveys.forms import ResolutionSurveyForm
from app.surveys.invitations import Availability, InvalidSurveyLink, SurveyUnavailable
from app.surveys.models import (
    AGE_RANGE_LABELS,
    DISABILITY_LABELS,
    ResolutionSurvey,
    Survey,
    SurveyKind,
    SurveyState,
)
from app.tickets.models import Status

bp = Blueprint("surveys_public", __name__)

# HTTP status of each reason a survey link cannot be answered.
UNAVAILABLE_STATUS = {
    Availability.ANSWERED: 409,
    Availability.EXPIRED: 410,
    Availability.REOPENED: 409,
}


# --- the survey after resolution ------------------------------------------------------------

def _survey_or_error_page(token: str) -> ResolutionSurvey | tuple:
    try:
        return invitations.survey_from_token(db.session, token)
    except InvalidSurveyLink as error:
        return render_template("surveys/resolution_unavailable.html",
                               title=_("Enlace no válido"), message=error.message,
                               ticket=None), 404


def _unavailable(survey: ResolutionSurvey, error: SurveyUnavailable):
    titles = {Availability.ANSWERED: _("Ya respondiste esta encuesta"),
              Availability.EXPIRED: _("Este enlace venció"),
              Availability.REOPENED: _("Tu solicitud está en gestión")}
    return render_template("surveys/resolution_unavailable.html",
                           title=titles[error.availability], message=error.message,
                           ticket=survey.ticket), UNAVAILABLE_STATUS[error.availability]


@bp.route("/encuesta/<token>", methods=["GET", "POST"])
def resolution_survey(token: str):
    """The one-screen survey; answering it twice, late or with a bad link is refused."""
    survey = _survey_or_error_page(token)
    if isinstance(survey, tuple):
        return survey
    try:
        invitations.ensure_answerable(survey)
    except SurveyUnavailable as error:
        return _unavailable(survey, error)

    form = ResolutionSurveyForm()
    can_reopen = survey.ticket.status is Status.RESOLVED
    if form.validate_on_submit():
        try:
            resolution.answer_survey(db.session, survey, resolution.ResolutionAnswer(
                resolved=form.resolved.data, rating=form.rating.data,
                courtesy_rating=form.courtesy_rating.data, time_rating=form.time_rating.data,
                comment=form.comment.data, reopen=bool(form.reopen.data) and can_reopen))
        except SurveyUnavailable as error:
            db.session.rollback()
            return _unavailable(survey, error)
        except ValidationFailed as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            return redirect(url_for(".resolution_thanks", token=token))
    status = 422 if request.method == "POST" else 200
    return render_template("surveys/resolution_form.html", form=form, survey=survey,
                           ticket=survey.ticket, can_reopen=can_reopen), status


@bp.get("/encuesta/<token>/gracias")
def resolution_thanks(token: str):
    survey = _survey_or_error_page(token)
    if isinstance(survey, tuple):
        return survey
    if not survey.answered:
        return redirect(url_for(".resolution_survey", token=token))
    return render_template("surveys/resolution_thanks.html", survey=survey,
                           ticket=survey.ticket)


# --- community surveys ----------------------------------------------------------------------

def _community_survey_or_404(slug: str) -> Survey:
    survey = db.session.scalar(sa.select(Survey).where(Survey.slug == slug))
    if survey is None or survey.kind is not SurveyKind.COMMUNITY \
            or survey.state() is SurveyState.DRAFT:
        abort(404)
    return survey


def _allow_framing(response):
    """Embeds may be framed by the sites in SURVEY_EMBED_ANCESTORS (default any)."""
    ancestors = current_app.config["SURVEY_EMBED_ANCESTORS"]
    response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def _community(slug: str, embed: bool):
    survey = _community_survey_or_404(slug)
    errors: dict[str, list[str]] = {}
    message = None
    status = 200
    try:
        responses.ensure_open(survey)
    except DomainError as error:
        return render_template("surveys/public_unavailable.html", survey=survey,
                               message=error.message, embed=embed), 410
    if request.method == "POST":
        try:
            responses.submit_response(
                db.session, survey, request.form.to_dict(flat=False),
                demographics=responses.Demographics(
                    age_range=request.form.get("age_range"),
                    disability=request.form.get("disability"),
                    macrosector_id=request.form.get("macrosector")))
        except ValidationFailed as error:
            db.session.rollback()
            errors, message, status = error.field_errors, error.message, 422
        except DomainError as error:
            db.session.rollback()
            return render_template("surveys/public_unavailable.html", survey=survey,
                                   message=error.message, embed=embed), 410
        else:
            db.session.commit()
            endpoint = ".community_embed_thanks" if embed else ".community_thanks"
            return redirect(url_for(endpoint, slug=slug))
    return render_template(
        "surveys/public_form.html", survey=survey, embed=embed, errors=errors,
        message=message, values=request.form, demographic_fields=_demographic_fields(survey),
        action=url_for(".community_embed" if embed else ".community", slug=slug),
    ), status


def _demographic_fields(survey: Survey) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(field name, label, [(value, text)]) of the optional demographic questions."""
    if not survey.demographics_enabled:
        return []
    macrosectors = db.session.scalars(sa.select(Macrosector).order_by(Macrosector.name))
    return [
        ("age_range", _("Tramo de edad"),
         [(a.value, str(label)) for a, label in AGE_RANGE_LABELS.items()]),
        ("disability", _("¿Tienes alguna situación de discapacidad?"),
         [(d.value, str(label)) for d, label in DISABILITY_LABELS.items()]),
        ("macrosector", _("Macrosector donde vives"),
         [(str(m.id), m.name) for m in macrosectors]),
    ]


# Anonymous public forms: there is no session to protect from cross-site
# forgery, and an embed in another site's frame gets no session cookie.
@bp.route("/encuestas/<slug>", methods=["GET", "POST"])
@csrf.exempt
def community(slug: str):
    return _community(slug, embed=False)


@bp.route("/encuestas/<slug>/embed", methods=["GET", "POST"])
@csrf.exempt
def community_embed(slug: str):
    return _allow_framing(current_app.make_response(_community(slug, embed=True)))


@bp.get("/encuestas/<slug>/gracias")
def community_thanks(slug: str):
    survey = _community_survey_or_404(slug)
    return render_template("surveys/public_thanks.html", survey=survey, embed=False)


@bp.get("/encuestas/<slug>/embed/gracias")
def community_embed_thanks(slug: str):
    survey = _community_survey_or_404(slug)
    return _allow_framing(current_app.make_response(
        render_template("surveys/public_thanks.html", survey=survey, embed=True)))
