"""Resident pages: home, submission form, confirmation, tracking and status."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Department, Macrosector
from app.channels.forms import TrackForm, attribute_field_name, submit_form_class
from app.channels.uploads import attach_uploads, read_uploads, reselect_message
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.i18n import current_locale
from app.security import honeypot
from app.security.limits import submission_limit, tracking_limit
from app.tickets import intake
from app.tickets.attachments import limits_hint
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Ticket
from app.tickets.tracking import InvalidTrackingCode, format_code, normalize_code

bp = Blueprint("resident", __name__)


def _active_categories() -> list[Category]:
    return list(db.session.scalars(
        sa.select(Category).join(Category.department)
        .where(Category.active, Department.active)
        .order_by(Department.name, Category.name)
        .options(selectinload(Category.attributes))
    ))


@bp.get("/")
def home():
    categories = _active_categories()
    by_department: dict[Department, list[Category]] = {}
    for category in categories:
        by_department.setdefault(category.department, []).append(category)
    return render_template("resident/home.html", by_department=by_department,
                           track_form=TrackForm())


def _chosen_category(categories: list[Category]) -> Category | None:
    """The category picked on the form (POST) or given in ``?categoria=`` (GET)."""
    if request.method == "POST":
        raw = request.form.get("category", "")
        return next((c for c in categories if str(c.id) == raw), None)
    slug = request.args.get("categoria")
    return next((c for c in categories if c.slug == slug), None) if slug else None


def _attribute_answers(form, category: Category | None) -> dict[str, object]:
    if category is None:
        return {}
    return {a.code: form[attribute_field_name(a.code)].data
            for a in category.attributes if a.variable}


@bp.route("/solicitudes/nueva", methods=["GET", "POST"])
@submission_limit
def submit():
    """The request form; the chosen category's own questions appear in it.

    Without JavaScript, changing the category and pressing «Ver preguntas»
    shows the new category's questions, keeping everything typed. The same
    button pressed with the category unchanged (e.g. by Enter) submits.
    """
    categories = _active_categories()
    chosen = _chosen_category(categories)
    form = submit_form_class(chosen)()
    form.category.choices = [("", _("Elige una opción"))] + [
        (c.id, f"{c.name} ({c.department.name})") for c in categories
    ]
    macrosectors = db.session.scalars(sa.select(Macrosector).order_by(Macrosector.name)).all()
    form.macrosector.choices = [("", _("No sé / prefiero no decir"))] + [
        (m.id, m.name) for m in macrosectors
    ]
    if request.method == "GET" and chosen is not None:
        form.category.data = chosen.id
    shown = str(chosen.id) if chosen else ""
    refresh = (request.method == "POST" and request.form.get("accion") == "preguntas"
               and form.shown_category.data != shown)
    form.shown_category.data = shown

    form.attachments.description = limits_hint()
    chose_files = any(f.filename for f in request.files.getlist("attachments"))
    if refresh:
        if chose_files:
            form.form_errors.append(reselect_message())
        return render_template("resident/submit.html", form=form, category=chosen,
                               any_attributes=any(c.attributes for c in categories),
                               refreshed=True)
    if request.method == "POST" and honeypot.looks_automatic(request.form):
        # Maybe a bot, maybe a quick person: nothing is lost, they send again.
        form.form_errors.append(_("¿Eres una persona? Revisa los datos y pulsa «Enviar "
                                  "solicitud» de nuevo."))
        if chose_files:
            form.form_errors.append(reselect_message())
        return render_template("resident/submit.html", form=form, category=chosen,
                               any_attributes=any(c.attributes for c in categories)), 422
    if form.validate_on_submit():
        category = db.session.get(Category, form.category.data) if form.category.data else None
        macrosector = (db.session.get(Macrosector, form.macrosector.data)
                       if form.macrosector.data else None)
        try:
            uploads = read_uploads(request.files.getlist("attachments"))
            ticket = intake.submit(
                db.session,
                category=category,
                description=form.description.data,
                channel=Channel.WEB,
                contact=ResidentContact(name=form.name.data, email=form.email.data,
                                        phone=form.phone.data, rut=form.rut.data),
                consent=form.consent.data,
                address=form.address.data,
                macrosector=macrosector,
                attributes=_attribute_answers(form, chosen),
                locale=current_locale(),  # their emails are written in it
            )
            # The resident's own files: shown on their status page (public).
            attach_uploads(db.session, ticket, uploads, public=True, channel=Channel.WEB)
        except ValidationFailed as error:
            db.session.rollback()  # also deletes files already stored (attachments)
            error.field_errors = {
                attribute_field_name(k.split(".", 1)[1]) if k.startswith("attributes.") else k: v
                for k, v in error.field_errors.items()}
            apply_domain_errors(form, error)
            if chose_files:
                form.form_errors.append(reselect_message())
        else:
            db.session.commit()
            return redirect(url_for(".confirmation", code=ticket.formatted_tracking_code))
    status = 422 if request.method == "POST" else 200
    return render_template("resident/submit.html", form=form, category=chosen,
                           any_attributes=any(c.attributes for c in categories)), status


def _ticket_by_code_or_404(code: str) -> Ticket:
    try:
        normalized = normalize_code(code)
    except InvalidTrackingCode:
        abort(404)
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.tracking_code == normalized))
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/solicitudes/<code>/recibida")
@tracking_limit
def confirmation(code: str):
    ticket = _ticket_by_code_or_404(code)
    return render_template("resident/confirmation.html", ticket=ticket)


@bp.route("/seguimiento", methods=["GET", "POST"])
@tracking_limit
def track():
    form = TrackForm()
    status = 200
    if form.validate_on_submit():
        code = form.code.data or ""
        try:
            normalized = normalize_code(code)
        except InvalidTrackingCode:
            form.code.errors = [_("Ese código no es válido. Revisa que tenga 12 letras y "
                                  "números; un error de una letra se detecta aquí.")]
            status = 422
        else:
            exists = db.session.scalar(
                sa.select(Ticket.id).where(Ticket.tracking_code == normalized))
            if exists is not None:
                return redirect(url_for(".status", code=format_code(normalized)))
            form.code.errors = [_("No encontramos una solicitud con ese código.")]
            status = 404
    elif request.method == "POST":
        status = 400
    return render_template("resident/track.html", form=form), status


@bp.get("/seguimiento/<code>")
@tracking_limit
def status(code: str):
    ticket = _ticket_by_code_or_404(code)
    return render_template("resident/status.html", ticket=ticket)
