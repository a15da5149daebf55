"""Uploading and serving attachments: staff pages, and public files by tracking code."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask import send_file as flask_send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.audit.service import client_ip, record
from app.channels.uploads import attach_uploads, read_uploads, reselect_message
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.security.limits import tracking_limit
from app.staff.forms import AttachmentForm
from app.tickets.access import get_visible_ticket_or_404
from app.tickets.attachments import Attachment, limits_hint, open_attachment
from app.tickets.models import Ticket
from app.tickets.tracking import InvalidTrackingCode, normalize_code

log = logging.getLogger(__name__)
bp = Blueprint("attachments", __name__)


def attachment_form(form: AttachmentForm | None = None) -> AttachmentForm:
    form = form or AttachmentForm(formdata=None)
    form.files.description = limits_hint()
    return form


@bp.post("/gestion/solicitudes/<int:ticket_id>/adjuntos")
@login_required
def upload(ticket_id: int):
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            uploads = read_uploads(form.files.data)
            if not uploads:
                message = _("Elige al menos un archivo.")
                raise ValidationFailed(message, {"files": [message]})
            attach_uploads(db.session, ticket, uploads, public=form.public.data,
                           uploaded_by=current_user)
        except ValidationFailed as error:
            db.session.rollback()  # also deletes files already stored
            error.field_errors = {"files" if k == "attachments" else k: v
                                  for k, v in error.field_errors.items()}
            apply_domain_errors(form, error)
            if uploads_chosen(form):
                form.form_errors.append(reselect_message())
        else:
            record(db.session, actor=current_user, action="ticket.attachment", target_type="ticket", target_id=ticket.id, ip=client_ip(), details={"files": len(uploads), "public": bool(form.public.data)})  # noqa: E501
            db.session.commit()
            flash(_("Archivos adjuntados."), "success")
            return redirect(url_for("staff.detail", ticket_id=ticket.id) + "#adjuntos")
    from app.staff.routes import _detail_forms

    return render_template("staff/detail.html", ticket=ticket,
                           attachment_form=attachment_form(form), **_detail_forms(ticket)), 422


def uploads_chosen(form: AttachmentForm) -> bool:
    return any(getattr(f, "filename", None) for f in form.files.data or [])


def _send(attachment: Attachment, *, cache: str):
    """The file with its detected type; never sniffed, never run as a page."""
    try:
        stream = open_attachment(attachment)
    except FileNotFoundError:
        log.error("attachment %s: file %s is missing", attachment.id, attachment.storage_key)
        abort(404)
    response = flask_send_file(
        stream, mimetype=attachment.content_type, as_attachment=not attachment.is_image,
        download_name=attachment.filename, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = cache
    return response


@bp.get("/gestion/solicitudes/<int:ticket_id>/adjuntos/<int:attachment_id>")
@login_required
def staff_file(ticket_id: int, attachment_id: int):
    """:raise 404: if the request is not visible to the user or the file is not its."""
    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        abort(404)
    return _send(attachment, cache="private, no-store")


@bp.get("/seguimiento/<code>/adjuntos/<int:attachment_id>")
@tracking_limit
def public_file(code: str, attachment_id: int):
    """A public file of the request with this tracking code.

    :raise 404: for a bad code, another request's file, or an internal file.
    """
    try:
        normalized = normalize_code(code)
    except InvalidTrackingCode:
        abort(404)
    attachment = db.session.scalar(
        sa.select(Attachment).join(Attachment.ticket)
        .where(Ticket.tracking_code == normalized, Attachment.id == attachment_id,
               Attachment.public.is_(True)))
    if attachment is None:
        abort(404)
    return _send(attachment, cache="private, no-store")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(attachment_form, "staff_attachment_form")
