"""``flask scheduler run`` as real processes: one active scheduler per database.

The processes run against the test database and deliver the outbox to a real
aiosmtpd server in this test process. Every wait is bounded and every process
started is killed at the end, whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from app.extensions import db
from app.notifications.models import OutboxMessage, OutboxStatus
from app.scheduler import SCHEDULER_LOCK_KEY, SchedulerLock, _in_app_context
from tests.conftest import free_port
from tests.factories import make_ticket

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 45


class RecipientSink:
    """Real SMTP server handler: the envelope recipients of every message, in order."""

    def __init__(self) -> None:
        self.recipients: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[RecipientSink, int]]:
    sink = RecipientSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


class SchedulerProcess:
    """One ``flask --app wsgi scheduler run`` with its log in a file."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path):
        self.name = name
        self.stopped = False
        self.log_path = log_dir / f"{name}.log"
        self._log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
            cwd=PROJECT_ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGKILL) -> int:
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=15)
        if not self._log_file.closed:
            self._log_file.close()
        return code


def wait_until(predicate: Callable[[], bool], what: str,
               processes: list[SchedulerProcess]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in processes:
            if not proc.stopped and proc.process.poll() is not None:
                pytest.fail(f"{proc.name} exited with {proc.process.returncode}:\n{proc.log}")
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.name}\n{p.log}" for p in processes)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


@pytest.fixture
def scheduler_env(database_url, smtp_sink) -> dict[str, str]:
    _sink, port = smtp_sink
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "PUBLIC_BASE_URL": "http://conectados.test",
        "OUTBOX_INTERVAL_SECONDS": "1",
        "SCHEDULER_LOCK_RETRY_SECONDS": "1",
        "SURVEY_REMINDER_INTERVAL_SECONDS": "3600",
        "STAFF_DIGEST_INTERVAL_SECONDS": "3600",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for proc in started:  # always: no scheduler outlives its test
        proc.stop(signal.SIGKILL)


def _queue_email(database, email: str) -> None:
    with database() as session:
        make_ticket(session, email=email)
        session.commit()


def _sent(database) -> list[str]:
    with database() as session:
        return sorted(session.scalars(sa.select(OutboxMessage.recipient).where(
            OutboxMessage.status == OutboxStatus.SENT)))


def test_second_scheduler_waits_for_the_lock_and_takes_over_when_the_first_dies(
        app, database, database_url, scheduler_env, smtp_sink, processes, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("the scheduler lock is a PostgreSQL advisory lock; SQLite has none")
    sink, _port = smtp_sink

    first = SchedulerProcess("first", scheduler_env, tmp_path)
    processes.append(first)
    wait_until(lambda: "scheduler started" in first.log, "the first scheduler", processes)
    assert "scheduler lock acquired" in first.log
    _queue_email(database, "uno@example.cl")
    wait_until(lambda: sink.recipients == ["uno@example.cl"], "first delivery", processes)

    second = SchedulerProcess("second", scheduler_env, tmp_path)
    processes.append(second)
    wait_until(lambda: "waiting for the scheduler lock" in second.log,
               "the second scheduler to wait", processes)
    _queue_email(database, "dos@example.cl")
    wait_until(lambda: len(sink.recipients) == 2, "second delivery", processes)
    time.sleep(3)  # give the waiting scheduler several retries and outbox intervals

    assert "scheduler started" not in second.log
    assert "outbox:" not in second.log and "scheduler lock acquired" not in second.log
    assert first.log.count("outbox: sent 1") == 2
    assert second.process.poll() is None  # still waiting, not crashed

    first.stop(signal.SIGKILL)  # no clean shutdown: the lock dies with its connection
    wait_until(lambda: "scheduler started" in second.log, "the take-over", processes)
    assert "scheduler lock acquired" in second.log
    _queue_email(database, "tres@example.cl")
    wait_until(lambda: len(sink.recipients) == 3, "third delivery", processes)
    time.sleep(2)  # a duplicate would show up here

    assert sink.recipients == ["uno@example.cl", "dos@example.cl", "tres@example.cl"]
    assert "outbox: sent 1" in second.log
    assert _sent(database) == ["dos@example.cl", "tres@example.cl", "uno@example.cl"]

    assert second.stop(signal.SIGTERM) == 0
    assert "scheduler stopped" in second.log


def test_scheduler_logs_its_lock_mode_and_stops_cleanly_on_sigterm(
        app, database_url, scheduler_env, processes, tmp_path):
    proc = SchedulerProcess("only", scheduler_env, tmp_path)
    processes.append(proc)
    wait_until(lambda: "scheduler started" in proc.log, "the scheduler", processes)
    if database_url.startswith("postgresql"):
        assert "scheduler lock acquired" in proc.log
    else:
        assert "no scheduler lock on sqlite" in proc.log
    for job_id in ("outbox-deliver", "survey-reminders", "staff-digest"):
        assert job_id in proc.log
    assert proc.stop(signal.SIGTERM) == 0
    assert "scheduler stopped" in proc.log


def test_lock_is_exclusive_per_database_and_free_again_after_release(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the scheduler lock is a PostgreSQL advisory lock; SQLite has none")
    with app.app_context():
        holder, other = SchedulerLock(db.engine), SchedulerLock(db.engine)
        try:
            assert holder.try_acquire() and holder.still_held()
            assert not other.try_acquire()
            holder.release()
            assert not holder.still_held()
            assert other.try_acquire()
        finally:
            holder.release()
            other.release()
        assert SCHEDULER_LOCK_KEY < 2 ** 63  # fits PostgreSQL's bigint


def test_sqlite_needs_no_lock(app, database_url):
    if database_url.startswith("postgresql"):
        pytest.skip("SQLite behaviour")
    with app.app_context():
        lock = SchedulerLock(db.engine)
        assert not lock.supported and lock.try_acquire() and lock.still_held()


def test_failing_job_is_logged_rolled_back_and_runs_again_next_time(app, database, caplog):
    runs: list[str] = []

    def flaky_job() -> None:
        runs.append("run")
        db.session.add(OutboxMessage(recipient=f"run{len(runs)}@example.cl", subject="x",
                                     body_text="x"))
        db.session.flush()
        if len(runs) == 1:
            raise RuntimeError("SMTP exploded")
        db.session.commit()

    wrapped = _in_app_context(app, flaky_job)
    wrapped()  # must not raise: the scheduler keeps going
    wrapped()

    assert runs == ["run", "run"]
    assert "job flaky_job failed" in caplog.text and "SMTP exploded" in caplog.text
    with database() as session:  # the failed run's row was rolled back
        assert list(session.scalars(sa.select(OutboxMessage.recipient))) == ["run2@example.cl"]
