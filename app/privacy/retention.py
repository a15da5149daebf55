"""Which requests are past their retention, and the job that anonymises them.

A request is due when it is finished (not open) and its category's
``retention_months`` (or ``RETENTION_MONTHS_DEFAULT``) have passed since it
was closed; for a request resolved and never closed, since it was resolved;
for one referred elsewhere or merged as a duplicate, since its last change.
Open requests are never due, however old.
"""

from __future__ import annotations

import calendar
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app.catalog.models import Category
from app.privacy.anonymisation import anonymise_ticket
from app.tickets.models import OPEN_STATUSES, Ticket


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus ``months`` calendar months (the day clamped to the month's end)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def finished_at():
    """SQL: the moment a finished request's retention is counted from."""
    return sa.func.coalesce(Ticket.closed_at, Ticket.resolved_at, Ticket.updated_at)


def due_tickets(session: Session, now: datetime, *, limit: int | None = None) -> list[Ticket]:
    """Finished, not yet anonymised requests past their category's retention, oldest first."""
    default = current_app.config["RETENTION_MONTHS_DEFAULT"]
    conditions = []
    for category_id, months in session.execute(
            sa.select(Category.id, Category.retention_months)).all():
        cutoff = months_before(now, months if months is not None else default)
        conditions.append(sa.and_(Ticket.category_id == category_id, finished_at() < cutoff))
    if not conditions:
        return []
    query = (sa.select(Ticket)
             .where(Ticket.anonymised_at.is_(None), Ticket.status.not_in(OPEN_STATUSES),
                    sa.or_(*conditions))
             .order_by(finished_at(), Ticket.id)
             .options(selectinload(Ticket.category), selectinload(Ticket.events)))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def retention_months(category: Category) -> int:
    if category.retention_months is not None:
        return category.retention_months
    return current_app.config["RETENTION_MONTHS_DEFAULT"]


def apply_retention(session: Session, now: datetime, *, limit: int | None = None) -> list[str]:
    """Anonymise one batch of due requests (``RETENTION_BATCH_SIZE`` by default).

    Flushes, never commits: the caller commits each batch and calls again
    until it returns an empty list. Idempotent: anonymised requests are no
    longer due. Returns the public numbers it anonymised.
    """
    limit = limit or current_app.config["RETENTION_BATCH_SIZE"]
    done = []
    for ticket in due_tickets(session, now, limit=limit):
        if anonymise_ticket(session, ticket, reason="retention", now=now):
            done.append(ticket.public_number)
    return done
