"""``flask seed demo``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.seed.demo import seed_demo

seed_cli = AppGroup("seed", help="Load sample data.")


@seed_cli.command("demo")
@click.option("--requests", "request_count", default=300, show_default=True, type=int)
def demo_command(request_count: int) -> None:
    """Load a Peñalolén-like catalogue, demo staff and sample requests (once)."""
    if request_count < 0:
        raise click.BadParameter("must be zero or more", param_hint="--requests")
    summary = seed_demo(db.session, request_count=request_count)
    db.session.commit()
    click.echo(summary.describe())
