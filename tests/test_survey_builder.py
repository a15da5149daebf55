"""The survey builder: admins create surveys and questions, order them, set
publication dates; who may build and who may read; questions lock once answered."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.database import utcnow
from app.domain import DomainError, ValidationFailed
from app.surveys import builder
from app.surveys.builder import QuestionInput, SurveyInput, SurveyLocked
from app.surveys.models import QuestionKind, Survey, SurveyKind, SurveyQuestion, SurveyState
from tests.conftest import csrf_token_from
from tests.factories import make_department, make_user
from tests.pages import error_summary, text_of
from tests.survey_factories import answer, login, make_survey

NEW_URL = "/gestion/encuestas/nueva"


@pytest.fixture
def users(database):
    with database() as session:
        emails = {role: make_user(session, role).email
                  for role in (Role.ADMIN, Role.MANAGER)}
        department = make_department(session)
        emails[Role.AGENT] = make_user(session, Role.AGENT, [department]).email
        emails[Role.SUPERVISOR] = make_user(session, Role.SUPERVISOR, [department]).email
        session.commit()
    return emails


def post_form(client, page_url: str, action_url: str, data: dict, prefix: str = ""):
    html = client.get(page_url).get_data(as_text=True)
    token_name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(action_url, data={token_name: csrf_token_from(html), **data})


def create_via_web(client, **fields) -> int:
    data = {"title": "Diagnóstico ciudadano 2026", "kind": "community",
            "description": "Toma tres minutos.", "ask_demographics": "y"}
    data.update(fields)
    response = post_form(client, NEW_URL, NEW_URL, data)
    assert response.status_code == 302, text_of(response.get_data(as_text=True))
    return int(re.search(r"/gestion/encuestas/(\d+)$", response.headers["Location"]).group(1))


def add_via_web(client, survey_id: int, **fields):
    page = f"/gestion/encuestas/{survey_id}"
    data = {f"question-{k}": v for k, v in fields.items()}
    return post_form(client, page, f"{page}/preguntas", data, prefix="question")


# --- building through the pages -------------------------------------------------------------

def test_admin_builds_a_survey_with_every_question_kind(client, database, users):
    login(client, users[Role.ADMIN])
    survey_id = create_via_web(client)
    for fields in (
        {"kind": "rating", "prompt": "¿Qué nota le pones a la atención telefónica?",
         "scale_max": "7", "low_label": "Pésima", "high_label": "Excelente", "required": "y"},
        {"kind": "single", "prompt": "¿Qué canal prefieres?", "options": "Web\nTeléfono\n\nweb\n"
         "Presencial", "required": "y"},
        {"kind": "multiple", "prompt": "¿Qué te ha dificultado?",
         "options": "Horarios\nTiempos de espera", "help_text": "Marca todas las que apliquen."},
        {"kind": "text", "prompt": "¿Qué mejorarías?"},
    ):
        response = add_via_web(client, survey_id, **fields)
        assert response.status_code == 302, error_summary(response.get_data(as_text=True))

    with database() as session:
        survey = session.get(Survey, survey_id)
        assert survey.kind is SurveyKind.COMMUNITY and survey.ask_demographics
        assert survey.state() is SurveyState.DRAFT
        assert survey.slug == "diagnostico-ciudadano-2026"
        kinds = [(q.position, q.kind, q.required) for q in survey.questions]
        assert kinds == [(1, QuestionKind.RATING, True), (2, QuestionKind.SINGLE, True),
                         (3, QuestionKind.MULTIPLE, False), (4, QuestionKind.TEXT, False)]
        rating, single, multiple, _text = survey.questions
        assert (rating.scale, rating.low_label, rating.high_label) == (
            [1, 2, 3, 4, 5, 6, 7], "Pésima", "Excelente")
        # blank lines and repeats (case-insensitive) are dropped
        assert [o.label for o in single.options] == ["Web", "Teléfono", "Presencial"]
        assert multiple.help_text == "Marca todas las que apliquen."
    page = text_of(client.get(f"/gestion/encuestas/{survey_id}").get_data(as_text=True))
    assert "Escala de notas (1–7) · Obligatoria" in page
    assert "/encuestas/diagnostico-ciudadano-2026/embed" in page


@pytest.mark.parametrize("fields, field", [
    ({"kind": "single", "prompt": "¿Canal?", "options": "Solo una"}, "question-options"),
    ({"kind": "multiple", "prompt": "¿Qué?", "options": ""}, "question-options"),
    ({"kind": "rating", "prompt": "¿Nota?", "scale_max": "11"}, "question-scale_max"),
    ({"kind": "text", "prompt": "   "}, "question-prompt"),
    ({"kind": "", "prompt": "¿Algo?"}, "question-kind"),
    ({"kind": "rating", "prompt": "x" * 301}, "question-prompt"),
])
def test_bad_question_is_refused_next_to_its_field(client, database, users, fields, field):
    login(client, users[Role.ADMIN])
    survey_id = create_via_web(client)
    response = add_via_web(client, survey_id, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'href="#{field}"' in error_summary(html)
    assert f'value="{fields["prompt"]}"' in html  # what was typed is kept
    with database() as session:
        assert session.get(Survey, survey_id).questions == []


@pytest.mark.parametrize("fields, field, message", [
    ({"title": ""}, "title", "Escribe el título de la encuesta."),
    ({"kind": "otra"}, "kind", "Elige para quién es la encuesta."),
    ({"closes_on": "31-02-2026"}, "closes_on", "Escribe una fecha válida"),
])
def test_bad_survey_data_is_refused_in_spanish(client, users, fields, field, message):
    login(client, users[Role.ADMIN])
    data = {"title": "Encuesta", "kind": "community", **fields}
    response = post_form(client, NEW_URL, NEW_URL, data)
    assert response.status_code == 422
    summary = error_summary(response.get_data(as_text=True))
    assert f'href="#{field}"' in summary and message in summary


def test_questions_are_reordered_and_deleted(client, database, users):
    login(client, users[Role.ADMIN])
    survey_id = create_via_web(client)
    for prompt in ("Primera", "Segunda", "Tercera"):
        add_via_web(client, survey_id, kind="text", prompt=prompt)
    with database() as session:
        first, second, third = (q.id for q in session.get(Survey, survey_id).questions)
    page = f"/gestion/encuestas/{survey_id}"

    post_form(client, page, f"{page}/preguntas/{third}/mover", {"direccion": "arriba"})
    post_form(client, page, f"{page}/preguntas/{first}/mover", {"direccion": "arriba"})  # no-op
    post_form(client, page, f"{page}/preguntas/{second}/eliminar", {})
    with database() as session:
        survey = session.get(Survey, survey_id)
        assert [(q.position, q.prompt) for q in survey.questions] == [
            (1, "Primera"), (2, "Tercera")]


def test_question_is_edited_with_its_options_replaced(client, database, users):
    login(client, users[Role.ADMIN])
    survey_id = create_via_web(client)
    add_via_web(client, survey_id, kind="single", prompt="¿Canal?", options="Web\nTeléfono")
    with database() as session:
        question_id = session.get(Survey, survey_id).questions[0].id
    url = f"/gestion/encuestas/{survey_id}/preguntas/{question_id}"
    form = client.get(url).get_data(as_text=True)
    assert "Web\nTeléfono</textarea>" in form
    response = post_form(client, url, url, {"question-kind": "multiple",
                                            "question-prompt": "¿Qué canales usas?",
                                            "question-options": "Web\nRedes sociales"},
                         prefix="question")
    assert response.status_code == 302
    with database() as session:
        question = session.get(SurveyQuestion, question_id)
        assert question.kind is QuestionKind.MULTIPLE
        assert [o.label for o in question.options] == ["Web", "Redes sociales"]


# --- dates and states -----------------------------------------------------------------------

def test_publication_days_are_santiago_days(session):
    survey = make_survey(session, open_=False)
    builder.update_survey(session, survey, SurveyInput(
        title=survey.title, kind="community", opens_on=date(2026, 3, 10),
        closes_on=date(2026, 6, 30)))
    # March: summer time, UTC-3; the end of 30 June: winter time, UTC-4.
    assert survey.opens_at == datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    assert survey.closes_at == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    assert builder.opens_on(survey) == date(2026, 3, 10)
    assert builder.closes_on(survey) == date(2026, 6, 30)
    assert survey.state(datetime(2026, 3, 10, 2, 59, tzinfo=UTC)) is SurveyState.SCHEDULED
    assert survey.state(datetime(2026, 3, 10, 3, 0, tzinfo=UTC)) is SurveyState.OPEN
    assert survey.state(datetime(2026, 7, 1, 3, 59, tzinfo=UTC)) is SurveyState.OPEN
    assert survey.state(datetime(2026, 7, 1, 4, 0, tzinfo=UTC)) is SurveyState.CLOSED


def test_survey_without_questions_cannot_be_published(session):
    survey = builder.create_survey(session, SurveyInput(title="Vacía", kind="staff"),
                                   created_by=None)
    with pytest.raises(DomainError):
        builder.publish_now(session, survey)
    with pytest.raises(ValidationFailed) as raised:
        builder.update_survey(session, survey, SurveyInput(
            title="Vacía", kind="staff", opens_on=date(2026, 1, 1)))
    assert "opens_on" in raised.value.field_errors
    with pytest.raises(ValidationFailed) as raised:
        builder.update_survey(session, survey, SurveyInput(
            title="Vacía", kind="staff", opens_on=date(2026, 2, 1), closes_on=date(2026, 1, 1)))
    assert "closes_on" in raised.value.field_errors


def test_publish_and_close_buttons(client, database, users):
    login(client, users[Role.ADMIN])
    survey_id = create_via_web(client)
    page = f"/gestion/encuestas/{survey_id}"
    response = post_form(client, page, f"{page}/publicar", {})
    assert "Agrega al menos una pregunta" in text_of(client.get(response.headers["Location"])
                                                     .get_data(as_text=True))
    add_via_web(client, survey_id, kind="text", prompt="¿Qué mejorarías?")
    post_form(client, page, f"{page}/publicar", {})
    with database() as session:
        assert session.get(Survey, survey_id).state() is SurveyState.OPEN
    assert client.get("/encuestas/diagnostico-ciudadano-2026").status_code == 200
    post_form(client, page, f"{page}/cerrar", {})
    with database() as session:
        assert session.get(Survey, survey_id).state() is SurveyState.CLOSED
    closed = client.get("/encuestas/diagnostico-ciudadano-2026")
    assert closed.status_code == 410
    assert "Esta encuesta cerró el" in text_of(closed.get_data(as_text=True))


def test_draft_is_not_public_and_scheduled_says_when_it_opens(client, database):
    with database() as session:
        draft = make_survey(session, title="Borrador", open_=False)
        scheduled = make_survey(session, title="Programada", open_=False)
        scheduled.opens_at = utcnow() + timedelta(days=3)
        session.commit()
        draft_slug, scheduled_slug = draft.slug, scheduled.slug
    assert client.get(f"/encuestas/{draft_slug}").status_code == 404
    response = client.get(f"/encuestas/{scheduled_slug}")
    assert response.status_code == 410
    assert "todavía no está abierta. Abre el" in text_of(response.get_data(as_text=True))


# --- locked once answered -------------------------------------------------------------------

def test_questions_lock_once_the_survey_has_a_response(session):
    survey = make_survey(session)
    question = survey.questions[0]
    answer(session, survey, rating=4, single="A")
    data = QuestionInput(kind="text", prompt="Nueva")
    for action in (lambda: builder.add_question(session, survey, data),
                   lambda: builder.update_question(session, question, data),
                   lambda: builder.delete_question(session, question),
                   lambda: builder.move_question(session, question, 1)):
        with pytest.raises(SurveyLocked):
            action()
    with pytest.raises(ValidationFailed) as raised:
        builder.update_survey(session, survey, SurveyInput(title="Otro", kind="staff"))
    assert "kind" in raised.value.field_errors
    # texts and dates stay editable
    builder.update_survey(session, survey, SurveyInput(
        title="Nuevo título", kind="community", closes_on=date(2099, 1, 1)))
    assert survey.title == "Nuevo título" and len(survey.questions) == 4


def test_locked_survey_page_offers_no_question_changes(client, database, users):
    with database() as session:
        survey = make_survey(session)
        answer(session, survey, rating=4, single="A")
        session.commit()
        survey_id = survey.id
    login(client, users[Role.ADMIN])
    html = client.get(f"/gestion/encuestas/{survey_id}").get_data(as_text=True)
    assert "ya tiene respuestas" in text_of(html)
    assert "/preguntas\"" not in html and "/eliminar" not in html and "/mover" not in html


# --- who may do what ------------------------------------------------------------------------

def test_only_admins_build_and_managers_read(client, database, users):
    with database() as session:
        survey_id = make_survey(session).id
        session.commit()
    build = [NEW_URL, f"/gestion/encuestas/{survey_id}",
             f"/gestion/encuestas/{survey_id}/preguntas/1"]
    read = [f"/gestion/encuestas/{survey_id}/resultados",
            f"/gestion/encuestas/{survey_id}/resultados.csv",
            "/gestion/encuestas/satisfaccion", "/gestion/encuestas/satisfaccion.csv"]

    for url in build + read:  # not logged in: to the login page
        response = client.get(url)
        assert response.status_code == 302 and "/gestion/ingresar" in response.headers["Location"]
    for role, may_build, may_read in ((Role.AGENT, False, False),
                                      (Role.SUPERVISOR, False, False),
                                      (Role.MANAGER, False, True),
                                      (Role.ADMIN, True, True)):
        login(client, users[role])
        for url in build:
            assert (client.get(url).status_code != 403) is may_build, (role, url)
        for url in read:
            assert (client.get(url).status_code == 200) is may_read, (role, url)
        index = text_of(client.get("/gestion/encuestas/").get_data(as_text=True))
        assert ("Nueva encuesta" in index) is may_build
        assert ("Encuestas de diagnóstico" in index) is may_read
        client.post("/gestion/salir", data={"csrf_token": csrf_token_from(
            client.get("/gestion/encuestas/").get_data(as_text=True))})


def test_staff_nav_links_to_surveys(client, users):
    login(client, users[Role.AGENT])
    html = client.get("/gestion/").get_data(as_text=True)
    assert '<a href="/gestion/encuestas/">Encuestas</a>' in html


def test_slug_is_unique_and_ascii(session):
    first = builder.create_survey(session, SurveyInput(title="Año 2026: ¿Cómo vamos?",
                                                       kind="community"), created_by=None)
    second = builder.create_survey(session, SurveyInput(title="Año 2026: ¿cómo vamos?",
                                                        kind="community"), created_by=None)
    assert (first.slug, second.slug) == ("ano-2026-como-vamos", "ano-2026-como-vamos-2")
    assert session.scalar(sa.select(sa.func.count()).select_from(Survey)) == 2
