"""The access matrix of docs/SECURITY.md, walked over every route of the app.

``ROUTES`` classifies every endpoint of ``app.url_map``; a route missing from it
fails ``test_every_route_is_classified``, so each new route must be classified
here (and in docs/SECURITY.md) before it can be merged. For each classified
route, every principal (anonymous, staff of each role in and out of the
request's department, application keys of each kind, staff tokens) calls it,
and the answer must be the matrix's: allowed, or refused with a redirect to the
login page, 401, 403 or 404. Forms that change state are also posted without
their CSRF token (always 400) and with it.

Then the two rules that cut across routes: another department's request is
invisible everywhere, and internal notes never leave staff views.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.accounts.credentials import (
    RESIDENT_APP_SCOPES,
    ApiKey,
    Scope,
    create_api_key,
    issue_staff_token,
)
from app.accounts.models import Role, User
from app.accounts.password_reset import request_reset
from app.catalog.attributes import Datatype, define_attribute
from app.catalog.models import Category, Macrosector
from app.catalog.routing_models import RoutingRule
from app.catalog.sla import SlaPolicy
from app.deadlines.models import HolidayOverride, OverrideKind
from app.notifications.models import OutboxMessage
from app.productivity.models import CannedAnswer, SavedFilter
from app.surveys.invitations import make_token
from app.surveys.resolution import ResolutionAnswer, answer_survey
from app.tickets import lifecycle, timeline
from app.tickets.attachments import add_attachment
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Status
from app.transparency.models import ProgressUpdate
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket
from tests.survey_factories import make_survey, resolve

# --- principals ------------------------------------------------------------------------------

SESSION_PRINCIPALS = ["anonymous", "agent_own", "agent_other", "supervisor_own",
                      "supervisor_other", "manager", "admin"]
CREDENTIAL_PRINCIPALS = ["key_resident", "key_reader", "key_open311", "token_agent_own",
                         "token_agent_other", "token_manager"]
PRINCIPALS = SESSION_PRINCIPALS + CREDENTIAL_PRINCIPALS
OWN_DEPT = {"agent_own", "supervisor_own", "manager", "admin"}
STAFF_SESSIONS = set(SESSION_PRINCIPALS) - {"anonymous"}
KEY_SCOPES = {"key_resident": set(RESIDENT_APP_SCOPES), "key_reader": {Scope.REQUESTS_READ},
              "key_open311": {Scope.OPEN311_SUBMIT}}
TOKEN_SEES = {"token_agent_own": True, "token_agent_other": False, "token_manager": True}

OK, LOGIN, CSRF = "ok", "login", "csrf"  # plus 401, 403, 404


# --- access classes: principal -> expected outcome ---------------------------------------------

def public(_principal: str) -> str:
    return OK


def staff(principal: str) -> str:
    """Any logged-in staff member; everyone else is sent to the login page."""
    return OK if principal in STAFF_SESSIONS else LOGIN


def staff_ticket(principal: str) -> str:
    """Staff of the request's department, managers and admins; others 404."""
    if principal not in STAFF_SESSIONS:
        return LOGIN
    return OK if principal in OWN_DEPT else 404


def roles(*allowed: str) -> Callable[[str], str]:
    def check(principal: str) -> str:
        if principal not in STAFF_SESSIONS:
            return LOGIN
        return OK if principal in allowed else 403
    check.__name__ = f"roles({', '.join(allowed)})"
    return check


def creator_only(principal: str) -> str:
    """The handover receipt: only whoever registered the request (agent_own)."""
    if principal not in STAFF_SESSIONS:
        return LOGIN
    return OK if principal == "agent_own" else 404


def owner_only(principal: str) -> str:
    """A saved view: only the staff member who saved it (agent_own); others 404."""
    if principal not in STAFF_SESSIONS:
        return LOGIN
    return OK if principal == "agent_own" else 404


def own_supervisor(principal: str) -> str:
    """Something of the request's department that its supervisors and admins manage.

    Another department's supervisor is told it does not exist (404).
    """
    if principal not in STAFF_SESSIONS:
        return LOGIN
    if principal in ("supervisor_own", "admin"):
        return OK
    return 404 if principal == "supervisor_other" else 403


def own_supervisor_deletes(principal: str) -> str:
    """As ``own_supervisor``, but the department's supervisor (called before the
    admin, in the same world) deletes it, so the admin then finds nothing."""
    return 404 if principal == "admin" else own_supervisor(principal)


def own_supervisor_publishes(principal: str) -> str:
    """A progress update: its department's supervisors and admins; another
    department's supervisor is refused (403: the page lists only theirs)."""
    return 403 if principal == "supervisor_other" else own_supervisor(principal)


def api(scope: Scope | None = None, *, staff_only: bool = False, ticket: bool = False):
    """REST API: bearer credentials only (a session cookie is not one: 401)."""

    def check(principal: str) -> str:
        if principal in KEY_SCOPES:
            if staff_only or (scope is not None and scope not in KEY_SCOPES[principal]):
                return 403
            return OK
        if principal in TOKEN_SEES:
            if scope is Scope.OPEN311_SUBMIT:
                return 403
            return OK if TOKEN_SEES[principal] or not ticket else 404
        return 401
    return check


def open311_submit(principal: str) -> str:
    return OK if principal == "key_open311" else 403


@dataclass(frozen=True)
class Route:
    path: str                      # formatted with the World's fields
    methods: tuple[str, ...]
    access: Callable[[str], str]
    csrf: bool = False             # POST refused without a CSRF token
    data: dict = field(default_factory=dict)   # form fields; "{bearer}" = the caller's key
    json: dict | None = None       # a JSON body (REST API): valid, so refusals are not 422


T = "/gestion/solicitudes/{ticket}"
S = "/gestion/encuestas/{survey}"
Q = S + "/preguntas/{question}"
C = "/gestion/admin/categorias/{category}"
READERS = roles("manager", "admin")
BUILDERS = roles("admin")
SUPERVISORS = roles("supervisor_own", "supervisor_other", "admin")
DASHBOARD = roles("supervisor_own", "supervisor_other", "manager", "admin")
GET, POST, GET_POST = ("GET",), ("POST",), ("GET", "POST")

# Every endpoint of the app. A new route must be added here (and to docs/SECURITY.md).
ROUTES: dict[str, Route] = {
    # resident pages (a tracking code or signed token is the key)
    "resident.home": Route("/", GET, public),
    "resident.submit": Route("/solicitudes/nueva", GET_POST, public, csrf=True),
    "resident.confirmation": Route("/solicitudes/{code}/recibida", GET, public),
    "resident.track": Route("/seguimiento", GET_POST, public, csrf=True,
                            data={"code": "{code}"}),
    "resident.status": Route("/seguimiento/{code}", GET, public),
    "attachments.public_file": Route("/seguimiento/{code}/adjuntos/{public_file}", GET,
                                     public),
    "surveys_public.resolution_survey": Route("/encuesta/{survey_token}", GET_POST, public,
                                              csrf=True),
    "surveys_public.resolution_thanks": Route("/encuesta/{survey_token}/gracias", GET,
                                              public),
    "surveys_public.community": Route("/encuestas/{slug}", GET_POST, public),
    "surveys_public.community_embed": Route("/encuestas/{slug}/embed", GET_POST, public),
    "surveys_public.community_thanks": Route("/encuestas/{slug}/gracias", GET, public),
    "surveys_public.community_embed_thanks": Route("/encuestas/{slug}/embed/gracias", GET,
                                                   public),
    "static": Route("/static/site.css", GET, public),
    "health.healthz": Route("/healthz", GET, public),
    "health.readyz": Route("/readyz", GET, public),
    # the language switch (no CSRF token: docs/SECURITY.md)
    "i18n.switch": Route("/idioma", POST, public, data={"lang": "en", "next": "/"}),
    # login and password reset
    "accounts.login": Route("/gestion/ingresar", GET_POST, public, csrf=True),
    "accounts.logout": Route("/gestion/salir", POST, public, csrf=True),
    # the TOTP code after a right password: without a pending login, back to the login
    # page; a logged-in member is sent on to the queue
    "accounts.login_code": Route("/gestion/ingresar/codigo", GET_POST, staff, csrf=True),
    "accounts.security": Route("/gestion/cuenta/seguridad", GET_POST, staff, csrf=True),
    "accounts.totp_disable": Route("/gestion/cuenta/seguridad/desactivar", POST, staff,
                                   csrf=True),
    "accounts.reset_request": Route("/gestion/recuperar", GET_POST, public, csrf=True),
    "accounts.reset_password": Route("/gestion/recuperar/{reset}", GET_POST, public,
                                     csrf=True),
    # staff: the department's requests
    "staff.queue": Route("/gestion/", GET, staff),
    "staff.detail": Route(T, GET, staff_ticket),
    "staff.reply": Route(T + "/respuesta", POST, staff_ticket, csrf=True),
    "staff.note": Route(T + "/nota", POST, staff_ticket, csrf=True),
    "staff.change_status": Route(T + "/estado", POST, staff_ticket, csrf=True),
    "staff.reassign": Route(T + "/reasignar", POST, staff_ticket, csrf=True),
    "attachments.upload": Route(T + "/adjuntos", POST, staff_ticket, csrf=True),
    "attachments.staff_file": Route(T + "/adjuntos/{internal_file}", GET, staff_ticket),
    "merging.merge_into": Route(T + "/unir", POST, staff_ticket, csrf=True),
    "counter.register": Route("/gestion/registrar", GET_POST, staff, csrf=True),
    "counter.lookup": Route("/gestion/registrar/buscar", POST, staff, csrf=True,
                            data={"buscar": "rosa.vecina@example.cl"}),
    "counter.handover": Route("/gestion/registrar/{ticket}/comprobante", GET, creator_only),
    "notifications.preferences": Route("/gestion/avisos/", GET_POST, staff, csrf=True),
    # staff: surveys
    "surveys_staff.index": Route("/gestion/encuestas/", GET, staff),
    "surveys_staff.answer": Route("/gestion/encuestas/{staff_survey}/responder", GET_POST,
                                  staff, csrf=True),
    "surveys_staff.new": Route("/gestion/encuestas/nueva", GET_POST, BUILDERS, csrf=True),
    "surveys_staff.edit": Route(S, GET_POST, BUILDERS, csrf=True),
    "surveys_staff.publish": Route(S + "/publicar", POST, BUILDERS, csrf=True),
    "surveys_staff.close": Route(S + "/cerrar", POST, BUILDERS, csrf=True),
    "surveys_staff.add_question": Route(S + "/preguntas", POST, BUILDERS, csrf=True),
    "surveys_staff.edit_question": Route(Q, GET_POST, BUILDERS, csrf=True),
    "surveys_staff.delete_question": Route(Q + "/eliminar", POST, BUILDERS, csrf=True),
    "surveys_staff.move_question": Route(Q + "/mover", POST, BUILDERS, csrf=True),
    "surveys_staff.survey_results": Route(S + "/resultados", GET, READERS),
    "surveys_staff.survey_results_csv": Route(S + "/resultados.csv", GET, READERS),
    "surveys_staff.satisfaction": Route("/gestion/encuestas/satisfaccion", GET, READERS),
    "surveys_staff.satisfaction_csv": Route("/gestion/encuestas/satisfaccion.csv", GET,
                                            READERS),
    # staff: assignment, legal deadline, bulk actions, saved views, canned answers
    "staff.assign": Route(T + "/asignar", POST, staff_ticket, csrf=True),
    "staff.assign_me": Route(T + "/asignarme", POST, staff_ticket, csrf=True),
    "deadlines.extend": Route(T + "/prorroga", POST, staff_ticket, csrf=True),
    "productivity.bulk_action": Route("/gestion/lote", POST, staff, csrf=True),
    "productivity.save_filter": Route("/gestion/vistas", POST, staff, csrf=True),
    "productivity.delete_filter": Route("/gestion/vistas/{saved_filter}/eliminar", POST,
                                        owner_only, csrf=True),
    "productivity.canned_index": Route("/gestion/respuestas-tipo", GET, SUPERVISORS),
    "productivity.canned_new": Route("/gestion/respuestas-tipo/nueva", GET_POST, SUPERVISORS,
                                     csrf=True),
    "productivity.canned_edit": Route("/gestion/respuestas-tipo/{canned}", GET_POST,
                                      own_supervisor, csrf=True),
    "productivity.canned_delete": Route("/gestion/respuestas-tipo/{canned}/eliminar", POST,
                                        own_supervisor_deletes, csrf=True),
    # managers: dashboards; admins and managers: privacy; admins: audit
    "metrics.dashboard": Route("/gestion/tablero/", GET, DASHBOARD),
    "metrics.export": Route("/gestion/tablero/pendientes.csv", GET, DASHBOARD),
    "privacy.index": Route("/gestion/privacidad/", GET, READERS),
    "privacy.search": Route("/gestion/privacidad/", POST, READERS, csrf=True),
    "privacy.export": Route("/gestion/privacidad/exportar", POST, READERS, csrf=True),
    "privacy.erase": Route("/gestion/privacidad/anonimizar", POST, READERS, csrf=True),
    "audit.index": Route("/gestion/auditoria/", GET, BUILDERS),
    "audit.export_csv": Route("/gestion/auditoria/auditoria.csv", GET, BUILDERS),
    # transparency: public pages and open data; updates by supervisors and admins
    "transparency.municipality": Route("/transparencia", GET, public),
    "transparency.department": Route("/transparencia/{department_slug}", GET, public),
    "transparency.open_data": Route("/datos-abiertos", GET, public),
    "transparency.records_csv": Route("/datos-abiertos/solicitudes.csv", GET, public),
    "transparency.records_json": Route("/datos-abiertos/solicitudes.json", GET, public),
    "transparency.aggregates_csv": Route("/datos-abiertos/solicitudes-por-mes.csv", GET,
                                         public),
    "transparency_staff.manage": Route("/gestion/transparencia", GET, SUPERVISORS),
    "transparency_staff.add_update": Route("/gestion/transparencia/avances", POST,
                                           SUPERVISORS, csrf=True),
    "transparency_staff.set_publication": Route(
        "/gestion/transparencia/avances/{update}/publicacion", POST,
        own_supervisor_publishes, csrf=True),
    "transparency_staff.set_pilots": Route("/gestion/transparencia/piloto", POST, BUILDERS,
                                           csrf=True),
    "privacy_public.policy": Route("/privacidad", GET, public),
    # residents' «Mis solicitudes» (the email link is the key)
    "residents.request_link": Route("/mis-solicitudes/ingresar", GET_POST, public, csrf=True),
    "residents.link_sent": Route("/mis-solicitudes/ingresar/enviado", GET, public),
    "residents.redeem": Route("/mis-solicitudes/enlace/no-es-un-enlace", GET_POST, public,
                              csrf=True),
    "residents.index": Route("/mis-solicitudes", GET, public),
    "residents.logout": Route("/mis-solicitudes/salir", POST, public, csrf=True),
    # administration (admins only)
    "admin.home": Route("/gestion/admin/", GET, BUILDERS),
    "admin.departments": Route("/gestion/admin/departamentos", GET, BUILDERS),
    "admin.department_new": Route("/gestion/admin/departamentos/nuevo", GET_POST, BUILDERS,
                                  csrf=True),
    "admin.department_edit": Route("/gestion/admin/departamentos/{department}", GET_POST,
                                   BUILDERS, csrf=True),
    "admin.macrosectors": Route("/gestion/admin/macrosectores", GET, BUILDERS),
    "admin.macrosector_new": Route("/gestion/admin/macrosectores/nuevo", GET_POST, BUILDERS,
                                   csrf=True),
    "admin.macrosector_edit": Route("/gestion/admin/macrosectores/{macrosector}", GET_POST,
                                    BUILDERS, csrf=True),
    "admin.categories": Route("/gestion/admin/categorias", GET, BUILDERS),
    "admin.category_new": Route("/gestion/admin/categorias/nueva", GET_POST, BUILDERS,
                                csrf=True),
    "admin.category_edit": Route(C, GET_POST, BUILDERS, csrf=True),
    "admin.attribute_new": Route(C + "/preguntas", POST, BUILDERS, csrf=True),
    "admin.attribute_edit": Route(C + "/preguntas/{attribute}", GET_POST, BUILDERS,
                                  csrf=True),
    "admin.attribute_move": Route(C + "/preguntas/{attribute}/mover", POST, BUILDERS,
                                  csrf=True),
    "admin.attribute_delete": Route(C + "/preguntas/{attribute}/eliminar", POST, BUILDERS,
                                    csrf=True),
    "admin.sla_policies": Route("/gestion/admin/plazos", GET, BUILDERS),
    "admin.sla_policy_new": Route("/gestion/admin/plazos/nueva", GET_POST, BUILDERS,
                                  csrf=True),
    "admin.sla_policy_edit": Route("/gestion/admin/plazos/{sla_policy}", GET_POST, BUILDERS,
                                   csrf=True),
    "admin.users": Route("/gestion/admin/usuarios", GET, BUILDERS),
    "admin.user_new": Route("/gestion/admin/usuarios/nuevo", GET_POST, BUILDERS, csrf=True),
    "admin.user_edit": Route("/gestion/admin/usuarios/{user}", GET_POST, BUILDERS, csrf=True),
    "admin.user_totp_reset": Route("/gestion/admin/usuarios/{user}/totp/restablecer", POST,
                                   BUILDERS, csrf=True),
    "admin.api_keys": Route("/gestion/admin/claves-api", GET, BUILDERS),
    "admin.api_key_new": Route("/gestion/admin/claves-api/nueva", GET_POST, BUILDERS,
                               csrf=True),
    "admin.api_key_revoke": Route("/gestion/admin/claves-api/{api_key}/revocar", POST,
                                  BUILDERS, csrf=True),
    "admin.emails": Route("/gestion/admin/correos", GET, BUILDERS),
    "routing_admin.index": Route("/gestion/admin/ruteo/", GET, BUILDERS),
    "routing_admin.preview": Route("/gestion/admin/ruteo/probar", GET, BUILDERS),
    "routing_admin.new_rule": Route("/gestion/admin/ruteo/reglas/nueva", GET_POST, BUILDERS,
                                    csrf=True),
    "routing_admin.edit_rule": Route("/gestion/admin/ruteo/reglas/{rule}", GET_POST,
                                     BUILDERS, csrf=True),
    "routing_admin.move_rule": Route("/gestion/admin/ruteo/reglas/{rule}/subir", POST,
                                     BUILDERS, csrf=True),
    "routing_admin.delete_rule": Route("/gestion/admin/ruteo/reglas/{rule}/eliminar",
                                       GET_POST, BUILDERS, csrf=True),
    "routing_admin.department_settings": Route(
        "/gestion/admin/ruteo/departamentos/{department}", GET_POST, BUILDERS, csrf=True),
    "deadlines.holidays": Route("/gestion/admin/feriados", GET, BUILDERS),
    "deadlines.add_holiday": Route("/gestion/admin/feriados", POST, BUILDERS, csrf=True),
    "deadlines.delete_holiday": Route("/gestion/admin/feriados/{holiday}/eliminar", POST,
                                      BUILDERS, csrf=True),
    # REST API v1
    "api-docs.openapi_json": Route("/api/v1/openapi.json", GET, public),
    "api_docs.page": Route("/api/v1/docs", GET, public),
    "catalogo.list_categories": Route("/api/v1/categories", GET, api(Scope.CATEGORIES_READ)),
    "catalogo.get_category": Route("/api/v1/categories/{category_slug}", GET,
                                   api(Scope.CATEGORIES_READ)),
    "catalogo.list_departments": Route("/api/v1/departments", GET,
                                       api(Scope.CATEGORIES_READ)),
    "credenciales.create_token": Route("/api/v1/auth/token", POST, public, json={}),
    "credenciales.revoke_token": Route("/api/v1/auth/token", ("DELETE",),
                                       api(staff_only=True)),
    "credenciales.whoami": Route("/api/v1/auth/whoami", GET, api()),
    "solicitudes.RequestCollection": Route("/api/v1/requests", GET, api(Scope.REQUESTS_READ)),
    "solicitudes.RequestCollection:POST": Route("/api/v1/requests", POST,
                                                api(Scope.REQUESTS_CREATE), json={}),
    "solicitudes.RequestItem": Route("/api/v1/requests/{ticket}", GET,
                                     api(Scope.REQUESTS_READ, ticket=True)),
    "solicitudes.get_by_code": Route("/api/v1/requests/by-code/{code}", GET,
                                     api(Scope.REQUESTS_TRACK)),
    "solicitudes.get_timeline": Route("/api/v1/requests/{ticket}/timeline", GET,
                                      api(Scope.REQUESTS_READ, ticket=True)),
    "solicitudes.add_reply": Route("/api/v1/requests/{ticket}/replies", POST,
                                   api(staff_only=True, ticket=True),
                                   json={"body": "Estamos en eso."}),
    "solicitudes.add_note": Route("/api/v1/requests/{ticket}/notes", POST,
                                  api(staff_only=True, ticket=True),
                                  json={"body": "Nota de prueba."}),
    "solicitudes.transition": Route("/api/v1/requests/{ticket}/transitions", POST,
                                    api(staff_only=True, ticket=True),
                                    json={"status": "in_review"}),
    "solicitudes.reassign": Route("/api/v1/requests/{ticket}/reassignments", POST,
                                  api(staff_only=True, ticket=True),
                                  json={"department": "no-existe", "reason": "Prueba"}),
    # Open311 GeoReport v2: public reads (public categories only), keyed POST
    "open311.discovery": Route("/open311/v2/discovery.json", GET, public),
    "open311.services": Route("/open311/v2/services.xml", GET, public),
    "open311.service_definition": Route("/open311/v2/services/{category_slug}.json", GET,
                                        public),
    "open311.list_requests": Route("/open311/v2/requests.xml", GET, public),
    "open311.get_request": Route("/open311/v2/requests/{number}.json", GET, public),
    "open311.token": Route("/open311/v2/tokens/{code}.json", GET, public),
    "open311.create_request": Route("/open311/v2/requests.json", POST, open311_submit,
                                    data={"api_key": "{bearer}"}),
}


def classified_endpoints() -> set[str]:
    return {name.split(":")[0] for name in ROUTES}


def test_every_route_is_classified(app):
    """A route without a row here has no written access rule: classify it."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unclassified = sorted(endpoints - classified_endpoints())
    stale = sorted(classified_endpoints() - endpoints)
    assert not unclassified, f"routes missing from ROUTES (and docs/SECURITY.md): {unclassified}"
    assert not stale, f"ROUTES lists endpoints that no longer exist: {stale}"


def test_every_method_of_every_route_is_classified(app):
    covered: dict[str, set[str]] = {}
    for name, route in ROUTES.items():
        covered.setdefault(name.split(":")[0], set()).update(route.methods)
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods) - {"HEAD", "OPTIONS"}
        assert methods <= covered.get(rule.endpoint, set()), (rule.endpoint, methods)


# --- the world every route is called in ----------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SECRET_NOTE = "NOTA-INTERNA-7Q3Z no se lo digas al vecino"
RESIDENT_EMAIL = "rosa.vecina@example.cl"
_HASH = generate_password_hash(PASSWORD)  # once: scrypt is slow on purpose


@dataclass
class World:
    values: dict[str, str]
    emails: dict[str, str]
    bearer: dict[str, str]

    def path(self, template: str) -> str:
        return template.format(**self.values)


@pytest.fixture
def world(app, database, tmp_path, monkeypatch) -> World:
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(tmp_path / "uploads"))
    for setting in ("LOGIN_RATE_LIMIT", "SUBMIT_RATE_LIMIT", "TRACKING_MISS_RATE_LIMIT",
                    "API_TOKEN_RATE_LIMIT", "API_CREATE_RATE_LIMIT",
                    "PASSWORD_RESET_RATE_LIMIT"):
        monkeypatch.setitem(app.config, setting, "10000/minute")  # limits: test_abuse_limits
    with database() as session:
        own, other = make_department(session), make_department(session)
        category = make_category(session, own)
        make_category(session, other)

        def user(name: str, role: Role, departments) -> User:
            person = User(email=f"{name}@muni.example.cl", name=name, role=role,
                          departments=departments, password_hash=_HASH)
            session.add(person)
            return person

        people = {
            "agent_own": user("agent_own", Role.AGENT, [own]),
            "agent_other": user("agent_other", Role.AGENT, [other]),
            "supervisor_own": user("supervisor_own", Role.SUPERVISOR, [own]),
            "supervisor_other": user("supervisor_other", Role.SUPERVISOR, [other]),
            "manager": user("manager", Role.MANAGER, []),
            "admin": user("admin", Role.ADMIN, []),
        }
        session.flush()
        ticket = make_ticket(session, category, channel=Channel.COUNTER,
                             created_by=people["agent_own"], email=RESIDENT_EMAIL,
                             contact=ResidentContact(name="Rosa Pérez", email=RESIDENT_EMAIL))
        timeline.add_internal_note(session, ticket, author=people["agent_own"],
                                   body=SECRET_NOTE)
        public_file = add_attachment(session, ticket, filename="foto.pdf", data=PDF,
                                     public=True)
        internal_file = add_attachment(session, ticket, filename="interno.pdf",
                                       data=PDF, public=False)
        resolved = make_ticket(session, category)
        resolve(session, resolved, people["agent_own"])
        community = make_survey(session)
        staff_survey = make_survey(session, kind="staff", title="Clima laboral")
        keys = {name: create_api_key(session, name=name, scopes=sorted(scopes)).secret
                for name, scopes in KEY_SCOPES.items()}
        tokens = {name: issue_staff_token(session, people[user_name], lifetime=_hour()).secret
                  for name, user_name in [("token_agent_own", "agent_own"),
                                          ("token_agent_other", "agent_other"),
                                          ("token_manager", "manager")]}
        reset = request_reset(session, "agent_own@muni.example.cl", base_url="http://x")
        attribute = define_attribute(session, category, code="tipo", description="¿Qué pasa?",
                                     datatype=Datatype.STRING)
        saved = SavedFilter(user_id=people["agent_own"].id, name="Mías", query="estado=todas")
        canned = CannedAnswer(department_id=own.id, title="Saludo", body="Hola {vecino}.")
        update = ProgressUpdate(department_id=own.id, month=date(2026, 11, 1),
                                title="Avance", body="Reparamos 40 luminarias.")
        rule = RoutingRule(name="Perros", keywords="perro", department_id=own.id)
        holiday = HolidayOverride(day=date(2026, 12, 24), name="Nochebuena",
                                  kind=OverrideKind.CLOSURE)
        sla_policy = SlaPolicy(name="Servicio", resolution_target=5)
        macrosector = Macrosector(name="Lo Hermida")
        session.add_all([saved, canned, update, rule, holiday, sla_policy, macrosector])
        session.flush()
        key_id = session.scalar(sa.select(ApiKey.id).order_by(ApiKey.id))
        session.commit()
        values = {
            "ticket": str(ticket.id), "code": ticket.formatted_tracking_code,
            "number": ticket.public_number, "public_file": str(public_file.id),
            "internal_file": str(internal_file.id), "category_slug": category.slug,
            "survey_token": make_token(resolved.resolution_survey),
            "slug": community.slug, "survey": str(community.id),
            "question": str(community.questions[0].id), "staff_survey": str(staff_survey.id),
            "reset": reset, "department": str(own.id), "department_slug": own.slug,
            "category": str(category.id), "attribute": str(attribute.id),
            "user": str(people["agent_own"].id), "api_key": str(key_id),
            "saved_filter": str(saved.id), "canned": str(canned.id), "update": str(update.id),
            "rule": str(rule.id), "holiday": str(holiday.id), "sla_policy": str(sla_policy.id),
            "macrosector": str(macrosector.id),
        }
    return World(values=values, emails={n: f"{n}@muni.example.cl" for n in people},
                 bearer={**keys, **tokens})


def _hour():
    from datetime import timedelta

    return timedelta(hours=1)


def client_for(app, world: World, principal: str):
    client = app.test_client()
    if principal in world.emails:
        html = client.get("/gestion/ingresar").get_data(as_text=True)
        response = client.post("/gestion/ingresar", data={
            "csrf_token": csrf_token_from(html), "email": world.emails[principal],
            "password": PASSWORD})
        assert response.status_code == 302, f"{principal} could not log in"
    return client


def outcome(response) -> str | int:
    if response.status_code in (301, 302, 303) and \
            "/gestion/ingresar" in response.headers.get("Location", ""):
        return LOGIN
    if response.status_code in (401, 403, 404):
        return response.status_code
    if response.status_code == 400 and b"Por seguridad, el formulario" in response.data:
        return CSRF
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    return OK


def call(client, world: World, route: Route, method: str, principal: str, *, with_csrf: bool):
    headers = ({"Authorization": f"Bearer {world.bearer[principal]}"}
               if principal in world.bearer else {})
    path = world.path(route.path)
    if method == "GET":
        return client.get(path, headers=headers)
    if method == "DELETE":
        return client.delete(path, headers=headers)
    if route.json is not None:
        return client.post(path, json=route.json, headers=headers)
    values = {**world.values, "bearer": world.bearer.get(principal, "")}
    data = {k: v.format(**values) for k, v in route.data.items()}
    if with_csrf:
        html = client.get("/gestion/recuperar").get_data(as_text=True)
        data["csrf_token"] = csrf_token_from(html)
    return client.post(path, data=data, headers=headers)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_answers_every_principal_as_the_matrix_says(app, world, name):
    route = ROUTES[name]
    mismatches = []
    for principal in PRINCIPALS:
        client = client_for(app, world, principal)
        expected = route.access(principal)
        for method in route.methods:
            if method == "POST" and route.csrf:
                got = outcome(call(client, world, route, method, principal, with_csrf=False))
                if got != CSRF:
                    mismatches.append(f"{principal} POST without CSRF: {got}, expected 400")
            got = outcome(call(client, world, route, method, principal, with_csrf=True))
            if got != expected:
                mismatches.append(f"{principal} {method}: {got}, expected {expected}")
    assert not mismatches, f"{name} {route.path}:\n" + "\n".join(mismatches)


# --- departments ---------------------------------------------------------------------------

def test_agent_of_another_department_never_learns_of_the_request(app, world):
    client = client_for(app, world, "agent_other")
    ticket, number = world.values["ticket"], world.values["number"]
    for path in [f"/gestion/solicitudes/{ticket}",
                 f"/gestion/solicitudes/{ticket}/adjuntos/{world.values['internal_file']}",
                 f"/gestion/registrar/{ticket}/comprobante"]:
        assert client.get(path).status_code == 404, path
    queue = client.get("/gestion/?estado=todas").get_data(as_text=True)
    assert number not in queue
    token = csrf_token_from(client.get("/gestion/registrar").get_data(as_text=True))
    lookup = client.post("/gestion/registrar/buscar",
                         data={"csrf_token": token, "buscar": RESIDENT_EMAIL})
    assert lookup.status_code == 200
    assert number not in lookup.get_data(as_text=True)
    assert client.get("/gestion/encuestas/satisfaccion.csv").status_code == 403  # exports

    api = {"Authorization": f"Bearer {world.bearer['token_agent_other']}"}
    for path in [f"/api/v1/requests/{ticket}", f"/api/v1/requests/{ticket}/timeline"]:
        assert client.get(path, headers=api).status_code == 404, path
    listed = client.get("/api/v1/requests?limit=100", headers=api).get_json()
    assert str(number) not in str(listed)
    own = client_for(app, world, "agent_own")  # the positive control
    assert number in own.get("/gestion/?estado=todas").get_data(as_text=True)


def test_a_tracking_code_shows_its_own_request_only(app, world, database):
    with database() as session:
        other = make_ticket(session, session.scalar(sa.select(Category)))
        session.commit()
        other_code, other_number = other.formatted_tracking_code, other.public_number
    client = app.test_client()
    mine = client.get(f"/seguimiento/{world.values['code']}").get_data(as_text=True)
    assert world.values["number"] in mine and other_number not in mine
    theirs = client.get(f"/seguimiento/{other_code}").get_data(as_text=True)
    assert other_number in theirs and world.values["number"] not in theirs
    # another request's file through my code is 404
    assert client.get(f"/seguimiento/{other_code}/adjuntos/"
                      f"{world.values['public_file']}").status_code == 404
    # an internal file is never served by code
    assert client.get(f"/seguimiento/{world.values['code']}/adjuntos/"
                      f"{world.values['internal_file']}").status_code == 404


# --- internal notes never leave staff views ------------------------------------------------

def test_internal_notes_appear_on_staff_views(app, world):
    """The positive control: the note exists and staff see it."""
    staff_page = client_for(app, world, "agent_own").get(world.path(T)).get_data(as_text=True)
    assert SECRET_NOTE in staff_page
    api = app.test_client().get(
        world.path("/api/v1/requests/{ticket}/timeline"),
        headers={"Authorization": f"Bearer {world.bearer['token_agent_own']}"})
    assert SECRET_NOTE in api.get_data(as_text=True)


def test_internal_notes_never_reach_residents_apps_open311_emails_or_exports(
        app, world, database):
    with database() as session:  # more resident-visible activity after the note
        from app.tickets.models import Ticket

        ticket = session.get(Ticket, int(world.values["ticket"]))
        agent = session.scalar(sa.select(User).where(User.email == world.emails["agent_own"]))
        timeline.add_public_reply(session, ticket, author=agent, body="Vamos en camino.")
        lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent)
        lifecycle.transition(session, ticket, Status.RESOLVED, actor=agent, note="Listo.")
        answer_survey(session, ticket.resolution_survey, ResolutionAnswer(
            resolved="no", rating=1, courtesy_rating=None, time_rating=None,
            comment="No quedó bien", reopen=False))
        session.commit()
        emails = [m.body_text + (m.body_html or "") for m in
                  session.scalars(sa.select(OutboxMessage)
                                  .where(OutboxMessage.recipient == RESIDENT_EMAIL))]
    assert len(emails) >= 3  # received, reply, status changes
    anonymous = app.test_client()
    key = {"Authorization": f"Bearer {world.bearer['key_resident']}"}
    reader = {"Authorization": f"Bearer {world.bearer['key_reader']}"}
    admin = client_for(app, world, "admin")
    seen = {
        "status page": anonymous.get(world.path("/seguimiento/{code}")),
        "API by code": anonymous.get(world.path("/api/v1/requests/by-code/{code}"),
                                     headers=key),
        "API by id": anonymous.get(world.path("/api/v1/requests/{ticket}"), headers=reader),
        "API list": anonymous.get("/api/v1/requests?limit=100", headers=reader),
        "API timeline (app key)": anonymous.get(world.path("/api/v1/requests/{ticket}/timeline"),
                                                headers=reader),
        "Open311 JSON": anonymous.get(world.path(
            "/open311/v2/requests/{number}.json?extensions=true")),
        "Open311 XML": anonymous.get(world.path(
            "/open311/v2/requests/{number}.xml?extensions=true")),
        "Open311 list": anonymous.get("/open311/v2/requests.xml?extensions=true"),
        "satisfaction CSV": admin.get("/gestion/encuestas/satisfaccion.csv"),
        "survey CSV": admin.get(world.path(S + "/resultados.csv"), follow_redirects=True),
    }
    assert world.values["number"] in seen["Open311 XML"].get_data(as_text=True)
    csv_rows = list(csv.reader(io.StringIO(
        seen["satisfaction CSV"].get_data(as_text=True).removeprefix("\ufeff")), delimiter=";"))
    assert len(csv_rows) >= 2  # header and the answer above
    leaks = [where for where, response in seen.items()
             if "NOTA-INTERNA-7Q3Z" in response.get_data(as_text=True)]
    leaks += [f"email {n}" for n, body in enumerate(emails) if "NOTA-INTERNA-7Q3Z" in body]
    assert not leaks
    assert not re.search("NOTA-INTERNA", " ".join(emails))
