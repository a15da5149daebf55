"""``/healthz`` (the process answers) and ``/readyz`` (it can reach the database).

For load balancers and orchestrators: no login, no CSRF, no rate limit, no
HTML. ``/healthz`` never touches the database, so a database outage does not
make every web process look dead; ``/readyz`` runs ``SELECT 1`` and answers
503 when the database does not answer, so traffic goes elsewhere.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify

from app.extensions import db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        log.warning("readiness check failed: %s", error.__class__.__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    finally:
        db.session.remove()
    return jsonify(status="ok", database="ok")
