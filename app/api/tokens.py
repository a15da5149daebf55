"""REST: staff tokens (exchange email and password for a bearer token) and whoami."""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext as _
from marshmallow import fields

from app.accounts.credentials import Scope, issue_staff_token, revoke_staff_token
from app.accounts.services import authenticate as authenticate_password
from app.api.auth import ApiBlueprint, current_principal
from app.api.errors import ApiError
from app.api.ratelimit import RateLimited, check
from app.api.schemas import ErrorSchema, TokenRequestSchema, TokenSchema
from app.extensions import db

blp = ApiBlueprint("credenciales", __name__, url_prefix="/api/v1/auth",
                   description="Tokens de funcionario y consulta de la credencial en uso.")


class WhoAmISchema(ma.Schema):
    kind = fields.String(required=True, metadata={"description": "app o staff"})
    name = fields.String(required=True)
    role = fields.String(required=True, allow_none=True)
    scopes = fields.List(fields.String(), required=True)


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Correo o contraseña incorrectos.")
@blp.alt_response(403, schema=ErrorSchema,
                  description="La cuenta usa verificación en dos pasos (sin tokens).")
@blp.alt_response(429, schema=ErrorSchema, description="Demasiados intentos desde esta dirección.")
def create_token(payload):
    """Obtener un token de funcionario

    Con el correo y la contraseña de las páginas de gestión. El token actúa
    como esa persona (mismos departamentos) y vence tras `STAFF_TOKEN_HOURS`.
    """
    try:
        check("api-token", "API_TOKEN_RATE_LIMIT", request.remote_addr or "unknown")
    except RateLimited as error:
        raise ApiError(429, headers={"Retry-After": str(error.retry_after)}) from None
    user = authenticate_password(db.session, payload["email"], payload["password"])
    if user is None:
        db.session.commit()  # the failure counts towards the account's lockout
        raise ApiError(401, _("Correo o contraseña incorrectos."), code="invalid_credentials")
    if user.totp_enabled:
        # A token would skip the second step; such accounts use the web pages.
        db.session.commit()
        raise ApiError(403, _("Esta cuenta usa verificación en dos pasos: los tokens de la "
                              "API no están disponibles para ella."), code="totp_required")
    issued = issue_staff_token(db.session, user, lifetime=timedelta(
        hours=current_app.config["STAFF_TOKEN_HOURS"]))
    db.session.commit()
    return {"token": issued.secret, "expires_at": issued.record.expires_at,
            "user": {"name": user.name, "email": user.email, "role": user.role.value}}


@blp.route("/token", methods=["DELETE"])
@blp.requires(staff=True)
@blp.response(204)
def revoke_token():
    """Revocar el token de funcionario en uso"""
    revoke_staff_token(db.session, current_principal().token)
    db.session.commit()


@blp.route("/whoami", methods=["GET"])
@blp.requires()
@blp.response(200, WhoAmISchema)
def whoami():
    """La credencial en uso y lo que permite"""
    principal = current_principal()
    if principal.is_staff:
        user = principal.user
        return {"kind": "staff", "name": user.name, "role": user.role.value,
                "scopes": [s.value for s in Scope if principal.allows(s)]}
    key = principal.api_key
    return {"kind": "app", "name": key.name, "role": None,
            "scopes": sorted(s.value for s in key.scope_set)}
