"""A resident's verified email (the account) and the single-use sign-in links.

There is no resident password: the account *is* a verified email address,
proven each time by opening a link sent to it (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class ResidentAccount(db.Model):
    __tablename__ = "resident_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised with tickets.contact.normalize_email, then lower-cased.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ResidentLoginToken(db.Model):
    """One emailed link; only the SHA-256 digest of its secret is stored."""

    __tablename__ = "resident_login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
