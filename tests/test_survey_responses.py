"""Answering diagnostic surveys: the public community survey (linkable and
embeddable) and the staff survey (anonymous by design, once per member)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.catalog.models import Macrosector
from app.database import utcnow
from app.extensions import db
from app.surveys import responses
from app.surveys.builder import LOCAL_TZ
from app.surveys.models import (
    AgeRange,
    Disability,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveySubmission,
)
from app.surveys.responses import AlreadyAnswered, SurveyNotOpen
from tests.conftest import csrf_token_from
from tests.factories import make_department, make_user
from tests.pages import count, error_summary, text_of
from tests.survey_factories import answer, login, make_survey

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def community(database):
    with database() as session:
        session.add(Macrosector(name="Lo Hermida"))
        survey = make_survey(session)
        session.commit()
        q = survey.questions
        return {"slug": survey.slug, "id": survey.id,
                "fields": [x.field_name for x in q],
                "options": {o.label: str(o.id) for x in q for o in x.options},
                "sector": str(session.scalar(sa.select(Macrosector.id)))}


# --- community survey -----------------------------------------------------------------------

def test_resident_answers_the_public_survey_without_login(client, database, community):
    rating, single, multiple, text = community["fields"]
    page = client.get(f"/encuestas/{community['slug']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "csrf_token" not in html  # anonymous and embeddable: no session needed
    assert 'id="age_range"' in html and 'id="macrosector"' in html

    response = client.post(f"/encuestas/{community['slug']}", data={
        rating: "4", single: community["options"]["B"],
        multiple: [community["options"]["X"], community["options"]["Z"],
                   community["options"]["X"]],
        text: "  Más horario en la tarde.  ", "age_range": "30-44", "disability": "no",
        "macrosector": community["sector"]})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/encuestas/{community['slug']}/gracias"
    assert "¡Gracias por responder!" in text_of(client.get(response.headers["Location"])
                                                .get_data(as_text=True))
    with database() as session:
        [submission] = session.scalars(sa.select(SurveySubmission)).all()
        assert HEX32.match(submission.id)
        assert submission.submitted_on == utcnow().astimezone(LOCAL_TZ).date()
        assert (submission.age_range, submission.disability) == (AgeRange.FROM_30,
                                                                 Disability.NO)
        assert submission.macrosector.name == "Lo Hermida"
        stored = sorted((a.question.position, a.option.label if a.option else None, a.number,
                         a.text) for a in submission.answers)
        assert stored == [(1, None, 4, None), (2, "B", None, None), (3, "X", None, None),
                          (3, "Z", None, None), (4, None, None, "Más horario en la tarde.")]


def test_missing_required_answers_are_listed_and_input_is_kept(client, database, community):
    rating, single, multiple, text = community["fields"]
    response = client.post(f"/encuestas/{community['slug']}", data={
        multiple: community["options"]["Y"], text: "Mi idea", "age_range": "18-29"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    links = re.findall(r'href="#(\w+)"', error_summary(html))
    assert links == [rating, single]
    assert f'id="{rating}-error"' in html and f'aria-describedby="{rating}-hint {rating}-error"'\
        in html
    assert re.search(rf'name="{multiple}" value="{community["options"]["Y"]}" checked', html)
    assert "Mi idea</textarea>" in html
    assert '<option value="18-29" selected>' in html
    assert html.count("<title>Error: ") == 1
    with database() as session:
        assert count(session, SurveySubmission) == 0


@pytest.mark.parametrize("field_index, value", [(0, "6"), (0, "tres"), (1, "X"), (1, "999")])
def test_answers_outside_the_question_are_refused(client, database, community, field_index,
                                                  value):
    fields = community["fields"]
    data = {fields[0]: "3", fields[1]: community["options"]["A"]}
    data[fields[field_index]] = community["options"].get(value, value)
    response = client.post(f"/encuestas/{community['slug']}", data=data)
    assert response.status_code == 422
    assert f'href="#{fields[field_index]}"' in error_summary(response.get_data(as_text=True))
    with database() as session:
        assert count(session, SurveySubmission) == 0


def test_unknown_demographic_values_are_refused(client, community):
    rating, single, *_ = community["fields"]
    response = client.post(f"/encuestas/{community['slug']}", data={
        rating: "3", single: community["options"]["A"], "age_range": "99",
        "macrosector": "12345"})
    assert response.status_code == 422
    links = re.findall(r'href="#(\w+)"', error_summary(response.get_data(as_text=True)))
    assert links == ["age_range", "macrosector"]


def test_embed_can_be_framed_and_has_no_site_chrome(client, community):
    response = client.get(f"/encuestas/{community['slug']}/embed")
    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"].split("; ")
    html = response.get_data(as_text=True)
    assert 'lang="es-CL"' in html and "site-header" not in html
    rating, single, *_ = community["fields"]
    posted = client.post(f"/encuestas/{community['slug']}/embed", data={
        rating: "5", single: community["options"]["C"]})
    assert posted.headers["Location"] == f"/encuestas/{community['slug']}/embed/gracias"
    thanks = client.get(posted.headers["Location"])
    assert "frame-ancestors *" in thanks.headers["Content-Security-Policy"].split("; ")


def test_staff_survey_is_not_public(client, database):
    with database() as session:
        slug = make_survey(session, kind="staff").slug
        session.commit()
    assert client.get(f"/encuestas/{slug}").status_code == 404
    assert client.get(f"/encuestas/{slug}/embed").status_code == 404


# --- staff survey and its anonymity ---------------------------------------------------------

@pytest.fixture
def staff_survey(database):
    with database() as session:
        department = make_department(session)
        agent = make_user(session, Role.AGENT, [department])
        survey = make_survey(session, kind="staff", demographics=True,
                             title="Diagnóstico interno")
        session.commit()
        return {"id": survey.id, "agent": agent.email, "agent_id": agent.id,
                "fields": [q.field_name for q in survey.questions],
                "options": {o.label: str(o.id) for q in survey.questions for o in q.options}}


def test_staff_member_answers_once_and_anonymously(client, database, staff_survey):
    login(client, staff_survey["agent"])
    index = text_of(client.get("/gestion/encuestas/").get_data(as_text=True))
    assert "Diagnóstico interno — Responder (anónima)" in index
    url = f"/gestion/encuestas/{staff_survey['id']}/responder"
    form = client.get(url).get_data(as_text=True)
    assert "Tus respuestas son anónimas." in text_of(form)
    assert 'id="age_range"' not in form  # no demographic questions for staff

    rating, single, multiple, text = staff_survey["fields"]
    data = {"csrf_token": csrf_token_from(form), rating: "2",
            single: staff_survey["options"]["C"], text: "Falta personal en terreno."}
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert "Ya respondiste" in text_of(client.get("/gestion/encuestas/").get_data(as_text=True))

    again = client.post(url, data=data)
    assert again.status_code == 409
    assert "Se puede responder una sola vez por persona." in text_of(again.get_data(as_text=True))
    with database() as session:
        assert count(session, SurveySubmission) == 1
        assert count(session, SurveyParticipation) == 1
        [submission] = session.scalars(sa.select(SurveySubmission)).all()
        assert submission.submitted_on is None  # no time either


def test_staff_answers_store_no_user_and_no_link_to_the_participation(app, database,
                                                                      staff_survey):
    with database() as session:
        user = session.get(User, staff_survey["agent_id"])
        survey = session.get(Survey, staff_survey["id"])
        answer(session, survey, rating=3, single="A", multiple="XZ",
               text="Falta personal en terreno.", staff_member=user)
        session.commit()

    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in ("survey_submissions", "survey_answers"):
            columns = {c["name"] for c in inspector.get_columns(table)}
            referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
            assert "users" not in referred, table
            assert not any(word in name for name in columns
                           for word in ("user", "staff", "actor", "created", "ip", "_at")), columns
        participation = {c["name"] for c in inspector.get_columns("survey_participations")}
        assert participation == {"survey_id", "user_id"}  # no time, no submission id

    with database() as session:
        user = session.get(User, staff_survey["agent_id"])
        for model in (SurveySubmission, SurveyAnswer):
            for row in session.execute(sa.select(model.__table__)).all():
                text = " ".join(str(value) for value in row).lower()
                assert user.email not in text and user.name.lower() not in text
        ids = [row.id for row in session.scalars(sa.select(SurveyAnswer))]
        assert all(HEX32.match(i) for i in ids)
        [submission] = session.scalars(sa.select(SurveySubmission)).all()
        assert HEX32.match(submission.id)
        assert session.get(SurveyParticipation, (staff_survey["id"], user.id)) is not None


def test_concurrent_second_answer_is_caught_by_the_database(app, database, staff_survey,
                                                            monkeypatch):
    with database() as session:
        user = session.get(User, staff_survey["agent_id"])
        survey = session.get(Survey, staff_survey["id"])
        answer(session, survey, rating=3, single="A", staff_member=user)
        session.commit()
        # As if the check ran in another request before this one committed:
        monkeypatch.setattr(responses, "has_participated", lambda *args: False)
        with pytest.raises(AlreadyAnswered):
            answer(session, survey, rating=1, single="B", staff_member=user)
        session.rollback()
        assert count(session, SurveySubmission) == 1


def test_staff_survey_needs_a_staff_member_and_an_open_survey(session):
    survey = make_survey(session, kind="staff", open_=False)
    user = make_user(session, Role.AGENT, [make_department(session)])
    with pytest.raises(SurveyNotOpen):
        answer(session, survey, rating=3, single="A", staff_member=user)
    survey.opens_at = utcnow()
    with pytest.raises(SurveyNotOpen):
        answer(session, survey, rating=3, single="A")


def test_community_survey_keeps_only_the_day(session):
    # 02:30 UTC is 22:30 or 23:30 of the day before in Chile
    moment = (utcnow() - timedelta(days=1)).replace(hour=2, minute=30)
    survey = make_survey(session, now=moment - timedelta(hours=1))
    submission = answer(session, survey, rating=5, single="A", now=moment)
    assert submission.submitted_on == moment.astimezone(LOCAL_TZ).date()
    assert isinstance(submission.submitted_on, date)


def test_staff_cannot_answer_a_community_survey_through_the_staff_form(client, database,
                                                                       community, staff_survey):
    login(client, staff_survey["agent"])
    assert client.get(f"/gestion/encuestas/{community['id']}/responder").status_code == 404
