"""WSGI app for benchmarks: the real application plus a baseline endpoint.

``/bench/baseline/<id>`` does one indexed primary-key SELECT with SQLAlchemy
Core through the same engine and returns a tiny JSON body: the cost floor of
"a Flask request that touches the database" in this exact process setup.
It exists only in this module, never in the production app (``wsgi:app``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify

from app import create_app
from app.extensions import db
from app.tickets.models import Ticket

baseline = Blueprint("bench_baseline", __name__)
_TICKETS = Ticket.__table__
_BY_ID = sa.select(_TICKETS.c.id, _TICKETS.c.status).where(
    _TICKETS.c.id == sa.bindparam("ticket_id"))


@baseline.get("/bench/baseline/<int:ticket_id>")
def by_id(ticket_id: int):
    with db.engine.connect() as connection:
        row = connection.execute(_BY_ID, {"ticket_id": ticket_id}).first()
    if row is None:
        abort(404)
    return jsonify(id=row.id, status=row.status)


app = create_app()
app.register_blueprint(baseline)
