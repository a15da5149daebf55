"""Optional TOTP second step: enabling, the login's code page, replay, expiry, disabling."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.accounts.routes import PENDING_KEY
from app.accounts.services import LOCKOUT_THRESHOLD
from app.audit.models import AuditEntry
from app.database import utcnow
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_department, make_user

LOGIN_URL = "/gestion/ingresar"
CODE_URL = "/gestion/ingresar/codigo"
SECURITY_URL = "/gestion/cuenta/seguridad"
SECRET = pyotp.random_base32()


def code_at(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * steps_from_now))


def wrong_code(secret: str) -> str:
    """A code no step in the accepted window has."""
    window = {code_at(secret, n) for n in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555")
                if c not in window)


def post_form(client, page: str, url: str, data: dict):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def password_step(client, email: str, password: str = PASSWORD):
    return post_form(client, LOGIN_URL, LOGIN_URL, {"email": email, "password": password})


def make_staff(database, secret: str | None = None) -> str:
    with database() as session:
        user = make_user(session, Role.AGENT, [make_department(session)])
        user.totp_secret = secret
        session.commit()
        return user.email


def user_row(database, email: str) -> User:
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == email))
        session.expunge(user)
        return user


def actions(database) -> list[str]:
    with database() as session:
        return list(session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def logged_in(client) -> bool:
    return client.get("/gestion/").status_code == 200


# --- enabling --------------------------------------------------------------------------------

def shown_secret(html: str) -> str:
    match = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html)
    assert match, "no secret on the page"
    return match.group(1)


def test_enabling_needs_a_right_code_and_then_login_asks_for_one(client, database):
    email = make_staff(database)
    assert password_step(client, email).status_code == 302
    assert logged_in(client)
    page = client.get(SECURITY_URL).get_data(as_text=True)
    secret = shown_secret(page)
    assert 'src="data:image/svg+xml' in page  # the QR code, a data: image (CSP img-src)
    assert shown_secret(client.get(SECURITY_URL).get_data(as_text=True)) == secret  # kept

    wrong = post_form(client, SECURITY_URL, SECURITY_URL, {"code": wrong_code(secret)})
    assert wrong.status_code == 422
    assert "El código no es correcto" in wrong.get_data(as_text=True)
    assert user_row(database, email).totp_secret is None

    enabling_code = code_at(secret)
    right = post_form(client, SECURITY_URL, SECURITY_URL, {"code": enabling_code})
    assert right.status_code == 302
    assert user_row(database, email).totp_secret == secret
    assert actions(database)[-2:] == ["auth.totp_enable_failed", "auth.totp_enabled"]
    assert "Desactivar" in client.get(SECURITY_URL).get_data(as_text=True)

    client.post("/gestion/salir", data={"csrf_token": csrf_token_from(
        client.get("/gestion/").get_data(as_text=True))})
    assert not logged_in(client)
    response = password_step(client, email)
    assert response.status_code == 302 and response.headers["Location"].endswith(CODE_URL)
    assert not logged_in(client)  # the password alone does not log in
    # the step that enabled it is used up; the next one works
    assert post_form(client, CODE_URL, CODE_URL, {"code": enabling_code}).status_code == 401
    assert post_form(client, CODE_URL, CODE_URL,
                     {"code": code_at(secret, 1)}).status_code == 302
    assert logged_in(client)


# --- login -----------------------------------------------------------------------------------

def test_right_code_logs_in_and_goes_to_next(client, database):
    email = make_staff(database, SECRET)
    with client.session_transaction() as s:
        s["before"] = "x"
    token = csrf_token_from(client.get(LOGIN_URL).get_data(as_text=True))
    response = client.post(LOGIN_URL + "?next=/gestion/avisos/",
                           data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.headers["Location"].endswith(CODE_URL)
    with client.session_transaction() as s:
        assert "before" not in s and s[PENDING_KEY]["next"] == "/gestion/avisos/"
    response = post_form(client, CODE_URL, CODE_URL, {"code": code_at(SECRET)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/gestion/avisos/")
    with client.session_transaction() as s:
        assert PENDING_KEY not in s
    assert logged_in(client)
    row = user_row(database, email)
    assert row.last_login_at is not None and row.totp_last_step is not None
    assert actions(database)[-1] == "auth.login"


def test_wrong_code_is_refused_audited_and_counts_towards_the_lockout(client, database):
    email = make_staff(database, SECRET)
    password_step(client, email)
    bad = wrong_code(SECRET)
    response = post_form(client, CODE_URL, CODE_URL, {"code": bad})
    assert response.status_code == 401
    assert "El código no es correcto o ya se usó" in response.get_data(as_text=True)
    assert not logged_in(client)
    assert actions(database)[-1] == "auth.totp_failed"
    assert user_row(database, email).failed_logins == 1

    # the right password again does not clear the count of wrong codes
    password_step(client, email)
    assert user_row(database, email).failed_logins == 1
    for _ in range(LOCKOUT_THRESHOLD - 1):
        post_form(client, CODE_URL, CODE_URL, {"code": bad})
    locked = user_row(database, email)
    assert locked.locked_until is not None and locked.locked_until > utcnow()
    # locked: even the right code is refused
    assert post_form(client, CODE_URL, CODE_URL,
                     {"code": code_at(SECRET)}).status_code == 401
    assert not logged_in(client)


def test_a_code_cannot_be_used_twice(client, database, app):
    email = make_staff(database, SECRET)
    code = code_at(SECRET)
    password_step(client, email)
    assert post_form(client, CODE_URL, CODE_URL, {"code": code}).status_code == 302

    other = app.test_client()
    password_step(other, email)
    response = post_form(other, CODE_URL, CODE_URL, {"code": code})
    assert response.status_code == 401
    assert not logged_in(other)
    assert actions(database)[-1] == "auth.totp_failed"


def test_pending_login_expires(client, database):
    email = make_staff(database, SECRET)
    password_step(client, email)
    with client.session_transaction() as s:
        pending = s[PENDING_KEY]
        assert 290 < pending["expires"] - time.time() <= 300
        s[PENDING_KEY] = {**pending, "expires": time.time() - 1}
    response = client.get(CODE_URL)
    assert response.status_code == 302 and response.headers["Location"].endswith(LOGIN_URL)
    assert not logged_in(client)


def test_code_page_without_a_password_goes_back_to_login(client, database):
    make_staff(database, SECRET)
    response = client.get(CODE_URL)
    assert response.status_code == 302 and response.headers["Location"].endswith(LOGIN_URL)


def test_api_token_is_refused_for_totp_accounts(client, database):
    email = make_staff(database, SECRET)
    response = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["code"] == "totp_required"


# --- disabling -------------------------------------------------------------------------------

@pytest.fixture
def totp_client(client, database):
    email = make_staff(database, SECRET)
    password_step(client, email)
    code = code_at(SECRET)
    assert post_form(client, CODE_URL, CODE_URL, {"code": code}).status_code == 302
    return client, email, code


def test_disable_needs_password_and_a_fresh_code(totp_client, database):
    client, email, login_code = totp_client
    url = SECURITY_URL + "/desactivar"
    response = post_form(client, SECURITY_URL, url,
                         {"password": "no-es-la-clave", "code": code_at(SECRET, 1)})
    assert response.status_code == 422
    assert "La contraseña no es correcta" in response.get_data(as_text=True)
    # the code that logged in is used up
    response = post_form(client, SECURITY_URL, url, {"password": PASSWORD,
                                                      "code": login_code})
    assert response.status_code == 422
    assert user_row(database, email).totp_secret == SECRET
    assert actions(database)[-2:] == ["auth.totp_disable_failed", "auth.totp_disable_failed"]

    response = post_form(client, SECURITY_URL, url, {"password": PASSWORD,
                                                      "code": code_at(SECRET, 1)})
    assert response.status_code == 302
    row = user_row(database, email)
    assert row.totp_secret is None and row.totp_last_step is None
    assert actions(database)[-1] == "auth.totp_disabled"


def test_admin_resets_a_users_totp(client, database):
    email = make_staff(database, SECRET)
    with database() as session:
        admin = make_user(session, Role.ADMIN)
        session.commit()
        admin_email = admin.email
        user_id = user_row(database, email).id
    password_step(client, admin_email)
    page = f"/gestion/admin/usuarios/{user_id}"
    assert "Desactivar su verificación" in client.get(page).get_data(as_text=True)
    response = post_form(client, page, page + "/totp/restablecer", {})
    assert response.status_code == 302
    assert user_row(database, email).totp_secret is None
    assert actions(database)[-1] == "admin.user.totp_reset"
