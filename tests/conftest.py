"""Test fixtures: every database test runs once per configured backend.

SQLite always; PostgreSQL too when ``TEST_DATABASE_URL`` is set (a fresh
database is created on that server for the run and dropped afterwards).
``REQUIRE_POSTGRES=1`` makes a missing ``TEST_DATABASE_URL`` an error.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from app.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


def pytest_configure(config):
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not TEST_DATABASE_URL:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        return
    server_url = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg")
    name = f"conectados_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def closed_port() -> int:
    """A loopback port with nothing listening: mail sent there fails at once."""
    return free_port()


@pytest.fixture(scope="session")
def app(database_url, closed_port) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "MAIL_SUPPRESS_SEND": False,  # deliver to the loopback SMTP server for real
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": closed_port,
        "PUBLIC_BASE_URL": "http://conectados.test",
        # HTTP tests post forms at once; tests/test_abuse_limits.py turns it on.
        "FORM_MIN_FILL_SECONDS": 0,
    })
    with app.app_context():
        upgrade()  # the real migrations, not create_all
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_database_after_test(request) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request) -> Iterator[None]:
    """Every test starts with full rate-limit allowances (the app is session-wide)."""
    yield
    if "app" in request.fixturenames:
        from app.extensions import limiter

        with request.getfixturevalue("app").app_context():
            limiter.reset()


@pytest.fixture
def database(app):
    """``with database() as session:`` opens a short app context for set-up or checks.

    Use it (not ``session``) in tests that also make client requests: Flask
    reuses an already pushed app context for requests, which would share ``g``
    (the logged-in user, the CSRF token) and the session between requests.
    """

    @contextmanager
    def open_session() -> Iterator[Session]:
        with app.app_context():
            yield db.session

    return open_session


@pytest.fixture
def app_ctx(app) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def session(app_ctx):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF_RE = re.compile(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class SmtpSink:
    """Collects what a real loopback SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def serving_smtp(app: Flask, handler):
    """Point the app's mail at a real SMTP server on loopback running ``handler``."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    state = app.extensions["mail"]
    previous = state.server, state.port
    state.server, state.port = controller.hostname, controller.port
    try:
        yield handler
    finally:
        state.server, state.port = previous
        controller.stop()


@pytest.fixture
def smtp_server(app) -> Iterator[SmtpSink]:
    """Point the app's mail at a real SMTP server on loopback for one test."""
    with serving_smtp(app, SmtpSink()) as sink:
        yield sink
