"""REST API authentication and scopes: application keys, staff tokens, the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.credentials import ApiKey, Scope, StaffToken, digest, issue_staff_token
from app.accounts.models import Role, User
from app.database import utcnow
from app.extensions import limiter
from tests.api_support import app_key, bearer, staff_token
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

NEW_REQUEST = {"category": None, "description": "La luminaria del pasaje está apagada.",
               "consent": True, "contact": {"name": "Rosa Pérez", "email": "rosa@example.cl"}}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    limiter.reset()


def _ticket(database):
    with database() as session:
        ticket = make_ticket(session, notify=False)
        session.commit()
        return ticket.id, ticket.formatted_tracking_code, ticket.category.slug


def _assert_error_shape(response, status, code):
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"code", "message", "errors"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer cak_not-a-real-key"},
    {"Authorization": "Bearer cst_not-a-real-token"},
    {"Authorization": "Bearer something-else"},
])
def test_calls_without_a_valid_credential_get_401(client, database, headers):
    response = client.get("/api/v1/categories", headers=headers)
    _assert_error_shape(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_resident_app_key_can_create_and_track_but_never_list_or_read_by_id(client, database):
    ticket_id, _code, slug = _ticket(database)
    with database() as session:
        key = app_key(session)  # categories:read requests:create requests:track
        session.commit()
    headers = bearer(key)
    assert client.get("/api/v1/categories", headers=headers).status_code == 200
    created = client.post("/api/v1/requests", headers=headers,
                          json={**NEW_REQUEST, "category": slug})
    assert created.status_code == 201
    code = created.get_json()["tracking_code"]
    tracked = client.get(f"/api/v1/requests/by-code/{code}", headers=headers)
    assert tracked.status_code == 200
    assert tracked.get_json()["number"] == created.get_json()["number"]
    for path in ("/api/v1/requests", f"/api/v1/requests/{ticket_id}",
                 f"/api/v1/requests/{ticket_id}/timeline", "/api/v1/requests?status=received"):
        body = _assert_error_shape(client.get(path, headers=headers), 403, "forbidden")
        assert "requests:read" in body["message"]


def test_created_request_shows_no_contact_data_to_an_app_key(client, database):
    _id, _code, slug = _ticket(database)
    with database() as session:
        key = app_key(session, Scope.REQUESTS_CREATE, Scope.REQUESTS_READ)
        session.commit()
    created = client.post("/api/v1/requests", headers=bearer(key),
                          json={**NEW_REQUEST, "category": slug}).get_json()
    assert created["contact"] is None
    listed = client.get("/api/v1/requests", headers=bearer(key)).get_json()["items"]
    assert all(item["contact"] is None and item["tracking_code"] is None for item in listed)
    assert "rosa@example.cl" not in client.get(
        "/api/v1/requests", headers=bearer(key)).get_data(as_text=True)


@pytest.mark.parametrize("scope", [Scope.CATEGORIES_READ, Scope.REQUESTS_TRACK,
                                   Scope.OPEN311_SUBMIT])
def test_a_key_without_requests_create_cannot_create(client, database, scope):
    _id, _code, slug = _ticket(database)
    with database() as session:
        key = app_key(session, scope)
        session.commit()
    response = client.post("/api/v1/requests", headers=bearer(key),
                           json={**NEW_REQUEST, "category": slug})
    _assert_error_shape(response, 403, "forbidden")


@pytest.mark.parametrize(("path", "body"), [
    ("replies", {"body": "Gracias por avisar."}),
    ("notes", {"body": "Revisar."}),
    ("transitions", {"status": "in_review"}),
    ("reassignments", {"department": "dep-x", "reason": "No es nuestro."}),
])
def test_staff_actions_refuse_application_keys_even_with_every_scope(client, database, path,
                                                                     body):
    ticket_id, _code, _slug = _ticket(database)
    with database() as session:
        key = app_key(session, *Scope)
        session.commit()
    response = client.post(f"/api/v1/requests/{ticket_id}/{path}", headers=bearer(key),
                           json=body)
    _assert_error_shape(response, 403, "forbidden")


def test_revoked_key_stops_working_at_once(client, database, runner):
    with database() as session:
        key = app_key(session)
        session.commit()
    assert client.get("/api/v1/categories", headers=bearer(key)).status_code == 200
    result = runner.invoke(args=["apikeys", "revoke", key[:12]])
    assert result.exit_code == 0, result.output
    _assert_error_shape(client.get("/api/v1/categories", headers=bearer(key)), 401,
                        "unauthorized")


def test_expired_revoked_or_deactivated_staff_tokens_get_401(client, database):
    with database() as session:
        user = make_user(session, Role.MANAGER)
        live = staff_token(session, user)
        expired = issue_staff_token(session, user, lifetime=timedelta(hours=1),
                                    now=utcnow() - timedelta(hours=2)).secret
        session.commit()
    assert client.get("/api/v1/auth/whoami", headers=bearer(live)).status_code == 200
    assert client.get("/api/v1/auth/whoami", headers=bearer(expired)).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=bearer(live)).status_code == 204
    assert client.get("/api/v1/auth/whoami", headers=bearer(live)).status_code == 401
    with database() as session:
        user = session.scalar(sa.select(User).where(User.role == Role.MANAGER))
        other = staff_token(session, user)
        user.active = False
        session.commit()
    assert client.get("/api/v1/auth/whoami", headers=bearer(other)).status_code == 401


def test_staff_token_from_password_acts_as_that_person(client, database):
    with database() as session:
        user = make_user(session, Role.AGENT, [make_department(session)])
        email = user.email
        session.commit()
    wrong = client.post("/api/v1/auth/token", json={"email": email, "password": "nope"})
    _assert_error_shape(wrong, 401, "invalid_credentials")
    issued = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert issued.status_code == 201
    body = issued.get_json()
    assert body["token"].startswith("cst_") and body["user"]["role"] == "agent"
    me = client.get("/api/v1/auth/whoami", headers=bearer(body["token"])).get_json()
    assert me["kind"] == "staff" and me["role"] == "agent"
    with database() as session:  # only the digest is kept
        stored = session.scalar(sa.select(StaffToken))
        assert stored.token_hash == digest(body["token"])
        assert body["token"] not in (stored.token_hash, stored.prefix)


def test_password_guessing_is_rate_limited_with_429(client, database, app):
    limit = int(app.config["API_TOKEN_RATE_LIMIT"].split("/")[0])
    for _ in range(limit):
        client.post("/api/v1/auth/token", json={"email": "x@example.cl", "password": "y"})
    response = client.post("/api/v1/auth/token", json={"email": "x@example.cl", "password": "y"})
    _assert_error_shape(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1


def test_agents_only_reach_their_departments_requests(client, database):
    with database() as session:
        mine, other = make_department(session), make_department(session)
        agent = make_user(session, Role.AGENT, [mine])
        visible = make_ticket(session, make_category(session, mine), notify=False)
        hidden = make_ticket(session, make_category(session, other), notify=False)
        token = staff_token(session, agent)
        session.commit()
        visible_id, hidden_id = visible.id, hidden.id
    headers = bearer(token)
    assert client.get(f"/api/v1/requests/{visible_id}", headers=headers).status_code == 200
    _assert_error_shape(client.get(f"/api/v1/requests/{hidden_id}", headers=headers), 404,
                        "not_found")
    _assert_error_shape(client.post(f"/api/v1/requests/{hidden_id}/notes", headers=headers,
                                    json={"body": "x"}), 404, "not_found")
    listed = client.get("/api/v1/requests", headers=headers).get_json()["items"]
    assert [item["id"] for item in listed] == [visible_id]
    assert listed[0]["contact"]["email"] == "vecina@example.cl"


def test_apikeys_cli_creates_lists_and_revokes_storing_only_a_digest(runner, database):
    result = runner.invoke(args=["apikeys", "create", "App vecinos", "--scope",
                                 "categories:read,requests:create", "--scope",
                                 "requests:track"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"^(cak_\S+)$", result.output, re.MULTILINE).group(1)
    with database() as session:
        key = session.scalar(sa.select(ApiKey))
        assert key.key_hash == digest(secret)
        assert key.scope_set == {Scope.CATEGORIES_READ, Scope.REQUESTS_CREATE,
                                 Scope.REQUESTS_TRACK}
        key_id = key.id
    listing = runner.invoke(args=["apikeys", "list"])
    assert "App vecinos" in listing.output and secret not in listing.output
    assert runner.invoke(args=["apikeys", "revoke", str(key_id)]).exit_code == 0
    assert "revoked" in runner.invoke(args=["apikeys", "list"]).output


@pytest.mark.parametrize("args", [
    ["apikeys", "create", "X", "--scope", "requests:delete"],
    ["apikeys", "create", "", "--scope", "requests:read"],
    ["apikeys", "revoke", "cak_missing"],
])
def test_apikeys_cli_refuses_bad_input_with_a_message(runner, database, args):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "Error" in result.output
