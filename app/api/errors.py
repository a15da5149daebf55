"""One JSON error shape for the REST API: ``{"code", "message", "errors"}``.

``code`` is a stable machine-readable string, ``message`` a Spanish sentence
for people, ``errors`` maps field names (dotted for nested fields, e.g.
``contact.email`` or ``attributes.tipo``) to lists of Spanish messages.
Nothing else is ever sent: no stack trace, no exception text.
"""

from __future__ import annotations

import logging
import re

from flask import Response, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.extensions import db

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "server_error",
}


def _default_message(status: int) -> str:
    messages = {
        400: _("No pudimos entender la solicitud."),
        401: _("Falta una credencial válida (Authorization: Bearer ...)."),
        403: _("Esta credencial no permite esta acción."),
        404: _("No existe o no está a tu alcance."),
        405: _("Este recurso no admite ese método."),
        406: _("Solo respondemos JSON."),
        409: _("La acción choca con el estado actual."),
        413: _("El cuerpo de la solicitud es demasiado grande."),
        415: _("Envía el cuerpo como application/json."),
        422: _("Revisa los datos marcados."),
        429: _("Demasiadas solicitudes; espera un momento e inténtalo otra vez."),
        500: _("Algo falló de nuestro lado y no se guardó ningún cambio."),
    }
    return messages.get(status, _("No pudimos completar la solicitud."))


class ApiError(Exception):
    """Raised by API views; answered as the one error shape with ``status``."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None,
                 errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message or "")
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message or _default_message(status)
        self.errors = errors or {}
        self.headers = headers or {}


def error_response(status: int, message: str | None = None, *, code: str | None = None,
                   errors: dict[str, list[str]] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    response = jsonify({
        "code": code or CODES.get(status, "error"),
        "message": str(message or _default_message(status)),
        "errors": {k: [str(m) for m in v] for k, v in (errors or {}).items()},
    })
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# marshmallow/webargs messages, in Spanish.
_TRANSLATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Missing data for required field\.$"), "Este campo es obligatorio."),
    (re.compile(r"^Field may not be null\.$"), "Este campo no puede ser nulo."),
    (re.compile(r"^Unknown field\.$"), "Campo desconocido."),
    (re.compile(r"^Not a valid string\.$"), "Debe ser texto."),
    (re.compile(r"^Not a valid integer\.$"), "Debe ser un número entero."),
    (re.compile(r"^Not a valid number\.$"), "Debe ser un número."),
    (re.compile(r"^Number too large\.$"), "El número es demasiado grande."),
    (re.compile(r"^Special numeric values .*"), "Debe ser un número finito."),
    (re.compile(r"^Not a valid boolean\.$"), "Debe ser true o false."),
    (re.compile(r"^Not a valid (aware |naive )?datetime\.$"),
     "Debe ser una fecha y hora ISO 8601 con zona horaria."),
    (re.compile(r"^Not a valid email address\.$"), "Debe ser un correo válido."),
    (re.compile(r"^Not a valid URL\.$"), "Debe ser una URL válida."),
    (re.compile(r"^Not a valid mapping type\.$"), "Debe ser un objeto JSON."),
    (re.compile(r"^Not a valid list\.$"), "Debe ser una lista."),
    (re.compile(r"^Invalid input type\.$"), "Tipo de dato no válido."),
    (re.compile(r"^Invalid value\.$"), "Valor no válido."),
    (re.compile(r"^Must be one of: (.*)\.$"), "Debe ser uno de: {0}."),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "Máximo {0} caracteres."),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "Mínimo {0} caracteres."),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
     "Debe tener entre {0} y {1} caracteres."),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     "Debe estar entre {0} y {1}."),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "Debe ser al menos {0}."),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), "Debe ser como máximo {0}."),
    (re.compile(r"^Invalid JSON body\.$"), "El cuerpo no es JSON válido."),
]


def translate(message: object) -> str:
    text = str(message)
    for pattern, spanish in _TRANSLATIONS:
        match = pattern.match(text)
        if match:
            return spanish.format(*match.groups())
    return text


def flatten_messages(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs/marshmallow nested messages into ``{"a.b": [msg, ...]}``.

    The request location level (``json``, ``query``, ``headers``) is dropped;
    list indexes fold into their field; schema-level errors go under ``_body``.
    """
    result: dict[str, list[str]] = {}

    def add(key: str, text: object) -> None:
        result.setdefault(key or "_body", []).append(translate(text))

    def walk(node: object, key: str) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                if isinstance(name, int) or name == "_schema":
                    walk(child, key)
                else:
                    walk(child, f"{key}.{name}" if key else str(name))
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, key)
        else:
            add(key, node)

    if isinstance(messages, dict) and set(messages) <= {"json", "query", "headers", "form",
                                                         "view_args", "querystring"}:
        for child in messages.values():
            walk(child, prefix)
    else:
        walk(messages, prefix)
    return result


def handle_api_error(error: ApiError) -> Response:
    db.session.rollback()
    return error_response(error.status, error.message, code=error.code, errors=error.errors,
                          headers=error.headers)


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug/webargs/Flask-Limiter errors as the API's shape."""
    db.session.rollback()
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = flatten_messages(data["messages"]) if "messages" in data else {}
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if status == 429 and retry_after:
        headers["Retry-After"] = str(int(retry_after))
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    message = None
    if status == 400 and "_body" in errors:
        message = errors.pop("_body")[0]
    return error_response(status, message, errors=errors, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    """Any other exception: logged with its trace, answered as a bare 500."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    db.session.rollback()
    log.exception("unhandled error in API view")
    return error_response(500)
