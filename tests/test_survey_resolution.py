"""The survey after resolution: the signed single-use link, expiry, tampering,
one answer per request, reopening and flagging, the reminder job, and what
staff see. HTTP tests set data up in short app contexts (``database``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.database import utcnow
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending
from app.scheduler import register_jobs
from app.surveys import invitations
from app.surveys.invitations import TOKEN_SALT, Availability, SurveyUnavailable, make_token
from app.surveys.models import ResolutionSurvey, ResolvedAnswer
from app.surveys.resolution import ResolutionAnswer, answer_survey, send_reminders
from app.tickets import lifecycle
from app.tickets.models import ActorKind, EventKind, EventVisibility, Status, Ticket, TicketEvent
from tests.conftest import csrf_token_from
from tests.factories import make_department, make_ticket, make_user
from tests.pages import count, error_summary, status_badge, text_of
from tests.survey_factories import login, resolve, resolved_request

LINK_RE = re.compile(r"http://conectados\.test(/encuesta/[\w.-]+)")
FLAG_SUBJECT = "Encuesta con respuesta negativa"


def survey_path(survey: ResolutionSurvey) -> str:
    return f"/encuesta/{make_token(survey)}"


@pytest.fixture
def resolved(database):
    """A resolved web request with email, its department's agent and supervisor."""
    with database() as session:
        made = resolved_request(session)
        session.commit()
        return {"ticket_id": made.ticket.id, "survey_id": made.survey.id,
                "path": survey_path(made.survey), "code": made.ticket.formatted_tracking_code,
                "agent": made.agent.email, "supervisor": made.supervisor.email}


def post_answer(client, path: str, **fields):
    html = client.get(path).get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html)}
    data.update({k: v for k, v in fields.items() if v is not None})
    return client.post(path, data=data)


def outbox_to(session, recipient: str) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage)
                                .where(OutboxMessage.recipient == recipient)
                                .order_by(OutboxMessage.id)))


# --- invitation and link --------------------------------------------------------------------

def test_resolving_opens_the_survey_and_the_email_carries_its_link(session, smtp_server):
    made = resolved_request(session)
    survey = made.survey
    assert survey is not None and not survey.answered
    assert survey.expires_at - survey.invited_at == timedelta(days=30)
    assert survey.emailed_at == survey.invited_at

    session.commit()
    deliver_pending(session)
    [email] = [m for m in smtp_server.messages if "Resuelta" in m["Subject"]]
    body = email.get_body(("plain",)).get_content()
    link = LINK_RE.search(body)
    assert link, body
    assert link.group(1) == survey_path(survey)
    assert "¿Se resolvió tu solicitud?" in body and "vence el" in body


def test_link_validity_follows_the_setting(app, session):
    app.config["SURVEY_LINK_DAYS"] = 7
    try:
        survey = resolved_request(session).survey
    finally:
        app.config["SURVEY_LINK_DAYS"] = 30
    assert survey.expires_at - survey.invited_at == timedelta(days=7)


def test_resolution_hidden_from_resident_opens_survey_without_email(session):
    department = make_department(session)
    made = resolved_request(session, department=department)
    ticket = make_ticket(session, made.ticket.category, notify=False)
    survey = resolve(session, ticket, made.agent, visible=False)
    assert survey is not None and survey.emailed_at is None
    assert not any("encuesta" in m.body_text for m in outbox_to(session, "vecina@example.cl")
                   if m.ticket_id == ticket.id)


def test_status_page_shows_the_survey_while_it_is_open(client, database, resolved):
    page = client.get(f"/seguimiento/{resolved['code']}").get_data(as_text=True)
    assert f'href="{resolved["path"]}"' in page
    assert "Responder la encuesta" in text_of(page)

    post_answer(client, resolved["path"], resolved="yes", rating="5")
    page = text_of(client.get(f"/seguimiento/{resolved['code']}").get_data(as_text=True))
    assert "Responder la encuesta" not in page
    assert "Gracias por responder la encuesta de satisfacción." in page


def test_status_page_hides_an_expired_survey(client, database, resolved):
    with database() as session:
        survey = session.get(ResolutionSurvey, resolved["survey_id"])
        survey.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    page = client.get(f"/seguimiento/{resolved['code']}").get_data(as_text=True)
    assert "/encuesta/" not in page


# --- answering once -------------------------------------------------------------------------

def test_resident_answers_without_login_and_staff_see_the_answer(client, database, resolved):
    form = client.get(resolved["path"])
    assert form.status_code == 200
    assert "¿Se resolvió tu solicitud?" in text_of(form.get_data(as_text=True))

    response = post_answer(client, resolved["path"], resolved="partly", rating="4",
                           courtesy_rating="5", time_rating="3",
                           comment="Falta retirar un colchón.")
    assert response.status_code == 302
    assert response.headers["Location"] == resolved["path"] + "/gracias"
    thanks = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "¡Gracias por responder!" in thanks

    with database() as session:
        survey = session.get(ResolutionSurvey, resolved["survey_id"])
        assert (survey.resolved_answer, survey.rating, survey.courtesy_rating,
                survey.time_rating) == (ResolvedAnswer.PARTLY, 4, 5, 3)
        assert survey.comment == "Falta retirar un colchón."
        assert survey.responded_at is not None and not survey.flagged
        event = session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.SURVEY_ANSWERED))
        assert event.visibility is EventVisibility.INTERNAL
        assert event.actor_kind is ActorKind.RESIDENT and event.actor_id is None

    login(client, resolved["agent"])
    page = text_of(client.get(f"/gestion/solicitudes/{resolved['ticket_id']}")
                   .get_data(as_text=True))
    assert "Encuesta de satisfacción" in page
    assert "¿Se resolvió? En parte" in page
    assert "Satisfacción 4 de 5" in page and "Trato 5 de 5" in page and "Tiempo 3 de 5" in page
    assert "Falta retirar un colchón." in page
    assert "Respuesta a la encuesta de satisfacción" in page  # timeline


def test_second_submission_is_refused_with_a_clear_message(client, database, resolved):
    html = client.get(resolved["path"]).get_data(as_text=True)
    token = csrf_token_from(html)
    first = client.post(resolved["path"], data={"csrf_token": token, "resolved": "yes",
                                                "rating": "5"})
    assert first.status_code == 302

    again = client.post(resolved["path"], data={"csrf_token": token, "resolved": "no",
                                                "rating": "1", "reopen": "y"})
    assert again.status_code == 409
    page = text_of(again.get_data(as_text=True))
    assert "Ya respondiste esta encuesta" in page
    assert "Solo se puede responder una vez por solicitud." in page
    assert client.get(resolved["path"]).status_code == 409
    with database() as session:
        survey = session.get(ResolutionSurvey, resolved["survey_id"])
        assert (survey.resolved_answer, survey.rating) == (ResolvedAnswer.YES, 5)
        assert session.get(Ticket, resolved["ticket_id"]).status is Status.RESOLVED
        assert count(session, sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.SURVEY_ANSWERED).subquery()) == 1


def test_of_two_racing_answers_only_the_first_is_stored(app, database, resolved):
    with app.app_context():
        other = Session(db.engine)
        try:
            stale = other.get(ResolutionSurvey, resolved["survey_id"])
            assert not stale.answered  # loaded before the first answer is committed
            with database() as session:
                answer_survey(session, session.get(ResolutionSurvey, resolved["survey_id"]),
                              ResolutionAnswer(resolved="yes", rating=5))
                session.commit()
            with pytest.raises(SurveyUnavailable) as raised:
                answer_survey(other, stale, ResolutionAnswer(resolved="no", rating=1))
            assert raised.value.availability is Availability.ANSWERED
            other.rollback()
        finally:
            other.close()
    with database() as session:
        assert session.get(ResolutionSurvey, resolved["survey_id"]).rating == 5


@pytest.mark.parametrize("fields, errors", [
    ({}, {"resolved", "rating"}),
    ({"resolved": "maybe", "rating": "3"}, {"resolved"}),
    ({"resolved": "yes", "rating": "9"}, {"rating"}),
    ({"resolved": "yes", "rating": "4", "courtesy_rating": "0"}, {"courtesy_rating"}),
    ({"resolved": "yes", "rating": "4", "comment": "x" * 2001}, {"comment"}),
    ({"resolved": "partly", "rating": "3", "reopen": "y"}, {"reopen"}),
])
def test_invalid_answers_are_refused_field_by_field_and_kept(client, database, resolved,
                                                             fields, errors):
    response = post_answer(client, resolved["path"], **{"comment": "Mi comentario", **fields})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = error_summary(html)
    assert {m for m in re.findall(r'href="#([\w_]+)"', summary)} == errors
    if "comment" not in fields:
        assert "Mi comentario</textarea>" in html
    if fields.get("resolved") == "partly":
        assert 'id="resolved-2" name="resolved" value="partly" checked' in html
    with database() as session:
        assert not session.get(ResolutionSurvey, resolved["survey_id"]).answered


# --- expiry and tampering -------------------------------------------------------------------

def test_expired_link_is_refused_with_its_date(client, database, resolved):
    with database() as session:
        survey = session.get(ResolutionSurvey, resolved["survey_id"])
        survey.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    response = client.get(resolved["path"])
    assert response.status_code == 410
    page = text_of(response.get_data(as_text=True))
    assert "Este enlace venció el" in page and "ya no recibe respuestas" in page


def test_answer_after_expiry_is_refused_by_the_service(session):
    survey = resolved_request(session).survey
    with pytest.raises(SurveyUnavailable) as raised:
        answer_survey(session, survey, ResolutionAnswer(resolved="yes", rating=5),
                      now=survey.expires_at)
    assert raised.value.availability is Availability.EXPIRED
    assert not survey.answered


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


@pytest.mark.parametrize("tamper", [
    "signature_changed", "payload_changed", "truncated", "other_secret", "wrong_nonce",
    "unknown_survey", "not_a_token",
])
def test_tampered_link_is_refused(app, client, database, resolved, tamper):
    token = resolved["path"].removeprefix("/encuesta/")
    payload, signature = token.rsplit(".", 1)
    with app.app_context():
        signer = URLSafeSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT)
        forged = {
            "signature_changed": f"{payload}.{_flip(signature, 3)}",
            "payload_changed": f"{_flip(payload, 3)}.{signature}",
            "truncated": token[:-4],
            "other_secret": URLSafeSerializer("not-our-secret", salt=TOKEN_SALT).dumps(
                [resolved["survey_id"], "x"]),
            "wrong_nonce": signer.dumps([resolved["survey_id"], "0" * 24]),
            "unknown_survey": signer.dumps([resolved["survey_id"] + 1000, "0" * 24]),
            "not_a_token": "hola",
        }[tamper]
    csrf = csrf_token_from(client.get(resolved["path"]).get_data(as_text=True))
    for response in (client.get(f"/encuesta/{forged}"),
                     client.post(f"/encuesta/{forged}", data={
                         "csrf_token": csrf, "resolved": "yes", "rating": "5"})):
        assert response.status_code == 404
        assert "Este enlace de encuesta no es válido" in text_of(response.get_data(as_text=True))
    with database() as session:
        assert not session.get(ResolutionSurvey, resolved["survey_id"]).answered


def test_token_is_stable_and_carries_no_personal_data(session):
    made = resolved_request(session)
    token = make_token(made.survey)
    assert token == make_token(made.survey)
    assert invitations.survey_from_token(session, token) is made.survey
    assert "vecina" not in token and made.ticket.tracking_code not in token


# --- reopening and flagging -----------------------------------------------------------------

def test_no_with_reopen_reopens_through_lifecycle_and_flags_supervisor(client, database,
                                                                       resolved):
    response = post_answer(client, resolved["path"], resolved="no", rating="2",
                           comment="Siguen ahí los escombros.", reopen="y")
    assert response.status_code == 302
    thanks = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Reabrimos tu solicitud" in thanks

    with database() as session:
        ticket = session.get(Ticket, resolved["ticket_id"])
        assert ticket.status is Status.IN_PROGRESS and ticket.resolved_at is None
        move = ticket.events[-1]
        assert (move.kind, move.from_status, move.to_status) == (
            EventKind.STATUS_CHANGED, Status.RESOLVED, Status.IN_PROGRESS)
        assert move.actor_kind is ActorKind.RESIDENT and move.actor_id is None
        assert move.visibility is EventVisibility.PUBLIC
        survey = session.get(ResolutionSurvey, resolved["survey_id"])
        assert survey.reopen_requested and survey.reopened and survey.flagged
        [flag] = outbox_to(session, resolved["supervisor"])
        assert flag.subject.startswith(FLAG_SUBJECT)
        assert "Siguen ahí los escombros." in flag.body_text
        assert "quedó otra vez «En gestión»" in flag.body_text
        assert f"/gestion/solicitudes/{ticket.id}" in flag.body_text
    assert status_badge(client.get(f"/seguimiento/{resolved['code']}")
                        .get_data(as_text=True))[0] == "in_progress"


def test_low_rating_without_reopen_flags_but_stays_resolved(session):
    made = resolved_request(session)
    outcome = answer_survey(session, made.survey, ResolutionAnswer(resolved="yes", rating=1))
    assert outcome.flagged and not outcome.reopened
    assert made.ticket.status is Status.RESOLVED
    assert [m.subject for m in outbox_to(session, made.supervisor.email)] == [
        f"{FLAG_SUBJECT}: solicitud {made.ticket.public_number}"]


@pytest.mark.parametrize("resolved_answer, rating", [("yes", 5), ("partly", 3), ("yes", 3)])
def test_content_answers_neither_flag_nor_reopen(session, resolved_answer, rating):
    made = resolved_request(session)
    outcome = answer_survey(session, made.survey,
                            ResolutionAnswer(resolved=resolved_answer, rating=rating))
    assert not outcome.flagged and not made.survey.flagged
    assert outbox_to(session, made.supervisor.email) == []


def test_closed_request_cannot_reopen_but_is_still_flagged(client, database, resolved):
    with database() as session:
        ticket = session.get(Ticket, resolved["ticket_id"])
        lifecycle.transition(session, ticket, Status.CLOSED, actor=None, notify=False)
        session.commit()
    form = client.get(resolved["path"]).get_data(as_text=True)
    assert 'name="reopen"' not in form  # not offered

    with database() as session:  # and if it were asked (a race with the closing):
        survey = session.get(ResolutionSurvey, resolved["survey_id"])
        outcome = answer_survey(session, survey, ResolutionAnswer(
            resolved="no", rating=1, reopen=True))
        session.commit()
        assert outcome.reopen_refused and not outcome.reopened and outcome.flagged
        assert survey.ticket.status is Status.CLOSED
    thanks = text_of(client.get(resolved["path"] + "/gracias").get_data(as_text=True))
    assert "No pudimos reabrir tu solicitud porque ya está cerrada." in thanks


def test_flag_goes_to_department_address_without_supervisor(session):
    department = make_department(session, email="obras@muni.example.cl")
    made = resolved_request(session, department=department, supervisor=False)
    answer_survey(session, made.survey, ResolutionAnswer(resolved="no", rating=3))
    assert len(outbox_to(session, "obras@muni.example.cl")) == 1


def test_inactive_supervisors_are_not_flagged(session):
    made = resolved_request(session)
    made.supervisor.active = False
    other = make_user(session, Role.SUPERVISOR, [made.ticket.department])
    answer_survey(session, made.survey, ResolutionAnswer(resolved="no", rating=3))
    assert outbox_to(session, made.supervisor.email) == []
    assert len(outbox_to(session, other.email)) == 1


# --- one survey per request -----------------------------------------------------------------

def test_survey_of_a_request_reopened_by_staff_waits_for_the_next_resolution(client, database,
                                                                            resolved):
    with database() as session:
        ticket = session.get(Ticket, resolved["ticket_id"])
        agent = ticket.events[-1].actor
        lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent, notify=False)
        session.commit()
    response = client.get(resolved["path"])
    assert response.status_code == 409
    assert "Tu solicitud se reabrió" in text_of(response.get_data(as_text=True))

    with database() as session:
        ticket = session.get(Ticket, resolved["ticket_id"])
        before = ticket.resolution_survey.expires_at
        later = utcnow() + timedelta(days=5)
        survey = resolve(session, ticket, ticket.events[-1].actor, now=later)
        session.commit()
        assert survey.id == resolved["survey_id"]  # the same survey, renewed
        assert survey.expires_at == later + timedelta(days=30) > before
        assert count(session, ResolutionSurvey) == 1
    assert client.get(resolved["path"]).status_code == 200  # the same link works again


def test_answered_request_gets_no_second_survey_when_resolved_again(session):
    made = resolved_request(session)
    answer_survey(session, made.survey, ResolutionAnswer(resolved="no", rating=2, reopen=True))
    assert made.ticket.status is Status.IN_PROGRESS
    session.query(OutboxMessage).delete()

    assert resolve(session, made.ticket, made.agent).answered
    assert count(session, ResolutionSurvey) == 1
    [email] = outbox_to(session, "vecina@example.cl")
    assert "/encuesta/" not in email.body_text


def test_request_without_email_still_gets_a_survey_on_its_status_page(session):
    made = resolved_request(session, email=None)
    assert made.survey is not None and made.survey.emailed_at is None


# --- the reminder ---------------------------------------------------------------------------

def test_reminder_is_sent_once_after_the_configured_days(session, smtp_server):
    start = utcnow() - timedelta(days=10)
    made = resolved_request(session, now=start)
    session.commit()

    assert send_reminders(session, now=start + timedelta(days=2, hours=23)) == 0
    assert send_reminders(session, now=start + timedelta(days=3)) == 1
    assert send_reminders(session, now=start + timedelta(days=4)) == 0  # once
    session.commit()
    assert made.survey.reminder_sent_at == start + timedelta(days=3)

    deliver_pending(session, now=start + timedelta(days=4))
    [reminder] = [m for m in smtp_server.messages if m["Subject"].startswith("¿Se resolvió")]
    assert reminder["To"] == "vecina@example.cl"
    body = reminder.get_body(("plain",)).get_content()
    assert LINK_RE.search(body).group(1) == survey_path(made.survey)
    assert "único recordatorio" in body


@pytest.mark.parametrize("case", ["answered", "expired", "not_emailed", "reopened",
                                  "no_email"])
def test_no_reminder_when_it_would_make_no_sense(session, case):
    start = utcnow() - timedelta(days=40)
    made = resolved_request(session, now=start, email=None if case == "no_email"
                            else "vecina@example.cl", notify=case != "not_emailed")
    survey = made.survey
    when = start + timedelta(days=5)
    if case == "answered":
        answer_survey(session, survey, ResolutionAnswer(resolved="yes", rating=5),
                      now=start + timedelta(days=1))
    elif case == "expired":
        when = start + timedelta(days=31)
    elif case == "reopened":
        lifecycle.transition(session, made.ticket, Status.IN_PROGRESS, actor=made.agent,
                             notify=False, now=start + timedelta(days=1))
    assert send_reminders(session, now=when) == 0
    assert survey.reminder_sent_at is None


def test_reminder_days_follow_the_setting(app, session):
    start = utcnow() - timedelta(days=10)
    resolved_request(session, now=start)
    app.config["SURVEY_REMINDER_DAYS"] = 7
    try:
        assert send_reminders(session, now=start + timedelta(days=6)) == 0
        assert send_reminders(session, now=start + timedelta(days=7)) == 1
    finally:
        app.config["SURVEY_REMINDER_DAYS"] = 3


def test_reminder_job_is_registered_in_the_scheduler(app):
    scheduler = BackgroundScheduler(timezone="UTC")
    register_jobs(scheduler, app)
    job = scheduler.get_job("survey-reminders")
    assert job is not None
    assert job.trigger.interval == timedelta(seconds=app.config["SURVEY_REMINDER_INTERVAL_SECONDS"])


def test_remind_command_queues_and_reports(runner, database):
    with database() as session:
        resolved_request(session, now=utcnow() - timedelta(days=4))
        session.commit()
    result = runner.invoke(args=["surveys", "remind"])
    assert result.exit_code == 0, result.output
    assert "Survey reminders queued: 1" in result.output
    result = runner.invoke(args=["surveys", "remind"])
    assert "Survey reminders queued: 0" in result.output
