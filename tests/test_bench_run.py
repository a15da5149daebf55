"""bench/run end to end at a tiny scale: seed, gunicorn, every scenario, the table.

SQLite always; PostgreSQL too when ``TEST_DATABASE_URL`` is set: then the
harness gets a database of its own on that server (``bench_t_<random>``,
created by the harness, dropped here), never the TEST_DATABASE_URL one.
Each backend takes about 30 s (seeding 200 requests, starting gunicorn,
seven scenarios of 2 s in two rounds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
SCENARIOS = ["baseline", "status", "submit", "queue", "dashboard", "transparency",
             "html_floor"]


@pytest.fixture(params=["sqlite"] + (["pg"] if TEST_DATABASE_URL else []))
def target(request, tmp_path):
    """(bench/run arguments, SQLAlchemy URL of the database it will use)."""
    if request.param == "sqlite":
        path = tmp_path / "bench.sqlite3"
        yield ["--db", "sqlite", "--sqlite-path", str(path)], f"sqlite:///{path}"
        return
    server = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg")
    name = f"bench_t_{uuid.uuid4().hex[:10]}"
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        yield ["--db", "pg", "--pg-url", url], url
    finally:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_bench_run_measures_every_scenario(target, tmp_path):
    arguments, url = target
    out = tmp_path / "results.json"
    done = subprocess.run(
        [str(ROOT / "bench" / "run"), *arguments, "--requests", "200", "--duration", "2",
         "--rounds", "2", "--warmup", "0.25", "--json", str(out), "--log-dir", str(tmp_path)],
        cwd=ROOT, env={**os.environ, "PYTHON": sys.executable}, capture_output=True,
        text=True, timeout=150)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    (result,) = json.loads(out.read_text())["results"]
    assert result["tickets"] >= 200
    rows = {row["scenario"]: row for row in result["rows"]}
    assert list(rows) == SCENARIOS
    for name, row in rows.items():
        assert row["count"] > 0 and row["rps"] > 0, (name, row)
        # Every scenario got the page it asked for (no login redirect, no 429).
        assert row["errors"] == 0, (name, row["statuses"], row["error_samples"])
        if name not in ("baseline", "html_floor"):
            assert row["ratio"] > 0 and row["met"] in (True, False), (name, row)
    submitted = rows["submit"]["count"]
    assert rows["submit"]["statuses"] == {"201": submitted}

    # Each accepted submission left its request, audit event and confirmation
    # email in the database (warm-up submissions too, hence >=).
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tickets = conn.scalar(sa.text(
            "SELECT count(*) FROM tickets WHERE channel = 'api' "
            "AND contact_email LIKE '%@bench.example'"))
        events = conn.scalar(sa.text(
            "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
            "WHERE t.contact_email LIKE '%@bench.example' AND e.kind = 'created'"))
        emails = conn.scalar(sa.text(
            "SELECT count(*) FROM outbox_messages WHERE recipient LIKE '%@bench.example'"))
    engine.dispose()
    assert tickets >= submitted and events == tickets and emails == tickets

    # One table: a row per scenario, with the ratio and the verdict columns.
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| DB | Scenario |") and "ratio to B" in table[0]
    assert len(table) == 1 + len(SCENARIOS)
    for label in ("Status page", "Submission", "Staff queue", "Manager dashboard",
                  "Public transparency"):
        assert sum(label in line for line in table) == 1, label
    assert "Targets missed:" in done.stdout
