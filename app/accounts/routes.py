"""Staff login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.accounts import password_reset
from app.accounts.forms import LoginForm, NewPasswordForm, ResetRequestForm
from app.accounts.services import authenticate, find_by_email
from app.audit.service import client_ip, record
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.security.limits import login_limit, reset_limit

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
@login_limit
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        db.session.commit()  # also a failure: it counts towards the lockout
        if user is not None:
            record(db.session, actor=user, action="auth.login", ip=client_ip())
            db.session.commit()
            session.clear()  # a fresh session (and CSRF token) on login
            login_user(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("staff.queue"))
        # Only a known account is named (an unknown email may be anyone's address).
        record(db.session, actor=find_by_email(db.session, form.email.data or ""),
               action="auth.login_failed", ip=client_ip())
        db.session.commit()
        # One message for a wrong email, a wrong password and a locked account.
        form.form_errors.append(_("El correo o la contraseña no son correctos. Si fallaste "
                                  "varias veces, espera unos minutos antes de intentar de "
                                  "nuevo."))
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


@bp.route("/recuperar", methods=["GET", "POST"])
@reset_limit
def reset_request():
    """Ask for a reset link; the answer is the same whether the account exists or not."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        password_reset.request_reset(db.session, form.email.data,
                                     base_url=current_app.config["PUBLIC_BASE_URL"])
        db.session.commit()
        return render_template("accounts/reset_sent.html", email=form.email.data.strip())
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/recuperar/<token>", methods=["GET", "POST"])
@reset_limit
def reset_password(token: str):
    """Choose a new password with a reset link (single use, expiring)."""
    if password_reset.find_valid_token(db.session, token) is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = NewPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.reset_password(db.session, token, form.password.data,
                                          form.confirmation.data)
        except ValidationFailed as error:
            db.session.rollback()
            apply_domain_errors(form, error)
            status = 422
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Listo: tu contraseña cambió. Ingresa con la nueva."), "success")
            return redirect(url_for(".login"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/reset_password.html", form=form), status
