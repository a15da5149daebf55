"""The audit log: every staff action leaves one entry; nothing in the app can change one."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image

from app.accounts.models import Role
from app.audit.models import AuditEntry, AuditLogIsAppendOnly
from app.audit.service import record
from app.database import utcnow
from app.extensions import db
from app.tickets.models import Ticket
from tests.api_support import staff_token
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

IP = "203.0.113.7"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = IP
    return client


@pytest.fixture
def world(database):
    with database() as session:
        dep = make_department(session, name="Aseo")
        other = make_department(session, name="Tránsito")
        category = make_category(session, dep)
        agent = make_user(session, Role.AGENT, [dep], email="agente@muni.example.cl")
        admin = make_user(session, Role.ADMIN, email="admin@muni.example.cl")
        manager = make_user(session, Role.MANAGER, email="jefa@muni.example.cl")
        ticket = make_ticket(session, category, notify=False)
        duplicate = make_ticket(session, category, notify=False)
        session.commit()
        return {"agent": agent.id, "admin": admin.id, "manager": manager.id,
                "ticket": ticket.id, "duplicate": duplicate.id,
                "survivor_number": ticket.public_number, "other_dep": other.id}


def login(client, email: str, password: str = PASSWORD):
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    return client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": password})


def entries(database, action: str | None = None) -> list[AuditEntry]:
    with database() as session:
        query = sa.select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        found = list(session.scalars(query))
        session.expunge_all()
        return found


def only_entry(database, action: str) -> AuditEntry:
    found = entries(database, action)
    assert len(found) == 1, [e.action for e in entries(database)]
    return found[0]


def test_login_success_failure_and_logout_are_each_recorded_once_with_ip(client, world,
                                                                         database):
    assert login(client, "agente@muni.example.cl", "wrong-password").status_code == 401
    failed = only_entry(database, "auth.login_failed")
    assert (failed.actor_id, failed.actor_label, failed.ip) == (
        world["agent"], "agente@muni.example.cl", IP)

    assert login(client, "agente@muni.example.cl").status_code == 302
    ok = only_entry(database, "auth.login")
    assert (ok.actor_id, ok.ip) == (world["agent"], IP)

    html = client.get("/gestion/").get_data(as_text=True)
    client.post("/gestion/salir", data={"csrf_token": csrf_token_from(html)})
    out = only_entry(database, "auth.logout")
    assert (out.actor_id, out.actor_label, out.ip) == (world["agent"], "agente@muni.example.cl",
                                                       IP)


def test_failed_login_of_an_unknown_email_does_not_store_that_email(client, world, database):
    assert login(client, "alguien@example.cl", "x").status_code == 401
    entry = only_entry(database, "auth.login_failed")
    assert entry.actor_id is None and entry.actor_label is None and entry.ip == IP
    assert "alguien" not in repr(entry.details)


def test_each_view_of_a_requests_contact_data_is_recorded(client, world, database):
    login(client, "agente@muni.example.cl")
    for _ in range(2):
        assert client.get(f"/gestion/solicitudes/{world['ticket']}").status_code == 200
    views = entries(database, "ticket.view_personal")
    assert len(views) == 2
    assert {(v.actor_id, v.target_type, v.target_id, v.ip) for v in views} == {
        (world["agent"], "ticket", str(world["ticket"]), IP)}


def test_viewing_a_request_without_contact_data_is_not_a_personal_data_view(client, world,
                                                                             database):
    with database() as session:
        ticket = session.get(Ticket, world["ticket"])
        ticket.contact_name = ticket.contact_email = None
        session.commit()
    login(client, "agente@muni.example.cl")
    assert client.get(f"/gestion/solicitudes/{world['ticket']}").status_code == 200
    assert entries(database, "ticket.view_personal") == []


def _post(client, ticket_id: int, path: str, prefix: str, data: dict):
    html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    return client.post(f"/gestion/solicitudes/{ticket_id}/{path}",
                       data={f"{prefix}-csrf_token": csrf_token_from(html), **data})


@pytest.mark.parametrize(("path", "prefix", "data", "action"), [
    ("respuesta", "reply", {"reply-body": "Vamos mañana."}, "ticket.reply"),
    ("nota", "note", {"note-body": "Revisar poste."}, "ticket.note"),
    ("estado", "status", {"status-status": "in_progress", "status-note": "En camino.",
                          "status-visible_to_resident": "y"}, "ticket.status"),
])
def test_each_staff_change_on_the_web_writes_one_entry(client, world, database, path, prefix,
                                                       data, action):
    login(client, "agente@muni.example.cl")
    assert _post(client, world["ticket"], path, prefix, data).status_code == 302
    entry = only_entry(database, action)
    assert (entry.actor_id, entry.actor_label, entry.ip, entry.target_type, entry.target_id) == (
        world["agent"], "agente@muni.example.cl", IP, "ticket", str(world["ticket"]))


def test_reassign_is_recorded(client, world, database):
    login(client, "agente@muni.example.cl")
    response = _post(client, world["ticket"], "reasignar", "reassign", {
        "reassign-department": str(world["other_dep"]), "reassign-reason": "No es nuestro."})
    assert response.status_code == 302
    assert only_entry(database, "ticket.reassign").target_id == str(world["ticket"])


@pytest.mark.parametrize(("path", "prefix", "data"), [
    ("respuesta", "reply", {"reply-body": "   "}),
    ("estado", "status", {"status-status": "closed", "status-note": ""}),
])
def test_a_refused_change_writes_no_entry(client, world, database, path, prefix, data):
    login(client, "agente@muni.example.cl")
    assert _post(client, world["ticket"], path, prefix, data).status_code == 422
    assert [e.action for e in entries(database) if e.action.startswith("ticket.")
            and e.action != "ticket.view_personal"] == []


def test_merge_and_attachment_upload_are_recorded(client, world, database, app, tmp_path,
                                                  monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(tmp_path / "uploads"))
    login(client, "agente@muni.example.cl")
    html = client.get(f"/gestion/solicitudes/{world['ticket']}").get_data(as_text=True)
    response = client.post(f"/gestion/solicitudes/{world['ticket']}/adjuntos", data={
        "attachment-csrf_token": csrf_token_from(html),
        "attachment-files": [(io.BytesIO(png()), "foto.png")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    upload = only_entry(database, "ticket.attachment")
    assert upload.target_id == str(world["ticket"]) and upload.details["files"] == 1

    response = _post(client, world["duplicate"], "unir", "merge", {
        "merge-target": world["survivor_number"], "merge-reason": "Mismo poste."})
    assert response.status_code == 302
    merge = only_entry(database, "ticket.merge")
    assert (merge.target_id, merge.details) == (str(world["duplicate"]),
                                                {"into": world["ticket"]})


def test_api_staff_actions_and_reads_of_contact_data_are_recorded(client, world, database):
    with database() as session:
        from app.accounts.models import User

        token = staff_token(session, session.get(User, world["agent"]))
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/requests/{world['ticket']}"
    assert client.get(base, headers=headers).status_code == 200
    assert client.post(f"{base}/notes", headers=headers, json={"body": "x"}).status_code == 201
    assert client.post(f"{base}/replies", headers=headers,
                       json={"body": "Vamos."}).status_code == 201
    for action in ("ticket.view_personal", "ticket.note", "ticket.reply"):
        entry = only_entry(database, action)
        assert (entry.actor_id, entry.ip, entry.target_id, entry.details["via"]) == (
            world["agent"], IP, str(world["ticket"]), "api")


def test_satisfaction_csv_export_is_recorded(client, world, database):
    login(client, "jefa@muni.example.cl")
    assert client.get("/gestion/encuestas/satisfaccion.csv").status_code == 200
    entry = only_entry(database, "export.satisfaction_csv")
    assert (entry.actor_id, entry.ip) == (world["manager"], IP)


# --- append-only ----------------------------------------------------------------------------

def test_the_orm_refuses_to_update_or_delete_an_entry(session, world):
    entry = record(session, actor=None, action="test.thing", details={"n": 1})
    session.commit()
    entry.action = "test.other"
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    session.delete(session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        session.execute(sa.update(AuditEntry).values(action="x"))
    with pytest.raises(AuditLogIsAppendOnly):
        session.execute(sa.delete(AuditEntry).where(AuditEntry.id == entry.id))
    session.rollback()
    assert session.get(AuditEntry, entry.id).action == "test.thing"


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET action = 'forged'",
    "DELETE FROM audit_entries",
])
def test_postgresql_refuses_raw_update_and_delete(session, world, statement):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only (SQLite relies on the ORM guard)")
    record(session, actor=None, action="test.thing")
    session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert session.scalar(sa.select(AuditEntry.action)) == "test.thing"


# --- the audit page -------------------------------------------------------------------------

@pytest.mark.parametrize("email", ["agente@muni.example.cl", "jefa@muni.example.cl"])
def test_audit_page_and_csv_are_for_admins_only(client, world, email):
    login(client, email)
    assert client.get("/gestion/auditoria/").status_code == 403
    assert client.get("/gestion/auditoria/auditoria.csv").status_code == 403


def test_audit_page_needs_login(client, world):
    assert client.get("/gestion/auditoria/").status_code == 302


@pytest.fixture
def history(database, world):
    with database() as session:
        from app.accounts.models import User

        agent = session.get(User, world["agent"])
        now = utcnow()
        record(session, actor=agent, action="ticket.reply", target_type="ticket",
               target_id=7, now=now - timedelta(days=10))
        record(session, actor=agent, action="ticket.note", target_type="ticket",
               target_id=8, now=now - timedelta(days=1))
        record(session, actor=None, action="privacy.erase", target_type="ticket",
               target_id=7, now=now - timedelta(days=1))
        session.commit()
        return now


@pytest.mark.parametrize(("query", "expected"), [
    ({"actor": "AGENTE@"}, ["ticket.note", "ticket.reply"]),
    ({"accion": "ticket."}, ["ticket.note", "ticket.reply"]),
    ({"tipo": "ticket", "objeto": "7"}, ["privacy.erase", "ticket.reply"]),
])
def test_audit_page_filters_newest_first(client, world, history, query, expected):
    login(client, "admin@muni.example.cl")
    query = {**query, "accion": query.get("accion", "") or ""}
    response = client.get("/gestion/auditoria/", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = [a for a in _actions_in(html) if not a.startswith("auth.")]
    assert shown == expected


def _actions_in(html: str) -> list[str]:
    import re

    return re.findall(r"<td><code>([\w.]+)</code></td>", html)


def test_audit_page_filters_by_local_date_range(client, world, history):
    login(client, "admin@muni.example.cl")
    day = (history - timedelta(days=10)).astimezone(ZoneInfo("America/Santiago")).date().isoformat()
    html = client.get("/gestion/auditoria/", query_string={"desde": day, "hasta": day,
                                                          "accion": "ticket."}).get_data(
        as_text=True)
    assert _actions_in(html) == ["ticket.reply"]


def test_audit_page_says_which_date_is_wrong(client, world):
    login(client, "admin@muni.example.cl")
    response = client.get("/gestion/auditoria/", query_string={"desde": "31-02-2026"})
    assert response.status_code == 422
    assert "La fecha «desde» no es válida" in response.get_data(as_text=True)
    assert 'value="31-02-2026"' in response.get_data(as_text=True)


def test_audit_csv_has_the_filtered_rows_and_is_itself_audited(client, world, history,
                                                               database):
    login(client, "admin@muni.example.cl")
    response = client.get("/gestion/auditoria/auditoria.csv", query_string={"accion": "ticket."})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][:5] == ["Id", "Fecha", "Funcionario/a", "IP", "Acción"]
    assert [(r[2], r[4], r[5], r[6]) for r in rows[1:]] == [
        ("agente@muni.example.cl", "ticket.note", "ticket", "8"),
        ("agente@muni.example.cl", "ticket.reply", "ticket", "7")]
    export = only_entry(database, "audit.export_csv")
    assert (export.actor_id, export.ip, export.details) == (
        world["admin"], IP, {"filters": ["accion"], "rows": 2})


def test_admin_edits_of_surveys_are_recorded_and_refused_ones_are_not(client, world,
                                                                      database):
    from tests.test_survey_builder import add_via_web, create_via_web, post_form

    login(client, "admin@muni.example.cl")
    survey_id = create_via_web(client)
    page = f"/gestion/encuestas/{survey_id}"
    post_form(client, page, f"{page}/publicar", {})  # refused: no questions yet
    assert entries(database, "admin.survey_publish") == []
    assert add_via_web(client, survey_id, kind="text",
                       prompt="¿Qué mejorarías?").status_code == 302
    post_form(client, page, f"{page}/publicar", {})
    for action in ("admin.survey_create", "admin.question_add", "admin.survey_publish"):
        entry = only_entry(database, action)
        assert (entry.actor_id, entry.target_type, entry.target_id, entry.ip) == (
            world["admin"], "survey", str(survey_id), IP)


def test_api_list_with_contact_data_records_which_requests_were_shown(client, world,
                                                                      database):
    with database() as session:
        from app.accounts.models import User

        token = staff_token(session, session.get(User, world["agent"]))
        session.commit()
    response = client.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    entry = only_entry(database, "ticket.list_personal")
    assert sorted(entry.details["tickets"]) == sorted([world["ticket"], world["duplicate"]])
    assert (entry.actor_id, entry.ip) == (world["agent"], IP)


def test_postgresql_trigger_lets_the_user_foreign_key_set_null_and_keeps_the_entry(session):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    user = make_user(session, Role.ADMIN, email="saliente@muni.example.cl")
    entry_id = record(session, actor=user, action="auth.login").id
    session.commit()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": user.id})
    session.expire_all()
    entry = session.get(AuditEntry, entry_id)
    assert (entry.actor_id, entry.actor_label, entry.action) == (
        None, "saliente@muni.example.cl", "auth.login")
