"""Security headers on every page, templates without inline code, and health checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from app.security.headers import CSP
from tests.factories import make_category, make_ticket
from tests.survey_factories import make_survey

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {name: value for name, _sep, value in
            (part.strip().partition(" ") for part in policy.split(";"))}


@pytest.fixture
def pages(database) -> list[str]:
    with database() as session:
        ticket = make_ticket(session, make_category(session))
        session.commit()
        return ["/", "/solicitudes/nueva", "/seguimiento", "/gestion/ingresar",
                "/gestion/recuperar", f"/seguimiento/{ticket.formatted_tracking_code}",
                "/no-existe", "/api/v1/docs"]


def test_every_page_has_the_site_policy_and_no_unsafe_inline(client, pages):
    for path in pages:
        response = client.get(path)
        found = directives(response)
        assert found["script-src"] == "'self'", path
        assert found["style-src"] == "'self'", path
        assert found["frame-ancestors"] == "'none'", path
        assert found["img-src"] == "'self' data:", path
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "Strict-Transport-Security" not in response.headers, path  # not in development


def test_json_api_and_open311_answers_carry_the_headers_too(client, app):
    for path in ["/api/v1/openapi.json", "/open311/v2/services.json", "/healthz"]:
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert directives(response)["frame-ancestors"] == "'none'", path


@pytest.mark.parametrize("ancestors", ["*", "https://www.penalolen.cl"])
def test_survey_embed_may_be_framed_by_the_configured_sites_only(
        app, client, database, monkeypatch, ancestors):
    monkeypatch.setitem(app.config, "SURVEY_EMBED_ANCESTORS", ancestors)
    with database() as session:
        slug = make_survey(session).slug
        session.commit()

    embed = client.get(f"/encuestas/{slug}/embed")
    public = client.get(f"/encuestas/{slug}")

    assert directives(embed)["frame-ancestors"] == ancestors
    assert directives(embed)["script-src"] == "'self'"
    assert "X-Frame-Options" not in embed.headers
    assert directives(public)["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", sorted(
    str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
    if p.relative_to(TEMPLATES).parts[0] != "emails"))
def test_templates_have_no_inline_script_style_or_event_handler(path):
    text = (TEMPLATES / path).read_text()
    # Markup shown as text (escaped, e.g. the embed code to copy) is not markup.
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"<style[\s>]", text), "<style> element"
    assert not re.search(r"""<[^>]*\sstyle=["']""", text), "style attribute"
    assert not re.search(r"""<[^>]*\son[a-z]+=["']""", text), "on* handler"


def test_production_adds_hsts_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("CONECTADOS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret")
    production = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})

    response = production.test_client().get("/healthz")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert response.status_code == 200  # no forced redirect to HTTPS: the proxy does it


def test_the_default_policy_is_the_documented_one():
    assert CSP["default-src"] == "'self'" and CSP["frame-ancestors"] == "'none'"


# --- health checks ---------------------------------------------------------------------------

def test_healthz_answers_ok_without_login_or_database(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("bad_url", [
    "sqlite:////nonexistent-dir/conectados/db.sqlite3",
    "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2",
])
def test_readyz_is_503_json_and_healthz_still_ok_when_the_database_is_unreachable(bad_url):
    broken = create_app({"TESTING": True, "SECRET_KEY": "x",
                         "SQLALCHEMY_DATABASE_URI": bad_url,
                         "SQLALCHEMY_ENGINE_OPTIONS": {}})
    client = broken.test_client()

    ready = client.get("/readyz")

    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable", "database": "unreachable"}
    assert client.get("/healthz").status_code == 200
