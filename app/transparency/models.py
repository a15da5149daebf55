"""Transparency tables: the pilot departments and the departments' progress updates."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Department
from app.database import UTCDateTime, utcnow
from app.extensions import db


class TransparencyPilot(db.Model):
    """A department highlighted on the public page (admins choose at most three)."""

    __tablename__ = "transparency_pilots"

    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chosen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    department: Mapped[Department] = relationship()


class ProgressUpdate(db.Model):
    """A short "what we did this month" note of a department; public once published."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(sa.Date)  # always the first day of the month
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def published(self) -> bool:
        return self.published_at is not None
