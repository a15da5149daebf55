"""Open311 GeoReport v2: every response against the Open311 JSON Schemas, XML twins, rules.

The schemas in ``tests/open311_schemas`` come from open311/schema-validation
(CC BY 3.0, see the README there). Discovery, the POST answer, tokens and
errors have no published schema; ``OUR_SCHEMAS`` below are ours, written
from the prose spec.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug.datastructures import MultiDict

from app.accounts.credentials import Scope
from app.accounts.models import Role
from app.catalog.models import Category, Visibility
from app.database import utcnow
from app.extensions import limiter
from app.tickets import lifecycle, timeline
from app.tickets.attributes import values_by_code
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Status, Ticket
from tests.api_support import app_key, category_with_every_datatype
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.pages import count

SCHEMA_DIR = Path(__file__).parent / "open311_schemas"
_REGISTRY = Registry().with_resources(
    (path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT4))
    for path in SCHEMA_DIR.glob("*.json")
)

_ERRORS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}}
OUR_SCHEMAS = {
    "discovery": {
        "type": "object",
        "required": ["changeset", "contact", "key_service", "endpoints"],
        "properties": {
            "changeset": {"type": "string"}, "contact": {"type": "string"},
            "key_service": {"type": "string"},
            "endpoints": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"const": "http://wiki.open311.org/GeoReport_v2"},
                    "url": {"type": "string"}, "changeset": {"type": "string"},
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {
                        "enum": ["text/xml", "application/json"]}}}}}}},
    "post": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
        "type": "object", "required": ["service_request_id"],
        "not": {"required": ["token"]},
        "properties": {"service_request_id": {"type": "string"},
                       "service_notice": {"type": ["string", "null"]},
                       "account_id": {"type": ["string", "null"]}}}},
    "tokens": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"},
                       "token": {"type": "string"}}}},
    "errors": _ERRORS,
}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
PERSONAL = ["Rosa", "Pérez", "rosa.perez@example.cl", "+56 9 8765 4321", "12345678-5"]


def validate(instance, schema_name: str) -> None:
    if schema_name in OUR_SCHEMAS:
        jsonschema.Draft7Validator(OUR_SCHEMAS[schema_name]).validate(instance)
        return
    schema = _REGISTRY.contents(schema_name)
    jsonschema.Draft4Validator(schema, registry=_REGISTRY).validate(instance)


_LISTS = {"services", "attributes", "values", "endpoints", "formats", "service_requests",
          "notes", "errors"}
ROOTS = {"discovery": "discovery", "services.json": "services",
         "service-definition.json": "service_definition", "requests.json": "service_requests",
         "post": "service_requests", "tokens": "service_requests", "errors": "errors"}


def spark(element: ET.Element):
    """XML to the JSON the spec's Spark convention gives, all leaves as strings."""
    children = list(element)
    if element.tag in _LISTS:
        return [spark(c) for c in children]
    if not children:
        return element.text or None
    return {c.tag: spark(c) for c in children}


def stringly(value):
    """JSON values as the XML text they become (booleans lower case, None as None)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {k: stringly(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringly(v) for v in value]
    if value is None or value == "":
        return None
    return str(value)


def fetch(client, path: str, schema: str, *, method="get", status=200, **kwargs):
    """GET/POST the .json and .xml twins; check schema, headers, XML and their equality."""
    responses = {}
    for fmt in ("json", "xml"):
        response = getattr(client, method)(path.format(fmt=fmt), **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        responses[fmt] = response
    as_json = responses["json"]
    assert as_json.headers["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(as_json.get_data().decode("utf-8"))
    validate(data, schema)
    as_xml = responses["xml"]
    assert as_xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    raw = as_xml.get_data()
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(raw)  # well-formed, or this raises
    assert root.tag == ROOTS[schema]
    assert spark(root) == stringly(data)
    return data


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    limiter.reset()


@pytest.fixture
def city(database):
    """A public category with six-datatype questions, a private one, an Open311 key."""
    with database() as session:
        department = make_department(session, name="Obras Municipales")
        public = category_with_every_datatype(session, department)
        private = make_category(session, department, name="Ayuda social",
                                visibility=Visibility.PRIVATE)
        make_category(session, department, name="Inactiva", active=False)
        key = app_key(session, Scope.OPEN311_SUBMIT)
        read_only = app_key(session, Scope.REQUESTS_READ)
        session.commit()
        return {"public": public.slug, "private": private.slug, "key": key,
                "read_only": read_only, "public_name": public.name}


def _ticket(session, slug, **kwargs):
    category = session.scalar(sa.select(Category).where(Category.slug == slug))
    kwargs.setdefault("contact", ResidentContact(name="Rosa Pérez",
                                                 email="rosa.perez@example.cl",
                                                 phone="+56 9 8765 4321", rut="12.345.678-5"))
    return make_ticket(session, category, notify=False, **kwargs)


def test_discovery_lists_this_endpoint_in_both_formats(client, city):
    data = fetch(client, "/open311/v2/discovery.{fmt}", "discovery")
    endpoint = data["endpoints"][0]
    assert endpoint["url"] == "http://conectados.test/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}


def test_services_are_the_public_active_categories_only(client, city):
    data = fetch(client, "/open311/v2/services.{fmt}", "services.json")
    assert [s["service_code"] for s in data] == [city["public"]]
    service = data[0]
    assert service == {"service_code": city["public"], "service_name": "Luminaria apagada",
                       "description": None, "metadata": True, "type": "realtime",
                       "keywords": "alumbrado, poste", "group": "Obras Municipales"}


def test_service_definition_carries_six_datatypes_in_order(client, city):
    data = fetch(client, f"/open311/v2/services/{city['public']}.{{fmt}}",
                 "service-definition.json")
    attributes = data["attributes"]
    assert [a["datatype"] for a in attributes] == ["singlevaluelist", "multivaluelist",
                                                   "string", "number", "datetime", "text",
                                                   "string"]
    assert [a["order"] for a in attributes] == sorted(a["order"] for a in attributes)
    assert attributes[0]["required"] is True
    assert attributes[0]["values"] == [{"key": "apagada", "name": "Está apagada"},
                                       {"key": "intermitente", "name": "Parpadea"}]
    assert attributes[-1]["variable"] is False


@pytest.mark.parametrize("path", [
    "/open311/v2/services/{private}.{fmt}", "/open311/v2/services/no-existe.{fmt}",
    "/open311/v2/requests/2026-999999.{fmt}", "/open311/v2/tokens/K7QM-2XDP-9RTA.{fmt}",
    "/open311/v2/nada.{fmt}",
])
def test_unknown_or_private_things_are_404_with_spec_errors(client, city, path):
    data = fetch(client, path.replace("{private}", city["private"]), "errors", status=404)
    assert data[0]["code"] == 404


def test_jurisdiction_id_is_optional_but_checked(client, city):
    fetch(client, "/open311/v2/services.{fmt}?jurisdiction_id=penalolen.cl", "services.json")
    fetch(client, "/open311/v2/services.{fmt}?jurisdiction_id=", "services.json")
    data = fetch(client, "/open311/v2/services.{fmt}?jurisdiction_id=sfgov.org", "errors",
                 status=404)
    assert "sfgov.org" in data[0]["description"]


def _post(client, city, fmt="json", **fields):
    form = {"api_key": city["key"], "service_code": city["public"], "lat": "-33.4917",
            "long": "-70.5457", "description": "La luminaria del pasaje está apagada.",
            "first_name": "Rosa", "last_name": "Pérez", "email": "rosa.perez@example.cl",
            "attribute[tipo]": "apagada"}
    form.update(fields)
    return client.post(f"/open311/v2/requests.{fmt}", data={k: v for k, v in form.items()
                                                            if v is not None})


def test_post_creates_through_intake_with_attributes_and_returns_an_id(client, database, city):
    response = client.post("/open311/v2/requests.json", data=MultiDict([
        ("api_key", city["key"]), ("jurisdiction_id", "penalolen.cl"),
        ("service_code", city["public"]), ("address_string", "Av. Grecia 8735, Peñalolén"),
        ("email", "rosa.perez@example.cl"), ("first_name", "Rosa"), ("last_name", "Pérez"),
        ("phone", "+56 9 8765 4321"), ("description", "Se apaga y prende toda la noche."),
        ("media_url", "https://fotos.example.cl/poste.jpg"), ("device_id", "tt222111"),
        ("account_id", "123"), ("attribute[tipo]", "intermitente"),
        ("attribute[riesgos][]", "autos"), ("attribute[riesgos][]", "peatones"),
        ("attribute[altura]", "4,5"), ("attribute[desde]", "2026-03-15T18:30:00-03:00"),
    ]))
    assert response.status_code == 200
    data = response.get_json()
    validate(data, "post")
    with database() as session:
        ticket = session.scalar(
            sa.select(Ticket).where(Ticket.public_number == data[0]["service_request_id"]))
        assert ticket.channel is Channel.OPEN311
        assert ticket.contact_name == "Rosa Pérez" and ticket.address.startswith("Av. Grecia")
        assert ticket.media_url == "https://fotos.example.cl/poste.jpg"
        assert values_by_code(ticket) == {"tipo": "intermitente", "riesgos": ["autos",
                                                                              "peatones"],
                                          "altura": 4.5, "desde": "2026-03-15T18:30-03:00"}
        assert ticket.formatted_tracking_code in data[0]["service_notice"]


def test_post_answers_in_xml_too(client, city):
    response = _post(client, city, fmt="xml")
    assert response.status_code == 200
    root = ET.fromstring(response.get_data())
    assert root.tag == "service_requests"
    request = root.find("request")
    assert re.match(r"^\d{4}-\d{6}$", request.findtext("service_request_id"))
    assert request.find("token") is None


@pytest.mark.parametrize(("fields", "status", "needle"), [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": "cak_inventada"}, 403, "api_key"),
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "no-existe"}, 404, "service_code"),
    ({"lat": None, "long": None}, 400, "lat"),
    ({"lat": None, "long": None, "address_id": "545483"}, 400, "address_id"),
    ({"long": None}, 400, "lat"),
    ({"lat": "norte"}, 400, "lat"),
    ({"lat": "95"}, 400, "lat"),
    ({"attribute[tipo]": None}, 400, "attribute[tipo]"),
    ({"attribute[tipo]": "verde"}, 400, "attribute[tipo]"),
    ({"attribute[inventado]": "x"}, 400, "attribute[inventado]"),
    ({"description": "x" * 4001}, 400, "description"),
    ({"email": "no-es-correo"}, 400, "email"),
    ({"first_name": None, "last_name": None}, 400, "first_name"),
    ({"media_url": "ftp://x"}, 400, "media_url"),
    ({"jurisdiction_id": "otra.cl"}, 404, "jurisdiction_id"),
])
def test_post_errors_follow_the_spec(client, database, city, fields, status, needle):
    for fmt in ("json", "xml"):
        response = _post(client, city, fmt=fmt, **fields)
        assert response.status_code == status
        if fmt == "json":
            data = response.get_json()
            validate(data, "errors")
            assert any(needle in e["description"] for e in data), data
        else:
            root = ET.fromstring(response.get_data())
            assert root.tag == "errors" and root.find("error/code").text == str(status)
    with database() as session:
        assert count(session, Ticket) == 0


def test_post_needs_the_open311_scope_and_a_live_key(client, database, city, runner):
    assert _post(client, city, api_key=city["read_only"]).status_code == 403
    assert _post(client, city).status_code == 200
    runner.invoke(args=["apikeys", "revoke", city["key"][:12]])
    assert _post(client, city).status_code == 403


def test_post_to_a_private_category_is_refused_as_unknown(client, database, city):
    assert _post(client, city, service_code=city["private"]).status_code == 404


def test_post_without_description_is_accepted_per_spec(client, database, city):
    response = _post(client, city, description=None)
    assert response.status_code == 200


def test_requests_list_shows_no_personal_data_and_no_private_category(client, database, city):
    with database() as session:
        _ticket(session, city["public"], address="Av. Grecia 8735",
                description="Llamar a Rosa al +56 9 8765 4321 o rosa.perez@example.cl, "
                            "RUT 12.345.678-5; también a otro 22 123 4567 8.")
        _ticket(session, city["private"], description="Necesito ayuda con mercadería.")
        session.commit()
    data = fetch(client, "/open311/v2/requests.{fmt}", "requests.json")
    assert len(data) == 1
    record = data[0]
    assert record["status"] == "open" and record["status_notes"] == "Recibida"
    assert record["agency_responsible"] == "Obras Municipales"
    assert record["address"] == "Av. Grecia 8735"
    assert W3C.match(record["requested_datetime"]) and W3C.match(record["updated_datetime"])
    body = client.get("/open311/v2/requests.json").get_data(as_text=True) + \
        client.get("/open311/v2/requests.xml").get_data(as_text=True)
    for value in PERSONAL + ["mercadería", "22 123 4567 8"]:
        assert value not in body
    assert "[dato oculto]" in record["description"]


def test_single_request_and_token_resolve_public_requests_only(client, database, city):
    with database() as session:
        public = _ticket(session, city["public"])
        private = _ticket(session, city["private"])
        session.commit()
        numbers = public.public_number, private.public_number
        codes = public.formatted_tracking_code, private.formatted_tracking_code
    data = fetch(client, f"/open311/v2/requests/{numbers[0]}.{{fmt}}", "requests.json")
    assert [r["service_request_id"] for r in data] == [numbers[0]]
    fetch(client, f"/open311/v2/requests/{numbers[1]}.{{fmt}}", "errors", status=404)
    token = fetch(client, f"/open311/v2/tokens/{codes[0].lower()}.{{fmt}}", "tokens")
    assert token == [{"service_request_id": numbers[0], "token": codes[0]}]
    fetch(client, f"/open311/v2/tokens/{codes[1]}.{{fmt}}", "errors", status=404)


def test_closed_statuses_and_expected_datetime(client, database, city):
    with database() as session:
        user = make_user(session, Role.MANAGER)
        ticket = _ticket(session, city["public"])
        ticket.resolution_due_at = utcnow() + timedelta(days=5)
        lifecycle.transition(session, ticket, Status.REFERRED, actor=user,
                             note="Corresponde a la compañía eléctrica.", notify=False)
        session.commit()
        number = ticket.public_number
    record = fetch(client, f"/open311/v2/requests/{number}.{{fmt}}", "requests.json")[0]
    assert record["status"] == "closed"
    assert record["status_notes"] == "Derivada a otro organismo"
    assert W3C.match(record["expected_datetime"])


def test_filters_ids_codes_status_dates_and_pages(client, database, city):
    now = utcnow()
    with database() as session:
        user = make_user(session, Role.MANAGER)
        other = make_category(session, name="Bache").slug
        old = _ticket(session, city["public"], now=now - timedelta(days=120))
        recent = [_ticket(session, city["public"], now=now - timedelta(days=d))
                  for d in (30, 20, 10)]
        elsewhere = _ticket(session, other, now=now - timedelta(days=5))
        lifecycle.transition(session, recent[0], Status.RESOLVED, actor=user, notify=False)
        session.commit()
        n_old, n_recent, n_else = (old.public_number, [t.public_number for t in recent],
                                   elsewhere.public_number)

    def ids(query):
        data = fetch(client, "/open311/v2/requests.{fmt}?" + query, "requests.json")
        return [r["service_request_id"] for r in data]

    assert ids("") == [n_else, n_recent[2], n_recent[1], n_recent[0]]  # 90 days, newest first
    assert ids(f"service_request_id={n_old},{n_else}&status=closed") == [n_else, n_old]
    assert ids(f"service_code={other}") == [n_else]
    assert ids(f"service_code={other},{city['public']}&status=open") == [
        n_else, n_recent[2], n_recent[1]]
    assert ids("status=closed") == [n_recent[0]]
    start = (now - timedelta(days=125)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"start_date={start}&end_date={end}") == [n_old]
    assert ids("page_size=2") == [n_else, n_recent[2]]
    assert ids("page_size=2&page=2") == [n_recent[1], n_recent[0]]
    assert ids("page_size=2&page=3") == []
    after = (now - timedelta(minutes=1)).isoformat()
    assert ids(f"updated_after={after.replace('+', '%2B')}") == [n_recent[0]]


@pytest.mark.parametrize("query", [
    "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
    "start_date=ayer", "end_date=2026-13-01", "status=pending", "page=0", "page_size=1001",
    "page=uno", "start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z",
])
def test_bad_query_values_are_400(client, city, query):
    data = fetch(client, "/open311/v2/requests.{fmt}?" + query, "errors", status=400)
    assert data[0]["code"] == 400


def test_extensions_add_channel_and_the_public_timeline_without_words(client, database, city):
    with database() as session:
        user = make_user(session, Role.MANAGER)
        ticket = _ticket(session, city["public"])
        timeline.add_public_reply(session, ticket, author=user, body="Estimada Rosa Pérez, ...",
                                  notify=False)
        timeline.add_internal_note(session, ticket, author=user, body="Nota interna secreta")
        lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=user, notify=False)
        session.commit()
        number = ticket.public_number
    plain = fetch(client, f"/open311/v2/requests/{number}.{{fmt}}", "requests.json")[0]
    assert "extended_attributes" not in plain and "notes" not in plain
    data = fetch(client, f"/open311/v2/requests/{number}.{{fmt}}?extensions=true",
                 "requests.json")
    record = data[0]
    assert record["extended_attributes"] == {"channel": "web", "status": "in_progress",
                                             "duplicate": False,
                                             "parent_service_request_id": None}
    assert [n["type"] for n in record["notes"]] == ["created", "public_reply", "status_changed"]
    assert all(W3C.match(n["datetime"]) for n in record["notes"])
    text = json.dumps(data, ensure_ascii=False)
    assert "Rosa" not in text and "secreta" not in text
    listed = fetch(client, "/open311/v2/requests.{fmt}?extensions=true", "requests.json")
    assert listed[0]["notes"] == record["notes"]


def test_text_xml_cannot_hold_is_dropped_so_xml_stays_well_formed(client, database, city):
    with database() as session:
        _ticket(session, city["public"], description="Control \x01\x0b chars y \ufffe acá.",
                address="Calle \x1f 12")
        session.commit()
    raw = client.get("/open311/v2/requests.xml").get_data()
    root = ET.fromstring(raw)
    assert root.find("request/description").text == "Control  chars y  acá."


def test_dates_use_the_santiago_offset(client, database, city):
    with database() as session:
        _ticket(session, city["public"], now=datetime.fromisoformat("2026-07-01T15:00:00+00:00"))
        session.commit()
    data = client.get("/open311/v2/requests.json?start_date=2026-06-15T00:00:00Z").get_json()
    assert data[0]["requested_datetime"] == "2026-07-01T11:00:00-04:00"


def test_routing_errors_keep_the_format_of_the_suffix(client):
    as_json = client.get("/open311/v2/services.csv.json")
    assert as_json.status_code == 404 and as_json.is_json
    as_xml = client.delete("/open311/v2/services.xml")
    assert as_xml.status_code == 405
    assert ET.fromstring(as_xml.get_data()).tag == "errors"


OPEN311_PARAMS = ["service_request_id", "service_code", "start_date", "end_date", "status",
                  "page", "page_size", "updated_after", "updated_before", "extensions",
                  "jurisdiction_id"]


def test_any_query_values_get_a_spec_answer_never_a_server_error(client, database, city):
    """Arbitrary text (NUL, emoji, huge numbers...) in every GET parameter: 200, 400 or 404."""
    with database() as session:
        _ticket(session, city["public"])
        session.commit()
    values = st.one_of(st.text(max_size=40), st.from_regex(r"-?\d{1,25}", fullmatch=True),
                       st.sampled_from(["open,closed", "2026-01-01T00:00:00Z", "true",
                                        "0001-01-01T00:00:00+14:00", "\x00"]))

    @given(query=st.dictionaries(st.sampled_from(OPEN311_PARAMS), values, max_size=4),
           fmt=st.sampled_from(["json", "xml"]),
           path=st.sampled_from(["requests", "services", "services/x", "requests/2026-000001",
                                 "tokens/AAAA", "discovery"]))
    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers(query, fmt, path):
        response = client.get(f"/open311/v2/{path}.{fmt}", query_string=query)
        assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
        if fmt == "json":
            data = json.loads(response.get_data())
            if response.status_code != 200:
                validate(data, "errors")
        else:
            ET.fromstring(response.get_data())

    answers()


POST_FIELDS = ["service_code", "lat", "long", "address_string", "address_id", "email",
               "first_name", "last_name", "phone", "description", "media_url",
               "attribute[tipo]", "attribute[riesgos][]", "attribute[altura]",
               "attribute[desde]", "attribute[otro]", "jurisdiction_id"]


def test_any_posted_values_get_a_spec_answer_never_a_server_error(client, database, city):
    """Arbitrary form values on POST requests: 200, 400, 403, 404 (or 429 once the key's
    per-minute allowance is spent), always in the spec's shape."""
    values = st.one_of(st.text(max_size=60), st.sampled_from(
        [city["public"], city["private"], "-33.49", "1e400", "NaN", "apagada", "4,5",
         "2026-03-15T18:30", "https://x.cl/a.jpg", "rosa@example.cl", "\x00"]))

    @given(form=st.dictionaries(st.sampled_from(POST_FIELDS), values, max_size=8),
           with_key=st.booleans())
    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers(form, with_key):
        if with_key:
            form = {**form, "api_key": city["key"]}
        response = client.post("/open311/v2/requests.json", data=form)
        assert response.status_code in (200, 400, 403, 404, 429), response.get_data(as_text=True)
        data = json.loads(response.get_data())
        validate(data, "post" if response.status_code == 200 else "errors")

    answers()
