"""REST: requests (create, read, list), their timeline, status moves and reassignment.

Views parse and authorise, call the one service for the job
(``intake.submit``, ``lifecycle.transition``, ``timeline.*``) and commit once.
"""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa
from flask import Response, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.credentials import Scope
from app.api import idempotency
from app.api.auth import ApiBlueprint, Principal, current_principal, rate_limit_key
from app.api.errors import ApiError
from app.api.presenters import event_dict, request_dict, tracked_dict, visible_events
from app.api.ratelimit import RateLimited, check
from app.api.schemas import (
    MAX_ID,
    ErrorSchema,
    EventSchema,
    IdempotencyHeaderSchema,
    MessageInSchema,
    ReassignInSchema,
    RequestCreateSchema,
    RequestListQuerySchema,
    RequestPageSchema,
    RequestSchema,
    TrackedRequestSchema,
    TransitionInSchema,
)
from app.audit.service import client_ip, record
from app.catalog.models import Category, Department
from app.domain import DomainError, ValidationFailed
from app.extensions import db
from app.security.limits import tracking_limit
from app.tickets import intake, lifecycle, timeline
from app.tickets.access import can_see, visible_tickets
from app.tickets.contact import ResidentContact, has_contact
from app.tickets.models import OPEN_STATUSES, Channel, Status, Ticket
from app.tickets.tracking import InvalidTrackingCode, normalize_code

blp = ApiBlueprint("solicitudes", __name__, url_prefix="/api/v1/requests",
                   description="Solicitudes: crear, leer, listar, historial y gestión.")

_CONTACT_FIELDS = {"name", "email", "phone", "rut"}
_COORD = Decimal("0.000001")


def _domain_error(error: DomainError, rename: dict[str, str] | None = None) -> ApiError:
    """A service's refusal as a 422 (or 409 for a move the status machine forbids)."""
    rename = rename or {}
    errors = {rename.get(k, k): list(v) for k, v in error.field_errors.items()}
    if isinstance(error, lifecycle.TransitionNotAllowed):
        return ApiError(409, error.message, code="transition_not_allowed", errors=errors)
    return ApiError(422, error.message, errors=errors)


def _load_ticket(ticket_id: int) -> Ticket:
    """The request, if this caller may see it.

    :raise ApiError 404: if it does not exist or a staff token's user may not
        see it (the same answer, so departments cannot be probed).
    """
    ticket = db.session.get(Ticket, ticket_id) if 0 < ticket_id <= MAX_ID else None
    principal = current_principal()
    if ticket is None or (principal.is_staff and not can_see(principal.user, ticket)):
        raise ApiError(404)
    return ticket


def _rate_limited(error: RateLimited) -> ApiError:
    return ApiError(429, headers={"Retry-After": str(error.retry_after)})


@blp.route("")
class RequestCollection(MethodView):

    @blp.requires(Scope.REQUESTS_READ)
    @blp.arguments(RequestListQuerySchema, location="query")
    @blp.response(200, RequestPageSchema)
    def get(self, args):
        """Listar solicitudes con filtros

        Paginación por clave (keyset): ordenadas por id; pasa `next_after` como
        `after` para seguir. Un funcionario ve solo las de sus departamentos
        (gerentes y administradores, todas). Las claves de aplicación necesitan
        `requests:read` y nunca reciben datos de contacto.
        """
        principal = current_principal()
        query = (visible_tickets(principal.user) if principal.is_staff
                 else sa.select(Ticket))
        if args.get("status"):
            query = query.where(Ticket.status.in_([Status(s) for s in args["status"]]))
        if args.get("open") is True:
            query = query.where(Ticket.status.in_(OPEN_STATUSES))
        elif args.get("open") is False:
            query = query.where(Ticket.status.not_in(OPEN_STATUSES))
        if args.get("category"):
            query = query.where(Ticket.category_id.in_(
                sa.select(Category.id).where(Category.slug.in_(args["category"]))))
        if args.get("department"):
            query = query.where(Ticket.department_id.in_(
                sa.select(Department.id).where(Department.slug.in_(args["department"]))))
        if args.get("channel"):
            query = query.where(Ticket.channel.in_([Channel(c) for c in args["channel"]]))
        for name, column, op in (("created_after", Ticket.created_at, "ge"),
                                 ("created_before", Ticket.created_at, "lt"),
                                 ("updated_after", Ticket.updated_at, "ge"),
                                 ("updated_before", Ticket.updated_at, "lt")):
            if args.get(name) is not None:
                query = query.where(column >= args[name] if op == "ge" else column < args[name])
        descending = args["order"] == "desc"
        if args.get("after") is not None:
            query = query.where(Ticket.id < args["after"] if descending
                                else Ticket.id > args["after"])
        limit = args["limit"]
        query = query.order_by(Ticket.id.desc() if descending else Ticket.id.asc()).limit(
            limit + 1).options(selectinload(Ticket.category), selectinload(Ticket.department),
                               selectinload(Ticket.attribute_values))
        tickets = db.session.scalars(query).all()
        more = len(tickets) > limit
        tickets = tickets[:limit]
        if principal.is_staff and (shown := [t.id for t in tickets if has_contact(t)]):
            record(db.session, actor=principal.user, action="ticket.list_personal", ip=client_ip(), details={"via": "api", "tickets": shown})  # noqa: E501
            db.session.commit()
        return {"items": [request_dict(t, principal) for t in tickets],
                "next_after": tickets[-1].id if more else None}

    @blp.requires(Scope.REQUESTS_CREATE)
    @blp.arguments(RequestCreateSchema)
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.response(201, RequestSchema, headers={"Location": {
        "description": "URL de la solicitud creada", "schema": {"type": "string"}}})
    @blp.alt_response(409, schema=ErrorSchema, description=(
        "Otra solicitud con la misma Idempotency-Key está en curso; reintenta."))
    @blp.alt_response(429, schema=ErrorSchema, description="Límite de creación por minuto.")
    def post(self, payload, headers):
        """Crear una solicitud

        Pasa por la misma puerta que el formulario web (validación, número,
        derivación, correo de confirmación). La respuesta incluye el código
        de seguimiento. Con `Idempotency-Key`, un reintento no crea otra.
        """
        principal = current_principal()
        try:
            check("api-create", "API_CREATE_RATE_LIMIT", rate_limit_key())
        except RateLimited as error:
            raise _rate_limited(error) from None
        key = headers.get("idempotency_key")
        payload_fingerprint = idempotency.fingerprint(request.get_json(silent=True))
        if key:
            replay = idempotency.find(db.session, principal.owner, key, payload_fingerprint)
            if replay is not None:
                db.session.commit()  # keeps the purge of expired keys
                return _replayed(replay)
        ticket = _create_ticket(payload, principal)
        body = json.dumps(RequestSchema().dump(request_dict(ticket, principal,
                                                            include_code=True)))
        location = url_for("solicitudes.RequestItem", ticket_id=ticket.id)
        try:
            if key:
                idempotency.remember(db.session, owner=principal.owner, key=key,
                                     payload_fingerprint=payload_fingerprint,
                                     ticket_id=ticket.id, status=201, body=body)
            db.session.commit()
        except IntegrityError:
            # A concurrent retry with the same key won; answer as it did.
            db.session.rollback()
            if not key:
                raise
            replay = idempotency.find(db.session, principal.owner, key, payload_fingerprint)
            if replay is None:
                raise ApiError(409, _("Hay otra solicitud en curso con la misma "
                                      "Idempotency-Key; inténtalo otra vez.")) from None
            return _replayed(replay)
        return Response(body, status=201, mimetype="application/json",
                        headers={"Location": location})


def _replayed(replay: idempotency.Replay) -> Response:
    if not replay.same_payload:
        raise ApiError(422, _("Esta Idempotency-Key ya se usó con otro contenido."),
                       code="idempotency_key_reused")
    return Response(replay.body, status=replay.status, mimetype="application/json",
                    headers={"Idempotent-Replayed": "true"})


def _create_ticket(payload: dict, principal: Principal) -> Ticket:
    """Hand the parsed body to ``intake.submit``.

    :raise ApiError 422: with per-field messages when intake refuses it.
    """
    slug = payload["category"]
    category = db.session.scalar(sa.select(Category).where(Category.slug == slug))
    contact = payload.get("contact") or {}
    latitude, longitude = payload.get("latitude"), payload.get("longitude")
    try:
        return intake.submit(
            db.session,
            category=category,
            description=payload["description"],
            channel=Channel.API,
            contact=ResidentContact(**{k: contact.get(k) for k in _CONTACT_FIELDS}),
            consent=bool(payload.get("consent")),
            address=payload.get("address"),
            latitude=Decimal(str(latitude)).quantize(_COORD) if latitude is not None else None,
            longitude=(Decimal(str(longitude)).quantize(_COORD)
                       if longitude is not None else None),
            created_by=principal.user,
            attributes=payload.get("attributes") or {},
            media_url=payload.get("media_url"),
        )
    except ValidationFailed as error:
        raise _domain_error(error, {f: f"contact.{f}" for f in _CONTACT_FIELDS}) from None


@blp.route("/<int:ticket_id>")
class RequestItem(MethodView):

    @blp.requires(Scope.REQUESTS_READ)
    @blp.response(200, RequestSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No existe o no está a tu alcance.")
    def get(self, ticket_id: int):
        """Una solicitud por su id"""
        ticket, principal = _load_ticket(ticket_id), current_principal()
        if principal.is_staff and has_contact(ticket):  # staff see the contact: recorded
            record(db.session, actor=principal.user, action="ticket.view_personal", target_type="ticket", target_id=ticket.id, ip=client_ip(), details={"via": "api"})  # noqa: E501
            db.session.commit()
        return request_dict(ticket, principal)


@blp.route("/by-code/<code>", methods=["GET"])
@tracking_limit  # misses share the resident pages' budget per address
@blp.requires(Scope.REQUESTS_TRACK)
@blp.response(200, TrackedRequestSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Código mal escrito o inexistente.")
def get_by_code(code: str):
    """Una solicitud por su código de seguimiento

    Lo mismo que ve el vecino/a en su página de seguimiento: estado e
    historial público, sin datos de contacto. El código admite guiones,
    espacios y minúsculas; un error de tipeo se detecta por el dígito verificador.
    """
    try:
        normalized = normalize_code(code)
    except InvalidTrackingCode:
        raise ApiError(404, _("Ese código de seguimiento no es válido.")) from None
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.tracking_code == normalized))
    if ticket is None:
        raise ApiError(404)
    return tracked_dict(ticket)


@blp.route("/<int:ticket_id>/timeline", methods=["GET"])
@blp.requires(Scope.REQUESTS_READ)
@blp.response(200, EventSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No existe o no está a tu alcance.")
def get_timeline(ticket_id: int):
    """Historial de una solicitud

    Funcionarios: todo (notas internas, reasignaciones, nombres). Claves de
    aplicación: solo lo público.
    """
    return visible_events(_load_ticket(ticket_id), current_principal())


def _staff_action(ticket: Ticket, action, audit: str, rename: dict[str, str] | None = None):
    try:
        event = action()
    except DomainError as error:
        raise _domain_error(error, rename) from None
    record(db.session, actor=current_principal().user, action=audit, target_type="ticket", target_id=ticket.id, ip=client_ip(), details={"via": "api"})  # noqa: E501
    db.session.commit()
    return event_dict(event, staff=True)


@blp.route("/<int:ticket_id>/replies", methods=["POST"])
@blp.requires(staff=True)
@blp.arguments(MessageInSchema)
@blp.response(201, EventSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No existe o no está a tu alcance.")
def add_reply(payload, ticket_id: int):
    """Responder al vecino/a (público, se le envía por correo)"""
    ticket = _load_ticket(ticket_id)
    user = current_principal().user
    return _staff_action(ticket, lambda: timeline.add_public_reply(
        db.session, ticket, author=user, body=payload["body"]), "ticket.reply")


@blp.route("/<int:ticket_id>/notes", methods=["POST"])
@blp.requires(staff=True)
@blp.arguments(MessageInSchema)
@blp.response(201, EventSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No existe o no está a tu alcance.")
def add_note(payload, ticket_id: int):
    """Agregar una nota interna (solo funcionarios la ven)"""
    ticket = _load_ticket(ticket_id)
    user = current_principal().user
    return _staff_action(ticket, lambda: timeline.add_internal_note(
        db.session, ticket, author=user, body=payload["body"]), "ticket.note")


@blp.route("/<int:ticket_id>/transitions", methods=["POST"])
@blp.requires(staff=True)
@blp.arguments(TransitionInSchema)
@blp.response(201, EventSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No existe o no está a tu alcance.")
@blp.alt_response(409, schema=ErrorSchema, description=(
    "La máquina de estados no permite ese cambio desde el estado actual."))
def transition(payload, ticket_id: int):
    """Cambiar el estado

    Usa la misma máquina de estados que las páginas de gestión; algunos
    cambios exigen `note`.
    """
    ticket = _load_ticket(ticket_id)
    user = current_principal().user
    return _staff_action(ticket, lambda: lifecycle.transition(
        db.session, ticket, Status(payload["status"]), actor=user, note=payload.get("note"),
        visible_to_resident=payload["visible_to_resident"]), "ticket.status")


@blp.route("/<int:ticket_id>/reassignments", methods=["POST"])
@blp.requires(staff=True)
@blp.arguments(ReassignInSchema)
@blp.response(201, EventSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No existe o no está a tu alcance.")
def reassign(payload, ticket_id: int):
    """Reasignar a otro departamento (con motivo, interno)"""
    ticket = _load_ticket(ticket_id)
    user = current_principal().user
    department = db.session.scalar(
        sa.select(Department).where(Department.slug == payload["department"]))
    return _staff_action(ticket, lambda: timeline.reassign(
        db.session, ticket, department, actor=user, reason=payload["reason"]), "ticket.reassign")
