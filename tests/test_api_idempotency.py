"""``Idempotency-Key``: a retried POST never makes a second request."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.credentials import Scope
from app.api.idempotency import IDEMPOTENCY_TTL, IdempotencyRecord
from app.extensions import limiter
from app.notifications.models import OutboxMessage
from app.tickets.models import Ticket
from tests.api_support import app_key, bearer
from tests.factories import make_category
from tests.pages import count


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    limiter.reset()


@pytest.fixture
def setup(database):
    with database() as session:
        slug = make_category(session).slug
        keys = [bearer(app_key(session, Scope.REQUESTS_CREATE, name=f"App {n}"))
                for n in range(2)]
        session.commit()
    body = {"category": slug, "description": "Hay un microbasural en la esquina.",
            "consent": True, "contact": {"name": "Rosa", "email": "rosa@example.cl"}}
    return keys, body


def test_retry_with_the_same_key_returns_the_first_answer_and_creates_nothing(client, database,
                                                                              setup):
    (headers, _other), body = setup
    headers = {**headers, "Idempotency-Key": "intento-1"}
    first = client.post("/api/v1/requests", headers=headers, json=body)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # Same content, keys in another order and other whitespace: still the same payload.
    retry = client.post("/api/v1/requests", headers=headers,
                        json=dict(reversed(list(body.items()))))
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    with database() as session:
        assert count(session, Ticket) == 1
        assert count(session, OutboxMessage) == 1  # one confirmation email, not two


def test_the_same_key_with_another_body_is_refused(client, database, setup):
    (headers, _other), body = setup
    headers = {**headers, "Idempotency-Key": "intento-1"}
    assert client.post("/api/v1/requests", headers=headers, json=body).status_code == 201
    changed = client.post("/api/v1/requests", headers=headers,
                          json={**body, "description": "Otra cosa distinta por completo."})
    assert changed.status_code == 422
    assert changed.get_json()["code"] == "idempotency_key_reused"
    with database() as session:
        assert count(session, Ticket) == 1


def test_keys_belong_to_each_caller_and_absent_keys_do_not_deduplicate(client, database, setup):
    (first_app, second_app), body = setup
    for headers in (first_app, second_app):
        response = client.post("/api/v1/requests",
                               headers={**headers, "Idempotency-Key": "k"}, json=body)
        assert response.status_code == 201
    assert client.post("/api/v1/requests", headers=first_app, json=body).status_code == 201
    assert client.post("/api/v1/requests", headers=first_app, json=body).status_code == 201
    with database() as session:
        assert count(session, Ticket) == 4


def test_a_refused_create_leaves_the_key_free(client, database, setup):
    (headers, _other), body = setup
    headers = {**headers, "Idempotency-Key": "arreglado"}
    bad = client.post("/api/v1/requests", headers=headers, json={**body, "consent": False})
    assert bad.status_code == 422
    good = client.post("/api/v1/requests", headers=headers, json=body)
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers


def test_expired_keys_are_forgotten(client, database, setup):
    (headers, _other), body = setup
    headers = {**headers, "Idempotency-Key": "viejo"}
    assert client.post("/api/v1/requests", headers=headers, json=body).status_code == 201
    with database() as session:
        record = session.scalar(sa.select(IdempotencyRecord))
        record.created_at -= IDEMPOTENCY_TTL + timedelta(minutes=1)
        session.commit()
    again = client.post("/api/v1/requests", headers=headers, json=body)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    with database() as session:
        assert count(session, Ticket) == 2
        assert count(session, IdempotencyRecord) == 1


def test_concurrent_retries_create_exactly_one_request(app, database, setup):
    (headers, _other), body = setup
    headers = {**headers, "Idempotency-Key": "carrera"}
    barrier = threading.Barrier(4)
    statuses: list[int] = []
    bodies: list[dict] = []

    def post():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/requests", headers=headers, json=body)
        statuses.append(response.status_code)
        bodies.append(response.get_json())

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database() as session:
        assert count(session, Ticket) == 1
    # Losers replay the winner's answer (or, if they lost mid-flight, say so with 409).
    assert set(statuses) <= {201, 409}
    created = [b for s, b in zip(statuses, bodies, strict=True) if s == 201]
    assert created and all(b["id"] == created[0]["id"] for b in created)
