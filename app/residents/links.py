"""Passwordless sign-in for residents: request a link, redeem it once.

The secret in the link is 256 random bits; only its SHA-256 digest is stored,
so a copy of the database cannot sign anyone in. A link works once and for
``RESIDENT_LINK_MINUTES``. Redeeming it is one conditional ``UPDATE … WHERE
used_at IS NULL AND expires_at > now``, so two racing clicks sign in once.

Asking for a link never tells whether the address is known: the caller shows
the same answer either way, and a link is only queued when some request or an
account has that email.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.database import utcnow
from app.domain import ValidationFailed
from app.i18n import written_for
from app.notifications.outbox import enqueue
from app.residents.models import ResidentAccount, ResidentLoginToken
from app.tickets.contact import normalize_email
from app.tickets.models import Ticket


def canonical_email(raw: str) -> str:
    """The address as ``normalize_email`` gives it, lower-cased for comparisons.

    :raise ValidationFailed: if it is not an email address.
    """
    try:
        return normalize_email((raw or "").strip()).lower()
    except ValueError:
        message = _("Escribe un correo válido, por ejemplo nombre@ejemplo.cl.")
        raise ValidationFailed(message, {"email": [message]}) from None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def has_requests_or_account(session: Session, email: str) -> bool:
    ticket = session.scalar(sa.select(Ticket.id).where(
        sa.func.lower(Ticket.contact_email) == email).limit(1))
    return ticket is not None or session.scalar(
        sa.select(ResidentAccount.id).where(ResidentAccount.email == email)) is not None


def request_link(session: Session, raw_email: str, *, locale: str | None = None,
                 now: datetime | None = None) -> bool:
    """Queue an email with a sign-in link if ``raw_email`` has requests or an account.

    The email is in ``locale``, the language of the page that asked for it
    (None: Spanish).

    Returns whether a link was queued (for logs and tests only: the page must
    answer the same either way). Flushes but never commits.

    :raise ValidationFailed: if the address is not valid.
    """
    now = now or utcnow()
    email = canonical_email(raw_email)
    if not has_requests_or_account(session, email):
        return False
    secret = secrets.token_urlsafe(32)
    minutes = current_app.config["RESIDENT_LINK_MINUTES"]
    session.add(ResidentLoginToken(token_hash=_digest(secret), email=email, created_at=now,
                                   expires_at=now + timedelta(minutes=minutes)))
    session.flush()
    base = current_app.config["PUBLIC_BASE_URL"]
    with written_for(locale):
        enqueue(session, recipient=email, locale=locale,
                subject=_("Tu enlace para entrar a Mis solicitudes"),
                template="resident_login_link",
                context={"link_url": f"{base}/mis-solicitudes/enlace/{secret}",
                         "minutes": minutes,
                         "municipality": current_app.config["MUNICIPALITY_NAME"]},
                now=now)
    return True


def find_usable(session: Session, secret: str, *, now: datetime | None = None
                ) -> ResidentLoginToken | None:
    """The unused, unexpired link for ``secret``, without using it (the GET page)."""
    now = now or utcnow()
    if not secret or len(secret) > 100:
        return None
    token = session.scalar(sa.select(ResidentLoginToken).where(
        ResidentLoginToken.token_hash == _digest(secret)))
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    return token


def redeem(session: Session, secret: str, *, now: datetime | None = None
           ) -> ResidentAccount | None:
    """Use the link once: verify its email, create the account if needed.

    Returns the account, or None if the link is unknown, used or expired
    (the caller shows one friendly page for all three). Flushes, never commits.
    """
    now = now or utcnow()
    token = find_usable(session, secret, now=now)
    if token is None:
        return None
    claimed = session.execute(
        sa.update(ResidentLoginToken)
        .where(ResidentLoginToken.id == token.id, ResidentLoginToken.used_at.is_(None),
               ResidentLoginToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None  # a racing click used it first
    account = session.scalar(sa.select(ResidentAccount).where(
        ResidentAccount.email == token.email))
    if account is None:
        account = ResidentAccount(email=token.email, verified_at=now, created_at=now)
        session.add(account)
    account.last_login_at = now
    session.flush()
    return account


def requests_of(session: Session, account: ResidentAccount) -> list[Ticket]:
    """Every request whose contact email is the account's, newest first.

    Requests made before the account existed are included: the verified email
    is the link between them, so nothing has to be "attached" by hand.
    """
    from sqlalchemy.orm import selectinload

    return list(session.scalars(
        sa.select(Ticket).where(sa.func.lower(Ticket.contact_email) == account.email)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .options(selectinload(Ticket.category))))
