"""Possible duplicates on the staff request page, and merging one into another."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.audit.service import client_ip, record
from app.domain import DomainError
from app.extensions import db
from app.forms import apply_domain_errors
from app.staff.forms import MergeForm
from app.tickets.access import can_see, get_visible_ticket_or_404
from app.tickets.duplicates import find_similar
from app.tickets.merging import followed_events, merge, survivor_of
from app.tickets.models import Ticket

bp = Blueprint("merging", __name__, url_prefix="/gestion/solicitudes")


def similar_requests(ticket: Ticket):
    """Candidates for the «Posibles duplicadas» panel, only those the user may see."""
    if not ticket.status.is_open:
        return []
    return [m for m in find_similar(db.session, ticket, limit=10)
            if can_see(current_user, m.ticket)][:5]


def merge_form(form: MergeForm | None = None) -> MergeForm:
    """The merge form; «Unir a esta» links prefill the number with ``?unir=``."""
    return form or MergeForm(formdata=None, target=request.args.get("unir", "")[:20])


@bp.post("/<int:ticket_id>/unir")
@login_required
def merge_into(ticket_id: int):
    """Merge this request (the duplicate) into the one whose number is given."""
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = MergeForm()
    if form.validate_on_submit():
        number = (form.target.data or "").strip()
        target = db.session.scalar(sa.select(Ticket).where(Ticket.public_number == number))
        try:
            if target is None or not can_see(current_user, target):
                message = _("No encontramos la solicitud N° %(n)s entre las que puedes ver.",
                            n=number or "—")
                raise DomainError(message, {"target": [message]})
            survivor = merge(db.session, ticket, target, actor=current_user,
                             reason=form.reason.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            record(db.session, actor=current_user, action="ticket.merge", target_type="ticket", target_id=ticket.id, ip=client_ip(), details={"into": survivor.id})  # noqa: E501
            db.session.commit()
            flash(_("La solicitud %(d)s se unió a la %(s)s.", d=ticket.public_number,
                    s=survivor.public_number), "success")
            return redirect(url_for("staff.detail", ticket_id=ticket.id))
    from app.staff.routes import _detail_forms

    return render_template("staff/detail.html", ticket=ticket, merge_form=form,
                           **_detail_forms(ticket)), 422


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(similar_requests, "similar_requests")
    app.add_template_global(merge_form, "staff_merge_form")
    app.add_template_global(survivor_of, "survivor_of")
    app.add_template_global(followed_events, "followed_events")
