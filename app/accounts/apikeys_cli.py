"""``flask apikeys ...``: application keys for the REST API and Open311."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.accounts.credentials import (
    ApiKey,
    Scope,
    create_api_key,
    find_api_key,
    parse_scopes,
    revoke_api_key,
)
from app.domain import ValidationFailed
from app.extensions import db

apikeys_cli = AppGroup("apikeys", help="Manage API keys for applications.")

_SCOPES_HELP = "; ".join(f"{s.value}: {s.description}" for s in Scope)


def _fail(error: ValidationFailed) -> click.ClickException:
    details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.field_errors.items())
    return click.ClickException(details or error.message)


@apikeys_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help=f"Repeat or separate with commas. {_SCOPES_HELP}")
def create_command(name: str, scopes: tuple[str, ...]) -> None:
    """Create a key named NAME and print it once (only its hash is kept)."""
    try:
        issued = create_api_key(db.session, name=name, scopes=parse_scopes(scopes))
    except ValidationFailed as error:
        raise _fail(error) from None
    db.session.commit()
    key = issued.record
    click.echo(f"created key {key.id} ({key.prefix}) for {key.name!r} with scopes: {key.scopes}")
    click.echo("Store this key now; it is not shown again:")
    click.echo(issued.secret)


@apikeys_cli.command("list")
def list_command() -> None:
    """List keys: id, prefix, state, scopes and name (never the key itself)."""
    keys = db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id)).all()
    if not keys:
        click.echo("no API keys")
    for key in keys:
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}Z"
        click.echo(f"{key.id}\t{key.prefix}\t{state}\t{key.scopes}\t{key.name}")


@apikeys_cli.command("revoke")
@click.argument("reference")
def revoke_command(reference: str) -> None:
    """Revoke the key with id or prefix REFERENCE; it stops working at once."""
    key = find_api_key(db.session, reference)
    if key is None:
        raise click.ClickException(f"no API key {reference!r}")
    revoke_api_key(db.session, key)
    db.session.commit()
    click.echo(f"revoked key {key.id} ({key.prefix}) {key.name!r}")
