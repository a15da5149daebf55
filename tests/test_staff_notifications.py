"""Staff emails: new requests (at once or in a digest), assignment, SLA warning and
breach, each honouring the recipient's "Mis avisos" preferences."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.database import utcnow
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending
from app.notifications.preferences import (
    NewTicketMode,
    StaffNotificationPreference,
    preference_for,
    save_preference,
)
from app.notifications.staff import (
    notify_assigned,
    notify_sla_breach,
    notify_sla_warning,
    send_staff_digests,
)
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.survey_factories import login


def _set(session, user, new_ticket=NewTicketMode.HOURLY, assigned=True, sla_warning=True,
         sla_breach=True, now=None):
    save_preference(session, user, new_ticket=new_ticket, assigned=assigned,
                    sla_warning=sla_warning, sla_breach=sla_breach, now=now)


def _outbox_to(session, recipient: str, template: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.recipient == recipient)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


@pytest.fixture
def team(session):
    """A department with an agent, a supervisor, a manager member, and one inactive agent."""
    department = make_department(session, email="alumbrado@muni.example.cl")
    other = make_department(session)
    category = make_category(session, department)
    agent = make_user(session, Role.AGENT, [department])
    supervisor = make_user(session, Role.SUPERVISOR, [department])
    manager = make_user(session, Role.MANAGER, [department])
    inactive = make_user(session, Role.AGENT, [department])
    inactive.active = False
    outsider = make_user(session, Role.AGENT, [other])
    for user in (agent, supervisor, manager, inactive, outsider):
        user.created_at = utcnow() - timedelta(days=30)  # staff long before the requests
    session.flush()
    return {"department": department, "category": category, "agent": agent,
            "supervisor": supervisor, "manager": manager, "inactive": inactive,
            "outsider": outsider, "other": other}


def test_defaults_are_an_hourly_digest_and_every_other_notice_on(session, team):
    preference = preference_for(session, team["agent"])
    assert preference.new_ticket is NewTicketMode.HOURLY
    assert (preference.assigned, preference.sla_warning, preference.sla_breach) == (
        True, True, True)


def test_new_request_emails_at_once_only_members_who_chose_immediate(session, team):
    for who in ("agent", "inactive", "outsider"):
        _set(session, team[who], NewTicketMode.IMMEDIATE)
    _set(session, team["manager"], NewTicketMode.OFF)

    ticket = make_ticket(session, team["category"])

    recipients = {m.recipient for m in session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "staff_new_ticket"))}
    assert recipients == {team["agent"].email}  # not inactive, not another department
    [message] = _outbox_to(session, team["agent"].email)
    assert ticket.public_number in message.subject
    assert f"http://conectados.test/gestion/solicitudes/{ticket.id}" in message.body_text
    assert "http://conectados.test/gestion/avisos" in message.body_text
    assert message.body_html and 'lang="es-CL"' in message.body_html


def test_staff_member_entering_a_request_is_not_told_about_it(session, team):
    _set(session, team["agent"], NewTicketMode.IMMEDIATE)
    make_ticket(session, team["category"], created_by=team["agent"], consent=False,
                channel=Channel.PHONE)
    assert _outbox_to(session, team["agent"].email, "staff_new_ticket") == []


def test_import_without_notifications_emails_no_staff(session, team):
    _set(session, team["agent"], NewTicketMode.IMMEDIATE)
    make_ticket(session, team["category"], notify=False)
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_digest_lists_new_requests_once_and_never_twice(session, team):
    start = utcnow() - timedelta(hours=5)
    _set(session, team["agent"], NewTicketMode.HOURLY, now=start)
    _set(session, team["supervisor"], NewTicketMode.OFF, now=start)
    _set(session, team["manager"], NewTicketMode.OFF, now=start)
    first = make_ticket(session, team["category"], now=start + timedelta(minutes=10))
    second = make_ticket(session, team["category"], now=start + timedelta(minutes=20))
    elsewhere = make_ticket(session, make_category(session, team["other"]),
                            now=start + timedelta(minutes=30))
    _set(session, team["outsider"], NewTicketMode.HOURLY, now=start)

    assert send_staff_digests(session, start + timedelta(hours=1)) == 2  # agent, outsider
    [other_digest] = _outbox_to(session, team["outsider"].email, "staff_digest")
    assert elsewhere.public_number in other_digest.body_text
    assert first.public_number not in other_digest.body_text
    [digest] = _outbox_to(session, team["agent"].email, "staff_digest")
    assert first.public_number in digest.body_text and second.public_number in digest.body_text
    assert "2 solicitudes nuevas" in digest.subject
    assert digest.body_html and second.public_number in digest.body_html

    # Run again at once, and again an hour later with nothing new: no second email.
    assert send_staff_digests(session, start + timedelta(hours=1, minutes=1)) == 0
    assert send_staff_digests(session, start + timedelta(hours=2)) == 0
    third = make_ticket(session, team["category"], now=start + timedelta(hours=2, minutes=5))
    assert send_staff_digests(session, start + timedelta(hours=3)) == 1  # outsider: none new
    digests = _outbox_to(session, team["agent"].email, "staff_digest")
    assert len(digests) == 2
    assert third.public_number in digests[1].body_text
    assert first.public_number not in digests[1].body_text
    assert session.get(StaffNotificationPreference, team["agent"].id).last_digest_at == (
        start + timedelta(hours=3))


def test_daily_digest_waits_a_day_and_hourly_job_runs_do_not_send_it_early(session, team):
    start = utcnow() - timedelta(days=2)
    _set(session, team["agent"], NewTicketMode.DAILY, now=start)
    ticket = make_ticket(session, team["category"], now=start + timedelta(hours=1))
    for hour in range(2, 20):
        send_staff_digests(session, start + timedelta(hours=hour))
    assert _outbox_to(session, team["agent"].email, "staff_digest") == []
    send_staff_digests(session, start + timedelta(hours=24))
    [digest] = _outbox_to(session, team["agent"].email, "staff_digest")
    assert ticket.public_number in digest.body_text
    assert "1 solicitud nueva" in digest.subject


def test_first_digest_of_a_user_without_saved_preferences_covers_one_period(session, team):
    now = utcnow()
    old = make_ticket(session, team["category"], now=now - timedelta(hours=3))
    recent = make_ticket(session, team["category"], now=now - timedelta(minutes=30))

    assert send_staff_digests(session, now) == 3  # agent, supervisor, manager (defaults)
    [digest] = _outbox_to(session, team["agent"].email, "staff_digest")
    assert recent.public_number in digest.body_text
    assert old.public_number not in digest.body_text
    assert session.get(StaffNotificationPreference, team["agent"].id).last_digest_at == now


def test_immediate_and_off_users_get_no_digest(session, team):
    start = utcnow() - timedelta(hours=2)
    _set(session, team["agent"], NewTicketMode.IMMEDIATE, now=start)
    _set(session, team["supervisor"], NewTicketMode.OFF, now=start)
    make_ticket(session, team["category"], now=start + timedelta(minutes=5))
    send_staff_digests(session, start + timedelta(hours=1))
    assert _outbox_to(session, team["agent"].email, "staff_digest") == []
    assert _outbox_to(session, team["supervisor"].email, "staff_digest") == []


def test_assignment_email_goes_to_the_assignee_unless_they_opted_out(session, team):
    ticket = make_ticket(session, team["category"])
    now = utcnow()
    assert notify_assigned(session, ticket, team["agent"], now=now) == 1
    [message] = _outbox_to(session, team["agent"].email, "staff_assigned")
    assert team["agent"].name in message.body_text
    assert ticket.public_number in message.subject

    _set(session, team["supervisor"], assigned=False)
    assert notify_assigned(session, ticket, team["supervisor"], now=now) == 0
    assert notify_assigned(session, ticket, team["inactive"], now=now) == 0


def test_sla_warning_goes_to_agents_and_supervisors_who_want_it(session, team):
    ticket = make_ticket(session, team["category"])
    ticket.resolution_due_at = utcnow() + timedelta(hours=4)
    _set(session, team["supervisor"], sla_warning=False)

    assert notify_sla_warning(session, ticket, now=utcnow()) == 1
    [message] = _outbox_to(session, team["agent"].email, "staff_sla_warning")
    assert "75%" in message.body_text and "75%" in message.body_html
    assert "Plazo de resolución" in message.body_text
    for who in ("supervisor", "manager", "inactive", "outsider"):
        assert _outbox_to(session, team[who].email, "staff_sla_warning") == []


def test_sla_breach_goes_to_supervisors_only(session, team):
    ticket = make_ticket(session, team["category"])
    assert notify_sla_breach(session, ticket, now=utcnow()) == 1
    [message] = _outbox_to(session, team["supervisor"].email, "staff_sla_breach")
    assert ticket.public_number in message.subject
    assert _outbox_to(session, team["agent"].email, "staff_sla_breach") == []
    assert _outbox_to(session, "alumbrado@muni.example.cl") == []


@pytest.mark.parametrize("supervisor_opted_out", [True, False])
def test_sla_breach_falls_back_to_the_department_address(session, team,
                                                         supervisor_opted_out):
    if supervisor_opted_out:
        _set(session, team["supervisor"], sla_breach=False)
    else:
        team["supervisor"].active = False
    ticket = make_ticket(session, team["category"])
    assert notify_sla_breach(session, ticket, now=utcnow()) == 1
    assert len(_outbox_to(session, "alumbrado@muni.example.cl", "staff_sla_breach")) == 1


def test_sla_breach_without_supervisor_or_address_queues_nothing_and_logs(session, caplog):
    category = make_category(session)
    ticket = make_ticket(session, category)
    assert notify_sla_breach(session, ticket, now=utcnow()) == 0
    assert "has no supervisor or email" in caplog.text


def test_staff_email_is_delivered_as_text_and_html(session, team, smtp_server):
    _set(session, team["agent"], NewTicketMode.IMMEDIATE)
    make_ticket(session, team["category"])
    session.commit()
    deliver_pending(session)
    [received] = [m for m in smtp_server.messages if m["To"] == team["agent"].email]
    assert "Llegó una solicitud nueva" in received.get_body(("plain",)).get_content()
    assert "<h1" in received.get_body(("html",)).get_content()


# --- "Mis avisos" page -------------------------------------------------------------

@pytest.fixture
def agent_email(database):
    with database() as session:
        department = make_department(session)
        user = make_user(session, Role.AGENT, [department])
        session.commit()
        return user.email


def _form(client):
    html = client.get("/gestion/avisos/").get_data(as_text=True)
    return html, csrf_token_from(html)


def test_preferences_page_needs_login(client):
    response = client.get("/gestion/avisos/")
    assert response.status_code == 302 and "/gestion/ingresar" in response.location


def test_preferences_page_shows_defaults_and_saves_choices(client, database, agent_email):
    login(client, agent_email)
    html, token = _form(client)
    assert "Mis avisos" in html
    assert '<input checked id="new_ticket-2" name="new_ticket" type="radio" value="hourly">' \
        in html
    assert '<input checked id="assigned" name="assigned" type="checkbox" value="y">' in html
    assert "<legend>Solicitudes nuevas en mis departamentos</legend>" in html

    response = client.post("/gestion/avisos/", data={
        "csrf_token": token, "new_ticket": "immediate", "sla_warning": "y"})
    assert response.status_code == 302

    with database() as session:
        user_id = session.scalar(sa.text("SELECT id FROM users WHERE email = :e"),
                                 {"e": agent_email})
        saved = session.get(StaffNotificationPreference, user_id)
        assert saved.new_ticket is NewTicketMode.IMMEDIATE
        assert (saved.assigned, saved.sla_warning, saved.sla_breach) == (False, True, False)
    page = client.get("/gestion/avisos/").get_data(as_text=True)
    assert "Guardamos tus preferencias de avisos." in page


@pytest.mark.parametrize("value", ["", "weekly", "IMMEDIATE", "<script>"])
def test_preferences_page_refuses_an_unknown_choice_in_spanish(client, database, agent_email,
                                                               value):
    login(client, agent_email)
    _, token = _form(client)
    response = client.post("/gestion/avisos/", data={
        "csrf_token": token, "new_ticket": value, "assigned": "y"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hay un problema" in html and "Elige una de las opciones." in html
    assert 'href="#new_ticket"' in html
    assert '<input checked id="assigned" name="assigned" type="checkbox" value="y">' in html
    assert 'id="sla_warning"' in html and 'checked id="sla_warning"' not in html
    with database() as session:
        assert session.scalar(sa.select(sa.func.count())
                              .select_from(StaffNotificationPreference)) == 0


def test_preferences_page_refuses_a_post_without_csrf_token(client, database, agent_email):
    login(client, agent_email)
    response = client.post("/gestion/avisos/", data={"new_ticket": "off"})
    assert response.status_code in (400, 422)
    with database() as session:
        assert session.scalar(sa.select(sa.func.count())
                              .select_from(StaffNotificationPreference)) == 0


def test_switching_to_a_digest_starts_it_from_now(session, team):
    earlier = utcnow() - timedelta(hours=3)
    _set(session, team["agent"], NewTicketMode.IMMEDIATE, now=earlier)
    make_ticket(session, team["category"], now=earlier + timedelta(minutes=5))
    switched = earlier + timedelta(hours=1)
    _set(session, team["agent"], NewTicketMode.HOURLY, now=switched)
    assert preference_for(session, team["agent"]).last_digest_at == switched
    send_staff_digests(session, switched + timedelta(hours=1))
    assert _outbox_to(session, team["agent"].email, "staff_digest") == []  # told already


def test_resident_contact_with_no_email_still_notifies_staff(session, team):
    _set(session, team["agent"], NewTicketMode.IMMEDIATE)
    make_ticket(session, team["category"], email=None,
                contact=ResidentContact(name="Rosa", phone="+56 9 1234 5678"))
    assert len(_outbox_to(session, team["agent"].email, "staff_new_ticket")) == 1


def test_unusable_department_address_is_logged_and_does_not_break_the_caller(session,
                                                                           caplog):
    department = make_department(session, email="jefa@muni.cl, otra@muni.cl")
    ticket = make_ticket(session, make_category(session, department))
    assert notify_sla_breach(session, ticket, now=utcnow()) == 0
    assert "unusable address" in caplog.text
    assert _outbox_to(session, "jefa@muni.cl, otra@muni.cl") == []
