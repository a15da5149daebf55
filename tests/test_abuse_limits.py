"""Abuse limits on the public pages, the bot check of the resident form, and the
Redis storage of the limits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.security import honeypot
from app.tickets.models import Ticket
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_ticket
from tests.pages import count, text_of

SUBMIT_URL = "/solicitudes/nueva"
TRACK_URL = "/seguimiento"
ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = "El semáforo de la esquina no funciona desde ayer."
WRONG_CODE = "AAAA-AAAA-AAAA"  # well formed but with a wrong check symbol


@pytest.fixture
def category_id(database) -> int:
    with database() as session:
        category = make_category(session)
        session.commit()
        return category.id


@pytest.fixture
def code(database) -> str:
    with database() as session:
        ticket = make_ticket(session, make_category(session))
        session.commit()
        return ticket.formatted_tracking_code


def submission(category_id: int, **extra: str) -> dict[str, str]:
    return {"category": str(category_id), "description": DESCRIPTION,
            "address": "Av. Grecia 8735", "macrosector": "", "name": "Rosa Pérez",
            "email": "rosa@example.cl", "phone": "", "rut": "", "consent": "y", **extra}


def post_submission(client, data: dict[str, str], *, stamp: str | None = "from-page"):
    html = client.get(SUBMIT_URL).get_data(as_text=True)
    fields = {"csrf_token": csrf_token_from(html), **data}
    if stamp == "from-page":
        fields["form_started"] = re.search(r'name="form_started" value="([^"]+)"',
                                           html).group(1)
    elif stamp is not None:
        fields["form_started"] = stamp
    return client.post(SUBMIT_URL, data=fields)


def post_track(client, typed: str):
    html = client.get(TRACK_URL).get_data(as_text=True)
    return client.post(TRACK_URL, data={"csrf_token": csrf_token_from(html), "code": typed})


# --- submission -----------------------------------------------------------------------------

def test_submissions_from_one_address_are_limited_with_a_spanish_429_page(
        app, client, database, category_id, monkeypatch):
    monkeypatch.setitem(app.config, "SUBMIT_RATE_LIMIT", "2/minute")
    for _ in range(2):
        assert post_submission(client, submission(category_id)).status_code == 302

    response = post_submission(client, submission(category_id))

    assert response.status_code == 429
    assert "Demasiados intentos" in text_of(response.get_data(as_text=True))
    assert client.get(SUBMIT_URL).status_code == 200  # reading the form is not limited
    with database() as session:
        assert count(session, Ticket) == 2


# --- tracking codes --------------------------------------------------------------------------

def test_right_codes_never_count_towards_the_tracking_limit(app, client, code, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKING_MISS_RATE_LIMIT", "3/minute")
    for _ in range(10):
        assert client.get(f"/seguimiento/{code}").status_code == 200
        assert post_track(client, code).status_code == 302


def test_a_burst_of_wrong_codes_on_any_tracking_page_is_throttled(
        app, client, code, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKING_MISS_RATE_LIMIT", "4/minute")
    assert post_track(client, WRONG_CODE).status_code == 422        # check symbol wrong
    assert post_track(client, "ZZZZ-ZZZZ-ZZZV").status_code in (404, 422)
    assert client.get("/seguimiento/XXXX-XXXX-XXXX").status_code == 404
    assert client.get("/open311/v2/tokens/XXXX-XXXX-XXXX.json").status_code == 404

    page = client.get(f"/seguimiento/{code}")  # even a right code now waits
    open311 = client.get("/open311/v2/tokens/XXXX-XXXX-XXXX.json")
    attachment = client.get(f"/seguimiento/{code}/adjuntos/1")

    assert page.status_code == 429
    assert "Demasiados intentos" in text_of(page.get_data(as_text=True))
    assert int(page.headers["Retry-After"]) > 0
    assert open311.status_code == 429
    assert open311.get_json()[0]["code"] == 429  # in Open311's own error format
    assert attachment.status_code == 429


def test_api_lookups_by_code_share_the_tracking_budget(app, client, database, monkeypatch):
    from tests.api_support import app_key, bearer

    monkeypatch.setitem(app.config, "TRACKING_MISS_RATE_LIMIT", "2/minute")
    with database() as session:
        secret = app_key(session)
        session.commit()
    for _ in range(2):
        miss = client.get("/api/v1/requests/by-code/XXXX-XXXX-XXXX", headers=bearer(secret))
        assert miss.status_code == 404

    response = client.get("/api/v1/requests/by-code/XXXX-XXXX-XXXX", headers=bearer(secret))

    assert response.status_code == 429
    assert response.get_json()["code"] == "rate_limited"


# --- the bot check of the resident form ------------------------------------------------------

@pytest.fixture
def slow_form(app, monkeypatch):
    """The production setting: a person takes at least 2 seconds."""
    monkeypatch.setitem(app.config, "FORM_MIN_FILL_SECONDS", 2)


def stamp_seconds_ago(app, seconds: float) -> str:
    with app.app_context():
        return honeypot.new_stamp(time.time() - seconds)


def test_honeypot_is_hidden_from_everyone_but_bots(client, app):
    html = client.get(SUBMIT_URL).get_data(as_text=True)
    block = re.search(r"<div hidden>(.*?)</div>", html, re.DOTALL).group(1)
    assert 'name="website"' in block and 'tabindex="-1"' in block
    assert 'aria-hidden' not in html.split('name="website"')[0].rsplit("<div", 1)[1]


@pytest.mark.parametrize("case", ["honeypot filled", "too fast", "no stamp", "forged stamp"])
def test_form_that_looks_automatic_comes_back_filled_in_and_saves_nothing(
        app, client, database, category_id, slow_form, case):
    data = submission(category_id)
    stamp: str | None = stamp_seconds_ago(app, 10)
    if case == "honeypot filled":
        data["website"] = "http://spam.example"
    elif case == "too fast":
        stamp = "from-page"
    elif case == "no stamp":
        stamp = None
    else:
        stamp = stamp[:-3] + "xyz"

    response = post_submission(client, data, stamp=stamp)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "¿Eres una persona? Revisa los datos y pulsa «Enviar solicitud» de nuevo." in \
        text_of(html)
    assert DESCRIPTION in html and 'value="Av. Grecia 8735"' in html  # nothing lost
    assert 'name="form_started" value="' in html  # a fresh stamp to send again
    with database() as session:
        assert count(session, Ticket) == 0


def test_a_person_who_took_a_few_seconds_gets_the_request_created(
        app, client, database, category_id, slow_form):
    response = post_submission(client, submission(category_id),
                               stamp=stamp_seconds_ago(app, 3))
    assert response.status_code == 302
    with database() as session:
        assert count(session, Ticket) == 1


def test_sending_again_after_the_bot_message_works(app, client, database, category_id,
                                                   slow_form):
    first = post_submission(client, submission(category_id))  # at once: "too fast"
    assert first.status_code == 422
    html = first.get_data(as_text=True)
    fresh = re.search(r'name="form_started" value="([^"]+)"', html).group(1)
    with app.app_context():
        assert not honeypot.looks_automatic({"form_started": fresh},
                                            now=time.time() + 2.5)


# --- Redis storage ---------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/15"

WORKER = """
import sys
from flask_migrate import upgrade
from app import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                  "RATELIMIT_STORAGE_URI": sys.argv[2], "TRACKING_MISS_RATE_LIMIT": "3/minute"})
with app.app_context():
    upgrade()
client = app.test_client()
print(" ".join(str(client.get("/seguimiento/" + c).status_code) for c in sys.argv[3:]))
"""


def redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but Redis is not reachable at 127.0.0.1:6379",
                        pytrace=False)
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return client


def test_two_web_processes_share_the_tracking_limit_through_redis(tmp_path):
    redis_client = redis_or_skip()
    redis_client.flushdb()
    database_url = f"sqlite:///{tmp_path / 'redis.sqlite3'}"

    def worker(*codes: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "CONECTADOS_ENV"}
        done = subprocess.run([sys.executable, "-c", WORKER, database_url, REDIS_URL, *codes],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    try:
        assert worker("XXXX-XXXX-XXXX", "YYYY-YYYY-YYYY", "ZZZZ") == "404 404 404"
        assert any(b"tracking-misses" in key for key in redis_client.keys("*"))
        assert worker("WWWW-WWWW-WWWW") == "429"  # another process, the same budget
    finally:
        redis_client.flushdb()


# --- client addresses behind a proxy ---------------------------------------------------------

def login_attempt(client, forwarded_for: str):
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    return client.post("/gestion/ingresar", headers={"X-Forwarded-For": forwarded_for},
                       data={"csrf_token": csrf_token_from(html),
                             "email": "nadie@muni.example.cl", "password": "x" * 12})


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(
        app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "2/minute")
    assert login_attempt(client, "203.0.113.1").status_code == 401
    assert login_attempt(client, "203.0.113.2").status_code == 401
    assert login_attempt(client, "203.0.113.3").status_code == 429  # all are 127.0.0.1


def test_behind_one_trusted_proxy_each_client_address_has_its_own_limit(tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    proxied = create_app({"TESTING": True, "SECRET_KEY": "x", "PROXY_COUNT": 1,
                          "LOGIN_RATE_LIMIT": "2/minute",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    with proxied.app_context():
        upgrade()
    client = proxied.test_client()
    try:
        assert login_attempt(client, "203.0.113.1").status_code == 401
        assert login_attempt(client, "203.0.113.1").status_code == 401
        assert login_attempt(client, "203.0.113.1").status_code == 429
        assert login_attempt(client, "203.0.113.2").status_code == 401  # another client
    finally:
        with proxied.app_context():
            from app.extensions import limiter

            limiter.reset()
            db.engine.dispose()
