"""Privacy pages: residents' rights for managers/admins, and the public policy."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.audit.service import client_ip, record
from app.database import utcnow
from app.domain import DomainError
from app.extensions import db
from app.forms import apply_domain_errors
from app.privacy import subject
from app.privacy.forms import SubjectEraseForm, SubjectExportForm, SubjectSearchForm

# Identifiers travel in POST bodies, never in URLs, so they stay out of access logs.
bp = Blueprint("privacy", __name__, url_prefix="/gestion/privacidad")
public_bp = Blueprint("privacy_public", __name__)


@bp.before_request
@login_required
def require_handler():
    """:raise 403: unless the user is a manager or an admin."""
    if not subject.may_handle(current_user):
        abort(403)


def _page(search_form, result=None, erase_form=None, status=200):
    query = search_form.buscar.data or ""
    return render_template(
        "privacy/subject.html", search_form=search_form, result=result,
        erase_form=erase_form or SubjectEraseForm(formdata=None, buscar=query)), status


def _find(form):
    """The lookup for ``form.buscar``, or None with the error on the form."""
    try:
        return subject.find_subject(db.session, current_user, form.buscar.data or "")
    except DomainError as error:
        apply_domain_errors(form, error)
        return None


@bp.get("/")
def index():
    return _page(SubjectSearchForm(formdata=None))


@bp.post("/")
def search():
    form = SubjectSearchForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    result = _find(form)
    if result is None:
        return _page(form, status=422)
    record(db.session, actor=current_user, action="privacy.search", ip=client_ip(),
           details={"kind": result.kind, "tickets": [t.id for t in result.tickets]})
    db.session.commit()
    return _page(form, result)


@bp.post("/exportar")
def export():
    """All of the person's requests as a JSON download or a readable page; audited."""
    form = SubjectExportForm()
    search_form = SubjectSearchForm(formdata=None, buscar=form.buscar.data)
    if not form.validate_on_submit():
        abort(400)
    result = _find(search_form)
    if result is None:
        return _page(search_form, status=422)
    fmt = "html" if form.formato.data == "html" else "json"
    now = utcnow()
    data = subject.subject_export(result, now=now)
    record(db.session, actor=current_user, action="privacy.export", ip=client_ip(),
           details={"format": fmt, "kind": result.kind,
                    "tickets": [t.id for t in result.tickets]})
    db.session.commit()
    if fmt == "html":
        page = render_template("privacy/export.html", data=data, result=result)
        return page, 200, {"Cache-Control": "no-store"}
    name = f"datos-personales-{now:%Y%m%d-%H%M%S}.json"
    return Response(json.dumps(data, ensure_ascii=False, indent=2), headers={
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store"})


@bp.post("/anonimizar")
def erase():
    """Anonymise all of the person's requests after a written verification note."""
    form = SubjectEraseForm()
    search_form = SubjectSearchForm(formdata=None, buscar=form.buscar.data)
    if not form.validate_on_submit():
        return _page(search_form, erase_form=form, status=422)
    result = _find(search_form)
    if result is None:
        return _page(search_form, status=422)
    try:
        done = subject.erase_subject(
            db.session, result, actor=current_user, verification=form.verificacion.data,
            confirmed=form.confirmar.data, now=utcnow(), ip=client_ip())
    except DomainError as error:
        db.session.rollback()
        apply_domain_errors(form, error)
        result = _find(search_form)
        return _page(search_form, result, erase_form=form, status=422)
    db.session.commit()
    flash(_("Se anonimizaron %(n)d solicitudes.", n=done), "success")
    return redirect(url_for(".index"))


@public_bp.get("/privacidad")
def policy():
    return render_template(
        "privacy/policy.html",
        retention_months=current_app.config["RETENTION_MONTHS_DEFAULT"],
        privacy_contact=current_app.config["PRIVACY_CONTACT"])
