"""Reliability under load and faults: no accepted request or email is ever lost.

    python -m bench.reliability --database sqlite:////tmp/rel.sqlite3 --duration 30
    python -m bench.reliability --database postgresql://postgres@127.0.0.1/rel_db \\
        --fault worker-kill,smtp-down,scheduler-kill,pg-restart

What it does, all on loopback:

1. migrates the database and adds its own department, category, agent and
   API key (names carry a run id, so runs can share a database);
2. starts a loopback SMTP sink (aiosmtpd, in this process), ``gunicorn -w 2
   bench.app:app`` and ``flask scheduler run`` (outbox every second), with
   the rate limits and the form's fill-time check lifted *for this run only*
   (environment of the child processes; production settings are untouched);
3. drives mixed traffic for ``--duration`` seconds: web-form submissions
   (CSRF and honeypot fields as a browser sends them), API submissions (with
   an ``Idempotency-Key``, retried on a transport error or 5xx as a careful
   client would), tracking-page lookups, and an agent (staff token) changing
   statuses and replying; each submission carries a unique marker;
4. injects the faults asked for while the load runs (``--fault``, comma
   separated): ``worker-kill`` (SIGKILL one gunicorn worker, twice),
   ``smtp-down`` (the sink stopped for a third of the run, then restarted),
   ``scheduler-kill`` (SIGKILL the scheduler mid-delivery, restarted a second
   later, three times), ``pg-restart`` (``pg_ctlcluster … restart`` of the
   local PostgreSQL: it restarts a whole cluster, use with care);
5. checks recovery (``/readyz`` answers 200 again and new submissions
   succeed), waits for the outbox to drain, and then checks the database:
   every submission that got a success answer exists exactly once, with its
   ``created`` event and its confirmation in the outbox, and every email of
   the run reached the sink exactly once (by its stable Message-ID).

Prints the figures; exits 1 on any loss, duplicate or failed recovery.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import signal
import subprocess  # nosec B404
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import httpx

from bench.load import _check_loopback, run_coroutine

# bandit: subprocess (B404/B603/B607) only starts our own gunicorn, flask and
# pg_ctlcluster with fixed argument lists; random (B311) only shapes the
# traffic and picks fault targets, never a secret (those use ``secrets``).

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = secrets.token_urlsafe(16)  # the run's agent; a fresh one each run
FAULTS = ("worker-kill", "smtp-down", "scheduler-kill", "scheduler-kill-accepted",
          "pg-restart")
PG_CLUSTER = ("15", "main")
_LOCATION_CODE = re.compile(r"/solicitudes/([0-9A-Z-]+)/recibida")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_STAMP = re.compile(r'name="form_started"[^>]*value="([^"]*)"')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sqlalchemy_url(database: str) -> str:
    """A SQLite path or any database URL, as the app's ``DATABASE_URL``."""
    if "://" in database:
        return database
    return f"sqlite:///{Path(database).resolve()}"


# --- the SMTP sink -----------------------------------------------------------------------------

class MailSink:
    """Counts every message received, by Message-ID; can be stopped and restarted.

    ``arm(stage)`` makes the next SMTP conversation signal ``armed_hit`` at that
    stage, so a fault can strike the scheduler at a known point: ``"rcpt"``
    (mid-conversation: the answer to RCPT is held back 0.5 s, the message is
    not accepted yet) or ``"accepted"`` (just after the 250 to the message's
    data: the window SMTP cannot close, see ``outbox.message_id``).

    ``stop()`` is a clean outage: it refuses new messages with a 421 and waits
    for those already counted to get their 250, so a message is only counted
    once its sender was told it was accepted.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.deliveries: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._armed: str | None = None
        self.armed_hit = threading.Event()
        self._controller = None
        self._refusing = False
        self._unanswered = 0  # counted, 250 not written yet

    def arm(self, stage: str) -> None:
        self.armed_hit.clear()
        self._armed = stage

    def _hit(self, stage: str) -> bool:
        with self._lock:
            if self._armed != stage:
                return False
            self._armed = None
        self.armed_hit.set()
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        if self._hit("rcpt"):
            await asyncio.sleep(0.5)  # the scheduler dies while waiting for this answer
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            if self._refusing:
                return "421 4.3.2 Service shutting down"
            self.deliveries[str(message["Message-ID"] or "").strip()] += 1
            self._unanswered += 1
        asyncio.get_running_loop().call_soon(self._answered)  # runs once the 250 is written
        if self._armed == "accepted":
            asyncio.get_running_loop().call_soon(self._hit, "accepted")  # after the 250
        return "250 OK"

    def _answered(self) -> None:
        with self._lock:
            self._unanswered -= 1

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        with self._lock:
            self._refusing = False

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            with self._lock:
                self._refusing = True
            deadline = time.monotonic() + 5
            while self._unanswered and time.monotonic() < deadline:
                time.sleep(0.01)
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None


# --- database: set-up and the final check ------------------------------------------------------

def _app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
                       "SECRET_KEY": secrets.token_hex(16)})


def prepare(url: str, run: str) -> dict:
    """Migrate, then add this run's department, category, agent and API key."""
    from flask_migrate import upgrade

    from app.accounts.credentials import Scope, create_api_key
    from app.accounts.models import Role
    from app.accounts.services import create_user
    from app.catalog.models import Category, Department, Visibility
    from app.extensions import db

    app = _app(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        department = Department(name=f"Fiabilidad {run}", slug=f"fiab-{run}")
        category = Category(name=f"Bache {run}", slug=f"bache-{run}", department=department,
                            visibility=Visibility.PUBLIC)
        db.session.add_all([department, category])
        db.session.flush()
        agent = create_user(db.session, email=f"agente.{run}@muni.example.cl",
                            name="Agente Fiabilidad", password=PASSWORD, role=Role.AGENT,
                            departments=[department])
        key = create_api_key(db.session, name=f"fiabilidad {run}",
                             scopes=[Scope.REQUESTS_CREATE, Scope.REQUESTS_TRACK])
        db.session.commit()
        facts = {"category_id": category.id, "category_slug": category.slug,
                 "agent_email": agent.email, "api_key": key.secret}
        db.session.remove()
        db.engine.dispose()
    return facts


@dataclass
class Check:
    accepted: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    missing_event: list[str] = field(default_factory=list)
    missing_outbox: list[str] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)        # outbox rows not sent
    emails: int = 0                                          # outbox messages of the run
    emails_missing: list[int] = field(default_factory=list)  # sent, but never reached SMTP
    emails_twice: list[int] = field(default_factory=list)    # reached SMTP more than once
    unconfirmed: int = 0  # created, but the client never saw a success (fault window)
    retried: int = 0      # outbox messages that needed more than one attempt

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicates or self.missing_event or self.missing_outbox
                    or self.unsent or self.emails_missing or self.emails_twice)


def outbox_pending(url: str, run: str) -> int:
    import sqlalchemy as sa

    from app.extensions import db
    from app.notifications.models import OutboxMessage, OutboxStatus
    from app.tickets.models import Ticket

    app = _app(url)
    with app.app_context():
        try:
            return db.session.scalar(
                sa.select(sa.func.count()).select_from(OutboxMessage).join(Ticket)
                .where(Ticket.description.contains(run),
                       OutboxMessage.status == OutboxStatus.PENDING))
        finally:
            db.session.remove()
            db.engine.dispose()


def check(url: str, run: str, accepted: dict[str, str], sink: MailSink) -> Check:
    """Compare what clients were told (marker -> tracking code) with the database."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.notifications.models import OutboxMessage, OutboxStatus
    from app.notifications.outbox import message_id
    from app.tickets.models import EventKind, Ticket, TicketEvent

    result = Check(accepted=len(accepted))
    marker_re = re.compile(rf"\b({re.escape(run)}-\d+)\b")
    app = _app(url)
    with app.app_context():
        tickets = db.session.scalars(sa.select(Ticket).where(Ticket.description.contains(run)))
        by_marker: dict[str, list[Ticket]] = {}
        for ticket in tickets:
            match = marker_re.search(ticket.description)
            if match:
                by_marker.setdefault(match.group(1), []).append(ticket)
        ids = [t.id for found in by_marker.values() for t in found]
        created = set(db.session.scalars(sa.select(TicketEvent.ticket_id).where(
            TicketEvent.ticket_id.in_(ids), TicketEvent.kind == EventKind.CREATED)))
        outbox = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.ticket_id.in_(ids))).all()
        confirmed = {m.ticket_id for m in outbox if m.template == "ticket_received"}
        for marker, code in accepted.items():
            found = by_marker.get(marker, [])
            ticket = next((t for t in found if t.formatted_tracking_code == code), None)
            if ticket is None:
                result.lost.append(marker)
                continue
            if len(found) > 1:
                result.duplicates.append(marker)
            if ticket.id not in created:
                result.missing_event.append(marker)
            if ticket.id not in confirmed:
                result.missing_outbox.append(marker)
        result.unconfirmed = len(set(by_marker) - set(accepted))
        sender = app.config["MAIL_DEFAULT_SENDER"]
        result.emails = len(outbox)
        result.retried = sum(1 for m in outbox if m.attempts > 1)
        for message in outbox:
            times = sink.deliveries.get(message_id(message, sender), 0)
            if message.status != OutboxStatus.SENT:
                result.unsent.append(message.id)
            elif times == 0:
                result.emails_missing.append(message.id)
            if times > 1:
                result.emails_twice.append(message.id)
        db.session.remove()
        db.engine.dispose()
    return result


# --- processes ---------------------------------------------------------------------------------

@dataclass
class Stack:
    """gunicorn and the scheduler for one run, with their logs in ``workdir``."""

    url: str
    port: int
    smtp_port: int
    workdir: Path
    workers: int = 2
    gunicorn: subprocess.Popen | None = None
    scheduler: subprocess.Popen | None = None
    scheduler_starts: int = 0
    scheduler_exits: list[int] = field(default_factory=list)  # exit codes seen
    _stopping: threading.Event = field(default_factory=threading.Event)
    _scheduler_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": sqlalchemy_url(self.url),
            "SECRET_KEY": "reliability-" + secrets.token_hex(8),
            "CONECTADOS_ENV": "development",
            "PUBLIC_BASE_URL": self.base_url,
            "UPLOADS_DIR": str(self.workdir / "uploads"),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.smtp_port),
            # Benchmark only: clients all come from 127.0.0.1 and post at once.
            "RATELIMIT_ENABLED": "0",
            "FORM_MIN_FILL_SECONDS": "0",
            # Deliver fast and retry fast, so a run drains in seconds, not hours.
            "OUTBOX_INTERVAL_SECONDS": "1",
            "OUTBOX_BACKOFF_SECONDS": "1",
            "OUTBOX_MAX_ATTEMPTS": "20",
            "SCHEDULER_LOCK_RETRY_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def _log(self, name: str):
        return open(self.workdir / name, "ab")  # the child keeps it open

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.secret_env = self.env()
        # B603 (bandit): fixed argv, loopback only
        self.gunicorn = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "5",
             "bench.app:app"],
            cwd=ROOT, env=self.secret_env, stdout=self._log("gunicorn.log"),
            stderr=subprocess.STDOUT)
        self.start_scheduler()
        threading.Thread(target=self._supervise, daemon=True).start()

    def _supervise(self) -> None:
        """Restart the scheduler 1 s after it ends, as ``Restart=always`` does."""
        while not self._stopping.wait(0.5):
            with self._scheduler_lock:
                if self.scheduler is None or self.scheduler.poll() is None:
                    continue
                self.scheduler_exits.append(self.scheduler.returncode)
                self.scheduler = None
            time.sleep(1.0)
            with self._scheduler_lock:
                if not self._stopping.is_set():
                    self.start_scheduler()

    def start_scheduler(self) -> None:
        self.scheduler_starts += 1
        # B603 (bandit): fixed argv
        self.scheduler = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
            cwd=ROOT, env=self.secret_env, stdout=self._log("scheduler.log"),
            stderr=subprocess.STDOUT)

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler; the supervisor starts a new one 1 s later."""
        with self._scheduler_lock:
            if self.scheduler is not None and self.scheduler.poll() is None:
                self.scheduler.send_signal(signal.SIGKILL)
                self.scheduler.wait()

    def worker_pids(self) -> list[int]:
        if self.gunicorn is None:
            return []
        path = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def kill_worker(self) -> int | None:
        pids = self.worker_pids()
        if not pids:
            return None
        # B311 (bandit): which worker dies is not security
        pid = random.choice(pids)  # nosec B311
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_ready(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gunicorn is not None and self.gunicorn.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.workdir / 'gunicorn.log'}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=3).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        return False

    def stop(self) -> None:
        self._stopping.set()
        with self._scheduler_lock:
            pass  # a restart in progress has finished
        for process in (self.scheduler, self.gunicorn):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.scheduler, self.gunicorn):
            if process is not None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def restart_postgresql() -> float:
    """Restart the local PostgreSQL cluster; returns the seconds it took."""
    started = time.monotonic()
    # B603 B607 (bandit): the fixed Debian cluster tool
    subprocess.run(  # nosec B603 B607
        ["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "restart"],
        check=True, capture_output=True, timeout=120)
    return time.monotonic() - started


# --- traffic -----------------------------------------------------------------------------------

@dataclass
class Traffic:
    run: str
    facts: dict
    accepted: dict[str, str] = field(default_factory=dict)  # marker -> tracking code
    api_ids: list[int] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)          # "kind status" -> n
    serial: int = 0

    def marker(self) -> str:
        self.serial += 1
        return f"{self.run}-{self.serial}"

    def note(self, kind: str, status: int | str) -> None:
        self.counts[f"{kind} {status}"] += 1


def _description(marker: str) -> str:
    return f"Bache profundo en la calzada, prueba de fiabilidad {marker}."


async def web_submit(client: httpx.AsyncClient, traffic: Traffic, state: dict) -> None:
    if "csrf" not in state:
        page = await client.get("/solicitudes/nueva")
        state["csrf"] = _CSRF.search(page.text).group(1)
        stamp = _STAMP.search(page.text)
        state["stamp"] = stamp.group(1) if stamp else ""
    marker = traffic.marker()
    response = await client.post("/solicitudes/nueva", data={
        "csrf_token": state["csrf"], "form_started": state["stamp"], "website": "",
        "category": str(traffic.facts["category_id"]),
        "shown_category": str(traffic.facts["category_id"]),
        "description": _description(marker), "address": "Av. Grecia 8735",
        "name": "Vecina Prueba", "email": f"{marker}@example.com", "consent": "y"})
    traffic.note("web", response.status_code)
    match = _LOCATION_CODE.search(response.headers.get("location", ""))
    if response.status_code == 302 and match:
        traffic.accepted[marker] = match.group(1)
    else:
        state.clear()  # fetch a fresh form (and token) next time


async def api_submit(client: httpx.AsyncClient, traffic: Traffic, state: dict) -> None:
    marker = traffic.marker()
    headers = {"Authorization": f"Bearer {traffic.facts['api_key']}", "Idempotency-Key": marker}
    body = {"category": traffic.facts["category_slug"], "description": _description(marker),
            "consent": True, "contact": {"name": "Vecino API", "email": f"{marker}@example.com"}}
    for _attempt in range(4):  # the same key every time: a retry never creates a second one
        try:
            response = await client.post("/api/v1/requests", json=body, headers=headers)
        except httpx.HTTPError:
            traffic.note("api", "transport-error")
            await asyncio.sleep(0.5)
            continue
        traffic.note("api", response.status_code)
        if response.status_code in (200, 201):
            data = response.json()
            traffic.accepted[marker] = data["tracking_code"]
            traffic.api_ids.append(data["id"])
            return
        if response.status_code < 500:
            return
        await asyncio.sleep(0.5)


async def track(client: httpx.AsyncClient, traffic: Traffic, state: dict) -> None:
    if not traffic.accepted:
        return
    code = random.choice(list(traffic.accepted.values()))  # nosec B311
    response = await client.get(f"/seguimiento/{code}")
    traffic.note("track", response.status_code)


async def staff_action(client: httpx.AsyncClient, traffic: Traffic, state: dict) -> None:
    if "token" not in state:
        response = await client.post("/api/v1/auth/token", json={
            "email": traffic.facts["agent_email"], "password": PASSWORD})
        traffic.note("staff-login", response.status_code)
        if response.status_code not in (200, 201):
            return
        state["token"] = response.json()["token"]
    if not traffic.api_ids:
        return
    ticket = random.choice(traffic.api_ids)  # nosec B311
    headers = {"Authorization": f"Bearer {state['token']}"}
    if random.random() < 0.5:  # nosec B311
        response = await client.post(f"/api/v1/requests/{ticket}/replies", headers=headers,
                                     json={"body": "Estamos revisando su solicitud."})
        traffic.note("staff-reply", response.status_code)
    else:
        status = random.choice(["in_review", "in_progress"])  # nosec B311
        response = await client.post(f"/api/v1/requests/{ticket}/transitions",
                                     headers=headers, json={"status": status})
        traffic.note("staff-status", response.status_code)  # 409/422: move not allowed now


ACTIONS = [(web_submit, 3), (api_submit, 3), (track, 3), (staff_action, 1)]


async def drive(base_url: str, traffic: Traffic, *, duration: float, concurrency: int,
                faults: list[tuple[float, str, object]]) -> list[str]:
    """Run the mixed load; at each ``(second, name, callable)`` run the fault (in a thread)."""
    _check_loopback(base_url)
    log: list[str] = []
    begin = time.monotonic()

    async def worker() -> None:
        state: dict = {}
        async with httpx.AsyncClient(base_url=base_url, timeout=15) as client:
            while time.monotonic() - begin < duration:
                action = random.choices([a for a, _ in ACTIONS],  # nosec B311
                                        weights=[w for _, w in ACTIONS])[0]
                try:
                    await action(client, traffic, state)
                except (httpx.HTTPError, AttributeError, ValueError, KeyError):
                    traffic.note(action.__name__, "error")  # expected during a fault
                    state.clear()
                    await asyncio.sleep(0.2)

    async def inject(at: float, name: str, fault) -> None:
        await asyncio.sleep(max(0.0, at - (time.monotonic() - begin)))
        said = await asyncio.to_thread(fault)  # each fault on its own: they may overlap
        log.append(f"{time.monotonic() - begin:5.1f}s {name}{': ' + said if said else ''}")

    await asyncio.gather(*(inject(*f) for f in faults),
                         *(worker() for _ in range(concurrency)))
    log.sort(key=lambda line: float(line.split("s", 1)[0]))
    return log


async def probe(base_url: str, traffic: Traffic, count: int = 5) -> int:
    """Submissions after the faults: how many got a success answer."""
    before = len(traffic.accepted)
    async with httpx.AsyncClient(base_url=base_url, timeout=15) as client:
        for _ in range(count):
            await api_submit(client, traffic, {})
    return len(traffic.accepted) - before


# --- one run -----------------------------------------------------------------------------------

@dataclass
class Report:
    database: str
    faults: list[str]
    duration: float
    check: Check
    counts: Counter
    fault_log: list[str]
    ready_after: bool
    probe_ok: int
    scheduler_starts: int
    scheduler_exits: list[int] = field(default_factory=list)
    run_id: str = ""
    accepted: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.check.ok and self.ready_after and self.probe_ok > 0

    def text(self) -> str:
        c = self.check
        lines = [
            f"database: {self.database}   faults: {','.join(self.faults) or 'none'}   "
            f"load: {self.duration:.0f} s",
            "responses: " + ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())),
            *(f"fault {line}" for line in self.fault_log),
            f"accepted: {c.accepted}   lost: {len(c.lost)}   duplicates: {len(c.duplicates)}   "
            f"missing created event: {len(c.missing_event)}   "
            f"missing confirmation: {len(c.missing_outbox)}",
            f"emails: {c.emails} queued, not sent: {len(c.unsent)}, "
            f"never reached SMTP: {len(c.emails_missing)}, "
            f"delivered twice: {len(c.emails_twice)} (needed a retry: {c.retried})",
            f"created without a success answer (fault window, not counted): {c.unconfirmed}",
            f"recovery: /readyz {'200' if self.ready_after else 'NOT ready'}, "
            f"submissions after the faults {self.probe_ok}/5 ok, "
            f"scheduler started {self.scheduler_starts}x "
            f"(exit codes seen: {self.scheduler_exits or 'none'})",
            "seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.timings.items()),
            "RESULT: " + ("OK" if self.ok else "FAILED"),
        ]
        for name in ("lost", "duplicates", "missing_event", "missing_outbox", "unsent",
                     "emails_missing", "emails_twice"):
            values = getattr(c, name)
            if values:
                lines.append(f"  {name}: {values[:10]}")
        return "\n".join(lines)


def run(database: str, *, faults: list[str], duration: float = 30.0, concurrency: int = 8,
        workers: int = 2, workdir: Path | None = None, drain_timeout: float = 120.0) -> Report:
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise SystemExit(f"unknown fault(s): {', '.join(sorted(unknown))}")
    if "pg-restart" in faults and not sqlalchemy_url(database).startswith("postgresql"):
        raise SystemExit("pg-restart needs a PostgreSQL database")
    run_id = "rel" + secrets.token_hex(4)
    phase = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal phase
        timings[name] = time.monotonic() - phase
        phase = time.monotonic()

    facts = prepare(database, run_id)
    lap("prepare")
    own_workdir = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="conectados-reliability-"))
    sink = MailSink(free_port())
    sink.start()
    stack = Stack(database, free_port(), sink.port, workdir, workers=workers)
    traffic = Traffic(run_id, facts)
    try:
        stack.start()
        if not stack.wait_ready():
            raise SystemExit(f"the app did not become ready; see {workdir}")
        lap("start")
        plan: list[tuple[float, str, object]] = []
        if "worker-kill" in faults:
            for at in (0.3, 0.6):
                plan.append((duration * at, "worker-kill",
                             lambda: f"SIGKILL worker {stack.kill_worker()}"))
        if "smtp-down" in faults:
            plan.append((duration * 0.2, "smtp-down", lambda: sink.stop() or "sink stopped"))
            plan.append((duration * 0.55, "smtp-up", lambda: sink.start() or "sink started"))
        for fault, stage in (("scheduler-kill", "rcpt"), ("scheduler-kill-accepted", "accepted")):
            if fault not in faults:
                continue

            one_at_a_time = threading.Lock()

            def kill_and_restart(stage=stage, lock=one_at_a_time) -> str:
                with lock:  # the next kill waits for a delivery by the new scheduler
                    sink.arm(stage)  # strike while a message is being delivered
                    busy = sink.armed_hit.wait(timeout=30)
                    stack.kill_scheduler()
                    sink.arm("")
                where = {"rcpt": "in mid-SMTP conversation",
                         "accepted": "just after SMTP accepted a message"}[stage]
                return (f"SIGKILL scheduler {where if busy else '(no delivery seen)'}, "
                        "restarted by the supervisor 1 s later")
            for at in (0.25, 0.45, 0.65):
                plan.append((duration * at, fault, kill_and_restart))
        if "pg-restart" in faults:
            plan.append((duration * 0.45, "pg-restart",
                         lambda: f"cluster restarted in {restart_postgresql():.1f} s"))
        fault_log = run_coroutine(drive(stack.base_url, traffic, duration=duration,
                                        concurrency=concurrency, faults=plan))
        lap("load")
        ready_after = stack.wait_ready(timeout=60)
        probe_ok = run_coroutine(probe(stack.base_url, traffic))
        if not sink.running:
            sink.start()
        deadline = time.monotonic() + drain_timeout
        while outbox_pending(database, run_id) and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(1.5)  # a message being sent right now
        stack.stop()
        lap("recover+drain")
        result = check(database, run_id, traffic.accepted, sink)
        lap("check")
        return Report(database=re.sub(r"//[^@/]*@", "//", database), faults=faults,
                      duration=duration, check=result, counts=traffic.counts,
                      fault_log=fault_log, ready_after=ready_after, probe_ok=probe_ok,
                      scheduler_starts=stack.scheduler_starts,
                      scheduler_exits=list(stack.scheduler_exits), run_id=run_id,
                      accepted=dict(traffic.accepted), timings=timings)
    finally:
        stack.stop()
        sink.stop()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True,
                        help="a SQLite file path or sqlite:///… / postgresql://… URL")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--fault", default="", help="comma separated: " + ", ".join(FAULTS))
    parser.add_argument("--keep-logs", type=Path, help="keep gunicorn/scheduler logs here")
    args = parser.parse_args(argv)
    faults = [f.strip() for f in args.fault.split(",") if f.strip()]
    from sqlalchemy.exc import OperationalError

    try:
        report = run(args.database, faults=faults, duration=args.duration,
                     concurrency=args.concurrency, workers=args.workers,
                     workdir=args.keep_logs)
    except OperationalError as error:
        print(f"cannot use the database {args.database}: {error.orig or error} "
              "(a PostgreSQL database must exist: createdb -h 127.0.0.1 -U postgres NAME)",
              file=sys.stderr)
        return 2
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
