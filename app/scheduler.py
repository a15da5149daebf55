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

from app.channels.email.imap import MailboxError, poll_once
from app.channels.email.intake import EmailIntakeNotConfigured
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


def poll_mailbox() -> None:
    try:
        report = poll_once(db.session, current_app.config)
    except (EmailIntakeNotConfigured, MailboxError) as exc:  # said clearly, no traceback
        log.error("mailbox-poll: %s", getattr(exc, "message", None) or exc)
        return
    if report.fetched or report.errors:
        log.info("mailbox: %s", report.summary())


def register_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Add every job with a stable id, so restarts replace rather than duplicate."""
    if app.config.get("IMAP_HOST"):  # email intake; the poller checks its settings
        scheduler.add_job(
            _in_app_context(app, poll_mailbox), "interval",
            seconds=app.config["IMAP_POLL_SECONDS"],
            id="mailbox-poll", replace_existing=True, max_instances=1, coalesce=True,
        )
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
