"""The job registry, run by ``flask scheduler run`` as one dedicated process.

Web workers never run jobs. The only exception is the embedded single-process
mode (``flask serve``), which runs the same jobs in a background thread and
says so in the log.

On PostgreSQL the process first takes a session-level advisory lock
(``SCHEDULER_LOCK_KEY``) on a connection of its own, held for its whole life;
a second copy (another host, a restart overlapping the old one) waits,
retrying every ``SCHEDULER_LOCK_RETRY_SECONDS``, and runs nothing until it
gets the lock. The lock goes away with the connection, so a killed scheduler
frees it at once. Every job is idempotent anyway (claimed rows, ``*_at``
stamps), so even a duplicate run sends nothing twice.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import AppGroup

from app.channels.email.imap import MailboxError, poll_once
from app.channels.email.intake import EmailIntakeNotConfigured
from app.database import utcnow
from app.deadlines.sweep import auto_close_resolved, sweep_deadlines
from app.extensions import db
from app.metrics.rollup import refresh as refresh_rollups
from app.notifications.outbox import deliver_pending
from app.notifications.staff import send_staff_digests
from app.surveys.resolution import send_reminders

log = logging.getLogger(__name__)

# pg_advisory_lock key of the scheduler: the bytes "Conectad" as a bigint.
SCHEDULER_LOCK_KEY = 0x436F6E6563746164
# While waiting, say so at most this often (the retry itself may be faster).
WAITING_LOG_EVERY_SECONDS = 60


class SchedulerLock:
    """The PostgreSQL advisory lock that makes one scheduler active at a time.

    On other databases (SQLite: one host by definition) there is nothing to
    take and ``acquire`` succeeds at once.
    """

    def __init__(self, engine: sa.Engine, key: int = SCHEDULER_LOCK_KEY):
        self.engine = engine
        self.key = key
        self.connection: sa.Connection | None = None

    @property
    def supported(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """Take the lock if it is free; keep its connection open if so."""
        if not self.supported:
            return True
        connection = self.engine.connect()
        try:
            got = bool(connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                         {"key": self.key}))
            connection.commit()  # the lock is session-level: it outlives this transaction
        except Exception:
            connection.close()
            raise
        if got:
            self.connection = connection
        else:
            connection.close()
        return got

    def still_held(self) -> bool:
        """Whether the lock's connection is still alive (the lock dies with it)."""
        if self.connection is None:
            return not self.supported
        try:
            held = self.connection.scalar(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = :key"), {"key": self.key})
            self.connection.commit()
        except Exception:
            log.exception("scheduler lock: its database connection failed")
            return False
        return bool(held)

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"),
                                    {"key": self.key})
            self.connection.commit()
        except Exception:
            log.warning("scheduler lock: could not unlock; it ends with the connection")
        finally:
            self.connection.close()
            self.connection = None


def wait_for_lock(lock: SchedulerLock, retry_seconds: float) -> None:
    """Block until ``lock`` is ours, logging that we wait; runs no job meanwhile."""
    last_said = None
    while True:
        try:
            if lock.try_acquire():
                return
            reason = "another scheduler holds it"
        except sa.exc.OperationalError as exc:  # database down: keep waiting
            reason = f"database unreachable: {exc.orig or exc}"
        if last_said is None or time.monotonic() - last_said >= WAITING_LOG_EVERY_SECONDS:
            log.info("waiting for the scheduler lock (%s); retrying every %s s",
                     reason, retry_seconds)
            last_said = time.monotonic()
        time.sleep(retry_seconds)


def _in_app_context(app: Flask, job: Callable[[], object]) -> Callable[[], None]:
    """Wrap ``job`` so it runs as one transaction in a fresh app context."""

    def run() -> None:
        with app.app_context():
            try:
                job()
            except Exception:
                db.session.rollback()
                log.exception("job %s failed", job.__name__)
            finally:
                db.session.remove()

    run.__name__ = run.__qualname__ = job.__name__  # APScheduler logs it by this name
    return run


# Each job is one transaction (or, for the outbox, one per message), logs what
# it did when it did something, and is safe to run twice at the same moment.

def deliver_outbox() -> None:
    report = deliver_pending(db.session)
    if report.sent or report.retrying or report.failed:
        log.info("outbox: sent %s, retrying %s, failed %s",
                 report.sent, report.retrying, report.failed)


def remind_surveys() -> None:
    queued = send_reminders(db.session)
    db.session.commit()
    if queued:
        log.info("survey reminders queued: %s", queued)


def send_digests() -> None:
    queued = send_staff_digests(db.session, utcnow())
    db.session.commit()
    if queued:
        log.info("staff digests queued: %s", queued)


def poll_mailbox() -> None:
    try:
        report = poll_once(db.session, current_app.config)
    except (EmailIntakeNotConfigured, MailboxError) as exc:  # said clearly, no traceback
        log.error("mailbox-poll: %s", getattr(exc, "message", None) or exc)
        return
    if report.fetched or report.errors:
        log.info("mailbox: %s", report.summary())


def sweep_sla() -> None:
    report = sweep_deadlines(db.session)
    db.session.commit()
    if report.warned or report.breached:
        log.info("sla sweep: warned %s, breached %s", report.warned, report.breached)


def auto_close() -> None:
    report = auto_close_resolved(db.session)
    db.session.commit()
    if report.noticed or report.closed:
        log.info("auto-close: noticed %s, closed %s", report.noticed, report.closed)


def refresh_metrics() -> None:
    config = current_app.config
    report = refresh_rollups(db.session, utcnow(), ZoneInfo(config["OFFICE_TIMEZONE"]),
                     recent_days=config["METRICS_ROLLUP_RECENT_DAYS"])
    db.session.commit()
    log.info("metrics rollup: %s days rebuilt, %s rows, through %s",
             report.days, report.rows, report.through_day)


def apply_retention_job() -> None:
    from app.privacy.cli import run_retention

    done = run_retention()
    if done:
        log.info("retention: %s requests anonymised", done)


def register_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Add every job with a stable id, so restarts replace rather than duplicate."""

    def every(job: Callable[[], object], job_id: str, **interval) -> None:
        scheduler.add_job(_in_app_context(app, job), "interval", **interval, id=job_id,
                          replace_existing=True, max_instances=1, coalesce=True)

    config = app.config
    if config.get("IMAP_HOST"):  # email intake; the poller checks its settings
        every(poll_mailbox, "mailbox-poll", seconds=config["IMAP_POLL_SECONDS"])
    every(deliver_outbox, "outbox-deliver", seconds=config["OUTBOX_INTERVAL_SECONDS"])
    every(remind_surveys, "survey-reminders",
          seconds=config["SURVEY_REMINDER_INTERVAL_SECONDS"])
    every(send_digests, "staff-digest", seconds=config["STAFF_DIGEST_INTERVAL_SECONDS"])
    every(sweep_sla, "sla-sweep", seconds=config["SLA_SWEEP_INTERVAL_SECONDS"])
    every(auto_close, "auto-close", seconds=config["AUTO_CLOSE_INTERVAL_SECONDS"])
    every(refresh_metrics, "metrics-rollup", seconds=config["METRICS_ROLLUP_INTERVAL_SECONDS"])
    every(apply_retention_job, "retention", days=1)  # privacy: anonymise past retention


scheduler_cli = AppGroup("scheduler", help="Background jobs.")


def _stop_on_sigterm(signum, frame) -> None:
    raise SystemExit(0)  # unwinds through the ``finally`` blocks: the lock is released


@scheduler_cli.command("run")
def run_command() -> None:
    """Run the scheduler in the foreground (one process per deployment).

    On PostgreSQL it waits for the scheduler lock first; exits with status 1
    if it loses the lock (its database connection died), so a supervisor
    such as systemd restarts it and it queues behind any other scheduler.
    """
    app = current_app._get_current_object()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Jobs log what they did; APScheduler's per-run lines would drown that out.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    lock = SchedulerLock(db.engine)
    lost_lock = False
    scheduler: BlockingScheduler | None = None
    try:
        if lock.supported:
            wait_for_lock(lock, app.config["SCHEDULER_LOCK_RETRY_SECONDS"])
            log.info("scheduler lock acquired (PostgreSQL advisory lock %s)", lock.key)
        else:
            log.info("no scheduler lock on %s: run only one scheduler for this database",
                     db.engine.dialect.name)
        scheduler = BlockingScheduler(timezone="UTC")
        register_jobs(scheduler, app)

        def check_lock() -> None:
            nonlocal lost_lock
            if not lock.still_held():
                lost_lock = True
                log.error("scheduler lock lost: stopping so no job runs unguarded")
                scheduler.shutdown(wait=False)

        if lock.supported:
            scheduler.add_job(check_lock, "interval",
                              seconds=app.config["SCHEDULER_LOCK_RETRY_SECONDS"],
                              id="scheduler-lock-check", replace_existing=True,
                              max_instances=1, coalesce=True)
        log.info("scheduler started with jobs: %s",
                 ", ".join(job.id for job in scheduler.get_jobs()))
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)  # let running jobs finish while we hold the lock
    finally:
        lock.release()
        log.info("scheduler stopped")
    if lost_lock:
        raise click.exceptions.Exit(1)
