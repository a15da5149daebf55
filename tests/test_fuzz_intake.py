"""Property-based fuzzing (hypothesis) of the email parser and of intake.

Whatever arrives, the parser either reads it or says why it cannot
(``MalformedEmail``), email intake records it with an outcome, and the intake
service either creates the request or refuses it field by field
(``ValidationFailed``): no other exception, and nothing half-written.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.catalog.models import Category
from app.channels.email.intake import ingest_message, load_settings
from app.channels.email.models import InboundEmail, InboundSource, InboundStatus
from app.channels.email.parser import MalformedEmail, ParsedEmail, parse_message
from app.domain import ValidationFailed
from app.tickets import intake
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Ticket
from tests.factories import make_category

# Database examples: each runs in a savepoint rolled back afterwards.
# derandomize: CI runs the same examples every time (no flaky finds there);
# to explore new examples, run it locally without derandomize.
DB_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text as people (and broken systems) write it: any character but surrogates.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
HEADER_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=120)
# Long enough to be a request, with arbitrary text mixed in half of the time.
PROSE = st.from_regex(r"[A-Za-zÁÉÍÓÚÑáéíóúñ0-9][A-Za-zÁÉÍÓÚÑáéíóúñ0-9 ,.]{19,199}",
                      fullmatch=True)
BODY = st.one_of(ANY_TEXT, PROSE, st.tuples(PROSE, ANY_TEXT).map(" ".join))


def _message(sender: str, name: str, subject: str, body: str, charset: str) -> bytes:
    message = EmailMessage()
    message["From"] = f'"{name}" <{sender}>' if name else sender
    message["To"] = "solicitudes@muni.example"
    message["Subject"] = subject
    message["Message-ID"] = "<fuzz@example.cl>"
    message.set_content(body, charset=charset)
    return message.as_bytes()


@given(st.binary(max_size=3000))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_parser_reads_or_refuses_any_bytes(raw):
    try:
        parsed = parse_message(raw)
    except MalformedEmail as error:
        assert error.reason
    else:
        assert isinstance(parsed, ParsedEmail)
        assert isinstance(parsed.text, str) and isinstance(parsed.subject, str)


@given(subject=HEADER_TEXT, body=ANY_TEXT, name=HEADER_TEXT.filter(lambda n: '"' not in n),
       charset=st.sampled_from(["utf-8", "iso-8859-1", "us-ascii"]))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_parser_keeps_the_sender_and_the_words_of_any_well_formed_message(
        subject, body, name, charset):
    try:
        raw = _message("vecina@example.cl", name.replace("\\", ""), subject, body, charset)
    except (UnicodeEncodeError, ValueError):
        raw = _message("vecina@example.cl", "", subject, body, "utf-8")
    parsed = parse_message(raw)
    assert parsed.sender == "vecina@example.cl"
    assert "\x00" not in parsed.full_text
    # Every word of the body is still there (whitespace and line ends may change).
    for word in body.split()[:20]:
        if word.isalnum():
            assert word in parsed.full_text, (word, parsed.full_text)


@pytest.fixture
def email_settings(session, app):
    category = make_category(session, name="Alumbrado público")
    session.commit()
    return load_settings(session, {**app.config, "EMAIL_DEFAULT_CATEGORY": category.slug,
                                   "EMAIL_MAX_PER_SENDER_PER_HOUR": 1000})


@given(raw=st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda n, s, b: _message("vecino@example.cl", n, s, b, "utf-8"),
              st.sampled_from(["", "Rosa Pérez", "José Muñoz Ñúñez"]), HEADER_TEXT, BODY)))
@DB_SETTINGS
def test_email_intake_records_every_message_with_an_outcome(session, email_settings, raw):
    savepoint = session.begin_nested()
    try:
        before = session.scalar(sa.select(sa.func.count()).select_from(InboundEmail))
        outcome = ingest_message(session, raw, settings=email_settings,
                                 source=InboundSource.PIPE)
        event(f"email: {outcome.status.value}")
        assert isinstance(outcome.status, InboundStatus)
        assert outcome.inbound.raw == raw
        after = session.scalar(sa.select(sa.func.count()).select_from(InboundEmail))
        assert after == before + 1  # no earlier message is the same
        if outcome.status is InboundStatus.MALFORMED:
            assert outcome.ticket is None and outcome.reason
    finally:
        savepoint.rollback()


@pytest.fixture
def category_id(session):
    category = make_category(session, name="Microbasural")
    session.commit()
    return category.id


@given(description=BODY, name=ANY_TEXT, email=st.one_of(st.none(), st.emails(), ANY_TEXT),
       rut=st.one_of(st.none(), st.sampled_from(["12.345.678-5", "11111111-1"]), ANY_TEXT),
       address=st.one_of(st.none(), ANY_TEXT))
@DB_SETTINGS
def test_intake_creates_the_request_or_refuses_it_field_by_field(
        session, category_id, description, name, email, rut, address):
    savepoint = session.begin_nested()
    try:
        before = session.scalar(sa.select(sa.func.count()).select_from(Ticket))
        try:
            ticket = intake.submit(
                session, category=session.get(Category, category_id),
                description=description, channel=Channel.WEB,
                contact=ResidentContact(name=name or None, email=email, rut=rut),
                consent=True, address=address)
        except ValidationFailed as refusal:
            event(f"refused: {sorted(refusal.field_errors)}")
            assert refusal.field_errors and all(refusal.field_errors.values())
            assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == before
            return
        event("created")
        assert ticket.id is not None and ticket.tracking_code
        assert ticket.description == description.strip()
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == before + 1
    finally:
        savepoint.rollback()
