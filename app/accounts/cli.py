"""``flask users ...``: manage staff accounts from the shell."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.accounts.models import Role
from app.accounts.services import create_user
from app.catalog.models import Department
from app.domain import ValidationFailed
from app.extensions import db

users_cli = AppGroup("users", help="Manage staff users.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="Full name (defaults to the email's user part).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.AGENT.value,
              show_default=True)
@click.option("--department", "departments", multiple=True,
              help="Department slug or name; repeat for several.")
@click.password_option(prompt="Password", confirmation_prompt=True)
def create_command(email: str, name: str | None, role: str, departments: tuple[str, ...],
                   password: str) -> None:
    """Create a staff user; asks for the password."""
    found = []
    for ref in departments:
        department = db.session.scalar(sa.select(Department).where(
            sa.or_(Department.slug == ref, Department.name == ref)))
        if department is None:
            raise click.ClickException(f"unknown department: {ref!r}")
        found.append(department)
    try:
        user = create_user(db.session, email=email, name=name or email.split("@")[0],
                           password=password, role=Role(role), departments=found)
    except ValidationFailed as error:
        details = "; ".join(f"{field}: {' '.join(msgs)}"
                            for field, msgs in error.field_errors.items())
        raise click.ClickException(details) from None
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}")
