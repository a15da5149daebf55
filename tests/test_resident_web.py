"""The resident's journey through the web pages, with the Flask test client.

Data is set up and inspected inside short app contexts (the ``database``
fixture) and every client request runs outside them, as in production: Flask
3.1 reuses an already pushed app context for requests, which would share ``g``
(Flask-Login's user, Flask-WTF's CSRF token) and the SQLAlchemy session between
requests.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from markupsafe import escape

from app.accounts.models import Role
from app.notifications.models import OutboxMessage
from app.tickets import lifecycle, timeline
from app.tickets.models import Status, Ticket
from app.tickets.tracking import ALPHABET, format_code, generate_code
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.pages import count, error_summary, status_badge, text_of

SUBMIT_URL = "/solicitudes/nueva"
TRACK_URL = "/seguimiento"
PUBLIC_NUMBER_RE = re.compile(r"\b(\d{4}-\d{6})\b")
TRACKING_CODE_RE = re.compile(r'id="tracking-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<')
DESCRIPTION = "El poste de luz de la esquina está apagado desde el lunes."
EMAIL = "rosa.perez@example.cl"











def form_data(category_id: int | str, **overrides: str | None) -> dict[str, str]:
    """A valid submission; an override of None leaves the field out."""
    data = {
        "category": str(category_id),
        "description": DESCRIPTION,
        "address": "Av. Grecia 8735",
        "macrosector": "",
        "name": "Rosa Pérez",
        "email": EMAIL,
        "phone": "+56 9 1234 5678",
        "rut": "12.345.678-5",
        "consent": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post_submission(client, data: dict[str, str]):
    html = client.get(SUBMIT_URL).get_data(as_text=True)
    return client.post(SUBMIT_URL, data={"csrf_token": csrf_token_from(html), **data})


def post_tracking_code(client, code: str):
    html = client.get(TRACK_URL).get_data(as_text=True)
    return client.post(TRACK_URL, data={"csrf_token": csrf_token_from(html), "code": code})


@pytest.fixture
def category_id(database) -> int:
    with database() as session:
        department = make_department(session, name="Obras Municipales")
        category = make_category(session, department, name="Luminaria apagada")
        session.commit()
        return category.id


# --- home and form -------------------------------------------------------------


def test_home_lists_active_categories_grouped_by_department(client, database):
    with database() as session:
        obras = make_department(session, name="Obras Municipales")
        lamp = make_category(session, obras, name="Luminaria apagada")
        make_category(session, obras, name="Bache antiguo", active=False)
        closed = make_department(session, name="Oficina Cerrada", active=False)
        make_category(session, closed, name="Tema de oficina cerrada")
        session.commit()
        lamp_slug = lamp.slug

    response = client.get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Obras Municipales" in text_of(html)
    assert f'href="/solicitudes/nueva?categoria={lamp_slug}">Luminaria apagada</a>' in html
    assert "Bache antiguo" not in html
    assert "Tema de oficina cerrada" not in html
    assert "Oficina Cerrada" not in html


def test_home_without_categories_says_so(client, app):
    html = client.get("/").get_data(as_text=True)
    assert "Todavía no hay temas disponibles." in html


def test_submission_form_offers_active_categories_only(client, database):
    with database() as session:
        department = make_department(session, name="Aseo y Ornato")
        active = make_category(session, department, name="Microbasural")
        retired = make_category(session, department, name="Retiro de ramas", active=False)
        session.commit()
        active_id, retired_id = active.id, retired.id

    response = client.get(SUBMIT_URL)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hacer una solicitud" in text_of(html)
    assert f'<option value="{active_id}">Microbasural (Aseo y Ornato)</option>' in html
    assert f'value="{retired_id}"' not in html
    assert "Retiro de ramas" not in html
    assert csrf_token_from(html)


def test_submission_form_preselects_category_from_link(client, database):
    with database() as session:
        category = make_category(session, name="Semáforo en mal estado")
        session.commit()
        chosen, slug = category.id, category.slug

    html = client.get(SUBMIT_URL, query_string={"categoria": slug}).get_data(as_text=True)

    assert f'<option selected value="{chosen}">' in html


# --- a valid submission ----------------------------------------------------------


def test_valid_submission_redirects_to_confirmation_with_number_and_code(
        client, database, category_id):
    response = post_submission(client, form_data(category_id))

    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.fullmatch(r"/solicitudes/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/recibida", location)

    page = client.get(location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Recibimos tu solicitud" in html
    number = PUBLIC_NUMBER_RE.search(html).group(1)
    code = TRACKING_CODE_RE.search(html).group(1)
    assert location == f"/solicitudes/{code}/recibida"
    assert f"También te lo enviamos a {EMAIL}." in html
    assert "Obras Municipales" in html

    with database() as session:
        ticket = session.scalar(sa.select(Ticket))
        assert ticket.public_number == number
        assert ticket.formatted_tracking_code == code
        assert ticket.status is Status.RECEIVED
        assert ticket.description == DESCRIPTION
        assert ticket.contact_email == EMAIL
        assert ticket.contact_rut == "12345678-5"
        assert ticket.consent_at is not None


def test_valid_submission_queues_confirmation_email_with_tracking_code(
        client, database, category_id):
    response = post_submission(client, form_data(category_id))
    assert response.status_code == 302

    with database() as session:
        ticket = session.scalar(sa.select(Ticket))
        messages = session.scalars(sa.select(OutboxMessage)).all()
        assert len(messages) == 1
        message = messages[0]
        assert message.recipient == EMAIL
        assert message.ticket_id == ticket.id
        assert ticket.public_number in message.subject
        assert ticket.formatted_tracking_code in message.body_text
        assert (f"http://conectados.test/seguimiento/{ticket.formatted_tracking_code}"
                in message.body_text)


def test_anonymous_submission_is_accepted_when_category_allows_it(client, database):
    with database() as session:
        category = make_category(session, name="Ruidos molestos", allows_anonymous=True)
        session.commit()
        chosen = category.id

    response = post_submission(client, form_data(chosen, name="", email="", phone="", rut=""))

    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert TRACKING_CODE_RE.search(html)
    assert "También te lo enviamos" not in html
    with database() as session:
        ticket = session.scalar(sa.select(Ticket))
        assert ticket.contact_name is None
        assert ticket.contact_email is None
        assert ticket.contact_phone is None
        assert count(session, OutboxMessage) == 0  # nobody to write to


# --- bad input -------------------------------------------------------------------

LONG_DESCRIPTION = "Hay un bache enorme frente al colegio. " * 110  # 4180 characters
assert len(LONG_DESCRIPTION.strip()) > 4000


@pytest.mark.parametrize(
    ("overrides", "message", "invalid_field", "echoed"),
    [
        pytest.param({"description": ""},
                     "Describe tu solicitud en al menos 10 caracteres.", "description",
                     [f'value="{EMAIL}"', 'value="Rosa Pérez"'], id="empty-description"),
        pytest.param({"description": "         "},
                     "Describe tu solicitud en al menos 10 caracteres.", "description",
                     [f'value="{EMAIL}"'], id="blank-description"),
        pytest.param({"description": "Bache"},
                     "Describe tu solicitud en al menos 10 caracteres.", "description",
                     [">\r\nBache</textarea>"], id="too-short-description"),
        pytest.param({"description": LONG_DESCRIPTION},
                     "La descripción puede tener como máximo 4000 caracteres.", "description",
                     [LONG_DESCRIPTION.strip(), f'value="{EMAIL}"'], id="description-over-4000"),
        pytest.param({"email": "rosa.perez@@example"},
                     "Escribe un correo válido, por ejemplo nombre@correo.cl.", "email",
                     ['value="rosa.perez@@example"', DESCRIPTION], id="invalid-email"),
        pytest.param({"rut": "12.345.678-9"},
                     "El RUT no es válido. Revisa el número y el dígito verificador.", "rut",
                     ['value="12.345.678-9"', DESCRIPTION], id="rut-wrong-check-digit"),
        pytest.param({"rut": "no-soy-rut"},
                     "El RUT no es válido. Revisa el número y el dígito verificador.", "rut",
                     ['value="no-soy-rut"', DESCRIPTION], id="rut-malformed"),
        pytest.param({"phone": "123"},
                     "Escribe un teléfono válido, por ejemplo +56 9 1234 5678.", "phone",
                     ['value="123"', DESCRIPTION], id="phone-too-short"),
        pytest.param({"address": "Pasaje " * 50},
                     "La dirección puede tener como máximo 300 caracteres.", "address",
                     [DESCRIPTION, f'value="{EMAIL}"'], id="address-over-300"),
        pytest.param({"category": "999999"},
                     "Elige una categoría de la lista.", "category",
                     [DESCRIPTION, f'value="{EMAIL}"'], id="unknown-category"),
        pytest.param({"category": "luminaria"},
                     "Elige una categoría de la lista.", "category",
                     [DESCRIPTION, f'value="{EMAIL}"'], id="non-numeric-category"),
        pytest.param({"category": ""},
                     "Elige una categoría de la lista.", "category",
                     [DESCRIPTION, f'value="{EMAIL}"'], id="no-category"),
        pytest.param({"consent": None},
                     "Necesitamos tu autorización para usar tus datos en esta solicitud.",
                     "consent", [DESCRIPTION, f'value="{EMAIL}"'], id="missing-consent"),
        pytest.param({"name": "", "email": "", "phone": ""},
                     "Escribe tu nombre.", "name",
                     [DESCRIPTION, 'value="Av. Grecia 8735"'], id="no-name-nor-contact"),
        pytest.param({"email": "", "phone": ""},
                     "Indica un correo o un teléfono para poder responderte.", "email",
                     [DESCRIPTION, 'value="Rosa Pérez"'], id="name-without-contact"),
    ],
)
def test_invalid_submission_is_refused_with_spanish_errors_and_form_refilled(
        client, database, category_id, overrides, message, invalid_field, echoed):
    data = form_data(category_id, **overrides)

    response = post_submission(client, data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<title>Error: Hacer una solicitud" in html
    summary = error_summary(html)
    assert "Hay un problema" in summary
    assert f'<a href="#{invalid_field}">{escape(message)}</a>' in summary
    assert re.search(rf'<[^>]*aria-invalid="true"[^>]*id="{invalid_field}"', html)
    for text in echoed:
        assert str(escape(text)) in html or text in html, f"form lost {text[:40]!r}"
    if "category" not in overrides:
        assert f'<option selected value="{category_id}">' in html
    if overrides.get("consent", "y") is not None:
        assert re.search(r'<input[^>]*\bchecked\b[^>]*name="consent"', html)
    with database() as session:
        assert count(session, Ticket) == 0
        assert count(session, OutboxMessage) == 0


def test_inactive_category_is_not_offered_and_submitting_it_is_refused(client, database):
    with database() as session:
        retired = make_category(session, name="Tema retirado", active=False)
        session.commit()
        retired_id = retired.id

    form_html = client.get(SUBMIT_URL).get_data(as_text=True)
    assert f'value="{retired_id}"' not in form_html
    assert "Tema retirado" not in form_html

    response = post_submission(client, form_data(retired_id))

    assert response.status_code == 422
    assert "Elige una categoría de la lista." in error_summary(response.get_data(as_text=True))
    with database() as session:
        assert count(session, Ticket) == 0


def test_category_of_inactive_department_is_not_offered_and_submitting_it_is_refused(
        client, database):
    with database() as session:
        closed = make_department(session, name="Oficina cerrada", active=False)
        category = make_category(session, closed, name="Trámite de la oficina cerrada")
        session.commit()
        chosen = category.id

    form_html = client.get(SUBMIT_URL).get_data(as_text=True)
    assert f'value="{chosen}"' not in form_html

    response = post_submission(client, form_data(chosen))

    assert response.status_code == 422
    with database() as session:
        assert count(session, Ticket) == 0


@pytest.mark.parametrize(("url", "data"), [
    pytest.param(SUBMIT_URL, {"description": DESCRIPTION, "consent": "y"}, id="submit"),
    pytest.param(TRACK_URL, {"code": "K7QM-2XDP-9RTA"}, id="track"),
])
def test_post_without_csrf_token_gets_spanish_400_page(client, database, category_id,
                                                       url, data):
    response = client.post(url, data={"category": str(category_id), **data})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "No pudimos enviar el formulario" in html
    assert "recarga la página" in html
    assert "Traceback" not in html
    with database() as session:
        assert count(session, Ticket) == 0


def test_post_with_forged_csrf_token_is_refused(client, database, category_id):
    client.get(SUBMIT_URL)  # the session has a real token; this one is not it
    response = client.post(SUBMIT_URL, data={"csrf_token": "forged", **form_data(category_id)})

    assert response.status_code == 400
    assert "No pudimos enviar el formulario" in response.get_data(as_text=True)
    with database() as session:
        assert count(session, Ticket) == 0


# --- tracking --------------------------------------------------------------------


@pytest.fixture
def ticket_code(database) -> str:
    with database() as session:
        ticket = make_ticket(session, description="Hay un microbasural en la esquina.")
        session.commit()
        return ticket.formatted_tracking_code


@pytest.mark.parametrize("typed", [
    pytest.param(lambda code: code, id="as-shown"),
    pytest.param(lambda code: code.lower(), id="lower-case"),
    pytest.param(lambda code: code.replace("-", ""), id="without-hyphens"),
    pytest.param(lambda code: code.replace("-", "").lower(), id="lower-without-hyphens"),
    pytest.param(lambda code: "  " + code.replace("-", " ") + " ", id="spaces"),
])
def test_tracking_code_as_typed_redirects_to_status_page(client, ticket_code, typed):
    response = post_tracking_code(client, typed(ticket_code))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/seguimiento/{ticket_code}"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Hay un microbasural en la esquina." in page.get_data(as_text=True)


def test_unknown_but_well_formed_tracking_code_answers_404_with_message(
        client, database, ticket_code):
    unknown = format_code(generate_code())
    assert unknown != ticket_code

    response = post_tracking_code(client, unknown)

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "No encontramos una solicitud con ese código." in error_summary(html)
    assert f'value="{unknown}"' in html  # kept so the resident can correct it


def test_one_character_typo_in_tracking_code_is_rejected_as_invalid(client, ticket_code):
    first = ticket_code[0]
    typo = next(c for c in ALPHABET if c != first) + ticket_code[1:]

    response = post_tracking_code(client, typo)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ese código no es válido" in error_summary(html)
    assert "no es válido" in html
    assert f'value="{typo}"' in html


def test_empty_tracking_code_is_rejected_as_invalid(client, app):
    response = post_tracking_code(client, "")

    assert response.status_code == 422
    assert "no es válido" in error_summary(response.get_data(as_text=True))


@pytest.mark.parametrize("path", [
    "/seguimiento/garbage",
    "/seguimiento/K7QM-2XDP-9RT",
    "/solicitudes/garbage/recibida",
])
def test_status_page_for_garbage_code_is_spanish_404(client, app, path):
    response = client.get(path)

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "No encontramos esta página" in html
    assert "Buscar una solicitud por su código" in html


def test_status_page_for_unknown_well_formed_code_is_404(client, app):
    response = client.get(f"/seguimiento/{format_code(generate_code())}")

    assert response.status_code == 404
    assert "No encontramos esta página" in response.get_data(as_text=True)


# --- status page -----------------------------------------------------------------


def test_status_page_shows_status_public_events_and_replies_but_never_internal_notes(
        client, database):
    with database() as session:
        department = make_department(session, name="Aseo y Ornato")
        category = make_category(session, department, name="Microbasural")
        agent = make_user(session, Role.AGENT, [department])
        ticket = make_ticket(session, category, address="Av. Tobalaba 1234")
        timeline.add_public_reply(session, ticket, author=agent,
                                  body="Programamos el retiro para el jueves.")
        timeline.add_internal_note(session, ticket, author=agent,
                                   body="El vecino del lado es concejal, ojo.")
        session.commit()
        code, number = ticket.formatted_tracking_code, ticket.public_number
        agent_name = agent.name

    response = client.get(f"/seguimiento/{code}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Solicitud {number}" in text_of(html)
    assert status_badge(html) == ("received", "Recibida")
    assert "Microbasural" in html
    assert "Aseo y Ornato" in html
    assert "Av. Tobalaba 1234" in html
    assert "Recibimos tu solicitud." in html  # the public CREATED event
    assert "Respuesta de la municipalidad" in html
    assert "Programamos el retiro para el jueves." in html
    assert "El vecino del lado es concejal, ojo." not in html
    assert "concejal" not in html
    assert agent_name not in html  # staff names are not shown to residents


def test_status_page_hides_reason_of_status_change_marked_internal(client, database):
    with database() as session:
        department = make_department(session)
        agent = make_user(session, Role.AGENT, [department])
        ticket = make_ticket(session, make_category(session, department))
        lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                             note="Motivo reservado del equipo.", visible_to_resident=False)
        lifecycle.transition(session, ticket, Status.RESOLVED, actor=agent,
                             note="Retiramos los escombros.")
        session.commit()
        code = ticket.formatted_tracking_code

    html = client.get(f"/seguimiento/{code}").get_data(as_text=True)

    assert status_badge(html) == ("resolved", "Resuelta")
    assert "Nuevo estado: Resuelta" in html
    assert "Retiramos los escombros." in html
    assert "Nuevo estado: En gestión" not in html
    assert "Motivo reservado del equipo." not in html


def test_full_resident_journey_from_submission_to_status_page(client, database, category_id):
    submitted = post_submission(client, form_data(category_id))
    confirmation = client.get(submitted.headers["Location"]).get_data(as_text=True)
    code = TRACKING_CODE_RE.search(confirmation).group(1)

    other_client = client.application.test_client()  # e.g. later, on the phone
    tracked = post_tracking_code(other_client, code.replace("-", "").lower())
    status = other_client.get(tracked.headers["Location"])

    assert status.status_code == 200
    html = status.get_data(as_text=True)
    assert status_badge(html) == ("received", "Recibida")
    assert DESCRIPTION in html
    assert "Av. Grecia 8735" in html
