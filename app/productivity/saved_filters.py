"""Each staff member's named views of the queue.

A saved filter is the query string of the queue's own filter parameters
(``QUEUE_PARAMS``) and nothing else, rebuilt from the parsed values, so a
saved link can never carry other parameters into the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.domain import ValidationFailed
from app.productivity.models import SavedFilter

# The queue's filter parameters: its own (app/staff/routes.py queue) and those a
# dashboard figure links with (app/metrics/queue_filters.py).
QUEUE_PARAMS = ("estado", "departamento", "categoria", "asignacion", "orden", "canal",
                "macrosector", "desde", "hasta", "cifra")
NAME_MAX = 80
PER_USER_MAX = 50


def clean_query(args: Mapping[str, str]) -> str:
    """The queue parameters of ``args`` as a query string, in a fixed order."""
    pairs = [(k, str(args[k]).strip()[:40]) for k in QUEUE_PARAMS
             if args.get(k) not in (None, "")]
    return urlencode(pairs)


def of_user(session: Session, user: User) -> list[SavedFilter]:
    return list(session.scalars(sa.select(SavedFilter).where(SavedFilter.user_id == user.id)
                                .order_by(SavedFilter.name)))


def get_own(session: Session, user: User, filter_id: int) -> SavedFilter | None:
    """The user's own filter, or None (another user's filter is not found)."""
    return session.scalar(sa.select(SavedFilter).where(
        SavedFilter.id == filter_id, SavedFilter.user_id == user.id))


def save(session: Session, user: User, name: str, args: Mapping[str, str]) -> SavedFilter:
    """Save (or replace, by name) the view in ``args``. Flushes, never commits.

    :raise ValidationFailed: empty or too long name, or too many filters.
    """
    name = " ".join((name or "").split())
    if not name:
        message = _("Escribe un nombre para esta vista.")
        raise ValidationFailed(message, {"name": [message]})
    if len(name) > NAME_MAX:
        message = _("El nombre puede tener como máximo %(n)d caracteres.", n=NAME_MAX)
        raise ValidationFailed(message, {"name": [message]})
    existing = session.scalar(sa.select(SavedFilter).where(
        SavedFilter.user_id == user.id, SavedFilter.name == name))
    if existing is None:
        count = session.scalar(sa.select(sa.func.count()).select_from(SavedFilter)
                               .where(SavedFilter.user_id == user.id))
        if count >= PER_USER_MAX:
            message = _("Puedes guardar hasta %(n)d vistas; borra alguna primero.",
                        n=PER_USER_MAX)
            raise ValidationFailed(message, {"name": [message]})
        existing = SavedFilter(user_id=user.id, name=name)
        session.add(existing)
    existing.query = clean_query(args)
    session.flush()
    return existing
