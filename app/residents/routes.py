"""«Mis solicitudes»: sign in by email link, list one's requests, sign out.

The resident's sign-in lives in ``session["resident_account_id"]``, apart
from Flask-Login (which is for staff). Opening the emailed link shows a page
with one button; only pressing it uses the link, so mail scanners that fetch
every link in a message cannot burn it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from app.api.ratelimit import RateLimited, check
from app.domain import ValidationFailed
from app.extensions import db
from app.forms import apply_domain_errors
from app.i18n import current_locale
from app.residents import links
from app.residents.forms import LinkRequestForm, RedeemForm
from app.residents.models import ResidentAccount

bp = Blueprint("residents", __name__, url_prefix="/mis-solicitudes")

SESSION_KEY = "resident_account_id"


def current_resident() -> ResidentAccount | None:
    account_id = session.get(SESSION_KEY)
    return db.session.get(ResidentAccount, account_id) if account_id else None


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.route("/ingresar", methods=["GET", "POST"])
def request_link():
    form = LinkRequestForm()
    if form.validate_on_submit():
        try:
            email = links.canonical_email(form.email.data)
            # Counted before looking the address up, known or not: no enumeration.
            check("resident-link-ip", "RESIDENT_LINK_RATE_LIMIT_IP",
                  request.remote_addr or "-")
            check("resident-link-email", "RESIDENT_LINK_RATE_LIMIT_EMAIL", email)
            links.request_link(db.session, email, locale=current_locale())
        except ValidationFailed as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        except RateLimited as limited:
            db.session.rollback()
            minutes = max(1, (limited.retry_after + 59) // 60)
            form.form_errors.append(_(
                "Pediste muchos enlaces seguidos. Espera %(n)d minutos y vuelve a intentarlo; "
                "si ya te llegó un correo, usa el enlace más reciente.", n=minutes))
            response = make_response(render_template("residents/request_link.html",
                                                     form=form), 429)
            response.headers["Retry-After"] = str(limited.retry_after)
            return response
        else:
            db.session.commit()
            return redirect(url_for(".link_sent"))
        return render_template("residents/request_link.html", form=form), 422
    status = 422 if request.method == "POST" else 200
    return render_template("residents/request_link.html", form=form), status


@bp.get("/ingresar/enviado")
def link_sent():
    return render_template("residents/link_sent.html",
                           minutes=current_app.config["RESIDENT_LINK_MINUTES"])


def _unusable_link():
    return render_template("residents/link_unusable.html"), 410


@bp.route("/enlace/<secret>", methods=["GET", "POST"])
def redeem(secret: str):
    form = RedeemForm()
    if request.method == "GET":
        if links.find_usable(db.session, secret) is None:
            return _unusable_link()
        return _private(make_response(render_template("residents/redeem.html", form=form)))
    if not form.validate_on_submit():
        return render_template("residents/redeem.html", form=form), 400
    account = links.redeem(db.session, secret)
    if account is None:
        db.session.rollback()
        return _unusable_link()
    db.session.commit()
    session.clear()  # a fresh session on sign-in (no fixation, no staff login kept)
    session[SESSION_KEY] = account.id
    return redirect(url_for(".index"))


@bp.get("")
def index():
    account = current_resident()
    if account is None:
        return redirect(url_for(".request_link"))
    return _private(make_response(render_template(
        "residents/index.html", account=account,
        tickets=links.requests_of(db.session, account), form=RedeemForm())))


@bp.post("/salir")
def logout():
    form = RedeemForm()
    if form.validate_on_submit():
        session.clear()
    return redirect(url_for("resident.home"))
