"""Staff login hardening: lockout per account and per address, password hashes,
session rotation, and password reset by a single-use emailed link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.accounts import password_reset
from app.accounts.models import Role, User
from app.accounts.password_reset import PasswordResetToken
from app.accounts.services import LOCKOUT_THRESHOLD, authenticate, lockout_for
from app.database import utcnow
from app.notifications.models import OutboxMessage
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_department, make_user
from tests.pages import count, text_of

LOGIN_URL = "/gestion/ingresar"
RESET_URL = "/gestion/recuperar"
GENERIC = ("El correo o la contraseña no son correctos. Si fallaste varias veces, espera "
           "unos minutos antes de intentar de nuevo.")
NEW_PASSWORD = "una frase nueva bien larga"


def login(client, email: str, password: str = PASSWORD):
    html = client.get(LOGIN_URL).get_data(as_text=True)
    return client.post(LOGIN_URL, data={"csrf_token": csrf_token_from(html),
                                        "email": email, "password": password})


@pytest.fixture
def agent_email(database) -> str:
    with database() as session:
        user = make_user(session, Role.AGENT, [make_department(session)],
                         email="ana@muni.example.cl")
        session.commit()
        return user.email


def user_row(database, email: str) -> User:
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == email))
        session.expunge(user)
        return user


# --- lockout ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("failures", "minutes"), [
    (LOCKOUT_THRESHOLD - 1, None), (LOCKOUT_THRESHOLD, 1), (LOCKOUT_THRESHOLD + 1, 2),
    (LOCKOUT_THRESHOLD + 2, 4), (LOCKOUT_THRESHOLD + 6, 60), (LOCKOUT_THRESHOLD + 40, 60),
])
def test_lockout_starts_at_one_minute_and_doubles_up_to_one_hour(failures, minutes):
    expected = timedelta(minutes=minutes) if minutes else None
    assert lockout_for(failures) == expected


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(
        client, database, agent_email):
    for _ in range(LOCKOUT_THRESHOLD):
        response = login(client, agent_email, "mala-clave-123")
        assert response.status_code == 401
    locked = user_row(database, agent_email)
    assert locked.failed_logins == LOCKOUT_THRESHOLD
    assert locked.locked_until > utcnow() + timedelta(seconds=50)

    response = login(client, agent_email, PASSWORD)

    assert response.status_code == 401
    assert GENERIC in text_of(response.get_data(as_text=True))
    assert client.get("/gestion/").status_code == 302  # still not logged in


def test_locked_account_opens_again_after_the_lock_and_success_resets_the_count(
        client, database, agent_email):
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == agent_email))
        user.failed_logins = LOCKOUT_THRESHOLD + 1
        user.locked_until = utcnow() - timedelta(seconds=1)
        session.commit()

    response = login(client, agent_email, PASSWORD)

    assert response.status_code == 302
    user = user_row(database, agent_email)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_failure_after_the_lock_ends_doubles_the_next_lock(database, agent_email):
    now = utcnow()
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == agent_email))
        user.failed_logins = LOCKOUT_THRESHOLD
        user.locked_until = now - timedelta(seconds=1)
        assert authenticate(session, agent_email, "otra-mala-clave", now=now) is None
        assert user.locked_until == now + timedelta(minutes=2)


@pytest.mark.parametrize("email", ["ana@muni.example.cl", "nadie@muni.example.cl"])
def test_wrong_login_says_the_same_whether_or_not_the_account_exists_or_is_locked(
        client, database, agent_email, email):
    response = login(client, email, "mala-clave-123")
    assert response.status_code == 401
    assert GENERIC in text_of(response.get_data(as_text=True))


def test_login_posts_from_one_address_are_rate_limited_with_a_spanish_page(
        app, client, database, agent_email, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3/minute")
    emails = [f"persona{n}@muni.example.cl" for n in range(3)]
    for email in emails:  # different accounts: only the address limit applies
        assert login(client, email, "mala-clave-123").status_code == 401

    response = login(client, agent_email, PASSWORD)

    assert response.status_code == 429
    assert "Demasiados intentos" in text_of(response.get_data(as_text=True))
    assert int(response.headers["Retry-After"]) > 0
    assert client.get(LOGIN_URL).status_code == 200  # the page itself still opens


def test_api_token_failures_count_towards_the_same_lockout(client, database, agent_email):
    for _ in range(LOCKOUT_THRESHOLD):
        response = client.post("/api/v1/auth/token",
                               json={"email": agent_email, "password": "mala-clave-123"})
        assert response.status_code == 401
    response = client.post("/api/v1/auth/token",
                           json={"email": agent_email, "password": PASSWORD})
    assert response.status_code == 401
    assert user_row(database, agent_email).locked_until is not None


# --- password hashes and sessions ------------------------------------------------------------

def test_passwords_are_stored_with_scrypt(database, agent_email):
    assert user_row(database, agent_email).password_hash.startswith("scrypt:")


def test_an_older_hash_is_replaced_by_scrypt_on_login(client, database, agent_email):
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == agent_email))
        user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        session.commit()

    assert login(client, agent_email).status_code == 302

    stored = user_row(database, agent_email).password_hash
    assert stored.startswith("scrypt:")
    client.post("/gestion/salir", data={"csrf_token": csrf_token_from(
        client.get("/gestion/").get_data(as_text=True))})
    assert login(client, agent_email).status_code == 302  # the new hash works


def test_login_starts_a_new_session_without_anything_from_before(app, client, agent_email):
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    login(client, agent_email)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert "_user_id" in after


def test_session_cookie_is_httponly_and_samesite_lax(client, agent_email):
    response = login(client, agent_email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_a_session_used_from_another_browser_is_dropped(app, client, agent_email):
    assert login(client, agent_email).status_code == 302
    assert client.get("/gestion/").status_code == 200

    response = client.get("/gestion/", headers={"User-Agent": "OtroNavegador/1.0"})

    assert response.status_code == 302  # "strong" session protection: log in again


# --- password reset --------------------------------------------------------------------------

def ask_reset(client, email: str):
    html = client.get(RESET_URL).get_data(as_text=True)
    return client.post(RESET_URL, data={"csrf_token": csrf_token_from(html), "email": email})


def reset_link(database, email: str) -> str:
    with database() as session:
        message = session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.recipient == email, OutboxMessage.template == "staff_password_reset"))
        match = re.search(r"http://conectados\.test(/gestion/recuperar/[\w-]+)",
                          message.body_text)
        assert match and match.group(0) in message.body_html
        return match.group(1)


def choose_password(client, path: str, password: str, confirmation: str | None = None):
    html = client.get(RESET_URL).get_data(as_text=True)  # works for dead links too
    return client.post(path, data={"csrf_token": csrf_token_from(html), "password": password,
                                   "confirmation": password if confirmation is None
                                   else confirmation})


@pytest.mark.parametrize("email", ["ana@muni.example.cl", "nadie@muni.example.cl"])
def test_reset_request_answers_the_same_page_whether_or_not_the_account_exists(
        client, agent_email, email):
    response = ask_reset(client, email)
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert f"Si {email} es el correo de una cuenta de funcionario" in text


def test_reset_request_queues_an_email_only_for_an_existing_account(
        client, database, agent_email):
    ask_reset(client, "nadie@muni.example.cl")
    ask_reset(client, agent_email)
    with database() as session:
        assert [m.recipient for m in session.scalars(sa.select(OutboxMessage))] == [agent_email]
        token = session.scalar(sa.select(PasswordResetToken))
        assert token.expires_at - token.created_at == timedelta(minutes=30)


def test_reset_link_sets_a_new_password_once_and_the_old_one_stops_working(
        client, database, agent_email):
    ask_reset(client, agent_email)
    path = reset_link(database, agent_email)
    with database() as session:  # only the digest is stored
        stored = session.scalar(sa.select(PasswordResetToken.token_hash))
        assert path.rsplit("/", 1)[1] not in stored

    response = choose_password(client, path, NEW_PASSWORD)

    assert response.status_code == 302 and response.location.endswith(LOGIN_URL)
    assert client.get(path).status_code == 404  # single use
    assert "Este enlace ya no sirve" in text_of(client.get(path).get_data(as_text=True))
    assert login(client, agent_email, PASSWORD).status_code == 401
    assert login(client, agent_email, NEW_PASSWORD).status_code == 302


def test_reset_clears_the_lockout(client, database, agent_email):
    for _ in range(LOCKOUT_THRESHOLD):
        login(client, agent_email, "mala-clave-123")
    ask_reset(client, agent_email)
    choose_password(client, reset_link(database, agent_email), NEW_PASSWORD)
    assert login(client, agent_email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("password", "confirmation", "message"), [
    ("corta-11chr", None, "La contraseña debe tener al menos 12 caracteres."),
    (NEW_PASSWORD, NEW_PASSWORD + "x", "Las dos contraseñas no coinciden."),
    ("", "", "Escribe la contraseña nueva."),
])
def test_bad_new_password_is_refused_and_the_link_still_works(
        client, database, agent_email, password, confirmation, message):
    ask_reset(client, agent_email)
    path = reset_link(database, agent_email)

    response = choose_password(client, path, password, confirmation)

    assert response.status_code == 422
    assert message in text_of(response.get_data(as_text=True))
    assert choose_password(client, path, NEW_PASSWORD).status_code == 302


def test_reset_link_expires_after_thirty_minutes(client, database, agent_email):
    ask_reset(client, agent_email)
    path = reset_link(database, agent_email)
    with database() as session:
        token = session.scalar(sa.select(PasswordResetToken))
        token.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    assert client.get(path).status_code == 404
    assert choose_password(client, path, NEW_PASSWORD).status_code == 404


def test_a_password_change_invalidates_every_outstanding_link(client, database, agent_email):
    ask_reset(client, agent_email)
    first = reset_link(database, agent_email)
    with database() as session:
        session.execute(sa.delete(OutboxMessage))
        session.commit()
    ask_reset(client, agent_email)
    second = reset_link(database, agent_email)

    assert choose_password(client, second, NEW_PASSWORD).status_code == 302

    assert client.get(first).status_code == 404


@pytest.mark.parametrize("path", ["/gestion/recuperar/inventado",
                                  "/gestion/recuperar/" + "A" * 43])
def test_made_up_reset_links_are_404(client, app, path):
    assert client.get(path).status_code == 404


def test_reset_for_a_deactivated_account_sends_nothing(client, database, agent_email):
    with database() as session:
        session.scalar(sa.select(User).where(User.email == agent_email)).active = False
        session.commit()
    ask_reset(client, agent_email)
    with database() as session:
        assert count(session, OutboxMessage) == 0


def test_reset_service_refuses_a_used_token(database, agent_email):
    with database() as session:
        secret = password_reset.request_reset(session, agent_email, base_url="http://x")
        password_reset.reset_password(session, secret, NEW_PASSWORD, NEW_PASSWORD)
        with pytest.raises(password_reset.ValidationFailed) as raised:
            password_reset.reset_password(session, secret, NEW_PASSWORD, NEW_PASSWORD)
        assert "token" in raised.value.field_errors
