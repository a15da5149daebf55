"""The managers' dashboard ``/gestion/tablero`` and its CSV/XLSX exports.

Managers and admins see every department; supervisors only theirs (the rule
of ``tickets.access``); agents get 403.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.models import Role
from app.catalog.models import Category, Department, Macrosector
from app.database import utcnow
from app.deadlines.calendar_source import load_calendar
from app.extensions import db
from app.metrics import exports, tables
from app.metrics.filters import MetricsFilter
from app.metrics.forms import CUSTOM, DashboardFilterForm
from app.metrics.periods import PRESETS, preset_range
from app.tickets.models import Channel

bp = Blueprint("metrics", __name__, url_prefix="/gestion/tablero")
ALLOWED = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def require_dashboard_role():
    """:raise 403: for agents; the dashboard is for supervisors and up."""
    if current_user.role not in ALLOWED:
        abort(403)


def _departments() -> list[Department]:
    if current_user.role.sees_all_departments:
        return list(db.session.scalars(sa.select(Department).order_by(Department.name)))
    return list(current_user.departments)


def _form() -> DashboardFilterForm:
    form = DashboardFilterForm(request.args, meta={"csrf": False})
    departments = _departments()
    form.departamento.choices = [("", _("Todos"))] + [(d.id, d.name) for d in departments]
    form.categoria.choices = [("", _("Todas"))] + [
        (c.id, c.name) for c in db.session.scalars(
            sa.select(Category).where(Category.department_id.in_([d.id for d in departments]))
            .order_by(Category.name))]
    form.canal.choices = [("", _("Todos"))] + [(c.value, c.label) for c in Channel]
    form.macrosector.choices = [("", _("Todos"))] + [
        (m.id, m.name) for m in db.session.scalars(sa.select(Macrosector)
                                                   .order_by(Macrosector.name))]
    return form


def _filter(form: DashboardFilterForm, today: date, tz: ZoneInfo) -> MetricsFilter:
    if form.periodo.data == CUSTOM:
        first, last = form.desde.data, form.hasta.data
    else:
        first, last = preset_range(form.periodo.data or "90-dias", today)
    return MetricsFilter(
        first_day=first, last_day=last, tz=tz,
        department_ids=(form.departamento.data,) if form.departamento.data else (),
        category_id=form.categoria.data, channel=Channel(form.canal.data)
        if form.canal.data else None,
        macrosector_id=form.macrosector.data, viewer=current_user._get_current_object())


def _queue_link(f: MetricsFilter):
    """Links to the staff queue, with the dashboard's own filters carried over."""
    base = {"departamento": f.department_ids[0] if f.department_ids else None,
            "categoria": f.category_id, "canal": f.channel.value if f.channel else None,
            "macrosector": f.macrosector_id}

    def link(params: dict) -> str:
        merged = {k: v for k, v in {**base, **params}.items() if v is not None}
        return url_for("staff.queue", **merged)

    return link


def _context():
    """(form, filter, table builder) for this request, or (form, None, None) if invalid."""
    form = _form()
    if request.args and not form.validate():
        return form, None, None
    tz = ZoneInfo(current_app.config["OFFICE_TIMEZONE"])
    now = utcnow()
    f = _filter(form, now.astimezone(tz).date(), tz)
    calendar = load_calendar(db.session)
    min_n = current_app.config["DASHBOARD_MIN_N"]
    link = _queue_link(f)
    shared: dict = {}  # queries the page's tables share

    def build(key: str) -> tables.Table:
        return tables.build(db.session, key, f, calendar=calendar, now=now, min_n=min_n,
                            link=link, shared=shared)

    return form, f, build


@bp.get("/")
def dashboard():
    form, f, build = _context()
    if f is None:
        return render_template("metrics/dashboard.html", form=form, tables=[],
                               presets=PRESETS, query=""), 422
    return render_template("metrics/dashboard.html", form=form, filter=f, presets=PRESETS,
                           tables=[build(key) for key in tables.TABLE_KEYS],
                           query=request.query_string.decode())


@bp.get("/<key>.<any(csv, xlsx):fmt>")
def export(key: str, fmt: str):
    """:raise 404: for an unknown table; 422 for bad filters."""
    if key not in tables.TABLE_KEYS:
        abort(404)
    form, f, build = _context()
    if f is None:
        abort(422)
    table = build(key)
    name = f"tablero-{key}-{f.first_day}-{f.last_day}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(exports.table_csv(table), mimetype="text/csv; charset=utf-8",
                        headers=disposition)
    return Response(exports.table_xlsx(table), mimetype=XLSX, headers=disposition)
