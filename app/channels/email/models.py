"""Every message the email channel received, kept with its raw bytes and outcome."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db
from app.tickets.models import Ticket


class InboundStatus(enum.StrEnum):
    CREATED = "created"  # a new request was created from it
    APPENDED = "appended"  # added to an existing request's timeline
    IGNORED = "ignored"  # auto-reply, mailing list or bounce: never answered
    MALFORMED = "malformed"  # not a usable email; kept aside with the reason
    REJECTED = "rejected"  # a readable email that intake refused (reason says why)
    THROTTLED = "throttled"  # its sender went over EMAIL_MAX_PER_SENDER_PER_HOUR
    # Never stored: the outcome of receiving a message whose key is already here.
    DUPLICATE = "duplicate"


class InboundSource(enum.StrEnum):
    IMAP = "imap"  # the mailbox poller
    PIPE = "pipe"  # ``flask channels email ingest`` (an MTA pipe or a file)


class InboundEmail(db.Model):
    __tablename__ = "inbound_emails"
    __table_args__ = (
        sa.Index("ix_inbound_emails_sender_received", "sender", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Message-ID ("<…>"), or "sha256:<hex of the raw bytes>" when it has none:
    # the idempotency key, so a message fetched twice is recorded once.
    message_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    sender: Mapped[str | None] = mapped_column(sa.String(254))
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[InboundStatus] = mapped_column(
        sa.Enum(InboundStatus, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e]))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[InboundSource] = mapped_column(
        sa.Enum(InboundSource, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e]))
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    attachment_count: Mapped[int] = mapped_column(default=0)
    attachment_names: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # The message exactly as received, so nothing is lost (also when malformed).
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket | None] = relationship()

    def __repr__(self) -> str:
        return f"<InboundEmail {self.id} {self.status.value} {self.message_key}>"
