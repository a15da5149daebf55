from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.sla import SlaPolicy
from app.database import UTCDateTime, utcnow
from app.extensions import db


class Visibility(enum.StrEnum):
    """Whether a category may be listed publicly (Open311) or never is."""

    PUBLIC = "public"
    PRIVATE = "private"


class AutoAssign(enum.StrEnum):
    """How new requests of a department are handed to its staff (routing issue)."""

    NONE = "none"
    ROUND_ROBIN = "round_robin"
    FEWEST_OPEN = "fewest_open"


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    active: Mapped[bool] = mapped_column(default=True)
    # --- auto-assignment (tickets.assignment) ---
    auto_assign: Mapped[AutoAssign] = mapped_column(
        sa.Enum(AutoAssign, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e]),
        default=AutoAssign.NONE, server_default=AutoAssign.NONE.value,
    )
    # The member who got the last round-robin assignment; the next goes to the next id.
    last_assigned_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id")
    )
    # --- end auto-assignment ---

    categories: Mapped[list[Category]] = relationship(back_populates="department")

    def __repr__(self) -> str:
        return f"<Department {self.slug}>"


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id"), index=True
    )
    visibility: Mapped[Visibility] = mapped_column(
        sa.Enum(Visibility, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e]),
        default=Visibility.PUBLIC,
    )
    active: Mapped[bool] = mapped_column(default=True)
    allows_anonymous: Mapped[bool] = mapped_column(default=False)
    # Comma-separated synonyms, shown as Open311 ``keywords``.
    keywords: Mapped[str] = mapped_column(sa.String(300), default="")
    # Months after closing before its requests' personal data is removed
    # (privacy.retention); None: the RETENTION_MONTHS_DEFAULT setting.
    retention_months: Mapped[int | None]
    # Open311 discovery's ``changeset`` (with the attributes' own times).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Deadlines (app/deadlines): None runs the configured default policy.
    sla_policy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sla_policies.id"))

    department: Mapped[Department] = relationship(back_populates="categories")
    sla_policy: Mapped[SlaPolicy | None] = relationship()

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Macrosector(db.Model):
    """One of the comuna's territorial units, chosen from a list on forms."""

    __tablename__ = "macrosectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
