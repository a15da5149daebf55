"""The "Mis avisos" page: each staff member chooses which emails they receive."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.notifications.forms import PreferencesForm
from app.notifications.preferences import NewTicketMode, preference_for, save_preference

bp = Blueprint("notifications", __name__, url_prefix="/gestion/avisos")


@bp.before_request
@login_required
def require_login():
    """Only logged-in staff have preferences."""


@bp.route("/", methods=["GET", "POST"])
def preferences():
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            mode = NewTicketMode(form.new_ticket.data)
        except ValueError:
            form.new_ticket.errors = [_("Elige una de las opciones.")]
        else:
            save_preference(db.session, current_user, new_ticket=mode,
                            assigned=form.assigned.data, sla_warning=form.sla_warning.data,
                            sla_breach=form.sla_breach.data)
            db.session.commit()
            flash(_("Guardamos tus preferencias de avisos."), "success")
            return redirect(url_for(".preferences"))
        return render_template("notifications/preferences.html", form=form), 422
    if form.is_submitted():  # e.g. an expired CSRF token
        return render_template("notifications/preferences.html", form=form), 422
    current = preference_for(db.session, current_user)
    form.new_ticket.data = current.new_ticket.value
    form.assigned.data = current.assigned
    form.sla_warning.data = current.sla_warning
    form.sla_breach.data = current.sla_breach
    return render_template("notifications/preferences.html", form=form)
