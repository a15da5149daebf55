"""``Idempotency-Key`` on create: a retried POST returns the first answer.

The record is written in the same transaction as the request it created, and
``(owner, key)`` is unique, so two concurrent retries cannot both create:
the loser's commit fails, its transaction rolls back, and it replays the
winner's answer. Keys are forgotten after ``IDEMPOTENCY_TTL``; expired rows
of the same caller are purged on each new create.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db

IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (
        sa.UniqueConstraint("owner", "key", name="uq_idempotency_records_owner_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(40))  # "app:<key id>" or "staff:<user id>"
    key: Mapped[str] = mapped_column(sa.String(200))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"))
    response_status: Mapped[int]
    response_body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def fingerprint(payload: object) -> str:
    """A digest of the parsed body, independent of key order and whitespace."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Replay:
    status: int
    body: str
    same_payload: bool


def find(session: Session, owner: str, key: str, payload_fingerprint: str, *,
         now: datetime | None = None) -> Replay | None:
    """The stored answer for ``(owner, key)`` if still fresh, else None.

    Also deletes this owner's expired records (flushes).
    """
    now = now or utcnow()
    session.execute(sa.delete(IdempotencyRecord).where(
        IdempotencyRecord.owner == owner,
        IdempotencyRecord.created_at < now - IDEMPOTENCY_TTL,
    ))
    record = session.scalar(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.owner == owner, IdempotencyRecord.key == key))
    if record is None:
        return None
    return Replay(status=record.response_status, body=record.response_body,
                  same_payload=record.fingerprint == payload_fingerprint)


def remember(session: Session, *, owner: str, key: str, payload_fingerprint: str,
             ticket_id: int, status: int, body: str, now: datetime | None = None) -> None:
    """Store the answer in the caller's transaction; flushes.

    :raise sqlalchemy.exc.IntegrityError: at flush or commit when a concurrent
        request stored the same ``(owner, key)`` first.
    """
    session.add(IdempotencyRecord(owner=owner, key=key, fingerprint=payload_fingerprint,
                                  ticket_id=ticket_id, response_status=status,
                                  response_body=body, created_at=now or utcnow()))
    session.flush()
