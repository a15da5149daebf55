"""«Mis solicitudes»: a resident signs in with a single-use email link (no
password) and sees every request made with that email, and nothing else."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.database import utcnow
from app.extensions import limiter
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending
from app.residents.models import ResidentAccount, ResidentLoginToken
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_ticket
from tests.pages import count, text_of

LOGIN = "/mis-solicitudes/ingresar"
SENT = "Si hay solicitudes o una cuenta con ese correo, te enviamos un enlace"
LINK_RE = re.compile(r"http://conectados\.test(/mis-solicitudes/enlace/[A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    limiter.reset()
    yield
    limiter.reset()


def ask_for_link(client, email: str, ip: str = "127.0.0.1"):
    html = client.get(LOGIN).get_data(as_text=True)
    return client.post(LOGIN, data={"csrf_token": csrf_token_from(html), "email": email},
                       environ_base={"REMOTE_ADDR": ip})


def link_emails(session, email: str) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "resident_login_link",
        OutboxMessage.recipient == email).order_by(OutboxMessage.id)))


def latest_link(database, email: str) -> str:
    with database() as session:
        messages = link_emails(session, email)
        assert messages, f"no link email to {email}"
        return LINK_RE.search(messages[-1].body_text).group(1)


def open_link(client, path: str):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


def sign_in(client, database, email: str):
    assert ask_for_link(client, email).status_code == 302
    return open_link(client, latest_link(database, email))


@pytest.fixture
def two_residents(database):
    with database() as session:
        category = make_category(session, name="Luminaria apagada")
        mine = [make_ticket(session, category, email="rosa@example.cl", notify=False),
                make_ticket(session, category, email="Rosa@EXAMPLE.cl", notify=False)]
        theirs = make_ticket(session, category, email="juan@example.cl", notify=False)
        mine[0].resolution_due_at = utcnow().replace(microsecond=0) + timedelta(days=3)
        session.commit()
        return ([(t.public_number, t.formatted_tracking_code) for t in mine],
                (theirs.public_number, theirs.formatted_tracking_code))


def test_link_email_is_delivered_over_smtp_and_signs_the_resident_in(
        client, database, two_residents, smtp_server):
    mine, theirs = two_residents
    response = ask_for_link(client, "  rosa@EXAMPLE.CL ")
    assert response.status_code == 302
    assert SENT in text_of(client.get(response.headers["Location"]).get_data(as_text=True))

    with database() as session:
        assert deliver_pending(session).sent == 1
        token = session.scalar(sa.select(ResidentLoginToken))
        assert token.email == "rosa@example.cl" and len(token.token_hash) == 64
    [message] = smtp_server.messages
    assert message["To"] == "rosa@example.cl"
    assert message["Subject"] == "Tu enlace para entrar a Mis solicitudes"
    path = LINK_RE.search(message.get_body(("plain",)).get_content()).group(1)
    assert f'href="http://conectados.test{path}"' in message.get_body(("html",)).get_content()
    assert "30 minutos" in message.get_body(("plain",)).get_content()
    secret = path.rsplit("/", 1)[1]
    assert secret not in token.token_hash  # only a digest is stored

    signed_in = open_link(client, path)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/mis-solicitudes"
    page = client.get("/mis-solicitudes")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    for number, code in mine:
        assert number in html and f'href="/seguimiento/{code}"' in html
    assert theirs[0] not in html and theirs[1] not in html
    assert "Luminaria apagada" in html and "Recibida" in text_of(html)
    assert "Plazo de respuesta" in text_of(html)
    with database() as session:
        account = session.scalar(sa.select(ResidentAccount))
        assert account.email == "rosa@example.cl" and account.last_login_at is not None


def test_list_shows_requests_made_later_with_the_same_email(client, database, two_residents):
    assert sign_in(client, database, "juan@example.cl").status_code == 302
    with database() as session:
        later = make_ticket(session, email="juan@example.cl", notify=False).public_number
        session.commit()
    html = client.get("/mis-solicitudes").get_data(as_text=True)
    assert later in html and two_residents[1][0] in html
    assert all(number not in html for number, _code in two_residents[0])


def test_link_works_only_once(client, database, two_residents, app):
    ask_for_link(client, "rosa@example.cl")
    path = latest_link(database, "rosa@example.cl")
    page = client.get(path)
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    other = app.test_client()
    again = open_link(other, path)
    assert again.status_code == 410
    assert "Este enlace ya no sirve" in again.get_data(as_text=True)
    assert 'href="/mis-solicitudes/ingresar"' in again.get_data(as_text=True)
    assert other.get("/mis-solicitudes").status_code == 302


def test_opening_the_link_without_pressing_the_button_does_not_use_it(
        client, database, two_residents):
    ask_for_link(client, "rosa@example.cl")
    path = latest_link(database, "rosa@example.cl")
    assert client.get(path).status_code == 200  # e.g. a mail scanner
    assert client.get(path).status_code == 200
    assert open_link(client, path).status_code == 302


def test_expired_link_shows_friendly_page(client, database, two_residents):
    ask_for_link(client, "rosa@example.cl")
    path = latest_link(database, "rosa@example.cl")
    with database() as session:
        session.execute(sa.update(ResidentLoginToken).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "Pedir un enlace nuevo" in response.get_data(as_text=True)
    with database() as session:
        assert count(session, ResidentAccount) == 0


@pytest.mark.parametrize("mangle", [
    lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),
    lambda p: p[:-5],
    lambda p: p + "x",
    lambda p: "/mis-solicitudes/enlace/" + "a" * 300,
])
def test_tampered_link_is_refused(client, database, two_residents, mangle):
    ask_for_link(client, "rosa@example.cl")
    path = mangle(latest_link(database, "rosa@example.cl"))
    response = client.get(path)
    assert response.status_code == 410
    assert "Este enlace ya no sirve" in response.get_data(as_text=True)
    html = client.get(LOGIN).get_data(as_text=True)
    assert client.post(path, data={"csrf_token": csrf_token_from(html)}).status_code == 410
    assert client.get("/mis-solicitudes").status_code == 302


def test_unknown_email_gets_the_same_answer_and_no_email(client, database, two_residents):
    known = ask_for_link(client, "rosa@example.cl")
    unknown = ask_for_link(client, "nadie@example.cl")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    with database() as session:
        assert link_emails(session, "nadie@example.cl") == []
        assert count(session, ResidentLoginToken) == 1


@pytest.mark.parametrize("bad", ["", "rosa", "rosa@", "@example.cl", "ro sa@example.cl"])
def test_invalid_email_is_refused_in_spanish_and_kept(client, database, bad):
    response = ask_for_link(client, bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Escribe un correo válido" in html
    assert f'value="{bad}"' in html or bad == ""


def test_link_requests_are_rate_limited_per_email(client, database, two_residents, app):
    limit = int(app.config["RESIDENT_LINK_RATE_LIMIT_EMAIL"].split("/")[0])
    for n in range(limit):
        assert ask_for_link(client, "rosa@example.cl", ip=f"10.0.0.{n}").status_code == 302
    refused = ask_for_link(client, "ROSA@example.cl", ip="10.0.1.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Pediste muchos enlaces seguidos" in refused.get_data(as_text=True)
    # The same limit applies to an unknown address: the answer reveals nothing.
    for n in range(limit):
        ask_for_link(client, "nadie@example.cl", ip=f"10.0.2.{n}")
    assert ask_for_link(client, "nadie@example.cl", ip="10.0.3.1").status_code == 429
    with database() as session:
        assert len(link_emails(session, "rosa@example.cl")) == limit


def test_link_requests_are_rate_limited_per_address(client, database, app):
    limit = int(app.config["RESIDENT_LINK_RATE_LIMIT_IP"].split("/")[0])
    for n in range(limit):
        assert ask_for_link(client, f"v{n}@example.cl", ip="10.9.9.9").status_code == 302
    assert ask_for_link(client, "otra@example.cl", ip="10.9.9.9").status_code == 429
    assert ask_for_link(client, "otra@example.cl", ip="10.9.9.8").status_code == 302


def test_logout_ends_the_resident_session(client, database, two_residents):
    sign_in(client, database, "rosa@example.cl")
    html = client.get("/mis-solicitudes").get_data(as_text=True)
    assert client.post("/mis-solicitudes/salir",
                       data={"csrf_token": csrf_token_from(html)}).status_code == 302
    assert client.get("/mis-solicitudes").headers["Location"] == LOGIN


def test_signing_in_starts_a_fresh_session(client, database, two_residents):
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    sign_in(client, database, "rosa@example.cl")
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess["resident_account_id"]


def test_account_is_created_once_and_reused(client, database, two_residents, app):
    sign_in(client, database, "rosa@example.cl")
    sign_in(app.test_client(), database, "rosa@example.cl")
    with database() as session:
        assert count(session, ResidentAccount) == 1


def test_home_and_tracking_pages_link_to_mis_solicitudes(client):
    for path in ("/", "/seguimiento"):
        html = client.get(path).get_data(as_text=True)
        assert "¿No tienes tu código? Ve todas tus solicitudes" in html
        assert 'href="/mis-solicitudes/ingresar"' in html

