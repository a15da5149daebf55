"""Results on a seeded set, every figure checked by hand (see SEEDED_ANSWERS):

 #  age    disab. rating single multiple text
 1  18-29  yes    5      A      X Y      bien
 2  18-29  no     4      A      X
 3  18-29  no     4      B      -
 4  18-29  no     3      A      Y
 5  18-29  no     5      B      X Z      rápido
 6  30-44  no     2      C      Z
 7  30-44  yes    1      C      Y Z
 8  30-44  no     3      B      -
 9  30-44  no     4      A      X
10  30-44  no     5      A      X Y Z
11  60+    no     2      C      Y
12  -      -      3      B      X        =HYPERLINK(...)
"""

from __future__ import annotations

import csv
import io

import pytest

from app.accounts.models import Role, User
from app.surveys import results
from app.surveys.exports import safe_cell, satisfaction_csv, survey_csv
from app.surveys.models import Survey
from app.surveys.resolution import ResolutionAnswer, answer_survey
from app.tickets.models import Channel
from tests.factories import make_department, make_user
from tests.pages import text_of
from tests.survey_factories import answer, login, make_survey, resolved_request, seeded_survey

K = 5


def bars(result) -> list[tuple[str, int, float | None]]:
    return [(b.label, b.count, None if b.percent is None else round(b.percent, 1))
            for b in result.bars]


# --- overall --------------------------------------------------------------------------------

def test_counts_averages_and_distributions(session):
    survey = seeded_survey(session)
    found = results.survey_results(session, survey, min_group_size=K)
    rating, single, multiple, text = found.questions

    assert found.responses == 12 and not found.hidden
    # rating: 1×1, 2×2, 3×3, 4×3, 5×3 = 41 over 12 people
    assert rating.respondents == 12
    assert rating.average == pytest.approx(41 / 12)
    assert bars(rating) == [("1 · Nada", 1, 8.3), ("2", 2, 16.7), ("3", 3, 25.0),
                            ("4", 3, 25.0), ("5 · Mucho", 3, 25.0)]
    # single choice: A 5, B 4, C 3 of 12
    assert single.respondents == 12
    assert bars(single) == [("A", 5, 41.7), ("B", 4, 33.3), ("C", 3, 25.0)]
    # multiple choice: 10 people answered (#3 and #8 did not); shares of those 10
    assert multiple.respondents == 10
    assert bars(multiple) == [("X", 6, 60.0), ("Y", 5, 50.0), ("Z", 4, 40.0)]
    # free text: three answers, shown as given
    assert text.respondents == 3
    assert sorted(text.texts) == sorted(["bien", "rápido", '=HYPERLINK("http://malo")'])


def test_results_page_shows_the_hand_checked_figures(client, database):
    with database() as session:
        survey_id = seeded_survey(session).id
        manager = make_user(session, Role.MANAGER).email
        session.commit()
    login(client, manager)
    page = text_of(client.get(f"/gestion/encuestas/{survey_id}/resultados")
                   .get_data(as_text=True))
    assert "Respuestas 12" in page
    assert "12 respuestas · Promedio: 3,4 de 5" in page
    assert "1 · Nada 1 8,3 % 2 2 16,7 % 3 3 25 % 4 3 25 % 5 · Mucho 3 25 %" in page
    assert "A 5 41,7 % B 4 33,3 % C 3 25 %" in page
    assert "10 respuestas" in page and "X 6 60 % Y 5 50 % Z 4 40 %" in page


# --- breakdowns and low-n protection --------------------------------------------------------

def test_breakdown_by_age_hides_small_groups_and_small_cells(session):
    survey = seeded_survey(session)
    split = results.breakdown(session, survey, "edad", min_group_size=K)
    rating, single, multiple = split.questions  # the text question is not broken down
    groups = {g.label: g for g in split.groups}
    assert list(groups) == ["18 a 29 años", "30 a 44 años", "60 años o más", "No responde"]
    assert [(g.n, g.hidden) for g in groups.values()] == [
        (5, False), (5, False), (1, True), (1, True)]

    young, middle = groups["18 a 29 años"], groups["30 a 44 años"]
    assert young.cells[rating.id].average == pytest.approx(21 / 5)  # 5+4+4+3+5
    assert middle.cells[rating.id].average == pytest.approx(15 / 5)  # 2+1+3+4+5
    a, b, c = (o.id for o in single.options)
    assert young.cells[single.id].percents == {a: 60.0, b: 40.0, c: 0.0}
    assert middle.cells[single.id].percents == {a: 40.0, b: 20.0, c: 40.0}
    # Only 4 people of each visible group answered the multiple choice: hidden.
    assert young.cells[multiple.id].respondents == 4
    assert young.cells[multiple.id].hidden and middle.cells[multiple.id].hidden
    assert young.cells[multiple.id].percents == {}
    # Hidden groups carry no figures at all.
    assert all(cell.hidden and cell.average is None and not cell.percents
               for g in (groups["60 años o más"], groups["No responde"])
               for cell in g.cells.values())


def test_breakdown_by_disability(session):
    survey = seeded_survey(session)
    split = results.breakdown(session, survey, "discapacidad", min_group_size=K)
    groups = {g.label: g for g in split.groups}
    assert [(label, g.n, g.hidden) for label, g in groups.items()] == [
        ("Con discapacidad", 2, True), ("Sin discapacidad", 9, False), ("No responde", 1, True)]
    rating = split.questions[0]
    # 4+4+3+5+2+3+4+5+2 = 32 over 9
    assert groups["Sin discapacidad"].cells[rating.id].average == pytest.approx(32 / 9)


def test_one_small_group_hides_the_next_smallest_too(session):
    survey = seeded_survey(session)
    single = survey.questions[1]
    # By preferred channel with a threshold of 4: A has 5, B 4, C 3. C alone would
    # be hidden, and total minus A minus B would reveal it, so B is hidden too.
    split = results.breakdown(session, survey, f"p{single.id}", min_group_size=4)
    assert [(g.label, g.n, g.hidden) for g in split.groups] == [
        ("A", 5, False), ("B", 4, True), ("C", 3, True)]
    assert single not in split.questions  # the grouping question itself
    rating = split.questions[0]
    assert split.groups[0].cells[rating.id].average == pytest.approx(21 / 5)  # 5+4+3+4+5


@pytest.mark.parametrize("sizes, hidden", [
    ({"a": 10, "b": 3, "c": 6}, {"b", "c"}),
    ({"a": 10, "b": 3, "c": 2}, {"b", "c"}),
    ({"a": 10, "b": 7}, set()),
    ({"a": 3}, {"a"}),
    ({"a": 9, "b": 6, "c": 5, "d": 1}, {"c", "d"}),
])
def test_hidden_keys(sizes, hidden):
    assert results.hidden_keys(sizes, 5) == hidden


def test_breakdown_page_says_what_is_hidden(client, database):
    with database() as session:
        survey_id = seeded_survey(session).id
        manager = make_user(session, Role.MANAGER).email
        session.commit()
    login(client, manager)
    html = client.get(f"/gestion/encuestas/{survey_id}/resultados?grupo=edad")
    page = text_of(html.get_data(as_text=True))
    assert "Por grupo: Tramo de edad" in page
    assert ("Todas las respuestas 12 3,4 18 a 29 años 5 4,2 30 a 44 años 5 3,0 "
            "60 años o más Oculto para proteger el anonimato "
            "No responde Oculto para proteger el anonimato") in page
    assert client.get(f"/gestion/encuestas/{survey_id}/resultados?grupo=nada").status_code == 200


def test_staff_results_stay_hidden_until_enough_responses(client, database):
    with database() as session:
        department = make_department(session)
        staff = [make_user(session, Role.AGENT, [department]) for _ in range(K)]
        survey = make_survey(session, kind="staff")
        for user in staff[:-1]:
            answer(session, survey, rating=4, single="A", text="Más capacitación",
                   staff_member=user)
        manager = make_user(session, Role.MANAGER).email
        session.commit()
        survey_id, last = survey.id, staff[-1].id
    with database() as session:
        found_hidden = results.survey_results(session, session.get(Survey, survey_id),
                                              min_group_size=K)
        assert found_hidden.hidden and found_hidden.questions[3].texts == []
    login(client, manager)
    page = text_of(client.get(f"/gestion/encuestas/{survey_id}/resultados")
                   .get_data(as_text=True))
    assert "tiene 4 respuestas. Sus resultados se muestran cuando tenga al menos 5" in page
    assert "Promedio" not in page and "Más capacitación" not in page
    assert client.get(f"/gestion/encuestas/{survey_id}/resultados.csv").status_code == 302

    with database() as session:
        answer(session, session.get(Survey, survey_id), rating=2, single="B",
               staff_member=session.get(User, last))
        session.commit()
    page = text_of(client.get(f"/gestion/encuestas/{survey_id}/resultados")
                   .get_data(as_text=True))
    assert "5 respuestas · Promedio: 3,6 de 5" in page  # (4×4 + 2) / 5
    assert client.get(f"/gestion/encuestas/{survey_id}/resultados.csv").status_code == 200


# --- CSV ------------------------------------------------------------------------------------

def test_csv_has_one_row_per_response_and_defuses_formulas(session):
    survey = seeded_survey(session)
    text = survey_csv(session, survey)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header == ["respuesta", "fecha", "tramo de edad", "discapacidad", "macrosector",
                      "¿Qué tan satisfecho/a estás?", "¿Qué canal prefieres?",
                      "¿Qué te ha costado?", "¿Qué mejorarías?"]
    assert [r[0] for r in body] == [str(i) for i in range(1, 13)]
    as_set = sorted(tuple(r[2:]) for r in body)
    assert ("18 a 29 años", "Sí", "", "5", "A", "X | Y", "bien") in as_set
    assert ("30 a 44 años", "No", "", "5", "A", "X | Y | Z", "") in as_set
    assert ("", "", "", "3", "B", "X", "'=HYPERLINK(\"http://malo\")") in as_set
    assert sum(1 for r in body if r[6] == "A") == 5


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+56 9", "'+56 9"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("hola", "hola"), (5, "5"), (None, ""),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_csv_download_is_an_attachment(client, database):
    with database() as session:
        survey = seeded_survey(session)
        survey_id, slug = survey.id, survey.slug
        manager = make_user(session, Role.MANAGER).email
        session.commit()
    login(client, manager)
    response = client.get(f"/gestion/encuestas/{survey_id}/resultados.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="encuesta-{slug}-' in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).count("\r\n") == 13


# --- satisfaction after resolution ----------------------------------------------------------

@pytest.fixture
def satisfaction_set(database):
    """Aseo (web): 5/yes/5/4, 2/no/3/- reopened, one unanswered.
    Obras (phone): 3/partly/-/2, 4/yes/4/4."""
    with database() as session:
        aseo = make_department(session, name="Aseo y Ornato")
        obras = make_department(session, name="Obras Municipales")
        answers = [
            (aseo, Channel.WEB, ResolutionAnswer("yes", 5, 5, 4, "Excelente")),
            (aseo, Channel.WEB, ResolutionAnswer("no", 2, 3, None, "Sigue igual", reopen=True)),
            (aseo, Channel.WEB, None),
            (obras, Channel.PHONE, ResolutionAnswer("partly", 3, None, 2)),
            (obras, Channel.PHONE, ResolutionAnswer("yes", 4, 4, 4)),
        ]
        for department, channel, given in answers:
            made = resolved_request(session, department=department, channel=channel,
                                    supervisor=False, notify=False)
            if given:
                answer_survey(session, made.survey, given, notify=False)
        manager = make_user(session, Role.MANAGER).email
        session.commit()
    return manager


def test_satisfaction_figures_by_department_and_channel(database, satisfaction_set):
    with database() as session:
        found = results.satisfaction_results(session)
    t = found.total
    assert (t.invited, t.answered, t.yes, t.no, t.partly, t.reopened, t.flagged) == (
        5, 4, 2, 1, 1, 1, 1)
    assert t.response_rate == 80.0
    assert t.average_rating == 3.5  # (5+2+3+4)/4
    assert t.average_courtesy == 4.0  # (5+3+4)/3
    assert t.average_time == pytest.approx(10 / 3)  # (4+2+4)/3
    aseo, obras = found.by_department
    assert (aseo.label, aseo.invited, aseo.answered, aseo.average_rating,
            aseo.average_courtesy, aseo.average_time, aseo.reopened) == (
        "Aseo y Ornato", 3, 2, 3.5, 4.0, 4.0, 1)
    assert aseo.response_rate == pytest.approx(200 / 3)
    assert (obras.label, obras.invited, obras.answered, obras.share(obras.yes),
            obras.average_time) == ("Obras Municipales", 2, 2, 50.0, 3.0)
    assert [(r.label, r.answered) for r in found.by_channel] == [("Web", 2), ("Teléfono", 2)]
    assert [(b.label, b.count, b.percent) for b in found.resolved_bars] == [
        ("Sí", 2, 50.0), ("No", 1, 25.0), ("En parte", 1, 25.0)]
    assert [(b.count, b.percent) for b in found.rating_bars] == [
        (0, 0.0), (1, 25.0), (1, 25.0), (1, 25.0), (1, 25.0)]
    assert [b.count for b in found.time_bars] == [0, 1, 0, 2, 0]
    assert [c.comment for c in found.comments] == ["Sigue igual", "Excelente"]  # newest first


def test_satisfaction_page_and_csv(client, database, satisfaction_set):
    login(client, satisfaction_set)
    page = text_of(client.get("/gestion/encuestas/satisfaccion").get_data(as_text=True))
    assert "Encuestas enviadas 5 Respondidas 4 (80 %) Satisfacción promedio 3,5 de 5" in page
    assert "Trato promedio 4,0 de 5 Tiempo promedio 3,3 de 5" in page
    assert "Aseo y Ornato 3 2 (66,7 %) 50 % 3,5 4,0 4,0 1" in page
    assert "Obras Municipales 2 2 (100 %) 50 % 3,5 4,0 3,0 0" in page

    with database() as session:
        text = satisfaction_csv(session)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows) == 5  # header and the 4 answers
    assert rows[0][:4] == ["solicitud", "departamento", "categoría", "canal"]
    reopened = next(r for r in rows if r[-1] == "Sigue igual")
    assert reopened[1] == "Aseo y Ornato" and reopened[3] == "Web"
    assert reopened[6:12] == ["No", "2", "3", "", "sí", "sí"]
