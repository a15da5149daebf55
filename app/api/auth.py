"""Who is calling the REST API, and what they may do.

Every call carries ``Authorization: Bearer <secret>``: an application key
(``cak_...``, scopes chosen at creation) or a staff token (``cst_...``,
acting as its staff member). Cookies are never read here, so the API needs
no CSRF protection.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import g, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from app.accounts.credentials import (
    ApiKey,
    Scope,
    StaffToken,
    authenticate_bearer,
    note_api_key_use,
)
from app.accounts.models import User
from app.api.errors import ApiError, handle_api_error, handle_http_exception, handle_unexpected
from app.api.schemas import ErrorSchema
from app.extensions import db

SECURITY = [{"bearerAuth": []}]


@dataclass(frozen=True)
class Principal:
    api_key: ApiKey | None = None
    token: StaffToken | None = None

    @property
    def user(self) -> User | None:
        return self.token.user if self.token else None

    @property
    def is_staff(self) -> bool:
        return self.token is not None

    def allows(self, scope: Scope) -> bool:
        """Staff may do everything the REST API offers (within their departments)."""
        if self.is_staff:
            return scope is not Scope.OPEN311_SUBMIT
        return scope in self.api_key.scope_set

    @property
    def owner(self) -> str:
        """A stable name for idempotency keys: ``app:<key id>`` or ``staff:<user id>``."""
        return f"staff:{self.token.user_id}" if self.is_staff else f"app:{self.api_key.id}"


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def rate_limit_key() -> str:
    """Rate-limit bucket: the credential (by digest) or, without one, the address."""
    secret = bearer_secret()
    if secret:
        return "cred:" + hashlib.sha256(secret.encode()).hexdigest()[:24]
    return "addr:" + (request.remote_addr or "unknown")


def authenticate() -> Principal:
    """The caller, from the Authorization header.

    :raise ApiError 401: if the header is missing or the secret is unknown,
        revoked or expired.
    """
    secret = bearer_secret()
    found = authenticate_bearer(db.session, secret) if secret else None
    if found is None:
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(found, ApiKey):
        if note_api_key_use(db.session, found):  # "last used" on the admin page
            db.session.commit()
        return Principal(api_key=found)
    return Principal(token=found)


def current_principal() -> Principal:
    return g.api_principal


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint answering every error as the API's JSON shape,
    with ``requires``: authentication and its docs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_error_handler(ApiError, handle_api_error)
        self.register_error_handler(HTTPException, handle_http_exception)
        self.register_error_handler(Exception, handle_unexpected)

    def requires(self, scope: Scope | None = None, *, staff: bool = False) -> Callable:
        """Decorator: authenticate, then check ``scope`` (apps) or ``staff``.

        Put it right under ``@blp.route`` so nothing is parsed before the
        caller is known. Documents the security scheme and 401/403.
        """

        def decorator(view: Callable) -> Callable:
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                principal = authenticate()
                if staff and not principal.is_staff:
                    raise ApiError(403, _("Esta acción necesita un token de funcionario."))
                if scope is not None and not principal.allows(scope):
                    raise ApiError(403, _("Esta clave no tiene el alcance «%(scope)s».",
                                          scope=scope.value))
                g.api_principal = principal
                return view(*args, **kwargs)

            needs = (_doc_staff_only() if staff
                     else f"Alcance requerido para claves de aplicación: `{scope.value}`."
                     if scope else "Cualquier credencial válida.")
            wrapper = self.doc(security=SECURITY)(wrapper)
            wrapper = self.alt_response(401, schema=ErrorSchema,
                                        description="Sin credencial válida.")(wrapper)
            wrapper = self.alt_response(403, schema=ErrorSchema, description=needs)(wrapper)
            return wrapper

        return decorator


def _doc_staff_only() -> str:
    return "Solo con token de funcionario; las claves de aplicación reciben 403."
