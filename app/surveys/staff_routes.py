"""Staff pages of the surveys: builder (admins), results (managers and admins),
and answering staff surveys (any staff member, once, anonymously)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.permissions import Action, allowed, ensure
from app.audit.service import client_ip, record
from app.domain import DomainError, ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.surveys import builder, exports, responses, results
from app.surveys.forms import QuestionForm, SurveyForm
from app.surveys.models import Survey, SurveyKind, SurveyQuestion, SurveySubmission

bp = Blueprint("surveys_staff", __name__, url_prefix="/gestion/encuestas")



@bp.before_request
@login_required
def require_login():
    """Every page of this blueprint is for logged-in staff only."""


def _survey_or_404(survey_id: int) -> Survey:
    return db.get_or_404(Survey, survey_id)


def _question_or_404(survey: Survey, question_id: int) -> SurveyQuestion:
    question = db.session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey.id:
        abort(404)
    return question


def _min_group_size() -> int:
    return current_app.config["SURVEY_MIN_GROUP_SIZE"]


@bp.get("/")
def index():
    staff_surveys = responses.open_staff_surveys(db.session, current_user)
    surveys, counts = [], {}
    if allowed(current_user, Action.READ_SURVEY_RESULTS):
        surveys = db.session.scalars(
            sa.select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())).all()
        counts = dict(db.session.execute(
            sa.select(SurveySubmission.survey_id, sa.func.count())
            .group_by(SurveySubmission.survey_id)).all())
    return render_template("surveys/staff_index.html", staff_surveys=staff_surveys,
                           surveys=surveys, counts=counts,
                           can_build=allowed(current_user, Action.BUILD_SURVEYS),
                           can_read=allowed(current_user, Action.READ_SURVEY_RESULTS))


# --- builder --------------------------------------------------------------------------------

def _survey_input(form: SurveyForm) -> builder.SurveyInput:
    return builder.SurveyInput(
        title=form.title.data, kind=form.kind.data, description=form.description.data,
        ask_demographics=form.ask_demographics.data, opens_on=form.opens_on.data,
        closes_on=form.closes_on.data)


def _question_input(form: QuestionForm) -> builder.QuestionInput:
    return builder.QuestionInput(
        kind=form.kind.data, prompt=form.prompt.data, help_text=form.help_text.data,
        required=form.required.data, options=form.options.data,
        scale_max=form.scale_max.data, low_label=form.low_label.data,
        high_label=form.high_label.data)


@bp.route("/nueva", methods=["GET", "POST"])
def new():
    ensure(Action.BUILD_SURVEYS)
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            survey = builder.create_survey(db.session, _survey_input(form),
                                           created_by=current_user)
        except ValidationFailed as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            record(db.session, actor=current_user, action="admin.survey_create", target_type="survey", target_id=survey.id, ip=client_ip())  # noqa: E501
            db.session.commit()
            flash(_("Encuesta creada. Agrega sus preguntas y luego publícala."), "success")
            return redirect(url_for(".edit", survey_id=survey.id))
    status = 422 if request.method == "POST" else 200
    return render_template("surveys/survey_new.html", form=form), status


def _edit_page(survey: Survey, form: SurveyForm | None = None,
               question_form: QuestionForm | None = None, status: int = 200):
    if form is None:
        form = SurveyForm(formdata=None, data={
            "title": survey.title, "kind": survey.kind.value,
            "description": survey.description, "ask_demographics": survey.ask_demographics,
            "opens_on": builder.opens_on(survey), "closes_on": builder.closes_on(survey)})
    question_form = question_form or QuestionForm(formdata=None, prefix="question")
    public_url = embed_url = None
    if survey.kind is SurveyKind.COMMUNITY:
        public_url = url_for("surveys_public.community", slug=survey.slug, _external=True)
        embed_url = url_for("surveys_public.community_embed", slug=survey.slug,
                            _external=True)
    return render_template(
        "surveys/survey_edit.html", survey=survey, form=form, question_form=question_form,
        locked=builder.has_responses(db.session, survey), state=survey.state(),
        public_url=public_url, embed_url=embed_url), status


@bp.route("/<int:survey_id>", methods=["GET", "POST"])
def edit(survey_id: int):
    ensure(Action.BUILD_SURVEYS)
    survey = _survey_or_404(survey_id)
    if request.method == "GET":
        return _edit_page(survey)
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            builder.update_survey(db.session, survey, _survey_input(form))
        except ValidationFailed as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            record(db.session, actor=current_user, action="admin.survey_edit", target_type="survey", target_id=survey.id, ip=client_ip())  # noqa: E501
            db.session.commit()
            flash(_("Cambios guardados."), "success")
            return redirect(url_for(".edit", survey_id=survey.id))
    return _edit_page(survey, form=form, status=422)


def _simple_action(survey: Survey, action, success: str, audit: str):
    """Run a button's action (the CSRF check is done by CSRFProtect) and go back."""
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        record(db.session, actor=current_user, action=audit, target_type="survey", target_id=survey.id, ip=client_ip())  # noqa: E501
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".edit", survey_id=survey.id))


@bp.post("/<int:survey_id>/publicar")
def publish(survey_id: int):
    ensure(Action.BUILD_SURVEYS)
    survey = _survey_or_404(survey_id)
    return _simple_action(survey, lambda: builder.publish_now(db.session, survey),
                          _("La encuesta está publicada y recibe respuestas."),
                          "admin.survey_publish")


@bp.post("/<int:survey_id>/cerrar")
def close(survey_id: int):
    ensure(Action.BUILD_SURVEYS)
    survey = _survey_or_404(survey_id)
    return _simple_action(survey, lambda: builder.close_now(db.session, survey),
                          _("La encuesta se cerró: ya no recibe respuestas."),
                          "admin.survey_close")


@bp.post("/<int:survey_id>/preguntas")
def add_question(survey_id: int):
    ensure(Action.BUILD_SURVEYS)
    survey = _survey_or_404(survey_id)
    form = QuestionForm(prefix="question")
    if form.validate_on_submit():
        try:
            builder.add_question(db.session, survey, _question_input(form))
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            record(db.session, actor=current_user, action="admin.question_add", target_type="survey", target_id=survey.id, ip=client_ip())  # noqa: E501
            db.session.commit()
            flash(_("Pregunta agregada."), "success")
            return redirect(url_for(".edit", survey_id=survey.id) + "#preguntas")
    return _edit_page(survey, question_form=form, status=422)


@bp.route("/<int:survey_id>/preguntas/<int:question_id>", methods=["GET", "POST"])
def edit_question(survey_id: int, question_id: int):
    ensure(Action.BUILD_SURVEYS)
    survey = _survey_or_404(survey_id)
    question = _question_or_404(survey, question_id)
    if request.method == "GET":
        values = builder.question_form_values(question)
        form = QuestionForm(formdata=None, prefix="question", obj=values)
        form.scale_max.data = str(values.scale_max)
        return render_template("surveys/question_edit.html", survey=survey,
                               question=question, form=form,
                               locked=builder.has_responses(db.session, survey))
    form = QuestionForm(prefix="question")
    if form.validate_on_submit():
        try:
            builder.update_question(db.session, question, _question_input(form))
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            record(db.session, actor=current_user, action="admin.question_edit", target_type="survey", target_id=survey.id, ip=client_ip())  # noqa: E501
            db.session.commit()
            flash(_("Pregunta actualizada."), "success")
            return redirect(url_for(".edit", survey_id=survey.id) + "#preguntas")
    return render_template("surveys/question_edit.html", survey=survey, question=question,
                           form=form, locked=builder.has_responses(db.session, survey)), 422


@bp.post("/<int:survey_id>/preguntas/<int:question_id>/eliminar")
def delete_question(survey_id: int, question_id: int):
    ensure(Action.BUILD_SURVEYS)
    survey = _survey_or_404(survey_id)
    question = _question_or_404(survey, question_id)
    return _simple_action(survey, lambda: builder.delete_question(db.session, question),
                          _("Pregunta eliminada."), "admin.question_delete")


@bp.post("/<int:survey_id>/preguntas/<int:question_id>/mover")
def move_question(survey_id: int, question_id: int):
    ensure(Action.BUILD_SURVEYS)
    survey = _survey_or_404(survey_id)
    question = _question_or_404(survey, question_id)
    offset = -1 if request.form.get("direccion") == "arriba" else 1
    return _simple_action(survey, lambda: builder.move_question(db.session, question, offset),
                          _("Orden actualizado."), "admin.question_move")


# --- results --------------------------------------------------------------------------------

@bp.get("/<int:survey_id>/resultados")
def survey_results(survey_id: int):
    ensure(Action.READ_SURVEY_RESULTS)
    survey = _survey_or_404(survey_id)
    min_n = _min_group_size()
    overall = results.survey_results(db.session, survey, min_group_size=min_n)
    dims = results.dimensions(db.session, survey)
    key = request.args.get("grupo") or ""
    split = None
    if key and not overall.hidden:
        split = results.breakdown(db.session, survey, key, min_group_size=min_n)
    return render_template("surveys/results.html", survey=survey, results=overall,
                           dimensions=dims, group_key=key, breakdown=split,
                           state=survey.state())


def _csv_response(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Type": "text/csv; charset=utf-8"})


@bp.get("/<int:survey_id>/resultados.csv")
def survey_results_csv(survey_id: int):
    ensure(Action.READ_SURVEY_RESULTS)
    survey = _survey_or_404(survey_id)
    overall = results.survey_results(db.session, survey, min_group_size=_min_group_size(),
                                     text_sample=0)
    if overall.hidden:
        flash(_("Los resultados de esta encuesta se verán cuando tenga al menos %(n)d "
                "respuestas, para proteger el anonimato.", n=_min_group_size()), "error")
        return redirect(url_for(".survey_results", survey_id=survey.id))
    name = f"encuesta-{survey.slug}-{date.today().isoformat()}.csv"
    text = exports.survey_csv(db.session, survey)
    record(db.session, actor=current_user, action="export.survey_csv", target_type="survey", target_id=survey.id, ip=client_ip())  # noqa: E501
    db.session.commit()
    return _csv_response(text, name)


@bp.get("/satisfaccion")
def satisfaction():
    ensure(Action.READ_SURVEY_RESULTS)
    return render_template("surveys/satisfaction.html",
                           results=results.satisfaction_results(db.session))


@bp.get("/satisfaccion.csv")
def satisfaction_csv():
    ensure(Action.READ_SURVEY_RESULTS)
    name = f"satisfaccion-{date.today().isoformat()}.csv"
    text = exports.satisfaction_csv(db.session)
    record(db.session, actor=current_user, action="export.satisfaction_csv", ip=client_ip())
    db.session.commit()
    return _csv_response(text, name)


# --- answering a staff survey ---------------------------------------------------------------

@bp.route("/<int:survey_id>/responder", methods=["GET", "POST"])
def answer(survey_id: int):
    survey = _survey_or_404(survey_id)
    if survey.kind is not SurveyKind.STAFF:
        abort(404)
    try:
        responses.ensure_open(survey)
    except DomainError as error:
        return render_template("surveys/staff_answer_done.html", survey=survey,
                               message=error.message), 410
    if responses.has_participated(db.session, survey, current_user):
        return render_template(
            "surveys/staff_answer_done.html", survey=survey,
            message=_("Ya respondiste esta encuesta. Se puede responder una sola vez por "
                      "persona. ¡Gracias!")), 409 if request.method == "POST" else 200
    errors: dict[str, list[str]] = {}
    message = None
    status = 200
    if request.method == "POST":
        try:
            responses.submit_response(db.session, survey, request.form.to_dict(flat=False),
                                      staff_member=current_user)
        except ValidationFailed as error:
            db.session.rollback()
            errors, message, status = error.field_errors, error.message, 422
        except DomainError as error:
            db.session.rollback()
            return render_template("surveys/staff_answer_done.html", survey=survey,
                                   message=error.message), 409
        else:
            db.session.commit()
            flash(_("Gracias. Tu respuesta quedó guardada de forma anónima."), "success")
            return redirect(url_for(".index"))
    return render_template("surveys/staff_answer.html", survey=survey, errors=errors,
                           message=message, values=request.form), status
