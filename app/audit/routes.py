"""The audit page for admins: filters, newest first, CSV of the filtered rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.audit.service import client_ip, record
from app.extensions import db
from app.surveys.exports import DELIMITER, safe_cell
from app.templating import local_datetime

bp = Blueprint("audit", __name__, url_prefix="/gestion/auditoria")

PAGE_SIZE = 50
FILTER_KEYS = ("actor", "accion", "tipo", "objeto", "desde", "hasta")


@bp.before_request
@login_required
def require_admin():
    """:raise 403: for anyone but an admin."""
    if current_user.role is not Role.ADMIN:
        abort(403)


def _parse_date(value: str | None, errors: list[str], label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(_("La fecha «%(f)s» no es válida (usa AAAA-MM-DD).", f=label))
        return None


def _filtered() -> tuple[sa.Select, dict, list[str]]:
    """The query for the filters in the query string, the filters, and any errors."""
    args = {k: (request.args.get(k) or "").strip() for k in FILTER_KEYS}
    errors: list[str] = []
    query = sa.select(AuditEntry)
    if args["actor"]:
        query = query.where(sa.func.lower(AuditEntry.actor_label)
                            .contains(args["actor"].lower(), autoescape=True))
    if args["accion"]:
        query = query.where(AuditEntry.action.startswith(args["accion"], autoescape=True))
    if args["tipo"]:
        query = query.where(AuditEntry.target_type == args["tipo"])
    if args["objeto"]:
        query = query.where(AuditEntry.target_id == args["objeto"])
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    since = _parse_date(args["desde"], errors, _("desde"))
    until = _parse_date(args["hasta"], errors, _("hasta"))
    if since:  # whole local days, inclusive
        query = query.where(AuditEntry.created_at >= datetime.combine(since, time(), zone))
    if until:
        query = query.where(AuditEntry.created_at
                            < datetime.combine(until + timedelta(days=1), time(), zone))
    return query.order_by(AuditEntry.id.desc()), args, errors


@bp.get("/")
def index():
    query, filters, errors = _filtered()
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("audit/index.html", page=page, filters=filters, errors=errors,
                           active={k: v for k, v in filters.items() if v}), (
        422 if errors else 200)


@bp.get("/auditoria.csv")
def export_csv():
    """The filtered entries as CSV (Excel-friendly, like the survey exports); audited."""
    query, filters, errors = _filtered()
    if errors:
        abort(422)
    entries = db.session.scalars(query).all()
    header = [_("Id"), _("Fecha"), _("Funcionario/a"), _("IP"), _("Acción"),
              _("Tipo"), _("Objeto"), _("Detalle")]
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(header)
    for e in entries:
        writer.writerow([safe_cell(v) for v in (
            e.id, local_datetime(e.created_at, "y-MM-dd HH:mm:ss"), e.actor_label, e.ip,
            e.action, e.target_type, e.target_id,
            json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True))])
    used = sorted(k for k, v in filters.items() if v)
    record(db.session, actor=current_user, action="audit.export_csv", ip=client_ip(),
           details={"filters": used, "rows": len(entries)})
    db.session.commit()
    name = f"auditoria-{date.today().isoformat()}.csv"
    return Response(buffer.getvalue(), headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Type": "text/csv; charset=utf-8"})
