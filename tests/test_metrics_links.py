"""Every dashboard figure links to the staff queue listing exactly the requests
it counts: on a hand-made data set, each linked number equals the rows of the
queue it opens (SQLite and PostgreSQL), for a manager and for a supervisor.

Data set (days before now; "due" is the resolution due date):

| #  | dept  | kind   | created | status      | finished      | due  | note      |
|----|-------|--------|---------|-------------|---------------|------|-----------|
| 1  | Aseo  | service| 10      | resolved    | resolved 5    | 3    | on time   |
| 2  | Aseo  | service| 12      | resolved    | resolved 2    | 4    | late      |
| 3  | Aseo  | service| 5       | in_progress |               | +3   | open, ok  |
| 4  | Aseo  | service| 20      | received    |               | 1    | overdue   |
| 5  | Aseo  | service| 1       | received    |               | none |           |
| 6  | Aseo  | service| 3       | duplicate   |               | +5   | never counted |
| 7  | Aseo  | service| 200     | received    |               | 150  | before the period |
| 8  | Aseo  | service| 8       | referred    | closed 6      | 2    | on time   |
| 9  | Aseo  | ley    | 30      | resolved    | resolved 5    | 2    | on time   |
| 10 | Aseo  | ley    | 40      | resolved    | resolved 1    | 3    | extended, late |
| 11 | Aseo  | ley    | 25      | in_progress |               | +10  | extended  |
| 12 | Aseo  | ley    | 15      | received    |               | +5   | in progress |
| 13 | Aseo  | ley    | 35      | received    |               | 1    | late      |
| 14 | Obras | service| 2       | received    |               | +4   | open, ok  |
| 15 | Obras | service| 6 phone | resolved    | resolved 1    | +1   | on time   |

Surveys after resolution: sent for 1, 2 and 15; answered for 1.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.catalog.sla import PolicyKind
from app.database import utcnow
from app.surveys.models import ResolutionSurvey
from app.tickets.models import Channel, Status
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.test_metrics_web import URL, login

CELL = re.compile(r'<td class="num">(?:<a href="([^"]+)">)?([^<]*)(?:</a>)?</td>')
ROW = re.compile(r'<tr>\s*<th scope="row">([^<]*)</th>(.*?)</tr>', re.S)


@pytest.fixture
def dataset(database):
    now = utcnow()

    def ago(days):
        return None if days is None else now - timedelta(days=days)

    with database() as session:
        aseo, obras = make_department(session, name="Aseo"), make_department(session,
                                                                            name="Obras")
        basura = make_category(session, aseo, name="Basura")
        acceso = make_category(session, aseo, name="Acceso a la información")
        baches = make_category(session, obras, name="Baches")
        rows = [
            (basura, 10, Status.RESOLVED, {"resolved_at": 5, "first_response_at": 9}, 3),
            (basura, 12, Status.RESOLVED, {"resolved_at": 2, "first_response_at": 11}, 4),
            (basura, 5, Status.IN_PROGRESS, {}, -3),
            (basura, 20, Status.RECEIVED, {}, 1),
            (basura, 1, Status.RECEIVED, {}, None),
            (basura, 3, Status.DUPLICATE, {"closed_at": 2}, -5),
            (basura, 200, Status.RECEIVED, {}, 150),
            (basura, 8, Status.REFERRED, {"closed_at": 6}, 2),
            (acceso, 30, Status.RESOLVED, {"resolved_at": 5}, 2),
            (acceso, 40, Status.RESOLVED, {"resolved_at": 1, "deadline_extended_at": 20}, 3),
            (acceso, 25, Status.IN_PROGRESS, {"deadline_extended_at": 5}, -10),
            (acceso, 15, Status.RECEIVED, {}, -5),
            (acceso, 35, Status.RECEIVED, {}, 1),
            (baches, 2, Status.RECEIVED, {}, -4),
            (baches, 6, Status.RESOLVED, {"resolved_at": 1, "first_response_at": 5}, -1),
        ]
        for number, (category, created, status, times, due) in enumerate(rows, start=1):
            channel = Channel.PHONE if number == 15 else Channel.WEB
            ticket = make_ticket(session, category, now=ago(created), channel=channel,
                                 notify=False)
            ticket.status = status
            ticket.resolution_due_at = ago(due)
            ticket.clock_kind = (PolicyKind.LEY_20285.value if category is acceso
                                 else PolicyKind.SERVICE.value)
            for column, days in times.items():
                setattr(ticket, column, ago(days))
            if number in (1, 2, 15):
                session.add(ResolutionSurvey(
                    ticket=ticket, invited_at=ago(1), expires_at=now + timedelta(days=20),
                    responded_at=ago(0) if number == 1 else None,
                    rating=4 if number == 1 else None))
        users = {"manager": make_user(session, Role.MANAGER).email,
                 "obras": make_user(session, Role.SUPERVISOR, [obras]).email}
        session.commit()
        return users


@pytest.fixture
def roomy(app):
    """One queue page holds every row, and small departments are ranked."""
    saved = app.config["QUEUE_PAGE_SIZE"], app.config["DASHBOARD_MIN_N"]
    app.config["QUEUE_PAGE_SIZE"], app.config["DASHBOARD_MIN_N"] = 1000, 2
    yield
    app.config["QUEUE_PAGE_SIZE"], app.config["DASHBOARD_MIN_N"] = saved


def sections(page: str) -> dict[str, list[tuple[str, list[tuple[str | None, str]]]]]:
    """Per table key: rows of (header, [(href, text) per number cell])."""
    found = {}
    for key, body in re.findall(r'<section class="metric" id="([^"]+)">(.*?)</section>',
                                page, re.S):
        found[key] = [(header, [(html_lib.unescape(href) if href else None, text)
                                for href, text in CELL.findall(cells)])
                      for header, cells in ROW.findall(body)]
    return found


def queue_count(client, href: str) -> int:
    """The rows the linked queue lists (and checks they match its total)."""
    page = client.get(href).get_data(as_text=True)
    rows = page.count('name="ids"')
    total = re.search(r"<p>(\d+) solicitud(?:es)?</p>", page)
    assert total is not None and int(total.group(1)) == rows, href
    return rows


def assert_every_link_matches(client, page: str) -> int:
    checked = 0
    for key, rows in sections(page).items():
        for header, cells in rows:
            for href, text in cells:
                if href is None:
                    continue
                assert href.startswith("/gestion/?"), href
                assert queue_count(client, href) == int(text.replace(".", "")), (
                    key, header, text, href)
                checked += 1
    return checked


def figures(page: str, key: str, column: int = 0) -> dict[str, tuple[str, bool]]:
    """``{row header: (text, linked)}`` of one number column of table ``key``."""
    return {header: (cells[column][1], cells[column][0] is not None)
            for header, cells in sections(page)[key]}


def test_deadline_figures_are_hand_checked_and_linked(client, dataset, roomy):
    login(client, dataset["manager"])
    page = client.get(URL).get_data(as_text=True)
    assert figures(page, "cumplimiento") == {
        "Resueltas a tiempo": ("4", True), "Resueltas con atraso": ("2", True),
        "Abiertas, dentro del plazo": ("4", True), "Abiertas y ya vencidas": ("2", True),
        "Total con plazo": ("12", True)}
    assert figures(page, "ley-20285") == {
        "Respondidas a tiempo": ("1", True), "Con prórroga": ("1", True),
        "Fuera de plazo": ("2", True), "En curso, dentro del plazo": ("1", True),
        "Total": ("5", True)}
    backlog = figures(page, "pendientes")
    assert backlog.pop("Total") == ("8", True)
    assert all(linked for text, linked in backlog.values() if text != "0")
    assert sum(int(text) for text, _linked in backlog.values()) == 8
    assert figures(page, "tiempos") == {"Primera respuesta": ("3", True),
                                        "Resolución": ("5", True)}
    ranking = sections(page)["ranking"]
    assert [(h, [c[1] for c in cells][1:3], all(c[0] for c in cells[1:3]))
            for h, cells in ranking] == [("Obras", ["2", "1"], True),
                                         ("Aseo", ["11", "5"], True)]
    survey = figures(page, "satisfaccion")
    assert survey["Encuestas enviadas"] == ("3", True)
    assert survey["Encuestas respondidas"] == ("1", True)
    assert figures(page, "evolucion", -1)["Total"] == ("13", True)
    assert figures(page, "volumen-canal", -1)["Total"] == ("13", True)
    assert assert_every_link_matches(client, page) >= 40


@pytest.mark.parametrize("breakdown", ["departamento", "categoria"])
def test_evolution_breakdowns_link_to_their_requests(client, dataset, roomy, breakdown):
    login(client, dataset["manager"])
    page = client.get(URL, query_string={"desglose": breakdown}).get_data(as_text=True)
    headers = re.search(r'<section class="metric" id="evolucion">.*?<thead>(.*?)</thead>',
                        page, re.S).group(1)
    expected = ["Aseo", "Obras"] if breakdown == "departamento" else ["Basura", "Acceso"]
    assert all(name in headers for name in expected)
    assert assert_every_link_matches(client, page) > 10


def test_links_of_a_filtered_dashboard_keep_its_filters(client, dataset, roomy):
    login(client, dataset["manager"])
    page = client.get(URL, query_string={"canal": "phone", "periodo": "30-dias"}
                      ).get_data(as_text=True)
    assert figures(page, "cumplimiento")["Resueltas a tiempo"] == ("1", True)
    assert assert_every_link_matches(client, page) > 5


def test_a_supervisor_follows_figures_of_their_department_only(client, dataset, roomy):
    login(client, dataset["obras"])
    page = client.get(URL).get_data(as_text=True)
    assert figures(page, "cumplimiento")["Total con plazo"] == ("2", True)
    assert figures(page, "ley-20285")["Total"] == ("0", False)
    assert assert_every_link_matches(client, page) > 5


def test_queue_tells_which_dashboard_figure_it_lists(client, dataset, roomy):
    login(client, dataset["manager"])
    page = client.get("/gestion/", query_string={"estado": "todas", "cifra": "vencidas",
                                                 "canal": "web"}).get_data(as_text=True)
    assert "Cifra del tablero: Abiertas y ya vencidas" in page
    assert "Canal: Web" in page
    assert '<input type="hidden" name="cifra" value="vencidas">' in page
    assert page.count('name="ids"') == 3  # 4, 7 and 13
    unknown = client.get("/gestion/", query_string={"cifra": "inventada"}).get_data(
        as_text=True)
    assert "Cifra del tablero" not in unknown  # ignored, like other unreadable filters
