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


@seed_cli.command("synthetic")
@click.option("--requests", "request_count", default=10000, show_default=True, type=int,
              help="How many requests to generate.")
@click.option("--years", default=3, show_default=True, type=int,
              help="Spread them over this many years up to now.")
@click.option("--seed", default=42, show_default=True, type=int, help="Random seed.")
@click.option("--force", is_flag=True,
              help="Add them even if the database holds real (non-synthetic) requests.")
def synthetic_command(request_count: int, years: int, seed: int, force: bool) -> None:
    """Generate a synthetic city history in bulk, for benchmarks (never in production)."""
    import time

    from app.seed.synthetic import RealRequestsPresent, seed_synthetic

    if request_count < 1:
        raise click.BadParameter("debe ser 1 o más", param_hint="--requests")
    if years < 1:
        raise click.BadParameter("debe ser 1 o más", param_hint="--years")
    started = time.monotonic()
    with click.progressbar(length=request_count, label="Solicitudes sintéticas") as bar:
        try:
            summary = seed_synthetic(db.session, requests=request_count, years=years,
                                     seed=seed, force=force, progress=bar.update)
        except RealRequestsPresent as exc:
            db.session.rollback()
            raise click.ClickException(
                f"La base de datos ya tiene {exc.count} solicitudes reales; no se agregan "
                "datos sintéticos. Use --force si de verdad quiere mezclarlos.") from exc
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Set the visibility map now (autovacuum would, later): the backlog and the
        # queue read the partial index on open requests without visiting the table.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM tickets, resolution_surveys")
    click.echo(summary.describe())
    click.echo(f"Done in {time.monotonic() - started:.1f} s.")
