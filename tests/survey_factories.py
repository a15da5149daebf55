"""Survey test data, built through the same services the app uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Department
from app.surveys import builder
from app.surveys.models import ResolutionSurvey, Survey
from app.surveys.responses import Demographics, submit_response
from app.tickets import lifecycle
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Status, Ticket
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user


def login(client, email: str, password: str = PASSWORD):
    """Log in through the real form."""
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    response = client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": password})
    assert response.status_code == 302, "login failed"
    return response


@dataclass
class Resolved:
    ticket: Ticket
    survey: ResolutionSurvey
    agent: User
    supervisor: User | None


def resolve(session: Session, ticket: Ticket, agent: User, *, now: datetime | None = None,
            notify: bool = True, visible: bool = True) -> ResolutionSurvey | None:
    """Move a request to in progress (if needed) and then to resolved, as ``agent``."""
    if ticket.status is not Status.IN_PROGRESS:
        lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent, now=now,
                             notify=False)
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=agent, now=now,
                         notify=notify, visible_to_resident=visible,
                         note="Retiramos los escombros.")
    return ticket.resolution_survey


def resolved_request(session: Session, *, department: Department | None = None,
                     supervisor: bool = True, email: str | None = "vecina@example.cl",
                     channel: Channel = Channel.WEB, now: datetime | None = None,
                     notify: bool = True) -> Resolved:
    """A request of a department with an agent (and a supervisor), resolved."""
    department = department or make_department(session, name="Aseo y Ornato")
    category = make_category(session, department, name="Retiro de escombros")
    agent = make_user(session, Role.AGENT, [department])
    boss = make_user(session, Role.SUPERVISOR, [department]) if supervisor else None
    created = now - timedelta(days=2) if now else None
    contact = None if email else ResidentContact(name="Rosa Pérez", phone="+56 9 1234 5678")
    ticket = make_ticket(session, category, email=email, notify=False, channel=channel,
                         now=created, **({"contact": contact} if contact else {}))
    survey = resolve(session, ticket, agent, now=now, notify=notify)
    return Resolved(ticket=ticket, survey=survey, agent=agent, supervisor=boss)


def make_survey(session: Session, *, kind: str = "community", demographics: bool = True,
                title: str = "Diagnóstico de canales", now: datetime | None = None,
                open_: bool = True) -> Survey:
    """A survey with a rating (1-5, required), a single choice (A, B, C, required),
    a multiple choice (X, Y, Z) and a free text question."""
    survey = builder.create_survey(session, builder.SurveyInput(
        title=title, kind=kind, ask_demographics=demographics), created_by=None, now=now)
    builder.add_question(session, survey, builder.QuestionInput(
        kind="rating", prompt="¿Qué tan satisfecho/a estás?", required=True, scale_max=5,
        low_label="Nada", high_label="Mucho"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="single", prompt="¿Qué canal prefieres?", required=True, options="A\nB\nC"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="multiple", prompt="¿Qué te ha costado?", options="X\nY\nZ"))
    builder.add_question(session, survey, builder.QuestionInput(
        kind="text", prompt="¿Qué mejorarías?"))
    if open_:
        builder.publish_now(session, survey, now=(now or survey.created_at)
                            - timedelta(minutes=1))
    return survey


def answer(session: Session, survey: Survey, *, rating: int | None, single: str | None,
           multiple: str = "", text: str = "", age: str | None = None,
           disability: str | None = None, staff_member: User | None = None,
           now: datetime | None = None):
    """Answer ``make_survey``'s questions by option label (``multiple`` like "XY")."""
    rating_q, single_q, multiple_q, text_q = survey.questions
    by_label = {o.label: str(o.id) for q in (single_q, multiple_q) for o in q.options}
    raw = {
        rating_q.field_name: [str(rating)] if rating else [],
        single_q.field_name: [by_label[single]] if single else [],
        multiple_q.field_name: [by_label[c] for c in multiple],
        text_q.field_name: [text],
    }
    return submit_response(session, survey, raw, staff_member=staff_member, now=now,
                           demographics=Demographics(age_range=age, disability=disability))


# The hand-checked set of tests/test_survey_results.py:
# (age range, disability, rating, single choice, multiple choice, text)
SEEDED_ANSWERS = [
    ("18-29", "yes", 5, "A", "XY", "bien"),
    ("18-29", "no", 4, "A", "X", ""),
    ("18-29", "no", 4, "B", "", ""),
    ("18-29", "no", 3, "A", "Y", ""),
    ("18-29", "no", 5, "B", "XZ", "rápido"),
    ("30-44", "no", 2, "C", "Z", ""),
    ("30-44", "yes", 1, "C", "YZ", ""),
    ("30-44", "no", 3, "B", "", ""),
    ("30-44", "no", 4, "A", "X", ""),
    ("30-44", "no", 5, "A", "XYZ", ""),
    ("60+", "no", 2, "C", "Y", ""),
    (None, None, 3, "B", "X", "=HYPERLINK(\"http://malo\")"),
]


def seeded_survey(session: Session) -> Survey:
    """``make_survey`` answered with ``SEEDED_ANSWERS``."""
    survey = make_survey(session)
    for age, disability, rating, single, multiple, text in SEEDED_ANSWERS:
        answer(session, survey, rating=rating, single=single, multiple=multiple, text=text,
               age=age, disability=disability)
    return survey
