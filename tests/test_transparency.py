"""Public transparency pages, open data and progress updates, on a hand-checked dataset."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from app.accounts.models import Role
from app.catalog.models import Macrosector, Visibility
from app.database import utcnow
from app.extensions import db
from app.metrics.public import business_day_seconds, month_starts, public_figures
from app.surveys.resolution import ResolutionAnswer, answer_survey
from app.tickets import lifecycle
from app.tickets.contact import ResidentContact
from app.tickets.models import Status
from app.transparency.cache import cache
from app.transparency.models import ProgressUpdate, TransparencyPilot
from app.transparency.opendata import FIELD_NAMES
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.survey_factories import login

TZ = ZoneInfo("America/Santiago")
DAY = business_day_seconds("mon-thu 08:30-17:30, fri 08:30-16:30")  # 8.8 office hours


@pytest.fixture(autouse=True)
def _empty_cache(app):
    with app.app_context():
        cache.clear()
    yield
    with app.app_context():
        cache.clear()


def at(months_ago: int, day: int, hour: int = 12) -> datetime:
    """An instant ``months_ago`` months before the current one (Santiago time)."""
    start = month_starts(utcnow(), TZ, 12)[-1 - months_ago]
    return datetime(start.year, start.month, day, hour, tzinfo=TZ).astimezone(UTC)


def month_label(months_ago: int) -> str:
    start = month_starts(utcnow(), TZ, 12)[-1 - months_ago]
    names = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]
    return f"{names[start.month - 1]} de {start.year}"


def resolved_ticket(session, category, agent, *, created, resolved, days, on_time=True,
                    rating=None, comment=None, **kwargs):
    ticket = make_ticket(session, category, now=created, notify=False, **kwargs)
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                         now=created + timedelta(hours=1), notify=False)
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=agent, now=resolved,
                         notify=False)
    # Hand-set figures so the expected medians and shares are easy to check.
    ticket.resolution_business_seconds = round(days * DAY)
    ticket.resolution_due_at = resolved + (timedelta(days=1) if on_time else -timedelta(days=1))
    if rating is not None:
        answer_survey(session, ticket.resolution_survey,
                      ResolutionAnswer(resolved="yes", rating=rating,
                                       comment=comment),
                      now=resolved + timedelta(hours=2), notify=False)
    session.flush()
    return ticket


@dataclass
class Dataset:
    aseo_slug: str
    parques_slug: str


def seed(session) -> Dataset:
    """Aseo: last month 6 received, 5 resolved (1, 2, 3, 4, 10 business days; 4 of 5
    on time; ratings 5, 4, 4, 3, 5); two months ago 4 received and resolved (1 day
    each, on time). Parques: 2 received last month."""
    aseo = make_department(session, name="Aseo y Ornato")
    parques = make_department(session, name="Parques y Jardines")
    category = make_category(session, aseo, name="Retiro de escombros")
    agent = make_user(session, Role.AGENT, [aseo])
    for days, on_time, rating in [(1, True, 5), (2, True, 4), (3, True, 4), (4, True, 3),
                                  (10, False, 5)]:
        resolved_ticket(session, category, agent, created=at(1, 10), resolved=at(1, 20),
                        days=days, on_time=on_time, rating=rating)
    make_ticket(session, category, now=at(1, 11), notify=False)
    for _ in range(4):
        resolved_ticket(session, category, agent, created=at(2, 5), resolved=at(2, 8), days=1)
    parques_category = make_category(session, parques, name="Poda")
    for _ in range(2):
        make_ticket(session, parques_category, now=at(1, 12), notify=False)
    session.commit()
    return Dataset(aseo.slug, parques.slug)


def table_rows(html: str) -> dict[str, list[str]]:
    """The figures table as {row header: [cell texts, without hidden explanations]}."""
    soup = BeautifulSoup(html, "html.parser")
    table = soup.find("table", class_="figures")
    rows = {}
    for tr in table.find_all("tr"):
        header = tr.find("th", scope="row")
        if header is None:
            continue
        cells = []
        for td in tr.find_all("td"):
            for hidden in td.find_all(class_="visually-hidden"):
                hidden.decompose()
            cells.append(td.get_text(strip=True))
        rows[header.get_text(strip=True)] = cells
    return rows


def test_municipality_page_shows_hand_checked_figures_without_login(client, database):
    with database() as session:
        seed(session)
    response = client.get("/transparencia")
    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True))
    # received 6 + 2, resolved 5, median of 1-2-3-4-10 days, 4/5 on time, mean 21/5.
    assert rows[month_label(1)] == ["8", "5", "3,0", "80 %", "4,2"]
    # Two months ago: 4 received, 4 resolved → every cell below 5 is hidden.
    assert rows[month_label(2)] == ["—", "—", "—", "—", "—"]
    # 12 months: 12 received, 9 resolved, median of 1,1,1,1,1,2,3,4,10 = 1, 8/9 on time.
    assert rows["Últimos 12 meses"] == ["12", "9", "1,0", "89 %", "4,2"]
    assert len(rows) == 13  # 12 months and the total


def test_department_page_shows_its_own_figures(client, database):
    with database() as session:
        data = seed(session)
    html = client.get(f"/transparencia/{data.aseo_slug}").get_data(as_text=True)
    rows = table_rows(html)
    assert rows[month_label(1)] == ["6", "5", "3,0", "80 %", "4,2"]
    parques = table_rows(client.get(f"/transparencia/{data.parques_slug}")
                         .get_data(as_text=True))
    assert parques[month_label(1)] == ["—"] * 5
    assert "menos de 5 solicitudes" in html


def test_unknown_or_inactive_department_page_is_not_found(client, database):
    with database() as session:
        department = make_department(session, name="Antigua Oficina", active=False)
        session.commit()
        slug = department.slug
    assert client.get("/transparencia/no-existe").status_code == 404
    assert client.get(f"/transparencia/{slug}").status_code == 404


@pytest.mark.parametrize(("requests", "shown"), [(4, None), (5, 5)])
def test_cells_from_fewer_than_five_requests_are_suppressed_in_the_query(
        client, database, requests, shown):
    with database() as session:
        department = make_department(session)
        category = make_category(session, department)
        for _ in range(requests):
            make_ticket(session, category, now=at(1, 15), notify=False)
        session.commit()
        rows, total = public_figures(session, now=utcnow(), tz=TZ,
                                     office_hours="mon-thu 08:30-17:30, fri 08:30-16:30",
                                     min_n=5, department_id=department.id)
        slug = department.slug
    assert rows[-2].received == shown
    assert total.received == shown
    cells = table_rows(client.get(f"/transparencia/{slug}").get_data(as_text=True))
    assert cells[month_label(1)][0] == ("—" if shown is None else "5")


def test_public_pages_are_cached_and_refresh_after_the_cache_is_cleared(app, client, database):
    with database() as session:
        data = seed(session)
    first = client.get("/transparencia")
    assert first.headers["Cache-Control"] == "public, max-age=600"
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        second = client.get("/transparencia")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    assert second.get_data() == first.get_data()

    with database() as session:  # a new request arrives: the cached page does not know yet
        category = make_category(session, name="Ruidos molestos")
        make_ticket(session, category, now=at(1, 25), notify=False)
        session.commit()
    assert table_rows(client.get("/transparencia").get_data(as_text=True))[
        month_label(1)][0] == "8"
    with app.app_context():
        cache.clear()
    assert table_rows(client.get("/transparencia").get_data(as_text=True))[
        month_label(1)][0] == "9"
    assert client.get(f"/transparencia/{data.aseo_slug}").headers["Cache-Control"] \
        == "public, max-age=600"


def test_staff_viewing_the_public_page_is_not_cached_by_proxies(client, database):
    with database() as session:
        email = make_user(session, Role.MANAGER).email
        session.commit()
    login(client, email)
    assert client.get("/transparencia").headers["Cache-Control"] == "private, no-store"


# --- open data --------------------------------------------------------------------------------

PERSONAL = {
    "name": "Zacarías Quintanilla",
    "email": "zacarias.quintanilla@correo.example",
    "phone": "+56 9 8765 4321",
    "rut": "17.654.321-3",
    "address": "Pasaje Los Zorzales 4471",
    "description": "El funcionario Bartolomeo Ugarte me trató mal en la oficina 3B",
    "comment": "Gracias Bartolomeo por nada",
}


def seed_personal(session):
    department = make_department(session, name="Control Interno")
    agent = make_user(session, Role.AGENT, [department])
    private = make_category(session, department, name="Denuncia contra funcionario",
                            visibility=Visibility.PRIVATE)
    public = make_category(session, department, name="Atención en oficinas")
    sector = Macrosector(name="Macrosector Lo Hermida Norte")
    session.add(sector)
    session.flush()
    tickets = []
    for category in (private, public):
        contact = ResidentContact(name=PERSONAL["name"], email=PERSONAL["email"],
                                  phone=PERSONAL["phone"], rut=PERSONAL["rut"])
        tickets.append(resolved_ticket(
            session, category, agent, created=at(1, 3), resolved=at(1, 6), days=2, rating=2,
            comment=PERSONAL["comment"], contact=contact, address=PERSONAL["address"],
            description=PERSONAL["description"], latitude=Decimal("-33.487654"),
            longitude=Decimal("-70.543219"), macrosector=sector))
    session.commit()
    return private, tickets


def forbidden_strings(private, tickets) -> list[str]:
    values = list(PERSONAL.values()) + ["Bartolomeo", "Quintanilla", "Zorzales",
                                        "33.487654", "70.543219", "33,487654",
                                        private.name, private.slug]
    for ticket in tickets:  # every stored form of the personal fields
        values += [ticket.contact_name, ticket.contact_email, ticket.contact_phone,
                   ticket.contact_rut, ticket.tracking_code, ticket.formatted_tracking_code,
                   ticket.address, ticket.description]
    return [v for v in values if v]


@pytest.mark.parametrize("path", ["/datos-abiertos/solicitudes.csv",
                                  "/datos-abiertos/solicitudes.json",
                                  "/datos-abiertos/solicitudes-por-mes.csv"])
def test_open_data_never_contains_a_personal_field(client, database, path):
    with database() as session:
        private, tickets = seed_personal(session)
        forbidden = forbidden_strings(private, tickets)
        numbers = [t.public_number for t in tickets]
    response = client.get(path)
    assert response.status_code == 200
    body = response.get_data()
    for value in forbidden:
        assert value.encode() not in body, value
        assert json.dumps(value).encode() not in body, value  # JSON-escaped form
    if path.endswith("solicitudes.csv"):
        assert all(n.encode() in body for n in numbers)


def test_private_category_is_published_as_reserved_without_macrosector(client, database):
    with database() as session:
        _, tickets = seed_personal(session)
        private_number, public_number = (t.public_number for t in tickets)
    rows = {r["public_number"]: r for r in json.loads(
        client.get("/datos-abiertos/solicitudes.json").get_data())}
    assert rows[private_number]["category_name"] == "Categoría reservada"
    assert rows[private_number]["category_slug"] == "reservada"
    assert rows[private_number]["macrosector"] is None
    assert rows[public_number]["category_name"] == "Atención en oficinas"
    assert rows[public_number]["macrosector"] == "Macrosector Lo Hermida Norte"


def test_open_data_record_has_local_dates_business_hours_and_score(client, database):
    with database() as session:
        _, tickets = seed_personal(session)
        ticket = tickets[1]
        expected_created = ticket.created_at.astimezone(TZ).isoformat(timespec="seconds")
        number = ticket.public_number
    rows = {r["public_number"]: r for r in json.loads(
        client.get("/datos-abiertos/solicitudes.json").get_data())}
    row = rows[number]
    assert row["created_at"] == expected_created
    assert row["created_at"][-6:] in ("-03:00", "-04:00")
    assert row["status"] == "resolved"
    assert row["resolution_business_hours"] == round(2 * DAY / 3600, 2) == 17.6
    assert row["on_time"] is True
    assert row["survey_score"] == 2
    assert row["channel"] == "web"
    assert row["closed_at"] is None


def test_csv_header_and_json_keys_equal_the_data_dictionary(client, database):
    with database() as session:
        seed_personal(session)
    soup = BeautifulSoup(client.get("/datos-abiertos").get_data(as_text=True), "html.parser")
    dictionary = [code["data-field"] for code in soup.select("code[data-field]")]
    assert dictionary == FIELD_NAMES
    text = client.get("/datos-abiertos/solicitudes.csv").get_data(as_text=True)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    assert next(reader) == dictionary
    assert all(len(row) == len(dictionary) for row in reader)
    records = json.loads(client.get("/datos-abiertos/solicitudes.json").get_data())
    assert records and all(list(r) == dictionary for r in records)


def test_monthly_aggregates_hide_counts_below_five(client, database):
    with database() as session:
        data = seed(session)
    text = client.get("/datos-abiertos/solicitudes-por-mes.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    month = at(1, 1).astimezone(TZ).strftime("%Y-%m")
    by_key = {(r["month"], r["department_slug"]): r for r in rows}
    assert by_key[(month, data.aseo_slug)]["received"] == "6"
    assert by_key[(month, data.aseo_slug)]["resolved"] == "5"
    assert by_key[(month, data.parques_slug)]["received"] == ""


def test_year_parameter_limits_the_download_to_that_year(client, database):
    with database() as session:
        seed_personal(session)
        year = at(1, 3).astimezone(TZ).year
    assert len(json.loads(client.get(f"/datos-abiertos/solicitudes.json?year={year}")
                          .get_data())) == 2
    assert json.loads(client.get("/datos-abiertos/solicitudes.json?year=2001")
                      .get_data()) == []


@pytest.mark.parametrize("year", ["abc", "1999", "3000", "-1"])
def test_bad_year_gets_a_spanish_error(client, year):
    response = client.get(f"/datos-abiertos/solicitudes.csv?year={year}")
    assert response.status_code == 400
    assert "El año debe ser un número entre 2000 y" in response.get_data(as_text=True)


# --- progress updates and pilots --------------------------------------------------------------

def _post_update(client, department_id, **overrides):
    html = client.get("/gestion/transparencia").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html), "department": str(department_id),
            "month": "2026-11", "title": "Operativo de limpieza en Lo Hermida",
            "body": "Retiramos 40 toneladas de escombros.", "publish": "y"}
    data.update(overrides)
    return client.post("/gestion/transparencia/avances", data=data)


def test_supervisor_publishes_an_update_that_appears_publicly(client, database):
    with database() as session:
        department = make_department(session, name="Aseo y Ornato")
        email = make_user(session, Role.SUPERVISOR, [department]).email
        session.commit()
        department_id, slug = department.id, department.slug
    client.get(f"/transparencia/{slug}")  # cached before the update
    login(client, email)
    response = _post_update(client, department_id)
    assert response.status_code == 302
    public = client.get(f"/transparencia/{slug}").get_data(as_text=True)
    assert "Operativo de limpieza en Lo Hermida" in public
    assert "Retiramos 40 toneladas de escombros." in public


def test_anonymous_page_is_served_from_cache_per_language_and_never_to_staff(app, database):
    with database() as session:
        department = make_department(session, name="Aseo y Ornato")
        supervisor = make_user(session, Role.SUPERVISOR, [department])
        email, name = supervisor.email, supervisor.name
        session.commit()
        department_id, slug = department.id, department.slug
    resident, staff = app.test_client(), app.test_client()
    spanish = resident.get(f"/transparencia/{slug}").get_data(as_text=True)
    english = resident.get(f"/transparencia/{slug}",
                           headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="es-CL"' in spanish and 'lang="en"' in english

    login(staff, email)
    staff_page = staff.get(f"/transparencia/{slug}").get_data(as_text=True)
    assert name in staff_page and name not in spanish  # not the cached anonymous copy
    assert _post_update(staff, department_id).status_code == 302
    for headers in ({}, {"Accept-Language": "en"}):  # both cached copies forgotten
        public = resident.get(f"/transparencia/{slug}", headers=headers).get_data(as_text=True)
        assert "Operativo de limpieza en Lo Hermida" in public
        assert name not in public


def test_unpublished_update_stays_off_the_public_page_until_published(client, database):
    with database() as session:
        department = make_department(session)
        email = make_user(session, Role.SUPERVISOR, [department]).email
        session.commit()
        department_id, slug = department.id, department.slug
    login(client, email)
    _post_update(client, department_id, publish="", title="Borrador de noviembre")
    assert "Borrador de noviembre" not in client.get(f"/transparencia/{slug}").get_data(
        as_text=True)
    with database() as session:
        update_id = session.scalar(sa.select(ProgressUpdate.id))
    html = client.get("/gestion/transparencia").get_data(as_text=True)
    client.post(f"/gestion/transparencia/avances/{update_id}/publicacion",
                data={"csrf_token": csrf_token_from(html), "publish": "1"})
    assert "Borrador de noviembre" in client.get(f"/transparencia/{slug}").get_data(
        as_text=True)


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_agents_and_managers_cannot_write_updates(client, database, role):
    with database() as session:
        department = make_department(session)
        email = make_user(session, role, [department]).email
        session.commit()
        department_id = department.id
    login(client, email)
    assert client.get("/gestion/transparencia").status_code == 403
    response = client.post("/gestion/transparencia/avances",
                           data={"department": str(department_id), "month": "2026-11",
                                 "title": "x", "body": "y"})
    assert response.status_code in (400, 403)  # no CSRF token to steal: 403 before, or 400
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProgressUpdate)) == 0


def test_supervisor_cannot_write_for_another_department(client, database):
    with database() as session:
        own = make_department(session)
        other = make_department(session)
        email = make_user(session, Role.SUPERVISOR, [own]).email
        session.commit()
        other_id = other.id
    login(client, email)
    response = _post_update(client, other_id)
    assert response.status_code == 422
    assert "Elige uno de tus departamentos." in response.get_data(as_text=True)
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProgressUpdate)) == 0


def test_staff_page_needs_a_login(client):
    response = client.get("/gestion/transparencia")
    assert response.status_code == 302
    assert "/gestion/ingresar" in response.headers["Location"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("month", "noviembre", "Escribe el mes como año-mes, por ejemplo 2026-11."),
    ("month", "2026-13", "Escribe el mes como año-mes, por ejemplo 2026-11."),
    ("title", "   ", "Escribe un título."),
    ("body", "", "Escribe qué hizo el departamento este mes."),
    ("title", "x" * 121, "El título puede tener hasta 120 caracteres."),
])
def test_bad_update_input_is_refused_in_spanish_and_the_form_refilled(
        client, database, field, value, message):
    with database() as session:
        department = make_department(session)
        email = make_user(session, Role.ADMIN).email
        session.commit()
        department_id = department.id
    login(client, email)
    values = {"body": "Texto que no se pierde.", field: value}
    response = _post_update(client, department_id, **values)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "Hay un problema" in html
    if field != "body":
        assert "Texto que no se pierde." in html
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProgressUpdate)) == 0


def _post_pilots(client, ids):
    html = client.get("/gestion/transparencia").get_data(as_text=True)
    return client.post("/gestion/transparencia/piloto",
                       data={"csrf_token": csrf_token_from(html),
                             "departments": [str(i) for i in ids]})


def test_admin_chooses_up_to_three_pilot_departments_highlighted_publicly(client, database):
    with database() as session:
        departments = [make_department(session, name=f"Piloto {n}") for n in "ABCD"]
        email = make_user(session, Role.ADMIN).email
        session.commit()
        ids = [d.id for d in departments]
    login(client, email)
    refused = _post_pilots(client, ids)
    assert refused.status_code == 422
    assert "Elige como máximo 3 departamentos." in refused.get_data(as_text=True)
    assert _post_pilots(client, ids[:3]).status_code == 302
    with database() as session:
        assert set(session.scalars(sa.select(TransparencyPilot.department_id))) == set(ids[:3])
    soup = BeautifulSoup(client.get("/transparencia").get_data(as_text=True), "html.parser")
    pilots = soup.find("section", attrs={"aria-labelledby": "pilots-title"})
    assert [a.get_text() for a in pilots.find_all("a")] == ["Piloto A", "Piloto B", "Piloto C"]
    assert _post_pilots(client, [ids[3]]).status_code == 302
    with database() as session:
        assert set(session.scalars(sa.select(TransparencyPilot.department_id))) == {ids[3]}


def test_supervisor_cannot_choose_pilots(client, database):
    with database() as session:
        department = make_department(session)
        email = make_user(session, Role.SUPERVISOR, [department]).email
        session.commit()
        department_id = department.id
    login(client, email)
    html = client.get("/gestion/transparencia").get_data(as_text=True)
    assert "Departamentos piloto" not in html
    response = client.post("/gestion/transparencia/piloto",
                           data={"csrf_token": csrf_token_from(html),
                                 "departments": [str(department_id)]})
    assert response.status_code == 403
