"""``AuditEntry``: one staff action. Never updated, never deleted by the app."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.accounts.models import User
from app.database import UTCDateTime, utcnow
from app.extensions import db


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit entry."""


class AuditEntry(db.Model):
    """Who (``actor_id`` and their email at the time) did ``action`` to what.

    ``details`` holds ids, field names and counts, never personal data
    values (no emails, names, phones, RUTs, free text of residents).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("ix_audit_entries_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # SET NULL keeps the entry if a user row is ever removed; actor_label stays.
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str | None] = mapped_column(sa.String(254))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.target_type}:{self.target_id}>"


@sa.event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed")


@sa.event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be deleted")


@sa.event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state) -> None:
    """``session.execute(update(AuditEntry)...)`` / ``delete(...)`` are refused too."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEntry:
        raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted")
