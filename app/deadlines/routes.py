"""Staff pages: the Ley 20.285 extension form, and the holiday admin (role admin)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.models import Role
from app.calendar.chile import national_holidays
from app.database import utcnow
from app.deadlines import clock, overrides
from app.deadlines.forms import ExtensionForm, HolidayForm
from app.deadlines.models import HolidayOverride
from app.domain import DomainError
from app.extensions import db
from app.forms import apply_domain_errors
from app.i18n import current_locale
from app.tickets.access import get_visible_ticket_or_404

log = logging.getLogger(__name__)

bp = Blueprint("deadlines", __name__, url_prefix="/gestion")


@bp.before_request
@login_required
def require_login():
    """Every page of this blueprint is for logged-in staff only."""


@bp.post("/solicitudes/<int:ticket_id>/prorroga")
def extend(ticket_id: int):
    """Apply the one Ley 20.285 extension; on refusal the detail page comes back filled."""
    from app.staff.routes import _detail_forms

    ticket = get_visible_ticket_or_404(db.session, current_user, ticket_id)
    form = ExtensionForm()
    if form.validate_on_submit():
        try:
            clock.extend_legal_deadline(db.session, ticket, actor=current_user,
                                        reason=form.reason.data, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Plazo prorrogado; se avisó al vecino/a."), "success")
            return redirect(url_for("staff.detail", ticket_id=ticket.id))
    return render_template("staff/detail.html", ticket=ticket, extension_form=form,
                           **_detail_forms(ticket)), 422


def _require_admin() -> None:
    """:raise 403: unless the current user is an admin."""
    if current_user.role is not Role.ADMIN:
        abort(403)


def _holidays_page(form: HolidayForm, status: int = 200):
    rows = db.session.scalars(sa.select(HolidayOverride).order_by(HolidayOverride.day)).all()
    year = utcnow().year
    language = "en" if current_locale() == "en" else "es"
    upcoming = sorted(national_holidays([year, year + 1], language).items())
    return render_template("deadlines/holidays.html", overrides=rows, form=form,
                           national=upcoming), status


@bp.get("/admin/feriados")
def holidays():
    _require_admin()
    return _holidays_page(HolidayForm(formdata=None))


@bp.post("/admin/feriados")
def add_holiday():
    _require_admin()
    form = HolidayForm()
    if form.validate_on_submit():
        try:
            override = overrides.add_override(db.session, day_text=form.day.data,
                                              name=form.name.data, kind=form.kind.data,
                                              actor=current_user)
        except DomainError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            log.info("holiday override added by %s: %s %s", current_user.email,
                     override.day, override.kind.value)
            flash(_("Fecha agregada al calendario municipal."), "success")
            return redirect(url_for(".holidays"))
    return _holidays_page(form, 422)


@bp.post("/admin/feriados/<int:override_id>/eliminar")
def delete_holiday(override_id: int):
    _require_admin()
    override = db.get_or_404(HolidayOverride, override_id)  # CSRFProtect checked the token
    overrides.delete_override(db.session, override)
    db.session.commit()
    log.info("holiday override deleted by %s: %s", current_user.email, override.day)
    flash(_("Fecha eliminada del calendario municipal."), "success")
    return redirect(url_for(".holidays"))
