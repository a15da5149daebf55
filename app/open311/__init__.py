"""Open311 GeoReport v2 (``/open311/v2/``): see ``routes``."""

from __future__ import annotations

from flask import Flask, request

from app.open311.formats import error_response, format_from_path


def init_app(app: Flask) -> None:
    from app.errors import register_path_renderer
    from app.open311.routes import bp

    app.register_blueprint(bp)
    register_path_renderer(app, "/open311/", lambda status: error_response(
        format_from_path(request.path), status, [_describe(status)]))


def _describe(status: int) -> str:
    from flask_babel import gettext as _

    return {404: _("Recurso no encontrado; revise la URL y el formato (.json o .xml)."),
            405: _("Método no permitido para este recurso.")}.get(
        status, _("Solicitud no válida."))
