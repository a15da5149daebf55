from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Category, Department, Macrosector
from app.database import UTCDateTime, utcnow
from app.extensions import db


def _str_enum(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Store an enum by its value, as a plain string column (portable)."""
    return sa.Enum(enum_cls, native_enum=False, length=32,
                   values_callable=lambda e: [m.value for m in e])


class Status(enum.StrEnum):
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    IN_PROGRESS = "in_progress"
    WAITING_RESIDENT = "waiting_resident"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REFERRED = "referred"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


STATUS_LABELS = {
    Status.RECEIVED: _l("Recibida"),
    Status.IN_REVIEW: _l("En revisión"),
    Status.IN_PROGRESS: _l("En gestión"),
    Status.WAITING_RESIDENT: _l("Esperando respuesta del vecino/a"),
    Status.RESOLVED: _l("Resuelta"),
    Status.CLOSED: _l("Cerrada"),
    Status.REFERRED: _l("Derivada a otro organismo"),
    Status.DUPLICATE: _l("Duplicada"),
}

OPEN_STATUSES = frozenset(
    {Status.RECEIVED, Status.IN_REVIEW, Status.IN_PROGRESS, Status.WAITING_RESIDENT}
)
# The open statuses in a fixed order, and as the SQL of the partial index on open
# requests. SQLite uses a partial index only when the query repeats its WHERE
# term literally, in the same order: ``open_clause()`` renders exactly that.
OPEN_STATUS_VALUES = tuple(sorted(s.value for s in OPEN_STATUSES))
OPEN_STATUS_SQL = f"status IN ({', '.join(repr(v) for v in OPEN_STATUS_VALUES)})"


OPEN_INDEX_COLUMNS = ("created_at", "id", "status", "resolution_due_at", "department_id",
                      "category_id", "channel", "macrosector_id", "clock_kind", "resolved_at",
                      "closed_at", "deadline_extended_at")


def open_clause() -> sa.ColumnElement[bool]:
    """``tickets.status IN ('in_progress', ...)`` with the values inline, sorted.

    Same meaning as ``Ticket.status.in_(OPEN_STATUSES)``, but it matches the
    predicate of ``ix_tickets_open_created`` so both databases can use it.
    """
    return Ticket.status.in_(sa.bindparam("open_statuses", list(OPEN_STATUS_VALUES),
                                          expanding=True, literal_execute=True))


class Channel(enum.StrEnum):
    WEB = "web"
    EMAIL = "email"
    PHONE = "phone"
    COUNTER = "counter"
    API = "api"
    OPEN311 = "open311"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.WEB: _l("Web"),
    Channel.EMAIL: _l("Correo electrónico"),
    Channel.PHONE: _l("Teléfono"),
    Channel.COUNTER: _l("Atención presencial"),
    Channel.API: _l("Aplicación"),
    Channel.OPEN311: _l("Open311"),
}


class EventKind(enum.StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    REASSIGNED = "reassigned"
    SURVEY_ANSWERED = "survey_answered"  # the resident answered the satisfaction survey
    MERGED = "merged"  # a duplicate was merged into a request (tickets.merging)
    ATTACHMENT_ADDED = "attachment_added"  # a file was attached (tickets.attachments)
    RESIDENT_MESSAGE = "resident_message"  # the resident wrote (e.g. replied by email)
    DEADLINE_CHANGED = "deadline_changed"  # due date pushed: pause, legal extension
    SLA_ALERT = "sla_alert"  # deadline warning/breach/auto-close notice sent (internal)
    ASSIGNED = "assigned"  # given to (or taken from) a staff member; tickets.assignment
    ANONYMISED = "anonymised"  # personal data removed (privacy.anonymisation)


class ActorKind(enum.StrEnum):
    STAFF = "staff"
    RESIDENT = "resident"
    SYSTEM = "system"


class EventVisibility(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class YearCounter(db.Model):
    """Last public number handed out per year (``2026-000123``)."""

    __tablename__ = "year_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.UniqueConstraint("year", "sequence", name="uq_tickets_year_sequence"),
        sa.Index("ix_tickets_department_status_created", "department_id", "status",
                 "created_at"),
        # For the dashboards (app/metrics) and the public figures: a date range over
        # every department, one department, one category; what was resolved when.
        sa.Index("ix_tickets_created_at", "created_at"),
        sa.Index("ix_tickets_department_created", "department_id", "created_at"),
        sa.Index("ix_tickets_category_created", "category_id", "created_at"),
        sa.Index("ix_tickets_resolved_at", "resolved_at"),
        # Ley 20.285 requests are few: the legal-clock figure reads only theirs.
        sa.Index("ix_tickets_clock_kind_created", "clock_kind", "created_at"),
        # Open requests only (a small share of all): the backlog and the staff queue
        # in filing order. With the other columns in it, the backlog and the
        # dashboard's live count of open requests (SLA, Ley 20.285) read only the index.
        sa.Index("ix_tickets_open_created", *OPEN_INDEX_COLUMNS,
                 postgresql_where=sa.text(OPEN_STATUS_SQL),
                 sqlite_where=sa.text(OPEN_STATUS_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_number: Mapped[str] = mapped_column(sa.String(16), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    # Stored without separators, upper case; see tickets.tracking.
    tracking_code: Mapped[str] = mapped_column(sa.String(16), unique=True)

    channel: Mapped[Channel] = mapped_column(_str_enum(Channel))
    status: Mapped[Status] = mapped_column(_str_enum(Status), default=Status.RECEIVED)

    # Indexed by ix_tickets_category_created (category first).
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))

    description: Mapped[str] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    macrosector_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("macrosectors.id")
    )
    # A link to a photo or video given by the channel (Open311 media_url).
    media_url: Mapped[str | None] = mapped_column(sa.String(500))

    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    contact_rut: Mapped[str | None] = mapped_column(sa.String(12))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the resident wrote in (app.i18n.LOCALES): their emails use it.
    locale: Mapped[str] = mapped_column(sa.String(8), default="es_CL",
                                        server_default="es_CL")
    # Staff member who entered the request on a resident's behalf.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The surviving request this one was merged into (tickets.merging).
    duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id"), index=True)
    # Staff member of the department handling it (tickets.assignment); None: unassigned.
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # --- Deadlines (app/deadlines); every instant in UTC. ---
    # The policy kind at intake (service, ley_20285, oirs), kept if the category changes.
    clock_kind: Mapped[str | None] = mapped_column(sa.String(16))
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same three for the first-response deadline (until the first staff reply).
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Business seconds the clock was paused so far (waiting_resident, reopened).
    paused_business_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_business_seconds: Mapped[int | None]
    resolution_business_seconds: Mapped[int | None]
    autoclose_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its personal data was removed (privacy.anonymisation); statistics stay.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    category: Mapped[Category] = relationship()
    department: Mapped[Department] = relationship()
    macrosector: Mapped[Macrosector | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    duplicate_of: Mapped[Ticket | None] = relationship(
        remote_side="Ticket.id", back_populates="duplicates")
    duplicates: Mapped[list[Ticket]] = relationship(
        back_populates="duplicate_of", order_by="Ticket.id")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id",
        cascade="all, delete-orphan",
    )

    @property
    def formatted_tracking_code(self) -> str:
        from app.tickets.tracking import format_code

        return format_code(self.tracking_code)

    @property
    def public_events(self) -> list[TicketEvent]:
        return [e for e in self.events if e.visibility is EventVisibility.PUBLIC]

    def __repr__(self) -> str:
        return f"<Ticket {self.public_number} {self.status.value}>"


class TicketEvent(db.Model):
    """One line of a request's timeline; also its audit trail."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(_str_enum(EventKind))
    visibility: Mapped[EventVisibility] = mapped_column(_str_enum(EventVisibility))
    actor_kind: Mapped[ActorKind] = mapped_column(_str_enum(ActorKind))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str | None] = mapped_column(sa.Text)
    from_status: Mapped[Status | None] = mapped_column(_str_enum(Status))
    to_status: Mapped[Status | None] = mapped_column(_str_enum(Status))
    from_department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id")
    )
    to_department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    from_department: Mapped[Department | None] = relationship(
        foreign_keys=[from_department_id]
    )
    to_department: Mapped[Department | None] = relationship(
        foreign_keys=[to_department_id]
    )
