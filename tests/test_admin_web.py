"""The administration pages, through the real forms: admins only, CSRF, and
every create/edit changing the database (or, on bad input, nothing)."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.credentials import (
    LAST_USED_PRECISION,
    ApiKey,
    Scope,
    create_api_key,
    note_api_key_use,
)
from app.accounts.models import Role, User
from app.audit.models import AuditEntry
from app.catalog.attributes import CategoryAttribute, Datatype, define_attribute
from app.catalog.models import Category, Department, Macrosector, Visibility
from app.catalog.sla import PolicyKind, SlaPolicy, TargetUnit
from app.database import utcnow
from app.notifications.models import OutboxMessage
from app.tickets.models import Ticket
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.pages import count, error_summary, text_of
from tests.survey_factories import login

ADMIN_PAGES = [
    "/gestion/admin/",
    "/gestion/admin/departamentos",
    "/gestion/admin/departamentos/nuevo",
    "/gestion/admin/categorias",
    "/gestion/admin/categorias/nueva",
    "/gestion/admin/plazos",
    "/gestion/admin/plazos/nueva",
    "/gestion/admin/usuarios",
    "/gestion/admin/usuarios/nuevo",
    "/gestion/admin/claves-api",
    "/gestion/admin/claves-api/nueva",
    "/gestion/admin/correos",
]
STRONG_PASSWORD = "una-clave-bien-larga"


@pytest.fixture
def admin(database, client) -> int:
    """A logged-in admin (the client); returns their id."""
    with database() as session:
        user = make_user(session, Role.ADMIN)
        session.commit()
        email, user_id = user.email, user.id
    login(client, email)
    return user_id


def post_form(client, url: str, data: dict, page: str | None = None):
    """Post ``data`` with the CSRF token of the form page (``page`` or ``url``)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data})


def field_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"',
                      html)
    assert match, f"no {name} input"
    return match.group(1) or match.group(2) or ""


# --- access --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.MANAGER])
@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_are_forbidden_to_other_staff(database, client, role, url):
    with database() as session:
        user = make_user(session, role, [make_department(session)])
        session.commit()
        email = user.email
    login(client, email)
    assert client.get(url).status_code == 403


def test_admin_pages_send_anonymous_visitors_to_login(client, app):
    response = client.get("/gestion/admin/usuarios")
    assert response.status_code == 302 and "/gestion/ingresar" in response.location


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_every_admin_page_opens_for_an_admin(admin, client, url):
    assert client.get(url).status_code == 200


def test_admin_sees_the_administration_link_and_other_staff_do_not(database, client, admin):
    assert 'href="/gestion/admin/"' in client.get("/gestion/").get_data(as_text=True)
    with database() as session:
        agent = make_user(session, Role.MANAGER)
        session.commit()
        email = agent.email
    client.post("/gestion/salir", data={"csrf_token": csrf_token_from(
        client.get("/gestion/").get_data(as_text=True))})
    login(client, email)
    assert 'href="/gestion/admin/"' not in client.get("/gestion/").get_data(as_text=True)


def test_home_links_to_the_admin_pages_of_every_feature(admin, client):
    html = client.get("/gestion/admin/").get_data(as_text=True)
    for url in ("/gestion/admin/ruteo/", "/gestion/admin/feriados",
                "/gestion/respuestas-tipo", "/gestion/auditoria/"):
        assert f'href="{url}"' in html
    for section in ("departamentos", "categorias", "plazos", "usuarios", "claves-api",
                    "correos"):
        assert f'href="/gestion/admin/{section}"' in html


@pytest.mark.parametrize("url", [
    "/gestion/admin/departamentos/nuevo",
    "/gestion/admin/categorias/nueva",
    "/gestion/admin/usuarios/nuevo",
    "/gestion/admin/claves-api/nueva",
    "/gestion/admin/plazos/nueva",
])
def test_admin_forms_without_csrf_token_are_refused_with_400(admin, client, database, url):
    response = client.post(url, data={"name": "Sin token", "slug": "sin-token",
                                      "email": "x@example.cl", "resolution_target": "3"})
    assert response.status_code == 400
    with database() as session:
        assert count(session, Department) == 0 and count(session, ApiKey) == 0
        assert count(session, SlaPolicy) == 0
        assert count(session, User) == 1


# --- departments ---------------------------------------------------------------------------

def test_admin_creates_and_edits_a_department(admin, client, database):
    response = post_form(client, "/gestion/admin/departamentos/nuevo", {
        "name": "Aseo y Ornato", "slug": "aseo-ornato", "email": "Aseo@Muni.cl", "active": "y"})
    assert response.status_code == 302
    with database() as session:
        department = session.scalar(sa.select(Department))
        assert (department.name, department.slug, department.email, department.active) == (
            "Aseo y Ornato", "aseo-ornato", "aseo@muni.cl", True)
        department_id = department.id
    url = f"/gestion/admin/departamentos/{department_id}"
    html = client.get(url).get_data(as_text=True)
    assert field_value(html, "name") == "Aseo y Ornato"
    response = post_form(client, url, {"name": "Aseo", "slug": "aseo", "email": ""})
    assert response.status_code == 302
    with database() as session:
        department = session.get(Department, department_id)
        assert (department.name, department.slug, department.email, department.active) == (
            "Aseo", "aseo", None, False)


def test_admin_changes_are_audited_with_actor_and_target(admin, client, database):
    post_form(client, "/gestion/admin/departamentos/nuevo", {
        "name": "Aseo y Ornato", "slug": "aseo-ornato", "email": "", "active": "y"})
    with database() as session:
        department_id = session.scalar(sa.select(Department.id))
    post_form(client, f"/gestion/admin/departamentos/{department_id}",
              {"name": "Aseo", "slug": "aseo", "email": ""})
    with database() as session:
        entries = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.like("admin.%")).order_by(AuditEntry.id)).all()
        assert [(e.action, e.target_type, e.target_id, e.actor_id) for e in entries] == [
            ("admin.department.create", "department", str(department_id), admin),
            ("admin.department.update", "department", str(department_id), admin),
        ]


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "slug": "nuevo"}, "Escribe un nombre"),
    ({"name": "Nuevo", "slug": "Con Espacios"}, "El identificador usa minúsculas"),
    ({"name": "Nuevo", "slug": "existente"}, "Ya existe un departamento con ese identificador."),
    ({"name": "Existente", "slug": "nuevo"}, "Ya existe un departamento con ese nombre."),
    ({"name": "Nuevo", "slug": "nuevo", "email": "no-es-correo"}, "El correo no es válido."),
])
def test_bad_department_input_refills_the_form_and_saves_nothing(admin, client, database,
                                                                  data, message):
    with database() as session:
        session.add(Department(name="Existente", slug="existente"))
        session.commit()
    response = post_form(client, "/gestion/admin/departamentos/nuevo", {"active": "y", **data})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html)
    assert field_value(html, "slug") == data["slug"]
    with database() as session:
        assert count(session, Department) == 1


def test_department_with_active_categories_cannot_be_deactivated(admin, client, database):
    with database() as session:
        department = make_department(session, name="Obras")
        make_category(session, department)
        make_category(session, department, active=False)
        session.commit()
        department_id, slug = department.id, department.slug
    response = post_form(client, f"/gestion/admin/departamentos/{department_id}",
                         {"name": "Obras", "slug": slug})
    assert response.status_code == 422
    assert "tiene 1 categorías activas" in error_summary(response.get_data(as_text=True))
    with database() as session:
        assert session.get(Department, department_id).active is True


# --- categories ----------------------------------------------------------------------------

@pytest.fixture
def department_id(database) -> int:
    with database() as session:
        department = make_department(session, name="Alumbrado")
        session.commit()
        return department.id


def category_data(department_id: int, **overrides) -> dict:
    data = {"name": "Luminaria apagada", "slug": "luminaria-apagada",
            "description": "Un poste sin luz.", "department": str(department_id),
            "visibility": "private", "active": "y", "allows_anonymous": "y",
            "keywords": "poste, farol,, luz, poste"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_and_edits_a_category(admin, client, database, department_id):
    response = post_form(client, "/gestion/admin/categorias/nueva", category_data(department_id))
    assert response.status_code == 302
    with database() as session:
        category = session.scalar(sa.select(Category))
        assert (category.name, category.slug, category.department_id, category.visibility,
                category.allows_anonymous, category.keywords) == (
            "Luminaria apagada", "luminaria-apagada", department_id, Visibility.PRIVATE,
            True, "poste, farol, luz")
        other = make_department(session, name="Obras")
        session.commit()
        category_id, other_id = category.id, other.id
    assert response.location.endswith(f"/gestion/admin/categorias/{category_id}")
    url = f"/gestion/admin/categorias/{category_id}"
    response = post_form(client, url, category_data(
        other_id, name="Poste caído", visibility="public", allows_anonymous=None, active=None))
    assert response.status_code == 302
    with database() as session:
        category = session.get(Category, category_id)
        assert (category.name, category.department_id, category.visibility,
                category.allows_anonymous, category.active) == (
            "Poste caído", other_id, Visibility.PUBLIC, False, False)


def test_admin_sets_how_long_a_categorys_personal_data_is_kept(admin, client, database,
                                                               department_id):
    from app.privacy.retention import retention_months

    response = post_form(client, "/gestion/admin/categorias/nueva",
                         category_data(department_id, retention_months="6"))
    assert response.status_code == 302
    with database() as session:
        category = session.scalar(sa.select(Category))
        assert (category.retention_months, retention_months(category)) == (6, 6)
        category_id = category.id
    url = f"/gestion/admin/categorias/{category_id}"
    assert field_value(client.get(url).get_data(as_text=True), "retention_months") == "6"
    assert post_form(client, url, category_data(department_id, retention_months="")
                     ).status_code == 302
    with database() as session:
        category = session.get(Category, category_id)
        assert (category.retention_months, retention_months(category)) == (None, 24)
        entry = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "admin.category.update")).one()
        assert (entry.target_type, entry.target_id) == ("category", str(category_id))
    html = client.get(url).get_data(as_text=True)
    assert "Vacío: 24 meses" in html and field_value(html, "retention_months") == ""


def test_admin_adds_and_renames_macrosectors_and_the_form_asks_for_them(admin, client,
                                                                       database):
    form_html = client.get("/solicitudes/nueva").get_data(as_text=True)
    assert 'name="macrosector"' not in form_html  # no sectors yet: no question
    assert post_form(client, "/gestion/admin/macrosectores/nuevo",
                     {"name": "  Lo   Hermida "}).status_code == 302
    assert post_form(client, "/gestion/admin/macrosectores/nuevo",
                     {"name": "La Faena"}).status_code == 302
    with database() as session:
        ids = {m.name: m.id for m in session.scalars(sa.select(Macrosector))}
    assert set(ids) == {"Lo Hermida", "La Faena"}
    listing = text_of(client.get("/gestion/admin/macrosectores").get_data(as_text=True))
    assert listing.index("La Faena") < listing.index("Lo Hermida")  # by name

    form_html = client.get("/solicitudes/nueva").get_data(as_text=True)
    assert f'<option value="{ids["Lo Hermida"]}">Lo Hermida</option>' in form_html

    url = f"/gestion/admin/macrosectores/{ids['La Faena']}"
    assert field_value(client.get(url).get_data(as_text=True), "name") == "La Faena"
    refused = post_form(client, url, {"name": "lo hermida"})
    assert refused.status_code == 422
    assert "Ya existe un macrosector con ese nombre." in error_summary(
        refused.get_data(as_text=True))
    assert field_value(refused.get_data(as_text=True), "name") == "lo hermida"
    assert post_form(client, url, {"name": "Villa La Faena"}).status_code == 302
    with database() as session:
        assert session.get(Macrosector, ids["La Faena"]).name == "Villa La Faena"
        entries = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.like("admin.macrosector.%")).order_by(AuditEntry.id)).all()
        assert [(e.action, e.target_id) for e in entries] == [
            ("admin.macrosector.create", str(ids["Lo Hermida"])),
            ("admin.macrosector.create", str(ids["La Faena"])),
            ("admin.macrosector.update", str(ids["La Faena"])),
        ]
    assert post_form(client, "/gestion/admin/macrosectores/nuevo",
                     {"name": ""}).status_code == 422


def test_category_list_filters_by_department(admin, client, database):
    with database() as session:
        aseo, obras = make_department(session, "Aseo"), make_department(session, "Obras")
        make_category(session, aseo, name="Microbasural")
        make_category(session, obras, name="Bache")
        session.commit()
        aseo_id = aseo.id
    everything = text_of(client.get("/gestion/admin/categorias").get_data(as_text=True))
    assert "Microbasural" in everything and "Bache" in everything
    filtered = text_of(client.get(f"/gestion/admin/categorias?departamento={aseo_id}")
                       .get_data(as_text=True))
    assert "Microbasural" in filtered and "Bache" not in filtered


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": ""}, "Escribe un nombre"),
    ({"slug": "cat-existente"}, "Ya existe una categoría con ese identificador."),
    ({"slug": "mal slug!"}, "El identificador usa minúsculas"),
    ({"department": ""}, "Elige el departamento a cargo."),
    ({"visibility": "secreta"}, "Elige si la categoría es pública o privada."),
    ({"retention_months": "0"}, "Escribe un número entero entre 1 y 240."),
    ({"retention_months": "seis"}, "Escribe un número entero entre 1 y 240."),
])
def test_bad_category_input_refills_the_form_and_saves_nothing(admin, client, database,
                                                                department_id, overrides,
                                                                message):
    with database() as session:
        session.add(Category(name="Existente", slug="cat-existente",
                             department_id=department_id))
        session.commit()
    response = post_form(client, "/gestion/admin/categorias/nueva",
                         category_data(department_id, **overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html)
    assert "Un poste sin luz." in html  # the description was kept
    with database() as session:
        assert count(session, Category) == 1


# --- SLA policies --------------------------------------------------------------------------

def policy_data(**overrides) -> dict:
    data = {"name": "Alumbrado: 2 días", "kind": "service", "first_response_target": "8",
            "first_response_unit": "business_hours", "resolution_target": "2",
            "resolution_unit": "business_days", "warn_percent": "50", "extension_days": ""}
    data.update(overrides)
    return data


def test_admin_creates_and_edits_an_sla_policy_and_both_are_audited(admin, client, database):
    response = post_form(client, "/gestion/admin/plazos/nueva", policy_data())
    assert response.status_code == 302 and response.location.endswith("/gestion/admin/plazos")
    with database() as session:
        policy = session.scalar(sa.select(SlaPolicy))
        assert (policy.name, policy.kind, policy.first_response_target,
                policy.first_response_unit, policy.resolution_target, policy.resolution_unit,
                policy.warn_percent, policy.extension_days) == (
            "Alumbrado: 2 días", PolicyKind.SERVICE, 8, TargetUnit.BUSINESS_HOURS, 2,
            TargetUnit.BUSINESS_DAYS, 50, None)
        policy_id = policy.id
    listing = text_of(client.get("/gestion/admin/plazos").get_data(as_text=True))
    assert "Alumbrado: 2 días" in listing and "8 horas hábiles" in listing
    url = f"/gestion/admin/plazos/{policy_id}"
    assert field_value(client.get(url).get_data(as_text=True), "warn_percent") == "50"
    response = post_form(client, url, policy_data(
        name="Transparencia", kind="ley_20285", first_response_target="",
        resolution_target="", extension_days="10", warn_percent="75"))
    assert response.status_code == 302
    with database() as session:
        policy = session.get(SlaPolicy, policy_id)
        assert (policy.name, policy.kind, policy.first_response_target,
                policy.resolution_target, policy.extension_days) == (
            "Transparencia", PolicyKind.LEY_20285, None, None, 10)
        entries = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.like("admin.slapolicy.%")).order_by(AuditEntry.id)).all()
        assert [(e.action, e.target_type, e.target_id, e.actor_id) for e in entries] == [
            ("admin.slapolicy.create", "slapolicy", str(policy_id), admin),
            ("admin.slapolicy.update", "slapolicy", str(policy_id), admin),
        ]
    assert "20 días hábiles (legal)" in text_of(
        client.get("/gestion/admin/plazos").get_data(as_text=True))


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": ""}, "name", "Escribe un nombre"),
    ({"name": "Existente"}, "name", "Ya existe una política con ese nombre."),
    ({"kind": "eterno"}, "kind", "Elige el tipo de plazo."),
    ({"resolution_target": "dos"}, "resolution_target",
     "Escribe un número entero entre 1 y 999."),
    ({"resolution_target": "0"}, "resolution_target",
     "Escribe un número entero entre 1 y 999."),
    ({"first_response_target": "-3"}, "first_response_target",
     "Escribe un número entero entre 1 y 999."),
    ({"resolution_unit": "semanas"}, "resolution_unit", "Elige horas o días hábiles."),
    ({"warn_percent": "150"}, "warn_percent", "Escribe un número entero entre 1 y 100."),
    ({"warn_percent": ""}, "warn_percent", "Escribe un número."),
    ({"extension_days": "90"}, "extension_days", "Escribe un número entero entre 1 y 60."),
    ({"first_response_target": "", "resolution_target": ""}, "resolution_target",
     "Escribe al menos un plazo"),
    ({"kind": "ley_20285", "resolution_unit": "business_hours"}, "resolution_unit",
     "La Ley 20.285 cuenta días hábiles, no horas."),
])
def test_bad_sla_policy_input_refills_the_form_and_saves_nothing(admin, client, database,
                                                                  overrides, field, message):
    with database() as session:
        session.add(SlaPolicy(name="Existente", resolution_target=5))
        session.commit()
    data = policy_data(**overrides)
    response = post_form(client, "/gestion/admin/plazos/nueva", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html)
    assert f'href="#{field}"' in html  # the summary links to the field
    assert field_value(html, "name") == data["name"]
    with database() as session:
        assert count(session, SlaPolicy) == 1


def test_category_form_assigns_a_policy_that_sets_new_requests_due_dates(
        admin, client, database, department_id):
    with database() as session:
        policy = SlaPolicy(name="Urgente", first_response_target=2,
                           first_response_unit=TargetUnit.BUSINESS_HOURS,
                           resolution_target=3, resolution_unit=TargetUnit.BUSINESS_DAYS)
        session.add(policy)
        session.commit()
        policy_id = policy.id
    html = client.get("/gestion/admin/categorias/nueva").get_data(as_text=True)
    assert f'<option value="{policy_id}">Urgente (Compromiso de servicio)</option>' in html
    response = post_form(client, "/gestion/admin/categorias/nueva",
                         category_data(department_id, sla_policy=str(policy_id)))
    assert response.status_code == 302
    with database() as session:
        category = session.scalar(sa.select(Category))
        assert category.sla_policy_id == policy_id
        category_id = category.id
    edit = client.get(f"/gestion/admin/categorias/{category_id}").get_data(as_text=True)
    assert f'<option selected value="{policy_id}">' in edit
    assert "Luminaria apagada" in client.get(f"/gestion/admin/plazos/{policy_id}")\
        .get_data(as_text=True)
    with database() as session:
        now = utcnow()
        ticket = make_ticket(session, session.get(Category, category_id), now=now)
        session.commit()
        # 3 business days end at least 2 calendar days later (Friday closes an hour
        # early, so from Tuesday 16:31 they end on Friday at 16:30) and well before
        # the municipal default of 10 business days (two weeks at least).
        assert timedelta(days=2) <= ticket.resolution_due_at - now <= timedelta(days=10)
        assert ticket.first_response_due_at < ticket.resolution_due_at
    # And back to the municipality's defaults.
    response = post_form(client, f"/gestion/admin/categorias/{category_id}",
                         category_data(department_id, sla_policy=""))
    assert response.status_code == 302
    with database() as session:
        assert session.get(Category, category_id).sla_policy_id is None


def test_category_with_an_unknown_policy_is_refused(admin, client, database, department_id):
    response = post_form(client, "/gestion/admin/categorias/nueva",
                         category_data(department_id, sla_policy="9999"))
    assert response.status_code == 422
    assert "Elige una política de plazos de la lista." in error_summary(
        response.get_data(as_text=True))
    with database() as session:
        assert count(session, Category) == 0


# --- custom attributes ---------------------------------------------------------------------

@pytest.fixture
def category_id(database) -> int:
    with database() as session:
        category = make_category(session, name="Luminaria")
        session.commit()
        return category.id


def attribute_data(**overrides) -> dict:
    data = {"attr-code": "tipo", "attr-description": "¿Qué tipo de luminaria?",
            "attr-datatype": "singlevaluelist", "attr-values_text": "led|LED\nsodio|Sodio\n",
            "attr-required": "y", "attr-variable": "y", "attr-datatype_description": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_attribute(client, category_id: int, data: dict):
    page = f"/gestion/admin/categorias/{category_id}"
    html = client.get(page).get_data(as_text=True)
    token = re.search(r'name="attr-csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return client.post(f"{page}/preguntas", data={"attr-csrf_token": token, **data})


def test_admin_adds_a_list_attribute_to_a_category(admin, client, database, category_id):
    response = post_attribute(client, category_id, attribute_data())
    assert response.status_code == 302
    with database() as session:
        attribute = session.scalar(sa.select(CategoryAttribute))
        assert (attribute.code, attribute.datatype, attribute.required, attribute.order,
                attribute.values) == (
            "tipo", Datatype.SINGLEVALUELIST, True, 1,
            [{"key": "led", "name": "LED"}, {"key": "sodio", "name": "Sodio"}])
    html = client.get(f"/gestion/admin/categorias/{category_id}").get_data(as_text=True)
    assert "¿Qué tipo de luminaria?" in html and "LED, Sodio" in html


@pytest.mark.parametrize(("overrides", "message"), [
    ({"attr-code": "con espacio"}, "El código usa solo letras"),
    ({"attr-code": "existente"}, "Esta categoría ya tiene un campo con ese código."),
    ({"attr-description": ""}, "Escribe la pregunta"),
    ({"attr-values_text": ""}, "Una lista necesita opciones"),
    ({"attr-values_text": "a|Uno\na|Otro"}, "sin claves repetidas"),
    ({"attr-values_text": "|Sin clave"}, "Cada línea es «clave|nombre»"),
    ({"attr-datatype": "string"}, "Solo las listas llevan opciones."),
    ({"attr-datatype": "color"}, "Elige el tipo de respuesta."),
    ({"attr-variable": None}, "Un campo solo informativo no puede ser obligatorio."),
])
def test_bad_attribute_definition_refills_the_form_and_saves_nothing(
        admin, client, database, category_id, overrides, message):
    with database() as session:
        define_attribute(session, session.get(Category, category_id), code="existente",
                         description="Ya estaba", datatype=Datatype.STRING)
        session.commit()
    response = post_attribute(client, category_id, attribute_data(**overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html)
    assert "¿Qué tipo de luminaria?" in html or overrides.get("attr-description") == ""
    with database() as session:
        assert [a.code for a in session.scalars(sa.select(CategoryAttribute))] == ["existente"]


@pytest.fixture
def three_attributes(database, category_id) -> list[int]:
    with database() as session:
        category = session.get(Category, category_id)
        ids = [define_attribute(session, category, code=code, description=f"Pregunta {code}",
                                datatype=Datatype.STRING).id for code in ("a", "b", "c")]
        session.commit()
        return ids


def codes_in_order(database, category_id: int) -> list[str]:
    with database() as session:
        return [a.code for a in session.scalars(
            sa.select(CategoryAttribute).where(CategoryAttribute.category_id == category_id)
            .order_by(CategoryAttribute.order))]


def test_admin_edits_an_attribute_keeping_its_place(admin, client, database, category_id,
                                                    three_attributes):
    url = f"/gestion/admin/categorias/{category_id}/preguntas/{three_attributes[1]}"
    html = client.get(url).get_data(as_text=True)
    assert field_value(html, "code") == "b"
    response = post_form(client, url, {"code": "tipo", "description": "¿Qué tipo?",
                                       "datatype": "multivaluelist",
                                       "values_text": "led|LED\nsodio"})
    assert response.status_code == 302
    assert codes_in_order(database, category_id) == ["a", "tipo", "c"]
    with database() as session:
        attribute = session.scalar(sa.select(CategoryAttribute)
                                   .where(CategoryAttribute.code == "tipo"))
        assert attribute.values == [{"key": "led", "name": "LED"},
                                    {"key": "sodio", "name": "sodio"}]
        assert attribute.variable is False and attribute.required is False


def test_editing_an_attribute_into_a_clashing_code_keeps_the_old_one(
        admin, client, database, category_id, three_attributes):
    url = f"/gestion/admin/categorias/{category_id}/preguntas/{three_attributes[1]}"
    response = post_form(client, url, {"code": "a", "description": "Otra", "datatype": "text",
                                       "variable": "y"})
    assert response.status_code == 422
    assert "ya tiene un campo con ese código" in error_summary(response.get_data(as_text=True))
    assert codes_in_order(database, category_id) == ["a", "b", "c"]


def test_admin_reorders_and_deletes_attributes(admin, client, database, category_id,
                                               three_attributes):
    page = f"/gestion/admin/categorias/{category_id}"
    base = f"{page}/preguntas"
    assert post_form(client, f"{base}/{three_attributes[2]}/mover", {"direccion": "subir"},
                     page=page).status_code == 302
    assert codes_in_order(database, category_id) == ["a", "c", "b"]
    post_form(client, f"{base}/{three_attributes[0]}/mover", {"direccion": "bajar"}, page=page)
    assert codes_in_order(database, category_id) == ["c", "a", "b"]
    post_form(client, f"{base}/{three_attributes[0]}/eliminar", {}, page=page)
    assert codes_in_order(database, category_id) == ["c", "b"]


def test_attribute_of_another_category_is_not_found(admin, client, database, three_attributes):
    with database() as session:
        other = make_category(session)
        session.commit()
        other_id = other.id
    url = f"/gestion/admin/categorias/{other_id}/preguntas/{three_attributes[0]}"
    assert client.get(url).status_code == 404


# --- staff users ---------------------------------------------------------------------------

def user_data(department_id: int, **overrides) -> dict:
    data = {"name": "Ana Muñoz", "email": "Ana.Munoz@Muni.cl", "role": "supervisor",
            "departments": [str(department_id)], "active": "y",
            "password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_a_staff_user_who_can_log_in(admin, client, app, database,
                                                   department_id):
    response = post_form(client, "/gestion/admin/usuarios/nuevo", user_data(department_id))
    assert response.status_code == 302
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == "ana.munoz@muni.cl"))
        assert (user.name, user.role, user.department_ids, user.active) == (
            "Ana Muñoz", Role.SUPERVISOR, {department_id}, True)
    other = app.test_client()
    login(other, "ana.munoz@muni.cl", STRONG_PASSWORD)
    assert other.get("/gestion/").status_code == 200


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": ""}, "Escribe el nombre."),
    ({"email": "no-es-correo"}, "El correo no es válido."),
    ({"email": "existente@muni.cl"}, "Ya existe un usuario con ese correo."),
    ({"password": "corta-11chr", "password_confirm": "corta-11chr"},
     "al menos 12 caracteres"),
    ({"password_confirm": "otra-clave-bien-larga"}, "Las dos contraseñas no coinciden."),
    ({"departments": None}, "debe pertenecer a un departamento"),
    ({"role": "dios"}, "Elige un rol."),
])
def test_bad_new_user_input_refills_the_form_and_saves_nothing(admin, client, database,
                                                                department_id, overrides,
                                                                message):
    with database() as session:
        make_user(session, Role.AGENT, [session.get(Department, department_id)],
                  email="existente@muni.cl")
        session.commit()
    response = post_form(client, "/gestion/admin/usuarios/nuevo",
                         user_data(department_id, **overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html)
    assert field_value(html, "email") == overrides.get("email", "Ana.Munoz@Muni.cl")
    assert STRONG_PASSWORD not in html  # passwords are never echoed back
    with database() as session:
        assert count(session, User) == 2


def test_admin_changes_role_departments_and_access_of_a_user(admin, client, database,
                                                             department_id):
    with database() as session:
        user = make_user(session, Role.AGENT, [session.get(Department, department_id)])
        other = make_department(session, name="Obras")
        session.commit()
        user_id, other_id, email = user.id, other.id, user.email
    url = f"/gestion/admin/usuarios/{user_id}"
    assert field_value(client.get(url).get_data(as_text=True), "email") == email
    response = post_form(client, url, {"name": "Nuevo Nombre", "email": email,
                                       "role": "supervisor",
                                       "departments": [str(department_id), str(other_id)]})
    assert response.status_code == 302
    with database() as session:
        user = session.get(User, user_id)
        assert (user.name, user.role, user.department_ids, user.active) == (
            "Nuevo Nombre", Role.SUPERVISOR, {department_id, other_id}, False)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"role": "manager"}, "No puedes quitarte tu propio rol de administrador."),
    ({"active": None}, "No puedes desactivar tu propia cuenta."),
])
def test_admin_cannot_demote_or_deactivate_themselves(admin, client, database, overrides,
                                                      message):
    with database() as session:
        email = session.get(User, admin).email
    data = {"name": "Yo", "email": email, "role": "admin", "active": "y", **overrides}
    response = post_form(client, f"/gestion/admin/usuarios/{admin}",
                         {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 422
    assert message in error_summary(response.get_data(as_text=True))
    with database() as session:
        me = session.get(User, admin)
        assert me.role is Role.ADMIN and me.active and me.name != "Yo"


# --- API keys ------------------------------------------------------------------------------

def test_api_key_secret_is_shown_once_and_works_until_revoked(admin, client, app, database):
    response = post_form(client, "/gestion/admin/claves-api/nueva", {
        "name": "App vecinal", "scopes": ["categories:read", "requests:track"]})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r"(cak_[A-Za-z0-9_\-]+)", response.get_data(as_text=True)).group(1)
    with database() as session:
        key = session.scalar(sa.select(ApiKey))
        assert (key.name, key.scopes) == ("App vecinal", "categories:read requests:track")
        assert secret not in (key.key_hash, key.prefix) and secret.startswith(key.prefix)
        key_id = key.id
    listing = client.get("/gestion/admin/claves-api").get_data(as_text=True)
    assert key.prefix in listing and secret not in listing

    assert "Nunca" in text_of(listing)

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/categories", headers=bearer).status_code == 200
    with database() as session:
        assert session.get(ApiKey, key_id).last_used_at is not None
    assert "Nunca" not in text_of(client.get("/gestion/admin/claves-api").get_data(as_text=True))

    page = "/gestion/admin/claves-api"
    assert post_form(client, f"/gestion/admin/claves-api/{key_id}/revocar", {},
                     page=page).status_code == 302
    assert api.get("/api/v1/categories", headers=bearer).status_code == 401
    assert "Revocada" in text_of(client.get(page).get_data(as_text=True))


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "scopes": ["categories:read"]}, "Escribe un nombre"),
    ({"name": "Sin alcances"}, "Marca al menos un alcance."),
    ({"name": "Alcance raro", "scopes": ["admin:all"]}, "Marca al menos un alcance."),
])
def test_bad_api_key_input_refills_the_form_and_creates_no_key(admin, client, database,
                                                                data, message):
    response = post_form(client, "/gestion/admin/claves-api/nueva", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html) and "cak_" not in html
    assert field_value(html, "name") == data["name"]
    with database() as session:
        assert count(session, ApiKey) == 0


# --- email templates -----------------------------------------------------------------------

def test_email_preview_renders_every_template_and_saves_nothing(admin, client, app,
                                                                database):
    with database() as session:
        before = {model: count(session, model) for model in
                  (Ticket, OutboxMessage, User, Department, Category)}
    response = client.get("/gestion/admin/correos")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    folder = app.jinja_loader.searchpath[0] + "/emails"

    names = sorted({f[:-4] for f in os.listdir(folder)
                    if f.endswith(".txt") and not f.startswith("_")})
    assert len(names) >= 11
    for name in names:
        section = re.search(rf'<section aria-labelledby="{name}".*?</section>', html, re.DOTALL)
        assert section, f"no preview of {name}"
        assert 'class="email-subject"' in section.group(0), f"{name} has no sample"
        has_html = os.path.exists(f"{folder}/{name}.html")
        assert ('<iframe class="email-html" sandbox=""' in section.group(0)) == has_html
    assert "Recibimos tu solicitud" in html and "Luminaria apagada" in html
    with database() as session:
        after = {model: count(session, model) for model in before}
    assert after == before


def test_edit_pages_show_the_saved_values(admin, client, database):
    with database() as session:
        aseo, obras = make_department(session, "Aseo"), make_department(session, "Obras")
        category = make_category(session, obras, name="Bache", keywords="hoyo, calle",
                                 allows_anonymous=True)
        attribute = define_attribute(session, category, code="tamano", description="¿Tamaño?",
                                     datatype=Datatype.SINGLEVALUELIST,
                                     values=[("s", "Chico"), ("l", "Grande")])
        user = make_user(session, Role.SUPERVISOR, [obras])
        session.commit()
        ids = category.id, attribute.id, user.id, obras.id, aseo.id
    category_id, attribute_id, user_id, obras_id, aseo_id = ids
    html = client.get(f"/gestion/admin/categorias/{category_id}").get_data(as_text=True)
    assert f'<option selected value="{obras_id}">Obras</option>' in html
    assert field_value(html, "keywords") == "hoyo, calle"
    assert re.search(r'id="allows_anonymous"[^>]*checked|checked[^>]*id="allows_anonymous"', html)
    html = client.get(f"/gestion/admin/categorias/{category_id}/preguntas/{attribute_id}"
                      ).get_data(as_text=True)
    assert "s|Chico\nl|Grande" in html
    assert '<option selected value="singlevaluelist">' in html
    html = client.get(f"/gestion/admin/usuarios/{user_id}").get_data(as_text=True)
    assert re.search(rf'checked[^>]*value="{obras_id}"|value="{obras_id}"[^>]*checked', html)
    assert not re.search(rf'checked[^>]*value="{aseo_id}"|value="{aseo_id}"[^>]*checked', html)
    assert '<option selected value="supervisor">' in html


def test_api_key_last_use_is_written_at_most_once_per_precision_window(database):
    with database() as session:
        key = create_api_key(session, name="App", scopes=[Scope.CATEGORIES_READ]).record
        first = utcnow()
        assert note_api_key_use(session, key, now=first) is True
        assert note_api_key_use(session, key, now=first + timedelta(minutes=1)) is False
        later = first + LAST_USED_PRECISION + timedelta(seconds=1)
        assert note_api_key_use(session, key, now=later) is True
        session.commit()
        session.expire_all()
        assert session.get(ApiKey, key.id).last_used_at == later


def test_deactivated_user_loses_their_open_session_at_once(admin, client, app, database,
                                                           department_id):
    with database() as session:
        user = make_user(session, Role.AGENT, [session.get(Department, department_id)])
        session.commit()
        user_id, email = user.id, user.email
    other = app.test_client()
    login(other, email)
    assert other.get("/gestion/").status_code == 200
    response = post_form(client, f"/gestion/admin/usuarios/{user_id}", {
        "name": "Agente", "email": email, "role": "agent", "departments": [str(department_id)]})
    assert response.status_code == 302
    response = other.get("/gestion/")
    assert response.status_code == 302 and "/gestion/ingresar" in response.location


@pytest.mark.parametrize("action", ["revocar", "eliminar", "mover"])
def test_admin_buttons_without_csrf_token_are_refused_with_400(admin, client, database,
                                                               three_attributes, category_id,
                                                               action):
    with database() as session:
        key_id = create_api_key(session, name="App", scopes=[Scope.CATEGORIES_READ]).record.id
        session.commit()
    url = (f"/gestion/admin/claves-api/{key_id}/revocar" if action == "revocar" else
           f"/gestion/admin/categorias/{category_id}/preguntas/{three_attributes[0]}/{action}")
    assert client.post(url, data={"direccion": "bajar"}).status_code == 400
    with database() as session:
        assert session.get(ApiKey, key_id).active
    assert codes_in_order(database, category_id) == ["a", "b", "c"]
