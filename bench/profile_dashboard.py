"""Time the manager dashboard and the public transparency page on the database in
``DATABASE_URL`` (e.g. the 1M-request history of ``flask seed synthetic``).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/seed_big \
        /work/venv/bin/python -m bench.profile_dashboard --runs 15

Prints the p50/p90 of the whole default view (``/gestion/tablero/``, last 90
days, all departments, signed in as a manager) through the Flask test client,
then the time of each table's queries, then the public page cold (cache
cleared) and warm. ``--explain`` also prints each query's plan (PostgreSQL).
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import time

import sqlalchemy as sa


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    from app import create_app
    from app.accounts.models import Role, User
    from app.extensions import db
    from app.transparency.cache import cache

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        manager = db.session.scalars(sa.select(User).where(
            User.role == Role.MANAGER, User.active.is_(True)).order_by(User.id)).first()
        if manager is None:
            raise SystemExit("no active manager in this database (run flask seed synthetic)")
        tickets = db.session.scalar(sa.text("SELECT count(*) FROM tickets"))
        print(f"{db.engine.dialect.name}: {tickets} requests; manager {manager.email}")
        manager_id = manager.id

    # The session is forged here instead of signing in through the form; "strong"
    # session protection would reject it for lacking the login-time identifier.
    app.login_manager.session_protection = None
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(manager_id)
        session["_fresh"] = True

    backend = None
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # the pool keeps this one connection
            backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    timings = []
    cpu_client = cpu_server = 0.0
    for i in range(args.runs + 1):
        client_before, server_before = time.process_time(), _server_cpu(backend)
        started = time.perf_counter()
        response = client.get("/gestion/tablero/")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"dashboard answered {response.status_code}")
        if i:  # the first request warms caches (templates, statement cache)
            timings.append(elapsed)
            cpu_client += time.process_time() - client_before
            cpu_server += _server_cpu(backend) - server_before
    print(f"dashboard default view: p50 {statistics.median(timings):.0f} ms, "
          f"p90 {percentile(timings, 0.9):.0f} ms, min {min(timings):.0f} ms "
          f"({args.runs} runs)")
    # CPU seconds per view, Python and (PostgreSQL) its server process: what the
    # wall-clock time would be on an idle machine, whatever the load now.
    print(f"  CPU per view: app {1000 * cpu_client / args.runs:.0f} ms"
          + (f", PostgreSQL backend {1000 * cpu_server / args.runs:.0f} ms" if backend else "")
          + f"; load average now {os.getloadavg()[0]:.1f}")

    _per_table(app, manager_id, args.explain)

    cold, warm = [], []
    for _ in range(max(3, args.runs // 3)):
        with app.app_context():
            cache.clear()
        started = time.perf_counter()
        assert client.get("/transparencia").status_code == 200
        cold.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assert client.get("/transparencia").status_code == 200
        warm.append((time.perf_counter() - started) * 1000)
    print(f"/transparencia: cold (cache cleared) p50 {statistics.median(cold):.0f} ms; "
          f"cached p50 {statistics.median(warm):.1f} ms")


def _server_cpu(pid: int | None) -> float:
    """CPU seconds used so far by a local PostgreSQL backend (0 if not local)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_table(app, manager_id: int, explain: bool) -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from app.accounts.models import User
    from app.database import utcnow
    from app.deadlines.calendar_source import load_calendar
    from app.extensions import db
    from app.metrics import tables
    from app.metrics.filters import MetricsFilter
    from app.metrics.periods import preset_range

    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with app.test_request_context():
        tz = ZoneInfo(app.config["OFFICE_TIMEZONE"])
        now = utcnow()
        first, last = preset_range("90-dias", now.astimezone(tz).date())
        viewer = db.session.get(User, manager_id)
        f = MetricsFilter(first_day=first, last_day=last, tz=tz, viewer=viewer)
        calendar = load_calendar(db.session)
        assert isinstance(first, date)
        times: dict[str, list[float]] = {key: [] for key in tables.TABLE_KEYS}
        # As the page does: the volume tables share one query (older versions of
        # tables.build, without ``shared``, can be timed too).
        shares = "shared" in inspect.signature(tables.build).parameters
        for _ in range(3):
            sharing = {"shared": {}} if shares else {}
            for key in tables.TABLE_KEYS:
                started = time.perf_counter()
                tables.build(db.session, key, f, calendar=calendar, now=now,
                             min_n=app.config["DASHBOARD_MIN_N"], link=lambda _p: None,
                             **sharing)
                times[key].append((time.perf_counter() - started) * 1000)
        print("per table (min of 3, ms): " + ", ".join(
            f"{key} {min(values):.0f}" for key, values in times.items()))
        if explain and db.engine.dialect.name == "postgresql":
            sa.event.listen(db.engine, "before_cursor_execute", record)
            for key in tables.TABLE_KEYS:
                tables.build(db.session, key, f, calendar=calendar, now=now,
                             min_n=app.config["DASHBOARD_MIN_N"], link=lambda _p: None)
            sa.event.remove(db.engine, "before_cursor_execute", record)
            raw = db.session.connection().connection.driver_connection
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                print("=" * 80)
                print(statement[:400])
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    for (row,) in cursor.fetchall():
                        print(row)


if __name__ == "__main__":
    main()
