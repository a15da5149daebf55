"""Public request numbers, sequential per year: ``2026-000123``."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.tickets.models import YearCounter

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def next_sequence(session: Session, year: int) -> int:
    """Reserve and return the next number of ``year``.

    One atomic upsert: concurrent transactions queue on the year's row, so no
    two requests get the same number. A number taken by a transaction that
    rolls back is skipped, as with any database sequence.
    """
    insert = _INSERTS[session.get_bind().dialect.name]
    table = YearCounter.__table__
    statement = (
        insert(table)
        .values(year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.year],
            set_={"last_value": table.c.last_value + 1},
        )
        .returning(table.c.last_value)
    )
    return session.execute(statement).scalar_one()


def format_public_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"
