"""Staff pages: canned answers, saved queue views and bulk actions.

The queue page itself stays in ``app/staff/routes.py``; the forms here post
to URLs that carry the queue's query string, so on an error the queue is
rendered again (same filters, same rows ticked, what was typed kept) with the
messages, and on success the browser goes back to that same view.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.models import User
from app.audit.service import client_ip, record
from app.catalog.models import Department
from app.domain import DomainError
from app.extensions import db
from app.forms import apply_domain_errors
from app.productivity import bulk, canned, saved_filters
from app.productivity.forms import BulkForm, CannedAnswerForm, ConfirmForm, SaveFilterForm
from app.productivity.models import CannedAnswer
from app.productivity.templating import UNASSIGN
from app.tickets.models import Status

bp = Blueprint("productivity", __name__, url_prefix="/gestion")


@bp.before_request
@login_required
def require_login():
    """Staff only."""


def _queue_url() -> str:
    query = saved_filters.clean_query(request.args)
    return url_for("staff.queue") + (f"?{query}" if query else "")


def _queue_again(**state):
    """The queue page again, with this form's errors and input (422)."""
    from app.staff.routes import queue

    g.productivity_state = state
    return make_response(queue(), 422)


# --- Canned answers -------------------------------------------------------

def _require_manager_role() -> None:
    if not canned.can_manage_any(current_user):
        abort(403)


def _answer_form(answer: CannedAnswer | None = None) -> CannedAnswerForm:
    form = CannedAnswerForm(obj=answer) if answer and request.method == "GET" \
        else CannedAnswerForm()
    if answer is not None and request.method == "GET":
        form.department.data = answer.department_id
    choices = [(d.id, d.name) for d in canned.departments_for(db.session, current_user)]
    if current_user.role.value == "admin":
        form.department.choices = [("", _("Todos los departamentos"))] + choices
    else:
        form.department.choices = [("", _("Elige un departamento"))] + choices
    return form


@bp.get("/respuestas-tipo")
def canned_index():
    _require_manager_role()
    return render_template("productivity/canned_index.html",
                           answers=canned.manageable(db.session, current_user))


def _save_answer(answer: CannedAnswer | None):
    form = _answer_form(answer)
    if form.validate_on_submit():
        department = (db.session.get(Department, form.department.data)
                      if form.department.data else None)
        try:
            canned.save(db.session, current_user, answer, department=department,
                        title=form.title.data, body=form.body.data, active=form.active.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Respuesta tipo guardada."), "success")
            return redirect(url_for(".canned_index"))
    status = 422 if request.method == "POST" else 200
    return render_template("productivity/canned_form.html", form=form, answer=answer), status


@bp.route("/respuestas-tipo/nueva", methods=["GET", "POST"])
def canned_new():
    _require_manager_role()
    return _save_answer(None)


def _manageable_or_404(answer_id: int) -> CannedAnswer:
    _require_manager_role()
    answer = db.session.get(CannedAnswer, answer_id)
    if answer is None or not canned.can_manage(current_user, answer):
        abort(404)
    return answer


@bp.route("/respuestas-tipo/<int:answer_id>", methods=["GET", "POST"])
def canned_edit(answer_id: int):
    return _save_answer(_manageable_or_404(answer_id))


@bp.post("/respuestas-tipo/<int:answer_id>/eliminar")
def canned_delete(answer_id: int):
    answer = _manageable_or_404(answer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    canned.delete(db.session, current_user, answer)
    db.session.commit()
    flash(_("Respuesta tipo borrada."), "success")
    return redirect(url_for(".canned_index"))


def insert_canned_answer(ticket, form) -> int:
    """Put the chosen canned answer after what ``form``'s reply box holds.

    Called by the staff reply view for the «Insertar» button (no JavaScript).
    Nothing is saved. Returns the status for the re-rendered page.
    """
    chosen = request.form.get("canned_answer", type=int)
    answer = next((a for a in canned.available_for(db.session, ticket) if a.id == chosen),
                  None)
    if answer is None:
        form.form_errors.append(_("Elige una respuesta tipo de la lista para insertarla."))
        return 422
    form.body.data = canned.insert_into(form.body.data, answer, ticket)
    return 200


# --- Saved views of the queue ---------------------------------------------

@bp.post("/vistas")
def save_filter():
    form = SaveFilterForm()
    if form.validate_on_submit():
        try:
            saved = saved_filters.save(db.session, current_user, form.name.data, request.args)
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Vista «%(name)s» guardada.", name=saved.name), "success")
            return redirect(_queue_url())
    return _queue_again(save_form=form)


@bp.post("/vistas/<int:filter_id>/eliminar")
def delete_filter(filter_id: int):
    saved = saved_filters.get_own(db.session, current_user, filter_id)
    if saved is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db.session.delete(saved)
    db.session.commit()
    flash(_("Vista «%(name)s» borrada.", name=saved.name), "success")
    return redirect(url_for("staff.queue"))


# --- Bulk actions ---------------------------------------------------------

def _audit_each(tickets, action: str, details: dict) -> None:
    """One audit entry per request a bulk action changed, as one by one would write."""
    for ticket in tickets:
        record(db.session, actor=current_user, action=action, target_type="ticket",
               target_id=ticket.id, ip=client_ip(), details=details)


def _bulk_assign(form: BulkForm, tickets) -> str:
    """Assign the selected requests (all or nothing), audited like one by one.

    :raise bulk.BulkRefused: no or unknown person chosen, or a request of a
        department the person is not an active member of.
    """
    choice = form.assignee.data or ""
    assignee = None
    if choice != UNASSIGN:
        assignee = db.session.get(User, int(choice)) if choice.isdigit() else None
        if assignee is None:
            message = _("Elige a una persona de la lista.")
            raise bulk.BulkRefused(message, [], {"assignee": [message]})
    changed, unchanged = bulk.assign_to(db.session, tickets, assignee, actor=current_user)
    _audit_each(changed, "ticket.assign", {"bulk": True})
    if assignee is None:
        success = _("%(n)d solicitudes quedaron sin asignar.", n=len(changed))
    else:
        success = _("%(n)d solicitudes asignadas a %(name)s.", n=len(changed),
                    name=assignee.name)
    if unchanged:
        success += " " + _("%(n)d ya lo estaban.", n=unchanged)
    return success


@bp.post("/lote")
def bulk_action():
    form = BulkForm()
    action = request.form.get("accion")
    ids = bulk.parse_ids(request.form.getlist("ids"))
    if not form.validate_on_submit() or action not in ("estado", "asignar", "unir"):
        form.form_errors.append(_("No pudimos leer el formulario; inténtalo de nuevo."))
        return _queue_again(bulk_form=form)
    try:
        tickets = bulk.selected_tickets(db.session, current_user, ids)
        if action == "estado":
            try:
                target = Status(form.status.data)
            except ValueError:
                message = _("Elige un estado de la lista.")
                raise bulk.BulkRefused(message, [], {"status": [message]}) from None
            moved = bulk.change_status(db.session, tickets, target, actor=current_user,
                                       note=form.note.data,
                                       visible_to_resident=form.visible_to_resident.data)
            _audit_each(tickets, "ticket.status", {"to": target.value, "bulk": True})
            success = _("%(n)d solicitudes pasaron a «%(s)s».", n=moved, s=target.label)
        elif action == "asignar":
            success = _bulk_assign(form, tickets)
        else:
            survivor = bulk.merge_into(db.session, tickets, form.target.data,
                                       actor=current_user, reason=form.reason.data)
            _audit_each([t for t in tickets if t.id != survivor.id], "ticket.merge",
                        {"into": survivor.id, "bulk": True})
            success = _("Las solicitudes marcadas se unieron a la N° %(n)s.",
                        n=survivor.public_number)
    except bulk.BulkRefused as error:
        db.session.rollback()
        apply_domain_errors(form, error)
        form.form_errors.extend(_("N° %(n)s: %(m)s", n=f.public_number, m=f.message)
                                for f in error.failures)
        return _queue_again(bulk_form=form, failures=error.failures)
    db.session.commit()
    flash(success, "success")
    return redirect(_queue_url())
