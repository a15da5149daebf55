"""Friendly Spanish error pages; never a stack trace to the user."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from app.extensions import db

log = logging.getLogger(__name__)


def register_path_renderer(app: Flask, prefix: str,
                           renderer: Callable[[int], object]) -> None:
    """Answer errors under ``prefix`` (e.g. ``/api/``) with ``renderer(status)``.

    For machine endpoints (REST API, Open311) whose errors must keep their own
    format even when no view was matched (unknown path, wrong method).
    """
    app.extensions.setdefault("error_renderers", []).append((prefix, renderer))


def _machine_renderer() -> Callable[[int], object] | None:
    for prefix, renderer in current_app.extensions.get("error_renderers", []):
        if request.path.startswith(prefix):
            return renderer
    return None


def _page(status: int, title: str, message: str, error: Exception | None = None):
    if (renderer := _machine_renderer()) is not None:
        response = renderer(status)
        if status == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
    return render_template("errors/error.html", status=status, title=title,
                           message=message), status


def _with_retry_after(response, error):
    """Add ``Retry-After`` (seconds) from a Flask-Limiter breach, if known."""
    from flask import make_response

    response = make_response(response)
    limit = getattr(error, "limit", None)
    seconds = getattr(getattr(limit, "limit", None), "get_expiry", lambda: None)()
    if seconds and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(int(seconds))
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return _page(400, _("No pudimos enviar el formulario"),
                     _("Por seguridad, el formulario debe enviarse desde esta misma "
                       "página. Vuelve atrás, recarga la página y envíalo otra vez."))

    @app.errorhandler(400)
    def bad_request(_error):
        return _page(400, _("Solicitud no válida"),
                     _("No pudimos entender lo que se envió. Vuelve atrás e inténtalo otra vez."))

    @app.errorhandler(403)
    def forbidden(_error):
        return _page(403, _("Sin permiso"),
                     _("No tienes permiso para ver esta página."))

    @app.errorhandler(404)
    def not_found(_error):
        return _page(404, _("No encontramos esta página"),
                     _("Puede que la dirección esté mal escrita o que ya no exista."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _page(405, _("Acción no permitida"),
                     _("Esta página no admite esa acción."), error)

    @app.errorhandler(413)
    def too_large(_error):
        limit = current_app.config.get("ATTACHMENT_MAX_BYTES", 0) // (1024 * 1024)
        return _page(413, _("Los archivos son demasiado grandes"),
                     _("Lo que enviaste supera el tamaño permitido (%(mb)d MB por archivo). "
                       "Vuelve atrás, elige archivos más livianos y envía otra vez.", mb=limit))

    @app.errorhandler(429)
    def too_many_requests(error):
        db.session.rollback()
        response = _page(429, _("Demasiados intentos"),
                         _("Recibimos demasiados intentos seguidos desde tu conexión. Espera "
                           "un minuto y vuelve a intentarlo; lo que escribiste no se perdió "
                           "si vuelves atrás en el navegador."))
        return _with_retry_after(response, error)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        log.error("unhandled error: %s", getattr(error, "original_exception", error))
        return _page(500, _("Tuvimos un problema"),
                     _("Algo falló de nuestro lado y no se guardó ningún cambio. "
                       "Inténtalo de nuevo en unos minutos."))
