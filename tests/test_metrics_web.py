"""The dashboard pages: who may see what, the filters, and the CSV/XLSX exports."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.accounts.models import Role
from app.database import utcnow
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

URL = "/gestion/tablero/"


def login(client, email):
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    return client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD})


@pytest.fixture
def two_departments(database):
    with database() as session:
        aseo, obras = make_department(session, name="Aseo"), make_department(session,
                                                                            name="Obras")
        for _ in range(3):
            make_ticket(session, make_category(session, aseo, name=f"Basura {_}"), notify=False)
        make_ticket(session, make_category(session, obras, name="Baches"), notify=False)
        users = {role: make_user(session, role, [aseo]).email
                 for role in (Role.AGENT, Role.SUPERVISOR, Role.MANAGER)}
        session.commit()
        return users


def test_agent_is_refused_the_dashboard(client, two_departments):
    login(client, two_departments[Role.AGENT])
    assert client.get(URL).status_code == 403
    assert client.get(URL + "ranking.csv").status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client, two_departments):
    response = client.get(URL)
    assert response.status_code == 302 and "/gestion/ingresar" in response.headers["Location"]


def test_supervisor_sees_only_their_departments(client, two_departments):
    login(client, two_departments[Role.SUPERVISOR])
    html = client.get(URL).get_data(as_text=True)
    assert "Aseo" in html and "Obras" not in html and "Baches" not in html
    csv = client.get(URL + "volumen-departamento.csv").get_data(as_text=True)
    assert "Aseo" in csv and "Obras" not in csv


def test_manager_sees_every_department_and_links_to_the_queue(client, two_departments):
    login(client, two_departments[Role.MANAGER])
    html = client.get(URL).get_data(as_text=True)
    assert "Aseo" in html and "Obras" in html
    assert 'role="img"' in html and "<caption" in html
    assert "/gestion/?estado=abiertas" in html or "estado=abiertas" in html


def test_csv_export_has_the_table_numbers(client, two_departments):
    login(client, two_departments[Role.MANAGER])
    response = client.get(URL + "pendientes.csv", query_string={"periodo": "30-dias"})
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Días hábiles desde el ingreso;Solicitudes abiertas"
    assert lines[1] == "0–2;4"
    assert lines[-1] == "Total;4"


def test_xlsx_export_has_numbers_as_numbers(client, two_departments):
    login(client, two_departments[Role.MANAGER])
    response = client.get(URL + "volumen-departamento.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Solicitudes recibidas por mes y departamento"
    assert rows[1][0] == "Departamento" and rows[1][-1] == "Total"
    totals = {row[0]: row[-1] for row in rows[2:]}
    assert totals == {"Aseo": 3, "Obras": 1, "Total": 4}


def test_ranking_hides_departments_under_the_minimum(app, client, two_departments):
    login(client, two_departments[Role.MANAGER])
    app.config["DASHBOARD_MIN_N"] = 2
    try:
        csv = client.get(URL + "ranking.csv").get_data(as_text=True)
    finally:
        app.config["DASHBOARD_MIN_N"] = 10
    assert "Aseo" in csv and "Obras" not in csv


def test_unknown_table_is_not_found(client, two_departments):
    login(client, two_departments[Role.MANAGER])
    assert client.get(URL + "nada.csv").status_code == 404


@pytest.mark.parametrize("query, message", [
    ({"periodo": "personalizado"}, "Indica desde qué fecha."),
    ({"periodo": "personalizado", "desde": "2026-05-01", "hasta": "2026-04-01"},
     "La fecha final no puede ser anterior a la inicial."),
    ({"periodo": "siempre"}, "Elige una opción de la lista."),
    ({"canal": "paloma"}, "Elige una opción de la lista."),
    ({"periodo": "personalizado", "desde": "ayer", "hasta": "2026-04-01"}, "desde"),
])
def test_bad_filters_get_a_spanish_error_and_keep_the_form(client, two_departments, query,
                                                            message):
    login(client, two_departments[Role.MANAGER])
    response = client.get(URL, query_string=query)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "Hay un problema" in html


def test_queue_filters_by_filing_days_and_channel(client, database, two_departments):
    with database() as session:
        old = make_ticket(session, make_category(session), notify=False,
                          now=utcnow() - timedelta(days=40))
        session.commit()
        number = old.public_number
    login(client, two_departments[Role.MANAGER])
    today = utcnow().date()
    recent = client.get("/gestion/", query_string={
        "desde": (today - timedelta(days=5)).isoformat()}).get_data(as_text=True)
    assert number not in recent
    everything = client.get("/gestion/", query_string={"canal": "web"}).get_data(as_text=True)
    assert number in everything
    assert number not in client.get("/gestion/", query_string={"canal": "phone"}
                                    ).get_data(as_text=True)
