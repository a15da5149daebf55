"""The job registry, run by ``flask scheduler run`` as one dedicated process.

Web workers never run jobs. The only exception is the embedded single-process
mode (``flask serve``), which runs the same jobs in a background thread and
says so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import AppGroup

from app.deadlines.sweep import auto_close_resolved, sweep_deadlines
from app.extensions import db
from app.notifications.outbox import deliver_pending
from app.surveys.resolution import send_reminders

log = logging.getLogger(__name__)


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

    run.__name__ = job.__name__
    return run


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


def register_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Add every job with a stable id, so restarts replace rather than duplicate."""
    scheduler.add_job(
        _in_app_context(app, deliver_outbox), "interval",
        seconds=app.config["OUTBOX_INTERVAL_SECONDS"],
        id="outbox-deliver", replace_existing=True, max_instances=1, coalesce=True,
    )
    scheduler.add_job(
        _in_app_context(app, remind_surveys), "interval",
        seconds=app.config["SURVEY_REMINDER_INTERVAL_SECONDS"],
        id="survey-reminders", replace_existing=True, max_instances=1, coalesce=True,
    )
    scheduler.add_job(
        _in_app_context(app, sweep_sla), "interval",
        seconds=app.config["SLA_SWEEP_INTERVAL_SECONDS"],
        id="sla-sweep", replace_existing=True, max_instances=1, coalesce=True,
    )
    scheduler.add_job(
        _in_app_context(app, auto_close), "interval",
        seconds=app.config["AUTO_CLOSE_INTERVAL_SECONDS"],
        id="auto-close", replace_existing=True, max_instances=1, coalesce=True,
    )


scheduler_cli = AppGroup("scheduler", help="Background jobs.")


@scheduler_cli.command("run")
def run_command() -> None:
    """Run the scheduler in the foreground (one process per deployment)."""
    app = current_app._get_current_object()
    scheduler = BlockingScheduler(timezone="UTC")
    register_jobs(scheduler, app)
    log.info("scheduler started with jobs: %s",
             ", ".join(job.id for job in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
