"""Routing rules: ordered conditions that send a new request to a department.

Evaluated by ``catalog.routing.route`` in ``position`` order; the first active
rule whose every given condition matches (and whose department is active)
wins; otherwise the category's own department takes the request.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Category, Department, Macrosector
from app.database import UTCDateTime, utcnow
from app.extensions import db
from app.tickets.models import Channel


class RoutingRule(db.Model):
    __tablename__ = "routing_rules"
    __table_args__ = (sa.Index("ix_routing_rules_position", "position", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    # Conditions: each one given must match; None / "" means "any".
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"))
    # Comma-separated words or phrases; any one, on whole words, ignoring case and accents.
    keywords: Mapped[str] = mapped_column(sa.String(300), default="")
    macrosector_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("macrosectors.id", ondelete="CASCADE"))
    # A piece of the address (case and accents ignored, spaces collapsed).
    address_contains: Mapped[str] = mapped_column(sa.String(120), default="")
    channel: Mapped[Channel | None] = mapped_column(
        sa.Enum(Channel, native_enum=False, length=32,
                values_callable=lambda e: [m.value for m in e]))

    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship()
    macrosector: Mapped[Macrosector | None] = relationship()
    department: Mapped[Department] = relationship()

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.split(",") if k.strip()]

    def __repr__(self) -> str:
        return f"<RoutingRule {self.position} {self.name!r}>"
