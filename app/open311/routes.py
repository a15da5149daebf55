"""Open311 GeoReport v2 at ``/open311/v2/``, in JSON and XML by URL suffix.

Services are the public, active categories (``service_code`` is the
category's slug); requests in private categories never appear and cannot be
created here. ``service_request_id`` is the public number (``2026-000123``);
the tracking code doubles as the ``token``. Nothing personal is ever
returned. Creation goes through ``tickets.intake.submit`` like every channel.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from app.accounts.credentials import ApiKey, Scope, authenticate_bearer, note_api_key_use
from app.api.ratelimit import RateLimited, check
from app.catalog.attributes import CategoryAttribute
from app.catalog.models import Category, Department, Visibility
from app.database import utcnow
from app.domain import ValidationFailed
from app.extensions import csrf, db
from app.open311.formats import Open311Error, error_response, format_from_path, respond
from app.open311.redaction import redact
from app.security.limits import tracking_limit
from app.tickets import intake
from app.tickets.contact import ResidentContact
from app.tickets.models import OPEN_STATUSES, Channel, EventKind, Status, Ticket
from app.tickets.tracking import InvalidTrackingCode, format_code, normalize_code

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

LOCAL_TZ = ZoneInfo("America/Santiago")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
_COORD = Decimal("0.000001")
_CLOSED = [s for s in Status if s not in OPEN_STATUSES]
_OFFSET_SPACE = re.compile(r" (\d\d:?\d\d)$")

# intake's field names as Open311 parameter names, for error descriptions.
_PARAMS = {"category": "service_code", "address": "address_string", "latitude": "lat",
           "name": "first_name", "email": "email", "phone": "phone",
           "description": "description", "media_url": "media_url", "rut": "rut",
           "consent": "api_key"}


def w3c(moment: datetime | None) -> str | None:
    """ISO 8601 with the America/Santiago offset, e.g. ``2026-03-15T18:30:00-03:00``."""
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else None


def _fmt() -> str:
    return (request.view_args or {}).get("fmt") or format_from_path(request.path)


@bp.errorhandler(Open311Error)
def _open311_error(error: Open311Error):
    db.session.rollback()
    return error_response(_fmt(), error.status, error.descriptions)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db.session.rollback()
    return error_response(_fmt(), error.code or 500, [error.description or error.name])


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http_error(error)
    db.session.rollback()
    current_app.logger.exception("unhandled error in Open311 view")
    return error_response(_fmt(), 500, [_("Error interno; no se guardó nada.")])


def _param(name: str) -> str | None:
    """A query or form value; empty counts as absent (the spec's "optional")."""
    value = request.values.get(name, "")
    if "\x00" in value:
        raise Open311Error(400, f"{name}: " + _("valor no válido."))
    return value.strip() or None


def _list_param(name: str) -> list[str]:
    """Comma-delimited and/or repeated values."""
    items = []
    for value in request.values.getlist(name):
        if "\x00" in value:
            raise Open311Error(400, f"{name}: " + _("valor no válido."))
        items.extend(v.strip() for v in value.split(",") if v.strip())
    return items


@bp.before_request
def _check_jurisdiction():
    """``jurisdiction_id`` is optional (one jurisdiction), but must match when given."""
    given = _param("jurisdiction_id")
    if given is not None and given != current_app.config["OPEN311_JURISDICTION_ID"]:
        raise Open311Error(404, _("jurisdiction_id %(id)s no encontrado.", id=given))


# --- discovery and services ---------------------------------------------------------------

@bp.get("/discovery.<any(json, xml):fmt>")
def discovery(fmt: str):
    config = current_app.config
    changed = max(
        db.session.scalar(sa.select(sa.func.max(Category.updated_at)))
        or datetime(2026, 1, 1, tzinfo=UTC),
        db.session.scalar(sa.select(sa.func.max(CategoryAttribute.updated_at)))
        or datetime(2026, 1, 1, tzinfo=UTC),
    )
    changeset = changed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = config["PUBLIC_BASE_URL"]
    document = {
        "changeset": changeset,
        "contact": config["OPEN311_CONTACT"] or _(
            "%(name)s. Consultas sobre esta API: %(url)s",
            name=config["MUNICIPALITY_NAME"], url=base),
        "key_service": config["OPEN311_KEY_SERVICE"] or _(
            "Para crear solicitudes pida una api_key a %(name)s; para consultar no se "
            "necesita clave.", name=config["MUNICIPALITY_NAME"]),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base + "/open311/v2",
            "changeset": changeset,
            "type": config["OPEN311_ENDPOINT_TYPE"],
            "formats": ["text/xml", "application/json"],
        }],
    }
    return respond(fmt, "discovery", document)


def _public_categories() -> sa.Select[tuple[Category]]:
    return (sa.select(Category).join(Category.department)
            .where(Category.active, Department.active,
                   Category.visibility == Visibility.PUBLIC)
            .options(selectinload(Category.department), selectinload(Category.attributes)))


def _service_or_404(service_code: str) -> Category:
    category = (db.session.scalar(_public_categories().where(Category.slug == service_code))
                if "\x00" not in service_code else None)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s no encontrado.", code=service_code))
    return category


@bp.get("/services.<any(json, xml):fmt>")
def services(fmt: str):
    categories = db.session.scalars(
        _public_categories().order_by(Department.name, Category.name)).all()
    return respond(fmt, "services", [{
        "service_code": c.slug,
        "service_name": c.name,
        "description": c.description or None,
        "metadata": bool(c.attributes),
        "type": "realtime",
        "keywords": c.keywords or None,
        "group": c.department.name,
    } for c in categories])


@bp.get("/services/<service_code>.<any(json, xml):fmt>")
def service_definition(service_code: str, fmt: str):
    category = _service_or_404(service_code)
    return respond(fmt, "service_definition", {
        "service_code": category.slug,
        "attributes": [{
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype.value,
            "required": a.required,
            "datatype_description": a.datatype_description,
            "order": a.order,
            "description": a.description,
            "values": [{"key": v["key"], "name": v["name"]} for v in a.values or []],
        } for a in category.attributes],
    })


# --- creating requests ----------------------------------------------------------------------

def _api_key() -> ApiKey:
    secret = _param("api_key")
    found = authenticate_bearer(db.session, secret) if secret else None
    if not isinstance(found, ApiKey) or Scope.OPEN311_SUBMIT not in found.scope_set:
        raise Open311Error(403, _("api_key ausente o no válida; no se puede crear la "
                                  "solicitud."))
    if note_api_key_use(db.session, found):  # "last used" on the admin page
        db.session.commit()
    return found


def _coordinate(name: str, limit: int) -> Decimal | None:
    raw = _param(name)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Open311Error(400, f"{name}: " + _("debe ser un número.")) from None
    if not value.is_finite() or abs(value) > limit:
        raise Open311Error(400, f"{name}: " + _("fuera de rango.")) from None
    return value.quantize(_COORD)


def _attributes() -> dict[str, object]:
    """``attribute[code]=v`` and ``attribute[code][]=v1&attribute[code][]=v2``."""
    answers: dict[str, object] = {}
    for name in request.form:
        if not (name.startswith("attribute[") and "]" in name):
            continue
        code = name[len("attribute["):name.index("]")]
        values = request.form.getlist(name)
        if any("\x00" in v for v in values):
            raise Open311Error(400, f"{name}: " + _("valor no válido."))
        if name.endswith("[]"):
            answers.setdefault(code, [])
            if isinstance(answers[code], list):
                answers[code].extend(values)
        else:
            answers[code] = values[0] if len(values) == 1 else values
    return answers


@bp.post("/requests.<any(json, xml):fmt>")
def create_request(fmt: str):
    key = _api_key()
    try:
        check("open311-create", "API_CREATE_RATE_LIMIT", f"key:{key.id}")
    except RateLimited as error:
        response = error_response(fmt, 429, [_("Demasiadas solicitudes; espere un momento.")])
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    service_code = _param("service_code")
    if service_code is None:
        raise Open311Error(400, _("service_code es obligatorio."))
    category = _service_or_404(service_code)
    latitude, longitude = _coordinate("lat", 90), _coordinate("long", 180)
    address = _param("address_string")
    if (latitude is None) != (longitude is None):
        raise Open311Error(400, _("lat y long deben enviarse juntos."))
    if latitude is None and address is None:
        if _param("address_id"):
            raise Open311Error(400, _("address_id no se admite: esta jurisdicción no tiene un "
                                      "repositorio de direcciones; envíe lat y long o "
                                      "address_string."))
        raise Open311Error(400, _("Falta la ubicación: lat y long, o address_string."))
    description = _param("description") or _(
        "Reporte de «%(service)s» recibido por Open311, sin descripción.",
        service=category.name)
    name = " ".join(filter(None, [_param("first_name"), _param("last_name")])) or None
    try:
        ticket = intake.submit(
            db.session,
            category=category,
            description=description,
            channel=Channel.OPEN311,
            contact=ResidentContact(name=name, email=_param("email"), phone=_param("phone")),
            # The key holder agreed to collect the resident's consent in its app.
            consent=True,
            address=address,
            latitude=latitude,
            longitude=longitude,
            attributes=_attributes(),
            media_url=_param("media_url"),
        )
    except ValidationFailed as error:
        raise Open311Error(400, *[
            f"{_open311_name(field)}: {message}"
            for field, messages in error.field_errors.items() for message in messages
        ] or [error.message]) from None
    db.session.commit()
    code = ticket.formatted_tracking_code
    notice = _("Solicitud %(number)s recibida por %(department)s. Se puede seguir con el "
               "código %(code)s en %(url)s", number=ticket.public_number,
               department=ticket.department.name, code=code,
               url=current_app.config["PUBLIC_BASE_URL"] + url_for("resident.status", code=code))
    return respond(fmt, "service_requests", [{
        "service_request_id": ticket.public_number,
        "service_notice": notice,
        "account_id": None,
    }])


def _open311_name(field: str) -> str:
    if field.startswith("attributes."):
        return f"attribute[{field[len('attributes.'):]}]"
    return _PARAMS.get(field, field)


# --- reading requests -----------------------------------------------------------------------

def _public_tickets() -> sa.Select[tuple[Ticket]]:
    return (sa.select(Ticket).join(Ticket.category)
            .where(Category.visibility == Visibility.PUBLIC)
            .options(selectinload(Ticket.category), selectinload(Ticket.department)))


def _notes(ticket: Ticket) -> list[dict]:
    """The public timeline, described without anyone's words (they may be personal)."""
    notes = []
    for event in ticket.public_events:
        if event.kind is EventKind.CREATED:
            text = _("Solicitud recibida.")
        elif event.kind is EventKind.STATUS_CHANGED:
            text = _("Nuevo estado: %(status)s.", status=event.to_status.label)
        elif event.kind is EventKind.PUBLIC_REPLY:
            text = _("La municipalidad respondió al vecino/a.")
        else:
            continue
        notes.append({"datetime": w3c(event.created_at), "description": text,
                      "type": event.kind.value})
    return notes


def request_record(ticket: Ticket, *, extensions: bool) -> dict:
    """One request as Open311 shows it: no contact data, redacted description."""
    publish = current_app.config["OPEN311_PUBLISH_DESCRIPTIONS"]
    record = {
        "service_request_id": ticket.public_number,
        "status": "open" if ticket.status.is_open else "closed",
        "status_notes": ticket.status.label,
        "service_name": ticket.category.name,
        "service_code": ticket.category.slug,
        "description": redact(ticket.description, ticket) if publish else None,
        "agency_responsible": ticket.department.name,
        "service_notice": None,
        "requested_datetime": w3c(ticket.created_at),
        "updated_datetime": w3c(ticket.updated_at),
        "expected_datetime": w3c(ticket.resolution_due_at),
        "address": ticket.address,
        "address_id": None,
        "zipcode": None,
        "lat": float(ticket.latitude) if ticket.latitude is not None else None,
        "long": float(ticket.longitude) if ticket.longitude is not None else None,
        "media_url": ticket.media_url,
    }
    if extensions:
        record["extended_attributes"] = {
            "channel": ticket.channel.value,
            "status": ticket.status.value,
            "duplicate": ticket.status is Status.DUPLICATE,
            # The request this one was merged into (tickets.merging).
            "parent_service_request_id": (ticket.duplicate_of.public_number
                                          if ticket.duplicate_of else None),
        }
        record["notes"] = _notes(ticket)
    return record


def _moment(name: str) -> datetime | None:
    """A w3c date or datetime; without an offset it is America/Santiago time."""
    raw = _param(name)
    if raw is None:
        return None
    try:
        # An unencoded "+" of the offset arrives as a space.
        text = _OFFSET_SPACE.sub(r"+\1", raw).replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name}: " + _("use el formato 2010-01-01T00:00:00Z.")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    if not 1970 <= moment.year <= 2200:
        raise Open311Error(400, f"{name}: " + _("fecha fuera de rango."))
    return moment.astimezone(UTC)


def _positive_int(name: str, default: int, maximum: int) -> int:
    raw = _param(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise Open311Error(400, f"{name}: " + _("debe ser un entero entre 1 y %(max)d.",
                                                 max=maximum))
    return int(raw)


def _extensions() -> bool:
    return (_param("extensions") or "").lower() in {"true", "1", "all"}


@bp.get("/requests.<any(json, xml):fmt>")
def list_requests(fmt: str):
    query = _public_tickets()
    ids = _list_param("service_request_id")
    page = _positive_int("page", 1, 100000)
    page_size = _positive_int("page_size", MAX_RESULTS, MAX_RESULTS)
    if ids:  # overrides every other filter, per spec
        query = query.where(Ticket.public_number.in_(ids[:MAX_RESULTS]))
    else:
        codes = _list_param("service_code")
        if codes:
            query = query.where(Category.slug.in_(codes))
        statuses = _list_param("status")
        if any(s not in ("open", "closed") for s in statuses):
            raise Open311Error(400, "status: " + _("use open o closed."))
        if set(statuses) == {"open"}:
            query = query.where(Ticket.status.in_(OPEN_STATUSES))
        elif set(statuses) == {"closed"}:
            query = query.where(Ticket.status.in_(_CLOSED))
        start, end = _moment("start_date"), _moment("end_date")
        updated_after, updated_before = _moment("updated_after"), _moment("updated_before")
        if start and end and end - start > DEFAULT_WINDOW:
            raise Open311Error(400, _("start_date y end_date no pueden abarcar más de 90 "
                                      "días."))
        if start is None and end is None and updated_after is None and updated_before is None:
            end = utcnow()
        if start is not None or end is not None:
            start = start or end - DEFAULT_WINDOW
            end = end or start + DEFAULT_WINDOW
            if end < start:
                raise Open311Error(400, _("end_date es anterior a start_date."))
            query = query.where(Ticket.created_at >= start, Ticket.created_at <= end)
        if updated_after is not None:
            query = query.where(Ticket.updated_at >= updated_after)
        if updated_before is not None:
            query = query.where(Ticket.updated_at <= updated_before)
    query = (query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
             .offset((page - 1) * page_size).limit(page_size))
    extensions = _extensions()
    if extensions:
        query = query.options(selectinload(Ticket.events), selectinload(Ticket.duplicate_of))
    tickets = db.session.scalars(query).all()
    return respond(fmt, "service_requests",
                   [request_record(t, extensions=extensions) for t in tickets])


@bp.get("/requests/<service_request_id>.<any(json, xml):fmt>")
def get_request(service_request_id: str, fmt: str):
    ticket = (db.session.scalar(_public_tickets().where(
        Ticket.public_number == service_request_id))
        if "\x00" not in service_request_id else None)
    if ticket is None:
        raise Open311Error(404, _("service_request_id %(id)s no encontrado.",
                                  id=service_request_id))
    return respond(fmt, "service_requests", [request_record(ticket, extensions=_extensions())])


@bp.get("/tokens/<token>.<any(json, xml):fmt>")
@tracking_limit  # a token is a tracking code: misses share the resident pages' budget
def token(token: str, fmt: str):
    """A token is a tracking code; it resolves to its public number."""
    try:
        code = normalize_code(token)
    except InvalidTrackingCode:
        code = None
    ticket = (db.session.scalar(_public_tickets().where(Ticket.tracking_code == code))
              if code else None)
    if ticket is None:
        raise Open311Error(404, _("token %(token)s no encontrado.", token=token))
    return respond(fmt, "service_requests", [{
        "service_request_id": ticket.public_number,
        "token": format_code(ticket.tracking_code),
    }])
