"""``flask privacy retention``: anonymise requests past their retention."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.database import utcnow
from app.extensions import db
from app.privacy.retention import apply_retention, due_tickets, retention_months

privacy_cli = AppGroup("privacy", help="Privacidad: conservación de datos personales.")


def run_retention() -> int:
    """Anonymise every due request, one committed batch at a time; the count done."""
    total = 0
    while True:
        done = apply_retention(db.session, utcnow())
        db.session.commit()
        if not done:
            return total
        total += len(done)


@privacy_cli.command("retention")
@click.option("--dry-run", is_flag=True,
              help="Solo listar las solicitudes que se anonimizarían, sin cambiar nada.")
def retention_command(dry_run: bool) -> None:
    """Anonimizar las solicitudes cuyo plazo de conservación venció."""
    if dry_run:
        due = due_tickets(db.session, utcnow())
        for ticket in due:
            finished = ticket.closed_at or ticket.resolved_at or ticket.updated_at
            click.echo(f"{ticket.public_number}\t{ticket.category.slug}\t"
                       f"{finished:%Y-%m-%d}\t{retention_months(ticket.category)} meses")
        click.echo(f"{len(due)} solicitudes se anonimizarían (simulación: nada cambió).")
        db.session.rollback()
        return
    total = run_retention()
    click.echo(f"{total} solicitudes anonimizadas.")
