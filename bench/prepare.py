"""Database side of ``bench/run``: inspect a database and create the run's fixtures.

Run as ``python -m bench.prepare fixtures`` with ``DATABASE_URL`` set; prints
one JSON object on stdout. It is a separate process so the harness itself
never imports the app nor holds a connection while gunicorn runs.

It creates an application key (scope ``requests:create``) for the submission
scenario, samples existing tracking codes and ticket ids for the status page
and the baseline, and clears the lockout counter of the two demo staff
accounts the harness logs in as. The key is new each run (only its hash is
stored, so an old one cannot be read back); it is named ``bench/run <UTC
time>`` so it is easy to spot and revoke.
"""

from __future__ import annotations

import json
import random
import sys

import sqlalchemy as sa

SAMPLE = 2000
# Staff from ``seed.demo`` (which ``seed synthetic`` loads into an empty database).
QUEUE_USER = "supervisora.aseo@demo.conectados.cl"  # a supervisor of one department
DASHBOARD_USER = "gerencia@demo.conectados.cl"  # a manager: all departments
PREFERRED_CATEGORY = "luminaria"


def _app():
    from app import create_app

    return create_app()


def fixtures() -> dict:
    app = _app()
    from app.accounts.credentials import Scope, create_api_key
    from app.accounts.models import User
    from app.catalog.attributes import CategoryAttribute as Attribute
    from app.catalog.models import Category
    from app.database import utcnow
    from app.extensions import db
    from app.seed.demo import DEMO_PASSWORD
    from app.tickets.models import Ticket

    with app.app_context():
        session = db.session
        lo, hi = session.execute(sa.select(sa.func.min(Ticket.id), sa.func.max(Ticket.id))).one()
        if lo is None:
            raise SystemExit("no requests in this database: seed it first")
        # B311 (bandit): sampling benchmark inputs, not security
        rng = random.Random()  # nosec B311
        wanted = sorted({rng.randint(lo, hi) for _ in range(SAMPLE * 2)})
        rows = []
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            rows += session.execute(sa.select(Ticket.id, Ticket.tracking_code)
                                    .where(Ticket.id.in_(wanted[start:start + 500]))).all()
        rng.shuffle(rows)
        rows = rows[:SAMPLE]

        with_required = sa.select(Attribute.category_id).where(Attribute.required.is_(True))
        categories = list(session.scalars(
            sa.select(Category.slug).where(Category.active.is_(True),
                                           Category.id.not_in(with_required))
            .order_by(Category.id)))
        if not categories:
            raise SystemExit("no active category without required questions")
        category = PREFERRED_CATEGORY if PREFERRED_CATEGORY in categories else categories[0]

        for email in (QUEUE_USER, DASHBOARD_USER):
            user = session.scalar(sa.select(User).where(User.email == email))
            if user is None or not user.active:
                raise SystemExit(f"staff account {email} missing or inactive (demo staff)")
            user.failed_logins, user.locked_until = 0, None  # a fresh lockout counter

        issued = create_api_key(session, name=f"bench/run {utcnow():%Y-%m-%d %H:%M:%S}Z",
                                scopes=[Scope.REQUESTS_CREATE])
        session.commit()
        return {
            "dialect": db.engine.dialect.name,
            "tickets": session.scalar(sa.select(sa.func.count()).select_from(Ticket)),
            "ids": [r.id for r in rows],
            "codes": [r.tracking_code for r in rows],
            "api_key": issued.secret,
            "category": category,
            "queue_user": QUEUE_USER,
            "dashboard_user": DASHBOARD_USER,
            "password": DEMO_PASSWORD,
        }


def main(argv: list[str]) -> None:
    if argv != ["fixtures"]:
        raise SystemExit("usage: python -m bench.prepare fixtures")
    result = fixtures()
    sys.stdout.write("\n@@BENCH-JSON@@" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
