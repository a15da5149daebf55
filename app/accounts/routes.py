"""Staff login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.accounts.forms import LoginForm
from app.accounts.services import authenticate, find_by_email
from app.audit.service import client_ip, record
from app.extensions import db

bp = Blueprint("accounts", __name__, url_prefix="/gestion")


def safe_next_url(target: str | None) -> str | None:
    """Return ``target`` only if it is a path on this site (no scheme, no host)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/ingresar", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            record(db.session, actor=user, action="auth.login", ip=client_ip())
            db.session.commit()
            session.clear()  # a fresh session on login
            login_user(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("staff.queue"))
        # Only a known account is named (an unknown email may be anyone's address).
        record(db.session, actor=find_by_email(db.session, form.email.data or ""), action="auth.login_failed", ip=client_ip())  # noqa: E501
        db.session.commit()
        form.form_errors.append(_("El correo o la contraseña no son correctos."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/salir")
def logout():
    if current_user.is_authenticated:
        record(db.session, actor=current_user, action="auth.logout", ip=client_ip())
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("resident.home"))
