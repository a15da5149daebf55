"""Password reset by email: a single-use link valid ``RESET_TOKEN_MINUTES``.

The link carries a random 256-bit secret; only its SHA-256 digest is stored
(like API keys: the secret is long and random, so a fast digest is enough).
A token stops working when it is used, when it expires, and when the
password changes by any path (every outstanding token of the user is marked
used). Asking for a reset answers the same whether or not the address is
a staff account, so the form cannot be used to find accounts.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.accounts.models import User
from app.accounts.services import PASSWORD_MIN, find_by_email
from app.database import UTCDateTime, utcnow
from app.domain import ValidationFailed
from app.extensions import db
from app.i18n import written_for
from app.notifications.outbox import enqueue

RESET_TOKEN_MINUTES = 30  # the pages say "30 minutos"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


def request_reset(session: Session, email: str, *, base_url: str, locale: str | None = None,
                  now: datetime | None = None) -> str | None:
    """Queue a reset email if ``email`` is an active staff account; flushes.

    The email is in ``locale``, the language of the page that asked for it
    (None: the account's own language, else Spanish).

    Returns the secret (for tests and the caller's logs it must never be
    shown to the requester) or None when no email was queued. The view
    answers the same page in both cases.
    """
    now = now or utcnow()
    user = find_by_email(session, email or "")
    if user is None or not user.active:
        return None
    secret = secrets.token_urlsafe(32)
    session.add(PasswordResetToken(
        user=user, token_hash=_digest(secret), created_at=now,
        expires_at=now + timedelta(minutes=RESET_TOKEN_MINUTES)))
    session.flush()
    locale = locale or user.locale
    with written_for(locale):
        enqueue(session, recipient=user.email, locale=locale,
                subject=_("Cambia tu contraseña de Conectados"),
                template="staff_password_reset",
                context={"user": user, "minutes": RESET_TOKEN_MINUTES,
                         "municipality": current_app.config["MUNICIPALITY_NAME"],
                         "url": f"{base_url.rstrip('/')}/gestion/recuperar/{secret}"},
                now=now)
    return secret


def find_valid_token(session: Session, secret: str, *,
                     now: datetime | None = None) -> PasswordResetToken | None:
    """The unused, unexpired token for ``secret`` of an active user, or None."""
    now = now or utcnow()
    token = session.scalar(sa.select(PasswordResetToken)
                           .where(PasswordResetToken.token_hash == _digest(secret or "")))
    if (token is None or token.used_at is not None or token.expires_at <= now
            or not token.user.active):
        return None
    return token


def change_password(session: Session, user: User, password: str, *,
                    now: datetime | None = None) -> None:
    """Set a new password; invalidates every outstanding reset token and the lockout.

    :raise ValidationFailed: if the password is shorter than ``PASSWORD_MIN``.
    """
    if len(password or "") < PASSWORD_MIN:
        message = _("La contraseña debe tener al menos %(n)d caracteres.", n=PASSWORD_MIN)
        raise ValidationFailed(message, {"password": [message]})
    now = now or utcnow()
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.execute(sa.update(PasswordResetToken)
                    .where(PasswordResetToken.user_id == user.id,
                           PasswordResetToken.used_at.is_(None))
                    .values(used_at=now))
    session.flush()


def reset_password(session: Session, secret: str, password: str, confirmation: str, *,
                   now: datetime | None = None) -> User:
    """Use a reset token to set a new password; flushes.

    :raise ValidationFailed: if the token is not valid (field ``token``), the
        two passwords differ or the new one is too short (field ``password``).
    """
    now = now or utcnow()
    token = find_valid_token(session, secret, now=now)
    if token is None:
        message = _("Este enlace ya no sirve: se usó, venció o la contraseña cambió. "
                    "Pide uno nuevo.")
        raise ValidationFailed(message, {"token": [message]})
    if (password or "") != (confirmation or ""):
        message = _("Las dos contraseñas no coinciden.")
        raise ValidationFailed(message, {"confirmation": [message]})
    change_password(session, token.user, password, now=now)
    return token.user
