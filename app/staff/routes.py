"""Department queue and request detail; every change goes through a service."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.audit.service import client_ip, record
from app.catalog.models import Category, Department
from app.domain import DomainError
from app.extensions import db
from app.forms import apply_domain_errors
from app.metrics.queue_filters import describe_extra_filters, queue_extra_filters
from app.staff.forms import NoteForm, ReassignForm, ReplyForm, StatusForm
from app.staff.routing_forms import AssignForm, AssignMeForm
from app.tickets import assignment, lifecycle, timeline
from app.tickets.access import can_see, get_visible_ticket_or_404, visible_tickets
from app.tickets.contact import has_contact
from app.tickets.models import Status, Ticket, open_clause

bp = Blueprint("staff", __name__, url_prefix="/gestion")

SORTS = {
    "antiguas": (Ticket.created_at.asc(), Ticket.id.asc()),
    "recientes": (Ticket.created_at.desc(), Ticket.id.desc()),
    "vencimiento": (Ticket.resolution_due_at.asc().nulls_last(), Ticket.created_at.asc()),
}
# Queue filter by assignee ("" = everyone's).
ASSIGNED_FILTERS = ("", "mias", "sin-asignar")


@bp.before_request
@login_required
def require_login():
    """Every page of this blueprint is for logged-in staff only."""


@bp.get("/")
def queue():
    status_filter = request.args.get("estado", "abiertas")
    category_id = request.args.get("categoria", type=int)
    department_id = request.args.get("departamento", type=int)
    sort = request.args.get("orden", "antiguas")
    if sort not in SORTS:
        sort = "antiguas"
    assigned_filter = request.args.get("asignacion", "")
    if assigned_filter not in ASSIGNED_FILTERS:
        assigned_filter = ""

    query = visible_tickets(current_user)
    # Links from the dashboards (app/metrics): channel, macrosector, filing days.
    query, extra_filters = queue_extra_filters(query, request.args)
    if status_filter == "abiertas":
        query = query.where(open_clause())
    elif status_filter in {s.value for s in Status}:
        query = query.where(Ticket.status == Status(status_filter))
    else:
        status_filter = "todas"
    if category_id:
        query = query.where(Ticket.category_id == category_id)
    if department_id:
        query = query.where(Ticket.department_id == department_id)
    if assigned_filter == "mias":
        query = query.where(Ticket.assigned_to_id == current_user.id)
    elif assigned_filter == "sin-asignar":
        query = query.where(Ticket.assigned_to_id.is_(None))
    # The three names each row shows come in the page's own statement (the count
    # drops eager loads); selectinload would cost a statement each.
    query = query.order_by(*SORTS[sort]).options(
        joinedload(Ticket.category), joinedload(Ticket.department),
        joinedload(Ticket.assigned_to))
    page = db.paginate(query, per_page=current_app.config["QUEUE_PAGE_SIZE"],
                       error_out=False)

    if current_user.role.sees_all_departments:
        departments = db.session.scalars(sa.select(Department).order_by(Department.name)).all()
    else:
        departments = current_user.departments
    categories = db.session.scalars(
        sa.select(Category).where(Category.department_id.in_([d.id for d in departments]))
        .order_by(Category.name)
    ).all()
    return render_template(
        "staff/queue.html", page=page, departments=departments, categories=categories,
        filters={"estado": status_filter, "categoria": category_id,
                 "departamento": department_id, "orden": sort,
                 "asignacion": assigned_filter, **extra_filters},
        extra_filters=extra_filters,
        extra_filter_lines=describe_extra_filters(db.session, extra_filters),
    )


def _detail_forms(ticket: Ticket, **overrides):
    status_form = overrides.get("status_form") or StatusForm(formdata=None)
    targets = lifecycle.allowed_targets(ticket.status)
    status_form.status.choices = (
        [("", _("Elige un estado"))] + [(s.value, s.label) for s in targets] if targets else [])
    reassign_form = overrides.get("reassign_form") or ReassignForm(formdata=None)
    departments = db.session.scalars(
        sa.select(Department).where(Department.active, Department.id != ticket.department_id)
        .order_by(Department.name)).all()
    reassign_form.department.choices = [("", _("Elige un departamento"))] + [
        (d.id, d.name) for d in departments]
    return {
        **_assignment_forms(ticket, overrides),
        "reply_form": overrides.get("reply_form") or ReplyForm(formdata=None),
        "note_form": overrides.get("note_form") or NoteForm(formdata=None),
        "status_form": status_form,
        "reassign_form": reassign_form,
    }


@bp.get("/solicitudes/<int:ticket_id>")
def detail(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    if has_contact(ticket):  # every view of a resident's contact data is recorded
        record(db.session, actor=current_user, action="ticket.view_personal", target_type="ticket", target_id=ticket.id, ip=client_ip())  # noqa: E501
        db.session.commit()
    return render_template("staff/detail.html", ticket=ticket, **_detail_forms(ticket))


def _act(ticket: Ticket, form, form_key: str, action, success: str, audit: str):
    """Run ``action`` inside this request's transaction and answer the page.

    On a domain error nothing is saved and the detail page comes back with the
    form filled in and the message next to the field.
    """
    if form.validate_on_submit():
        try:
            action()
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            record(db.session, actor=current_user, action=audit, target_type="ticket",
                   target_id=ticket.id, ip=client_ip())
            db.session.commit()
            flash(success, "success")
            if not can_see(current_user, ticket):  # e.g. reassigned elsewhere
                return redirect(url_for(".queue"))
            return redirect(url_for(".detail", ticket_id=ticket.id))
    forms = _detail_forms(ticket, **{form_key: form})
    return render_template("staff/detail.html", ticket=ticket, **forms), 422


@bp.post("/solicitudes/<int:ticket_id>/respuesta")
def reply(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = ReplyForm()
    if request.form.get("accion") == "insertar":  # «Insertar» a canned answer, without JS
        from app.productivity.routes import insert_canned_answer

        status = insert_canned_answer(ticket, form)
        return render_template("staff/detail.html", ticket=ticket,
                               **_detail_forms(ticket, reply_form=form)), status
    return _act(ticket, form, "reply_form", lambda: timeline.add_public_reply(
        db.session, ticket, author=current_user, body=form.body.data),
        _("Respuesta enviada al vecino/a."), "ticket.reply")


@bp.post("/solicitudes/<int:ticket_id>/nota")
def note(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = NoteForm()
    return _act(ticket, form, "note_form", lambda: timeline.add_internal_note(
        db.session, ticket, author=current_user, body=form.body.data),
        _("Nota interna guardada."), "ticket.note")


@bp.post("/solicitudes/<int:ticket_id>/estado")
def change_status(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = StatusForm()

    def action():
        try:
            target = Status(form.status.data)
        except ValueError:
            raise DomainError(_("Elige un estado de la lista."),
                              {"status": [_("Elige un estado de la lista.")]}) from None
        lifecycle.transition(db.session, ticket, target, actor=current_user,
                             note=form.note.data,
                             visible_to_resident=form.visible_to_resident.data)

    return _act(ticket, form, "status_form", action, _("Estado actualizado."), "ticket.status")


@bp.post("/solicitudes/<int:ticket_id>/reasignar")
def reassign(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = ReassignForm()

    def action():
        department = (db.session.get(Department, form.department.data)
                      if form.department.data else None)
        timeline.reassign(db.session, ticket, department, actor=current_user,
                          reason=form.reason.data)

    return _act(ticket, form, "reassign_form", action,
                _("Solicitud reasignada a otro departamento."), "ticket.reassign")


# --- assignment inside the department (tickets.assignment) ---------------------------------


def _assignment_forms(ticket: Ticket, overrides: dict) -> dict:
    members = assignment.department_members(db.session, ticket.department)
    assign_form = overrides.get("assign_form") or AssignForm(
        formdata=None, data={"assignee": ticket.assigned_to_id})
    assign_form.assignee.choices = [("", _("Sin asignar"))] + [
        (m.id, m.name) for m in members]
    can_take = (ticket.assigned_to_id != current_user.id
                and any(m.id == current_user.id for m in members))
    assign_me_form = overrides.get("assign_me_form") or (
        AssignMeForm(formdata=None) if can_take else None)
    return {"assign_form": assign_form, "assign_me_form": assign_me_form}


@bp.post("/solicitudes/<int:ticket_id>/asignar")
def assign(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = AssignForm()

    def action():
        assignee = db.session.get(User, form.assignee.data) if form.assignee.data else None
        if form.assignee.data and assignee is None:
            message = _("Elige a una persona activa del departamento de la solicitud.")
            raise DomainError(message, {"assignee": [message]})
        assignment.assign(db.session, ticket, assignee, actor=current_user)

    return _act(ticket, form, "assign_form", action, _("Asignación guardada."),
                "ticket.assign")


@bp.post("/solicitudes/<int:ticket_id>/asignarme")
def assign_me(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = AssignMeForm()
    return _act(ticket, form, "assign_me_form", lambda: assignment.assign(
        db.session, ticket, current_user._get_current_object(), actor=current_user),
        _("Ahora tienes esta solicitud."), "ticket.assign")
