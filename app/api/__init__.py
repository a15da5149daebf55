"""REST API v1 at ``/api/v1/``: flask-smorest over marshmallow schemas.

The OpenAPI 3 document (``/api/v1/openapi.json``) is generated from the same
schemas that validate requests; ``/api/v1/docs`` renders it as a plain,
accessible HTML page from this server (no CDN, no JavaScript).
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from app.api.errors import error_response
from app.api.schemas import ErrorSchema
from app.extensions import csrf

API_DESCRIPTION = """\
API de Conectados para aplicaciones municipales, bots y tableros.

**Autenticación.** Toda llamada lleva `Authorization: Bearer <secreto>`:

* una clave de aplicación (`cak_...`), creada por la municipalidad con
  `flask apikeys create NOMBRE --scope ...`; sus alcances (`categories:read`,
  `requests:create`, `requests:track`, `requests:read`) limitan lo que puede
  hacer. Una app para vecinos recibe `categories:read requests:create
  requests:track`: crea y sigue por código, nunca lista.
* un token de funcionario (`cst_...`), obtenido en `POST /api/v1/auth/token`;
  actúa como esa persona, con sus mismos departamentos.

**Errores.** Siempre `{"code", "message", "errors"}` con 400, 401, 403, 404,
409, 422 o 429; nunca una traza.

**Fechas.** ISO 8601 con zona horaria (UTC en las respuestas).
"""


class ConectadosApi(Api):
    """flask-smorest's Api without its app-wide error handler.

    The stock one would turn every HTML error page of the site into JSON; our
    API blueprints register their own handlers instead.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


def init_app(app: Flask) -> None:
    from app.api import catalog, docs, tickets, tokens
    from app.errors import register_path_renderer

    app.config.setdefault("API_TITLE", "Conectados API")
    app.config.setdefault("API_VERSION", "1.0.0")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": API_DESCRIPTION}})
    api = ConectadosApi(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "Clave de aplicación (cak_...) o token de funcionario (cst_...).",
    })
    for blueprint in (catalog.blp, tickets.blp, tokens.blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    app.register_blueprint(docs.bp)
    register_path_renderer(app, "/api/", lambda status: error_response(status))
