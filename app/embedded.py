"""``flask serve``: the whole app in one process on the embedded SQLite default."""

from __future__ import annotations

import logging

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import current_app
from flask_migrate import upgrade

from app.extensions import db
from app.scheduler import register_jobs

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Load the demo data if the database is empty.")
@click.option("--threads", default=8, show_default=True, type=int)
def serve_command(host: str, port: int, demo: bool, threads: int) -> None:
    """Upgrade the database, optionally seed demo data, and serve with waitress.

    The scheduler's jobs run in a background thread of this same process: fine
    for one machine, never for several web workers (use `flask scheduler run`).
    """
    from waitress import serve

    from app.seed.demo import seed_demo

    app = current_app._get_current_object()
    upgrade()
    if demo:
        summary = seed_demo(db.session)
        db.session.commit()
        click.echo(summary.describe())
    db.session.remove()

    scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
    register_jobs(scheduler, app)
    scheduler.start()
    log.warning("embedded mode: scheduler jobs run in a background thread of the web "
                "process; run `flask scheduler run` separately in production")
    click.echo(f"Conectados en http://{host}:{port}/  (Ctrl+C para salir)")
    try:
        serve(app, host=host, port=port, threads=threads)
    finally:
        scheduler.shutdown(wait=False)
