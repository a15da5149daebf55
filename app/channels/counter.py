"""Staff entering a request for a resident: by phone or at the counter.

The form is the resident form plus the channel and a verbal-consent box; it
goes through ``intake.submit(created_by=current_user)`` like every channel.
Any active category may be chosen (routing decides the department), so the
agent may not see the request afterwards: the handover page with the number
and tracking code is shown anyway, to its creator only, without the link.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from app.audit.service import client_ip, record
from app.catalog.models import Category, Department, Macrosector
from app.channels.forms import (
    CounterRequestForm,
    LookupForm,
    attribute_field_name,
    submit_form_class,
)
from app.channels.uploads import attach_uploads, read_uploads, reselect_message
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.tickets import intake
from app.tickets.access import can_see
from app.tickets.attachments import limits_hint
from app.tickets.contact import ResidentContact
from app.tickets.lookup import find_by_contact
from app.tickets.models import Channel, Ticket

bp = Blueprint("counter", __name__, url_prefix="/gestion/registrar")

CHANNELS = {"counter": Channel.COUNTER, "phone": Channel.PHONE}


@bp.before_request
@login_required
def require_login():
    """Staff only."""


def _active_categories() -> list[Category]:
    return list(db.session.scalars(
        sa.select(Category).join(Category.department)
        .where(Category.active, Department.active)
        .order_by(Department.name, Category.name)
        .options(selectinload(Category.attributes))))


def _lookup(lookup_form: LookupForm):
    """Earlier requests of the resident searched for, among those the user sees."""
    query = (lookup_form.buscar.data or "").strip()
    if not query:
        return None
    try:
        found = find_by_contact(db.session, current_user, query)
    except ValidationFailed as error:
        apply_domain_errors(lookup_form, error)
        return None
    record(db.session, actor=current_user, action="ticket.lookup_contact", ip=client_ip(), details={"kind": found.kind, "tickets": [t.id for t in found.tickets]})  # noqa: E501
    db.session.commit()
    return found


def _request_form(categories: list[Category], chosen: Category | None, **kwargs):
    form = submit_form_class(chosen, CounterRequestForm)(**kwargs)
    form.category.choices = [("", _("Elige una opción"))] + [
        (c.id, f"{c.name} ({c.department.name})") for c in categories]
    form.macrosector.choices = [("", _("No sabe / no indica"))] + [
        (m.id, m.name) for m in db.session.scalars(
            sa.select(Macrosector).order_by(Macrosector.name))]
    form.attachments.description = limits_hint()
    return form


def _context(categories: list[Category], chosen: Category | None, lookup_form: LookupForm,
             earlier) -> dict:
    return {"lookup_form": lookup_form, "earlier": earlier, "category": chosen,
            "any_attributes": any(c.attributes for c in categories)}


@bp.route("", methods=["GET", "POST"])
def register():
    """The «Registrar solicitud» form, with the search of earlier requests above it."""
    categories = _active_categories()
    raw = request.form.get("category", "") if request.method == "POST" else ""
    chosen = next((c for c in categories if str(c.id) == raw), None)
    form = _request_form(categories, chosen)
    if request.method == "GET" and (from_id := request.args.get("contacto", type=int)):
        _prefill_contact(form, from_id)
    shown = str(chosen.id) if chosen else ""
    refresh = (request.method == "POST" and request.form.get("accion") == "preguntas"
               and form.shown_category.data != shown)
    form.shown_category.data = shown
    chose_files = any(f.filename for f in request.files.getlist("attachments"))
    context = _context(categories, chosen, LookupForm(formdata=None), None)

    if refresh:
        if chose_files:
            form.form_errors.append(reselect_message())
        return render_template("counter/register.html", form=form, refreshed=True, **context)
    if form.validate_on_submit():
        ticket = _create(form, chosen, chose_files)
        if ticket is not None:
            return redirect(url_for(".handover", ticket_id=ticket.id))
    status = 422 if request.method == "POST" else 200
    return render_template("counter/register.html", form=form, **context), status


@bp.post("/buscar")
def lookup():
    """Search earlier requests by email, phone or RUT: a POST (with CSRF), so the
    resident's personal data never lands in a URL, a proxy log or the history."""
    categories = _active_categories()
    lookup_form = LookupForm()
    earlier = _lookup(lookup_form) if lookup_form.validate_on_submit() else None
    form = _request_form(categories, None, formdata=None)
    context = _context(categories, None, lookup_form, earlier)
    status = 422 if lookup_form.errors else 200
    return render_template("counter/register.html", form=form, **context), status


def _create(form, chosen: Category | None, chose_files: bool) -> Ticket | None:
    """Create the request and commit; on bad input re-fill ``form`` and return None."""
    contact = ResidentContact(name=form.name.data, email=form.email.data,
                              phone=form.phone.data, rut=form.rut.data)
    errors: dict[str, list[str]] = {}
    # Verbal consent: asked before writing down contact data; not needed without any.
    if not contact.is_anonymous and not form.consent.data:
        errors["consent"] = [_("Confirma que el vecino/a autorizó el uso de sus datos, o "
                               "no anotes datos de contacto.")]
    channel = CHANNELS.get(form.channel.data or "")
    if channel is None:
        errors["channel"] = [_("Indica si la solicitud llegó por teléfono o en persona.")]
    category = db.session.get(Category, form.category.data) if form.category.data else None
    macrosector = (db.session.get(Macrosector, form.macrosector.data)
                   if form.macrosector.data else None)
    answers = ({a.code: form[attribute_field_name(a.code)].data
                for a in chosen.attributes if a.variable} if chosen else {})
    ticket = None
    try:
        uploads = read_uploads(request.files.getlist("attachments"))
        ticket = intake.submit(
            db.session, category=category, description=form.description.data,
            channel=channel or Channel.COUNTER, contact=contact,
            consent=bool(form.consent.data) and not contact.is_anonymous,
            address=form.address.data, macrosector=macrosector,
            created_by=current_user, attributes=answers)
        if not errors:
            attach_uploads(db.session, ticket, uploads, public=True,
                           uploaded_by=current_user, channel=ticket.channel)
    except ValidationFailed as error:
        for key, messages in error.field_errors.items():
            if key.startswith("attributes."):
                key = attribute_field_name(key.split(".", 1)[1])
            errors.setdefault(key, []).extend(messages)
    if errors:
        db.session.rollback()  # also deletes files already stored
        apply_domain_errors(form, ValidationFailed(_("Revisa los datos marcados."), errors))
        if chose_files:
            form.form_errors.append(reselect_message())
        return None
    record(db.session, actor=current_user, action="ticket.create", target_type="ticket", target_id=ticket.id, ip=client_ip(), details={"channel": ticket.channel.value})  # noqa: E501
    db.session.commit()
    return ticket


def _prefill_contact(form, ticket_id: int) -> None:
    """«Usar estos datos»: copy the contact of an earlier request the user may see."""
    earlier = db.session.get(Ticket, ticket_id)
    if earlier is None or not can_see(current_user, earlier):
        return
    record(db.session, actor=current_user, action="ticket.view_personal", target_type="ticket", target_id=earlier.id, ip=client_ip(), details={"via": "counter_prefill"})  # noqa: E501
    db.session.commit()
    form.name.data = earlier.contact_name
    form.email.data = earlier.contact_email
    form.phone.data = earlier.contact_phone
    form.rut.data = earlier.contact_rut


@bp.get("/<int:ticket_id>/comprobante")
def handover(ticket_id: int):
    """Number and tracking code to give the resident, printable.

    :raise 404: unless the current user created the request (the tracking
        code is the resident's key; only whoever registered it hands it over).
    """
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.created_by_id != current_user.id:
        abort(404)
    return render_template("counter/handover.html", ticket=ticket,
                           can_open=can_see(current_user, ticket))
