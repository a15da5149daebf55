"""marshmallow schemas of the REST API: they validate input and write the OpenAPI document.

Input schemas check shapes and types (422 with per-field messages); the
business rules stay in the services (``tickets.intake``, ``lifecycle``,
``timeline``), whose per-field messages come back in the same shape.
"""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import fields, validate

from app.catalog.attributes import Datatype
from app.catalog.models import Visibility
from app.tickets.intake import ADDRESS_MAX, DESCRIPTION_MAX, MEDIA_URL_MAX, NAME_MAX, PHONE_MAX
from app.tickets.models import ActorKind, Channel, EventKind, EventVisibility, Status
from app.tickets.timeline import MESSAGE_MAX

MAX_ID = 2**31 - 1
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

STATUSES = [s.value for s in Status]
CHANNELS = [c.value for c in Channel]


class Text(fields.String):
    """A string that PostgreSQL and UTF-8 can store: no NUL, no lone surrogates."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("No se admiten caracteres nulos.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("El texto no es UTF-8 válido.") from None
        return text


def _moment(**kwargs) -> fields.AwareDateTime:
    return fields.AwareDateTime(
        format="iso",
        validate=validate.Range(min=EARLIEST, max=LATEST,
                                error="Debe estar entre 1970 y 2200."),
        **kwargs,
    )


def _ref(description: str) -> dict:
    return {"description": description}


class ErrorSchema(ma.Schema):
    code = fields.String(required=True, metadata={
        "description": "Código estable: bad_request, unauthorized, forbidden, not_found, "
                       "conflict, validation_failed, idempotency_key_reused, rate_limited, "
                       "server_error...", "example": "validation_failed"})
    message = fields.String(required=True, metadata=_ref("Mensaje en español para personas."))
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), required=True,
        metadata={"description": "Mensajes por campo; campos anidados con punto "
                                 "(contact.email, attributes.tipo).",
                  "example": {"description": ["Este campo es obligatorio."]}})


# --- catalogue -----------------------------------------------------------------------------

class DepartmentSchema(ma.Schema):
    slug = fields.String(required=True, metadata={"example": "obras"})
    name = fields.String(required=True, metadata={"example": "Obras Municipales"})


class AttributeOptionSchema(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)


class AttributeSchema(ma.Schema):
    code = fields.String(required=True, metadata={"example": "tipo"})
    description = fields.String(required=True, metadata=_ref("La pregunta que se muestra."))
    datatype = fields.String(required=True, validate=validate.OneOf([d.value for d in Datatype]))
    required = fields.Boolean(required=True)
    variable = fields.Boolean(required=True, metadata=_ref(
        "false: solo informa (no lleva respuesta)."))
    datatype_description = fields.String(required=True, allow_none=True)
    order = fields.Integer(required=True)
    values = fields.List(fields.Nested(AttributeOptionSchema), required=True, metadata=_ref(
        "Opciones de singlevaluelist y multivaluelist (vacía en los demás)."))


class CategorySchema(ma.Schema):
    slug = fields.String(required=True, metadata={"example": "luminaria"})
    name = fields.String(required=True, metadata={"example": "Luminaria apagada"})
    description = fields.String(required=True)
    department = fields.Nested(DepartmentSchema, required=True)
    visibility = fields.String(required=True, validate=validate.OneOf(
        [v.value for v in Visibility]), metadata=_ref(
        "public: puede aparecer en Open311 sin datos personales; private: nunca."))
    allows_anonymous = fields.Boolean(required=True)
    keywords = fields.List(fields.String(), required=True)
    attributes = fields.List(fields.Nested(AttributeSchema), required=True, metadata=_ref(
        "Preguntas adicionales de la categoría, en su orden."))


# --- requests ------------------------------------------------------------------------------

class CategoryRefSchema(ma.Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class ContactSchema(ma.Schema):
    name = Text(allow_none=True, validate=validate.Length(max=NAME_MAX))
    email = Text(allow_none=True, validate=validate.Length(max=254))
    phone = Text(allow_none=True, validate=validate.Length(max=PHONE_MAX))
    rut = Text(allow_none=True, validate=validate.Length(max=12),
               metadata={"example": "12.345.678-5"})


class RequestCreateSchema(ma.Schema):
    category = Text(required=True, validate=validate.Length(min=1, max=60),
                    metadata={"description": "slug de la categoría", "example": "luminaria"})
    description = Text(required=True, validate=validate.Length(min=10, max=DESCRIPTION_MAX),
                       metadata={"example": "La luminaria del pasaje está apagada hace días."})
    address = Text(allow_none=True, validate=validate.Length(max=ADDRESS_MAX),
                   metadata={"example": "Av. Grecia 8735"})
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    media_url = Text(allow_none=True, validate=validate.Length(max=MEDIA_URL_MAX),
                     metadata=_ref("Enlace http(s) a una foto o video."))
    consent = fields.Boolean(load_default=False, metadata=_ref(
        "El vecino/a autorizó usar sus datos para esta solicitud. Obligatorio (true) "
        "para claves de aplicación; un funcionario que ingresa por otro puede omitirlo."))
    contact = fields.Nested(ContactSchema, allow_none=True, load_default=None)
    attributes = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True),
                             load_default=dict, metadata=_ref(
        "Respuestas a las preguntas de la categoría por código: texto, número, fecha ISO "
        "8601, clave (singlevaluelist) o lista de claves (multivaluelist)."))


class IdempotencyHeaderSchema(ma.Schema):
    idempotency_key = Text(data_key="Idempotency-Key", load_default=None,
                           validate=validate.Length(min=1, max=200), metadata=_ref(
        "Clave única por intento lógico. Repetir el POST con la misma clave y el mismo "
        "cuerpo devuelve la solicitud ya creada (cabecera Idempotent-Replayed: true); con "
        "otro cuerpo responde 422."))


class RequestSchema(ma.Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True, metadata={"example": "2026-000123"})
    tracking_code = fields.String(required=True, allow_none=True, metadata=_ref(
        "Solo para funcionarios y en la respuesta de creación."))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_label = fields.String(required=True, metadata={"example": "Recibida"})
    is_open = fields.Boolean(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.Nested(CategoryRefSchema, required=True)
    department = fields.Nested(DepartmentSchema, required=True)
    description = fields.String(required=True)
    address = fields.String(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    media_url = fields.String(required=True, allow_none=True)
    attributes = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    contact = fields.Nested(ContactSchema, required=True, allow_none=True, metadata=_ref(
        "Solo para funcionarios; null para claves de aplicación."))
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    first_response_at = fields.DateTime(required=True, allow_none=True)
    resolved_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    first_response_due_at = fields.DateTime(required=True, allow_none=True)
    resolution_due_at = fields.DateTime(required=True, allow_none=True)


class RequestListQuerySchema(ma.Schema):
    status = fields.List(Text(validate=validate.OneOf(STATUSES)),
                         metadata=_ref("Repetible."))
    open = fields.Boolean(metadata=_ref("true: solo abiertas; false: solo cerradas."))
    category = fields.List(Text(validate=validate.Length(max=60)),
                           metadata=_ref("slug; repetible."))
    department = fields.List(Text(validate=validate.Length(max=60)),
                             metadata=_ref("slug; repetible."))
    channel = fields.List(Text(validate=validate.OneOf(CHANNELS)), metadata=_ref("Repetible."))
    created_after = _moment(metadata=_ref("Creadas en o después de este instante."))
    created_before = _moment(metadata=_ref("Creadas antes de este instante."))
    updated_after = _moment(metadata=_ref("Actualizadas en o después de este instante."))
    updated_before = _moment(metadata=_ref("Actualizadas antes de este instante."))
    order = Text(load_default="asc", validate=validate.OneOf(["asc", "desc"]),
                 metadata=_ref("Por id: asc (antiguas primero) o desc."))
    after = fields.Integer(validate=validate.Range(min=0, max=MAX_ID), metadata=_ref(
        "Paginación por clave: el next_after de la página anterior."))
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class RequestPageSchema(ma.Schema):
    items = fields.List(fields.Nested(RequestSchema), required=True)
    next_after = fields.Integer(required=True, allow_none=True, metadata=_ref(
        "Pásalo como after para la página siguiente; null si no hay más."))


class ActorSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf([a.value for a in ActorKind]))
    name = fields.String(required=True, allow_none=True, metadata=_ref(
        "Nombre del funcionario; solo para funcionarios."))


class EventSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in EventKind]))
    visibility = fields.String(required=True, validate=validate.OneOf(
        [v.value for v in EventVisibility]))
    created_at = fields.DateTime(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    body = fields.String(required=True, allow_none=True)
    from_status = fields.String(required=True, allow_none=True)
    to_status = fields.String(required=True, allow_none=True)
    from_department = fields.Nested(DepartmentSchema, required=True, allow_none=True)
    to_department = fields.Nested(DepartmentSchema, required=True, allow_none=True)


class TrackedRequestSchema(ma.Schema):
    """What the resident sees on the status page: no contact data, public events only."""

    number = fields.String(required=True)
    tracking_code = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_label = fields.String(required=True)
    is_open = fields.Boolean(required=True)
    category = fields.Nested(CategoryRefSchema, required=True)
    department = fields.Nested(DepartmentSchema, required=True)
    description = fields.String(required=True)
    address = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    resolution_due_at = fields.DateTime(required=True, allow_none=True)
    events = fields.List(fields.Nested(EventSchema), required=True)


class MessageInSchema(ma.Schema):
    body = Text(required=True, validate=validate.Length(min=1, max=MESSAGE_MAX))


class TransitionInSchema(ma.Schema):
    status = Text(required=True, validate=validate.OneOf(STATUSES))
    note = Text(allow_none=True, load_default=None, validate=validate.Length(max=MESSAGE_MAX),
                metadata=_ref("Motivo; obligatorio para waiting_resident, referred, "
                              "duplicate y para cerrar una solicitud abierta."))
    visible_to_resident = fields.Boolean(load_default=True)


class ReassignInSchema(ma.Schema):
    department = Text(required=True, validate=validate.Length(min=1, max=60),
                      metadata=_ref("slug del departamento de destino."))
    reason = Text(required=True, validate=validate.Length(min=1, max=MESSAGE_MAX))


# --- staff tokens --------------------------------------------------------------------------

class TokenRequestSchema(ma.Schema):
    email = Text(required=True, validate=validate.Length(min=1, max=254))
    password = Text(required=True, validate=validate.Length(min=1, max=200),
                    load_only=True)


class TokenSchema(ma.Schema):
    token = fields.String(required=True, metadata=_ref(
        "Úsalo como Authorization: Bearer <token>. Se muestra una sola vez."))
    expires_at = fields.DateTime(required=True)
    user = fields.Nested(ma.Schema.from_dict({
        "name": fields.String(required=True),
        "email": fields.String(required=True),
        "role": fields.String(required=True),
    }, name="TokenUserSchema"), required=True)
