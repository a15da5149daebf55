"""Transparency routes: public pages and open data (no login), and the staff page.

The public pages read their figures from the cache (``app.transparency.cache``);
a miss runs the grouped queries of ``app.metrics.public`` once and stores
plain values. For anonymous visitors the rendered page itself is cached too
(per language). Writing an update or choosing pilots drops the affected
entries, so everyone sees the change at once; request figures follow within
the TTL.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

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
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.models import Role
from app.catalog.models import Department
from app.database import utcnow
from app.domain import DomainError
from app.extensions import db
from app.forms import apply_domain_errors
from app.i18n import LOCALES, current_locale
from app.metrics.public import public_figures
from app.transparency import opendata, services
from app.transparency.cache import MUNICIPALITY_KEY, cache, department_key, page_key
from app.transparency.forms import PilotForm, ProgressUpdateForm
from app.transparency.models import ProgressUpdate, TransparencyPilot

log = logging.getLogger(__name__)

public_bp = Blueprint("transparency", __name__)
staff_bp = Blueprint("transparency_staff", __name__, url_prefix="/gestion")


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["OFFICE_TIMEZONE"])


def _figures(department_id: int | None):
    return public_figures(db.session, now=utcnow(), tz=_tz(),
                          office_hours=current_app.config["OFFICE_HOURS"],
                          min_n=current_app.config["TRANSPARENCY_MIN_N"],
                          department_id=department_id)


def municipality_bundle() -> dict:
    """Everything /transparencia shows, from the cache or computed and cached."""
    bundle = cache.get(MUNICIPALITY_KEY)
    if bundle is None:
        rows, total = _figures(None)
        pilots = set(db.session.scalars(sa.select(TransparencyPilot.department_id)))
        departments = db.session.execute(
            sa.select(Department.id, Department.slug, Department.name)
            .where(Department.active.is_(True)).order_by(Department.name)).all()
        bundle = {
            "rows": rows, "total": total, "computed_at": utcnow(),
            "pilots": [(slug, name) for id_, slug, name in departments if id_ in pilots],
            "departments": [(slug, name) for id_, slug, name in departments
                            if id_ not in pilots],
        }
        cache.set(MUNICIPALITY_KEY, bundle)
    return bundle


def department_bundle(slug: str) -> dict:
    """Everything /transparencia/<slug> shows. :raise 404: unknown or inactive department."""
    bundle = cache.get(department_key(slug))
    if bundle is None:
        department = db.session.scalar(sa.select(Department).where(
            Department.slug == slug, Department.active.is_(True)))
        if department is None:
            abort(404)
        rows, total = _figures(department.id)
        updates = db.session.execute(
            sa.select(ProgressUpdate.month, ProgressUpdate.title, ProgressUpdate.body,
                      ProgressUpdate.published_at)
            .where(ProgressUpdate.department_id == department.id,
                   ProgressUpdate.published_at.is_not(None))
            .order_by(ProgressUpdate.month.desc(), ProgressUpdate.published_at.desc())
            .limit(24)).all()
        bundle = {
            "name": department.name, "slug": department.slug,
            "pilot": db.session.get(TransparencyPilot, department.id) is not None,
            "rows": rows, "total": total, "computed_at": utcnow(),
            "updates": [tuple(u) for u in updates],
        }
        cache.set(department_key(slug), bundle)
    return bundle


@public_bp.after_request
def cache_headers(response: Response) -> Response:
    """Anonymous pages may be cached by browsers and proxies; a staff view may not
    (it carries the staff menu and a CSRF token)."""
    if response.status_code == 200:
        if current_user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-store"
        else:
            seconds = current_app.config["TRANSPARENCY_CACHE_SECONDS"]
            response.headers["Cache-Control"] = f"public, max-age={seconds}"
        response.vary.add("Cookie")
    return response


def _template_context() -> dict:
    return {"min_n": current_app.config["TRANSPARENCY_MIN_N"],
            "cache_minutes": max(1, current_app.config["TRANSPARENCY_CACHE_SECONDS"] // 60)}


def _anonymous_page(render) -> str:
    """The page's HTML, kept in the cache for anonymous visitors.

    Only a plain anonymous view is shared: a staff view (menu, CSRF token), a
    page with flashed messages or with a query string is rendered each time.
    The key holds the language, so each language has its own copy; the entries
    expire and are forgotten with the figures (``_forget``).
    """
    if current_user.is_authenticated or request.query_string or session.get("_flashes"):
        return render()
    key = page_key(current_locale(), request.path)
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html)
    return html


@public_bp.get("/transparencia")
def municipality():
    return _anonymous_page(lambda: render_template(
        "transparency/municipality.html", bundle=municipality_bundle(), **_template_context()))


@public_bp.get("/transparencia/<slug>")
def department(slug: str):
    return _anonymous_page(lambda: render_template(
        "transparency/department.html", bundle=department_bundle(slug), **_template_context()))


# --- open data ------------------------------------------------------------------------------

@public_bp.get("/datos-abiertos")
def open_data():
    return render_template("transparency/open_data.html", fields=opendata.FIELDS,
                           never=opendata.NEVER_PUBLISHED,
                           aggregate_fields=opendata.AGGREGATE_FIELDS,
                           years=current_app.config["OPEN_DATA_YEARS"], **_template_context())


def _requested_range():
    """The period of a download: ``?year=`` or the last OPEN_DATA_YEARS years.

    :raise 400: (a Spanish plain-text message) when ``year`` is not a valid year.
    """
    now, tz = utcnow(), _tz()
    text = request.args.get("year", "").strip()
    year = None
    if text:
        this_year = now.astimezone(tz).year
        if not text.isdigit() or not 2000 <= int(text) <= this_year:
            abort(Response(_("El año debe ser un número entre 2000 y %(year)d.", year=this_year)
                           + "\n", status=400, mimetype="text/plain"))
        year = int(text)
    return opendata.year_range(now=now, tz=tz, year=year,
                               years=current_app.config["OPEN_DATA_YEARS"])


def _download(chunks, filename: str, mimetype: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_bp.get("/datos-abiertos/solicitudes.csv")
def records_csv():
    start, end = _requested_range()
    rows = opendata.records(db.session, start=start, end=end, tz=_tz())
    return _download(opendata.records_csv(rows), "solicitudes.csv", "text/csv")


@public_bp.get("/datos-abiertos/solicitudes.json")
def records_json():
    start, end = _requested_range()
    rows = opendata.records(db.session, start=start, end=end, tz=_tz())
    return _download(opendata.records_json(rows), "solicitudes.json", "application/json")


@public_bp.get("/datos-abiertos/solicitudes-por-mes.csv")
def aggregates_csv():
    start, end = _requested_range()
    rows = opendata.monthly_aggregates(db.session, start=start, end=end, tz=_tz(),
                                       min_n=current_app.config["TRANSPARENCY_MIN_N"])
    return _download(opendata.aggregates_csv(rows), "solicitudes-por-mes.csv", "text/csv")


# --- staff: progress updates and pilots -------------------------------------------------------

@staff_bp.before_request
@login_required
def require_login():
    """Every staff page of this blueprint needs a login."""


def _require_writer() -> list[Department]:
    """:raise 403: unless the user is an admin or a supervisor of some department."""
    departments = services.writable_departments(db.session, current_user)
    if not departments:
        abort(403)
    return departments


def _manage_page(form: ProgressUpdateForm | None = None, pilot_form: PilotForm | None = None,
                 status: int = 200):
    departments = _require_writer()
    form = form or ProgressUpdateForm(formdata=None)
    form.department.choices = [(d.id, d.name) for d in departments]
    updates = db.session.scalars(
        sa.select(ProgressUpdate)
        .where(ProgressUpdate.department_id.in_([d.id for d in departments]))
        .order_by(ProgressUpdate.month.desc(), ProgressUpdate.id.desc()).limit(100)).all()
    if current_user.role is Role.ADMIN:
        pilot_form = pilot_form or PilotForm(
            formdata=None, departments=sorted(services.pilot_department_ids(db.session)))
        pilot_form.departments.choices = [(d.id, d.name) for d in departments]
    else:
        pilot_form = None
    return render_template("transparency/manage.html", form=form, pilot_form=pilot_form,
                           updates=updates), status


def _forget(*slugs: str) -> None:
    # One by one: the backends' delete_many stops at the first key not cached.
    paths = [url_for("transparency.municipality"),
             *[url_for("transparency.department", slug=s) for s in slugs]]
    pages = [page_key(locale, path) for locale in LOCALES for path in paths]
    for key in (MUNICIPALITY_KEY, *[department_key(s) for s in slugs], *pages):
        cache.delete(key)


@staff_bp.get("/transparencia")
def manage():
    return _manage_page()


@staff_bp.post("/transparencia/avances")
def add_update():
    departments = {d.id: d for d in _require_writer()}
    form = ProgressUpdateForm()
    form.department.choices = [(d.id, d.name) for d in departments.values()]
    if form.validate_on_submit():
        department = departments.get(form.department.data)
        if department is None:
            form.department.errors = [_("Elige uno de tus departamentos.")]
        else:
            try:
                services.create_progress_update(
                    db.session, author=current_user, department=department,
                    month_text=form.month.data, title=form.title.data, body=form.body.data,
                    publish=form.publish.data, now=utcnow())
            except DomainError as error:
                db.session.rollback()
                apply_domain_errors(form, error)
            else:
                db.session.commit()
                _forget(department.slug)
                log.info("progress update by %s for %s", current_user.email, department.slug)
                flash(_("Avance publicado.") if form.publish.data
                      else _("Avance guardado sin publicar."), "success")
                return redirect(url_for(".manage"))
    return _manage_page(form=form, status=422)


@staff_bp.post("/transparencia/avances/<int:update_id>/publicacion")
def set_publication(update_id: int):
    update = db.get_or_404(ProgressUpdate, update_id)  # CSRFProtect checked the token
    publish = request.form.get("publish") == "1"
    try:
        services.set_published(db.session, update, actor=current_user, published=publish,
                               now=utcnow())
    except DomainError:
        db.session.rollback()
        abort(403)
    db.session.commit()
    _forget(update.department.slug)
    flash(_("Avance publicado.") if publish else _("Avance retirado de la página pública."),
          "success")
    return redirect(url_for(".manage"))


@staff_bp.post("/transparencia/piloto")
def set_pilots():
    if current_user.role is not Role.ADMIN:
        abort(403)
    form = PilotForm()
    form.departments.choices = [(d.id, d.name) for d in _require_writer()]
    if form.validate_on_submit():
        try:
            services.set_pilots(db.session, actor=current_user,
                                department_ids=form.departments.data or [], now=utcnow())
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            cache.clear()  # the municipality page and every department's "pilot" badge
            flash(_("Departamentos piloto actualizados."), "success")
            return redirect(url_for(".manage"))
    return _manage_page(pilot_form=form, status=422)
