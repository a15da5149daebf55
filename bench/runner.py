"""``bench/run``: the benchmark harness (see bench/README.md).

For each database (SQLite, PostgreSQL): make sure it holds a seeded synthetic
history (seeding it with ``flask seed synthetic`` only when it is empty),
create the run's fixtures (``bench.prepare``), start ``bench.app:app`` under
gunicorn on loopback, log two staff members in through the real login form,
drive every scenario for a bounded time with ``bench.load``, stop gunicorn,
and print one table per database with ratios against the baseline B measured
in the same run (before and after the scenarios; B is their mean).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess  # nosec B404 (bandit): the harness starts gunicorn and the seeder
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import load

ROOT = Path(__file__).resolve().parent.parent
# B108 (bandit): default scratch folder of a local benchmark, overridable
DEFAULT_DIR = Path("/tmp/conectados-bench")  # nosec B108
MARK = "@@BENCH-JSON@@"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The limits stay ON (their cost is part of each request) but high enough
# that one loopback client is never throttled. Set only in gunicorn's
# environment for this run; the production defaults are untouched.
LIMIT_ENV = {
    "API_CREATE_RATE_LIMIT": "1000000/minute",
    "SUBMIT_RATE_LIMIT": "1000000/minute",
    "TRACKING_MISS_RATE_LIMIT": "1000000/minute",
}


@dataclass(frozen=True)
class Target:
    kind: str  # "ratio" (throughput / B at least value) or "p50" (ms at most value)
    value: float
    zero_errors: bool = False

    def describe(self, dialect: str) -> str:
        if self.kind == "ratio":
            text = f">= {self.value:.0%} of B"
            return text + ", 0 errors" if self.zero_errors else text
        return f"p50 < {self.p50_limit(dialect):.0f} ms"

    def p50_limit(self, dialect: str) -> float:
        return self.value if dialect == "postgresql" else self.value * 2


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    target: Target | None
    expect: tuple[int, ...] = (200,)
    concurrency: int | None = None  # None: the run's --concurrency


SCENARIOS = [
    Scenario("baseline", "B: bare Flask + one PK select (Core)", None),
    Scenario("status", "Status page by tracking code", Target("ratio", 0.75)),
    Scenario("submit", "Submission (API, key; routing, dues, audit, outbox)",
             Target("ratio", 0.50, zero_errors=True), expect=(201,)),
    Scenario("queue", "Staff queue (supervisor session)", Target("ratio", 0.40)),
    # A latency target for one manager: measured at concurrency 1. The
    # value is the PostgreSQL limit; SQLite's is twice it (300 ms).
    Scenario("dashboard", "Manager dashboard (90 days, all depts)", Target("p50", 150.0),
             concurrency=1),
    Scenario("transparency", "Public transparency page", Target("ratio", 0.75)),
    # No target: the cost floor of any HTML page through the shared layout
    # (the open-data dictionary: static text, one small query).
    Scenario("html_floor", "Info: static HTML page (/datos-abiertos)", None),
]
SCENARIO_NAMES = [s.name for s in SCENARIOS]


# --- processes ------------------------------------------------------------------------------

def _python() -> str:
    return sys.executable


def _env(url: str, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env.update(extra or {})
    return env


def _prepare(url: str, what: str) -> dict:
    # B603 (bandit): fixed argv (our own modules)
    done = subprocess.run([_python(), "-m", "bench.prepare", what], cwd=ROOT, env=_env(url),  # nosec B603
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-4000:])
        raise SystemExit(f"bench.prepare {what} failed on {_safe(url)}")
    line = next(ln for ln in reversed(done.stdout.splitlines()) if ln.startswith(MARK))
    return json.loads(line[len(MARK):])


def _state(url: str) -> dict:
    """Schema there? How many requests, how many not synthetic? (No app import: fast.)"""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("tickets"):
                return {"migrated": False, "tickets": 0, "real": 0}
            total = conn.scalar(sa.text("SELECT count(*) FROM tickets"))
            real = conn.scalar(sa.text(
                "SELECT count(*) FROM tickets WHERE contact_email IS NULL "
                "OR contact_email NOT LIKE '%@sintetico.invalid'"))
            return {"migrated": True, "tickets": total, "real": real}
    finally:
        engine.dispose()


def _flask(url: str, *args: str, check: bool = True) -> bool:
    command = [_python(), "-m", "flask", "--app", "wsgi", *args]
    print(f"  $ DATABASE_URL={_safe(url)} flask --app wsgi {' '.join(args)}", flush=True)
    started = time.monotonic()
    # B603 (bandit): fixed argv, loopback only
    done = subprocess.run(command, cwd=ROOT, env=_env(url))  # nosec B603
    if done.returncode != 0 and check:
        raise SystemExit(f"flask {' '.join(args)} failed ({done.returncode})")
    print(f"    ({time.monotonic() - started:.0f} s)", flush=True)
    return done.returncode == 0


def _safe(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``bench.app:app`` under gunicorn (sync workers) on a loopback port."""

    def __init__(self, url: str, workers: int, port: int | None, log_path: Path) -> None:
        self.port = port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = _env(url, {"SECRET_KEY": secrets.token_hex(32), **LIMIT_ENV})
        self.log = log_path.open("w")
        # B603 (bandit): fixed argv, loopback only
        self.process = subprocess.Popen(  # nosec B603
            [_python(), "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "300", "--log-level", "warning", "bench.app:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see "
                                 f"{self.log_path}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /healthz in {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


class CpuMeter:
    """CPU seconds spent by the gunicorn workers and, on PostgreSQL, the
    server backends connected to the benchmark database."""

    def __init__(self, server: Gunicorn, pg_url: str | None) -> None:
        self.server = server
        self.pg = None
        if pg_url:
            import psycopg

            self.pg = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"),
                                      autocommit=True)
            self.dbname = self.pg.info.dbname

    def _pids(self) -> list[int]:
        pids = self.server.worker_pids()
        if self.pg is not None:
            rows = self.pg.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid()", (self.dbname,)).fetchall()
            pids += [r[0] for r in rows]
        return pids

    def snapshot(self) -> dict[int, float]:
        return {pid: cpu for pid in self._pids() if (cpu := _cpu_seconds(pid)) is not None}

    def since(self, before: dict[int, float]) -> float:
        after = self.snapshot()
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()


# --- databases ------------------------------------------------------------------------------

def _pg_admin_url(url: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database


def _pg_exists(url: str) -> bool:
    import psycopg

    admin, name = _pg_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def _pg_create(url: str, drop: bool) -> None:
    import psycopg

    admin, name = _pg_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        if drop:
            if not name.startswith("bench_"):
                raise SystemExit(f"--reseed only drops databases named bench_*, not {name}")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def ensure_database(kind: str, url: str, requests: int, reseed: bool) -> dict:
    """Reuse a seeded database as it is; create and seed it when missing or empty."""
    print(f"[{kind}] database {_safe(url)}", flush=True)
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        if reseed:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    elif reseed or not _pg_exists(url):
        _pg_create(url, drop=reseed)
    state = _state(url)
    # Always: a reused database gets this branch's new migrations (indexes).
    # A database made by a newer branch may be ahead of it: then it is used as is.
    if not _flask(url, "db", "upgrade", check=not state["migrated"]):
        print("  (db upgrade failed on an existing schema; using it as it is)", flush=True)
    state = _state(url)
    if state["tickets"] == 0:
        _flask(url, "seed", "synthetic", "--requests", str(requests))
        state = _state(url)
    else:
        print(f"  reusing it: {state['tickets']} requests already there "
              f"(not re-seeded; --reseed to start over)", flush=True)
    # What the scheduler's metrics-rollup job keeps in production: the dashboard
    # reads past days from the daily rollups (app/metrics/rollup.py).
    _flask(url, "metrics", "rollup")
    return state


# --- scenarios ------------------------------------------------------------------------------

def login(base: str, email: str, password: str) -> dict:
    """A staff session through the real login form (CSRF token included).

    The User-Agent is the load client's: Flask-Login's "strong" session
    protection drops a session seen from another browser."""
    with httpx.Client(base_url=base, timeout=60,
                      headers={"User-Agent": load.USER_AGENT}) as client:
        page = client.get("/gestion/ingresar")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if token is None:
            raise SystemExit("no csrf_token on the login page")
        answer = client.post("/gestion/ingresar", data={
            "csrf_token": token.group(1), "email": email, "password": password})
        if answer.status_code != 302:
            raise SystemExit(f"login as {email} failed: HTTP {answer.status_code}")
        return dict(client.cookies)


def _format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _maker(name: str, fx: dict, stamp: str):
    ids, codes = fx["ids"], [_format_code(c) for c in fx["codes"]]
    if name == "baseline":
        return lambda n: ("GET", f"/bench/baseline/{ids[n % len(ids)]}", {})
    if name == "status":
        return lambda n: ("GET", f"/seguimiento/{codes[n % len(codes)]}", {})
    if name == "queue":
        return lambda n: ("GET", "/gestion/", {})
    if name == "dashboard":
        return lambda n: ("GET", "/gestion/tablero/", {})
    if name == "transparency":
        return lambda n: ("GET", "/transparencia", {})
    if name == "html_floor":
        return lambda n: ("GET", "/datos-abiertos", {})
    if name == "submit":
        headers = {"Authorization": f"Bearer {fx['api_key']}"}

        def submit(n: int):
            return ("POST", "/api/v1/requests", {"headers": headers, "json": {
                "category": fx["category"],
                "description": f"Prueba de carga {stamp}-{n}: la luminaria del pasaje "
                               "está apagada hace varios días.",
                "address": f"Av. Grecia {100 + n % 9000}",
                "consent": True,
                # RFC 2606 reserved domain: the outbox row is written, never delivered.
                "contact": {"name": "Vecina de Prueba", "email": f"carga{n}@bench.example"},
            }})
        return submit
    raise ValueError(name)


def run_database(kind: str, url: str, args, log_dir: Path) -> dict | None:
    state = ensure_database(kind, url, args.requests, args.reseed)
    if args.seed_only:
        return None
    fx = _prepare(url, "fixtures")
    dialect = fx["dialect"]
    server = Gunicorn(url, args.workers, args.port, log_dir / f"gunicorn-{kind}.log")
    rows, load_before = [], os.getloadavg()
    meter = None
    try:
        server.wait_ready()
        meter = CpuMeter(server, url if dialect == "postgresql" else None)
        cookies = {
            "queue": login(server.base, fx["queue_user"], fx["password"]),
            "dashboard": login(server.base, fx["dashboard_user"], fx["password"]),
        }
        stamp = datetime.now(UTC).strftime("%H%M%S")
        wanted = [s for s in SCENARIOS if s.name in set(args.scenarios) | {"baseline"}]
        totals = {s.name: load.Result(s.name) for s in wanted}
        cpu = dict.fromkeys(totals, 0.0)
        slice_seconds = args.duration / args.rounds
        for round_no in range(1, args.rounds + 1):
            for scenario in wanted:
                concurrency = scenario.concurrency or args.concurrency
                print(f"[{kind}] round {round_no}/{args.rounds} {scenario.name}: "
                      f"{slice_seconds:.1f} s at concurrency {concurrency} ...", flush=True)
                path = (args.profile / f"{kind}-{scenario.name}-{round_no}.txt"
                        if args.profile else None)
                measure = Measure(meter, server, path, slice_seconds)
                result = load.run(
                    scenario.name, server.base, _maker(scenario.name, fx, stamp),
                    expect=scenario.expect, concurrency=concurrency, duration=slice_seconds,
                    # A full warm-up first (per-worker caches, cold pages); then
                    # only enough to have the connections in flight again.
                    warmup=args.warmup if round_no == 1 else min(args.warmup, 0.5),
                    cookies=cookies.get(scenario.name), client=args.client,
                    on_measure=measure.start)
                cpu[scenario.name] += measure.stop()
                totals[scenario.name].merge(result)
                print(f"    {result.rps:.1f} req/s, p50 {result.percentile(50):.1f} ms, "
                      f"{result.errors} errors {result.statuses}; CPU ms/req: server "
                      f"{_fmt(measure.cpu * 1000 / max(result.count, 1), '.2f')}, client "
                      f"{_fmt(result.client_cpu * 1000 / max(result.count, 1), '.2f')}",
                      flush=True)
                for sample in result.error_samples[:2]:
                    print(f"    error: {sample}", flush=True)
        for scenario in wanted:
            result = totals[scenario.name]
            rows.append({
                "scenario": scenario.name, "label": scenario.label,
                "concurrency": scenario.concurrency or args.concurrency,
                "count": result.count, "errors": result.errors, "seconds": result.seconds,
                "statuses": result.statuses, "error_samples": result.error_samples,
                "rps": result.rps, "p50_ms": result.percentile(50),
                "p90_ms": result.percentile(90), "client_cpu_s": result.client_cpu,
                "server_cpu_ms_per_req": (cpu[scenario.name] * 1000 / result.count
                                          if result.count else None),
            })
    finally:
        if meter is not None:
            meter.close()
        server.stop()
    _judge(rows, dialect)
    return {"kind": kind, "dialect": dialect, "database": _safe(url),
            "tickets": fx["tickets"], "seeded_requests": state["tickets"],
            "load_before": load_before, "load_after": os.getloadavg(), "rows": rows}


def _pyspy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Measure:
    """Started by the load client when the warm-up is over: takes the CPU
    snapshot and, with ``--profile``, starts py-spy on one worker for the
    measured part (collapsed stacks; ``bench/profile_summary.py`` reads them)."""

    def __init__(self, meter: CpuMeter, server: Gunicorn, profile: Path | None,
                 duration: float) -> None:
        self.meter, self.server, self.profile, self.duration = meter, server, profile, duration
        self.before: dict[int, float] = {}
        self.profiler: subprocess.Popen | None = None
        self.cpu = 0.0

    def start(self) -> None:
        self.before = self.meter.snapshot()
        pids = self.server.worker_pids()
        if self.profile and pids:
            # B603 (bandit): fixed argv (py-spy on our own worker pid)
            self.profiler = subprocess.Popen(  # nosec B603
                [_pyspy(), "record", "--nonblocking", "-r", "200", "-f", "raw",
                 "-p", str(pids[0]), "-d", str(max(1, int(self.duration))),
                 "-o", str(self.profile)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> float:
        """CPU seconds spent since ``start``."""
        self.cpu = self.meter.since(self.before)
        if self.profiler is not None:
            self.profiler.wait()
        return self.cpu


def _judge(rows: list[dict], dialect: str) -> None:
    """Add the baseline ratio and the verdict to each row."""
    base = next((r["rps"] for r in rows if r["scenario"] == "baseline"), 0.0)
    by_name = {s.name: s for s in SCENARIOS}
    for row in rows:
        target = by_name[row["scenario"]].target
        row["ratio"] = row["rps"] / base if base else None
        row["target"] = target.describe(dialect) if target else ""
        if target is None:
            row["met"] = None
        elif target.kind == "ratio":
            row["met"] = (row["ratio"] is not None and row["ratio"] >= target.value
                          and (not target.zero_errors or row["errors"] == 0)
                          and row["count"] > 0)
        else:
            row["met"] = row["count"] > 0 and row["p50_ms"] < target.p50_limit(dialect)


# --- output ---------------------------------------------------------------------------------

def _fmt(value, spec: str) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return format(value, spec)


def table(results: list[dict]) -> str:
    """One Markdown table for every database of the run."""
    head = ("| DB | Scenario | c | req/s | p50 ms | p90 ms | errors / requests | ratio to B "
            "| CPU ms/req | Target | Met |")
    lines = [head, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|"]
    for result in results:
        db = "SQLite" if result["dialect"] == "sqlite" else "PostgreSQL"
        db = f"{db} ({result['tickets']:,} req.)"
        for row in result["rows"]:
            met = {None: "", True: "met", False: "**missed**"}[row["met"]]
            ratio = "" if row["scenario"] == "baseline" else (
                f"({_fmt(row['ratio'], '.0%')} at c=1)" if row["scenario"] == "dashboard"
                else _fmt(row["ratio"], ".0%"))
            lines.append(
                f"| {db} | {row['label']} | {row['concurrency']} | {_fmt(row['rps'], '.1f')} "
                f"| {_fmt(row['p50_ms'], '.1f')} | {_fmt(row['p90_ms'], '.1f')} "
                f"| {row['errors']} / {row['count']} | {ratio} "
                f"| {_fmt(row['server_cpu_ms_per_req'], '.1f')} | {row['target']} | {met} |")
    return "\n".join(lines)


def machine() -> dict:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                  if ln.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(mem_kb / 2**20, 1)}


def parse_args(argv: list[str]):
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--requests", type=int, default=1_000_000,
                        help="dataset size when a database must be seeded (default 1000000)")
    parser.add_argument("--sqlite-path", type=Path,
                        help="SQLite file; reused if seeded (default "
                             "/tmp/conectados-bench/bench-<N>.sqlite3)")
    parser.add_argument("--pg-url", help="PostgreSQL URL; reused if seeded (default "
                                         "postgresql://postgres@127.0.0.1:5432/bench_<N>)")
    parser.add_argument("--reseed", action="store_true",
                        help="delete the SQLite file / drop the bench_* database and seed anew")
    parser.add_argument("--seed-only", action="store_true",
                        help="only create/seed/upgrade the databases, measure nothing")
    parser.add_argument("--duration", type=float, default=20.0,
                        help="measured seconds per scenario (default 20)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="split each scenario's time into this many slices, all "
                             "scenarios (B included) in turn per round (default 4)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="unmeasured seconds before each scenario (default 3)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="client connections in flight (default 4; the dashboard uses 1)")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load client transport (default raw: asyncio streams, cheaper)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--port", type=int, help="loopback port (default: a free one)")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIO_NAMES, default=SCENARIO_NAMES)
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="sample one worker per scenario with py-spy into DIR "
                             "(adds overhead: use for diagnosis, not for the table)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--log-dir", type=Path, default=DEFAULT_DIR,
                        help="where gunicorn's logs go (default /tmp/conectados-bench)")
    args = parser.parse_args(argv)
    if (args.requests < 1 or args.duration <= 0 or args.concurrency < 1 or args.workers < 1
            or args.rounds < 1):
        parser.error("--requests, --duration, --concurrency, --workers and --rounds must be "
                     "positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    if args.profile:
        if _pyspy() is None:
            raise SystemExit("--profile needs py-spy (pip install -r bench/requirements.txt)")
        args.profile.mkdir(parents=True, exist_ok=True)
    n = args.requests
    targets = []
    if args.db in ("sqlite", "both"):
        path = args.sqlite_path or DEFAULT_DIR / f"bench-{n}.sqlite3"
        targets.append(("sqlite", f"sqlite:///{path.resolve()}"))
    if args.db in ("pg", "both"):
        targets.append(("pg", args.pg_url or f"postgresql://postgres@127.0.0.1:5432/bench_{n}"))
    started = datetime.now(UTC)
    info = machine()
    print(f"bench/run {started:%Y-%m-%d %H:%M} UTC on {info['nproc']} x {info['cpu']}, "
          f"{info['ram_gib']} GiB; load {os.getloadavg()[0]:.2f}", flush=True)
    results = [run_database(kind, url, args, args.log_dir) for kind, url in targets]
    if args.seed_only:
        print("Databases ready (--seed-only: nothing measured).")
        return 0
    print()
    print(f"Results ({started:%Y-%m-%d %H:%M} UTC, {args.workers} gunicorn workers, "
          f"{args.duration:g} s per scenario in {args.rounds} rounds, each scenario and B "
          f"in turn, after {args.warmup:g} s warm-up; ratio = req/s over B's):")
    print()
    print(table(results))
    print()
    for result in results:
        print(f"{result['kind']}: load average before {result['load_before'][0]:.2f}, "
              f"after {result['load_after'][0]:.2f}")
    missed = [(r["kind"], row["scenario"]) for r in results for row in r["rows"]
              if row["met"] is False]
    print("Targets missed: " + (", ".join(f"{k}/{s}" for k, s in missed) if missed else "none"))
    if args.json:
        args.json.write_text(json.dumps({
            "started": started.isoformat(), "machine": info, "argv": sys.argv[1:]
            if argv is None else argv, "results": results}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
