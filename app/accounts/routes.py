"""Staff login and logout."""

from __future__ import annotations

import time
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
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import password_reset, totp
from app.accounts.forms import (
    CodeForm,
    DisableTotpForm,
    LoginForm,
    NewPasswordForm,
    ResetRequestForm,
)
from app.accounts.models import User
from app.accounts.services import authenticate, find_by_email
from app.audit.service import client_ip, record
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.i18n import current_locale
from app.security.limits import login_limit, reset_limit

bp = Blueprint("accounts", __name__, url_prefix="/gestion")

# Between a right password and the TOTP code: who, until when, and where to go.
PENDING_KEY = "totp_pending"
PENDING_SECONDS = 5 * 60
ENROL_KEY = "totp_enrol_secret"


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
        if user is not None and user.totp_enabled:
            # Password right: the session is only logged in after the code.
            session.clear()
            session[PENDING_KEY] = {"user_id": user.id,
                                    "expires": time.time() + PENDING_SECONDS,
                                    "next": safe_next_url(request.args.get("next"))}
            return redirect(url_for(".login_code"))
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


def _pending_user() -> tuple[User | None, str | None]:
    """The user whose password was right in this session, if not expired."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        session.pop(PENDING_KEY, None)
        return None, None
    user = db.session.get(User, pending.get("user_id"))
    if user is None or not user.totp_enabled:
        session.pop(PENDING_KEY, None)
        return None, None
    return user, pending.get("next")


@bp.route("/ingresar/codigo", methods=["GET", "POST"])
@login_limit
def login_code():
    """The second step for a user with TOTP: the 6-digit code."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue"))
    user, next_url = _pending_user()
    if user is None:
        flash(_("Tu ingreso expiró. Escribe de nuevo tu correo y contraseña."), "error")
        return redirect(url_for(".login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if totp.check_login_code(db.session, user, form.code.data):
            record(db.session, actor=user, action="auth.login", ip=client_ip(),
                   details={"totp": True})
            db.session.commit()
            session.clear()  # a fresh session (and CSRF token) on login
            login_user(user)
            return redirect(next_url or url_for("staff.queue"))
        db.session.commit()  # the failure counts towards the lockout
        record(db.session, actor=user, action="auth.totp_failed", ip=client_ip())
        db.session.commit()
        form.code.errors = [_("El código no es correcto o ya se usó. Si fallaste varias "
                              "veces, espera unos minutos antes de intentar de nuevo.")]
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login_code.html", form=form), status


def _security_page(enable_form: CodeForm | None = None,
                   disable_form: DisableTotpForm | None = None, status: int = 200):
    context = {"enabled": current_user.totp_enabled}
    if current_user.totp_enabled:
        session.pop(ENROL_KEY, None)
        context["disable_form"] = disable_form or DisableTotpForm()
    else:
        secret = session.get(ENROL_KEY)
        if not secret:
            secret = session[ENROL_KEY] = totp.new_secret()
        context.update(secret=secret, enable_form=enable_form or CodeForm(),
                       qr=totp.qr_data_uri(totp.provisioning_uri(current_user, secret)))
    return render_template("accounts/security.html", **context), status


@bp.route("/cuenta/seguridad", methods=["GET", "POST"])
@login_required
def security():
    """Account security: turn the TOTP second step on (confirming a code)."""
    if request.method == "GET" or current_user.totp_enabled:
        return _security_page()
    form = CodeForm()
    if not form.validate_on_submit():
        return _security_page(enable_form=form, status=422)
    try:
        totp.enable(db.session, current_user, session.get(ENROL_KEY) or "", form.code.data)
    except ValidationFailed as error:
        db.session.rollback()
        record(db.session, actor=current_user, action="auth.totp_enable_failed",
               ip=client_ip())
        db.session.commit()
        apply_domain_errors(form, error)
        return _security_page(enable_form=form, status=422)
    record(db.session, actor=current_user, action="auth.totp_enabled",
           target_type="user", target_id=current_user.id, ip=client_ip())
    db.session.commit()
    session.pop(ENROL_KEY, None)
    flash(_("Listo: la verificación en dos pasos está activa. Desde ahora te pediremos "
            "un código al ingresar."), "success")
    return redirect(url_for(".security"))


@bp.post("/cuenta/seguridad/desactivar")
@login_required
def totp_disable():
    """Turn the TOTP second step off, with the password and a code."""
    form = DisableTotpForm()
    if not current_user.totp_enabled:
        return redirect(url_for(".security"))
    if not form.validate_on_submit():
        return _security_page(disable_form=form, status=422)
    try:
        totp.disable(db.session, current_user, form.password.data, form.code.data)
    except ValidationFailed as error:
        db.session.rollback()
        record(db.session, actor=current_user, action="auth.totp_disable_failed",
               ip=client_ip())
        db.session.commit()
        apply_domain_errors(form, error)
        return _security_page(disable_form=form, status=422)
    record(db.session, actor=current_user, action="auth.totp_disabled",
           target_type="user", target_id=current_user.id, ip=client_ip())
    db.session.commit()
    flash(_("La verificación en dos pasos quedó desactivada."), "success")
    return redirect(url_for(".security"))


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
                                     base_url=current_app.config["PUBLIC_BASE_URL"],
                                     locale=current_locale())
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
