"""The municipal calendar override table: extra closures and working days."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.database import UTCDateTime, utcnow
from app.extensions import db


class OverrideKind(enum.StrEnum):
    CLOSURE = "closure"  # the municipality is closed (decreed holiday, local feast)
    WORKING_DAY = "working_day"  # a national holiday on which offices do open

    @property
    def label(self) -> str:
        return str(OVERRIDE_KIND_LABELS[self])


OVERRIDE_KIND_LABELS = {
    OverrideKind.CLOSURE: _l("Cierre (día no hábil)"),
    OverrideKind.WORKING_DAY: _l("Día hábil (anula un feriado)"),
}


class HolidayOverride(db.Model):
    __tablename__ = "holiday_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[OverrideKind] = mapped_column(
        sa.Enum(OverrideKind, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e]))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<HolidayOverride {self.day} {self.kind.value}>"
