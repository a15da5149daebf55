"""Which emails each staff member wants, and when their last digest went out.

A user without a row has the defaults: new requests in an hourly digest,
every other notice on. The row is created the first time it is needed (the
"Mis avisos" page, or the digest job recording ``last_digest_at``).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.accounts.models import User
from app.database import UTCDateTime, utcnow
from app.extensions import db


class NewTicketMode(enum.StrEnum):
    """How a staff member hears of new requests in their departments."""

    OFF = "off"
    IMMEDIATE = "immediate"  # one email per request
    HOURLY = "hourly"  # one email per hour listing the new ones
    DAILY = "daily"  # one email per day listing the new ones

    @property
    def label(self) -> str:
        return str(NEW_TICKET_LABELS[self])

    @property
    def is_digest(self) -> bool:
        return self in (NewTicketMode.HOURLY, NewTicketMode.DAILY)


NEW_TICKET_LABELS = {
    NewTicketMode.OFF: _l("No avisarme"),
    NewTicketMode.IMMEDIATE: _l("Un correo por cada solicitud nueva"),
    NewTicketMode.HOURLY: _l("Un resumen cada hora"),
    NewTicketMode.DAILY: _l("Un resumen al día"),
}


class NoticeKind(enum.StrEnum):
    """The on/off notices besides new requests."""

    ASSIGNED = "assigned"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"


class StaffNotificationPreference(db.Model):
    __tablename__ = "staff_notification_preferences"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    new_ticket: Mapped[NewTicketMode] = mapped_column(
        sa.Enum(NewTicketMode, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e]),
        default=NewTicketMode.HOURLY)
    assigned: Mapped[bool] = mapped_column(default=True)
    sla_warning: Mapped[bool] = mapped_column(default=True)
    sla_breach: Mapped[bool] = mapped_column(default=True)
    # End of the window the last digest covered; the next one starts there.
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    def wants(self, kind: NoticeKind) -> bool:
        return bool(getattr(self, kind.value))


DEFAULTS = {"new_ticket": NewTicketMode.HOURLY, "assigned": True, "sla_warning": True,
            "sla_breach": True}


def preference_for(session: Session, user: User) -> StaffNotificationPreference:
    """The user's saved preferences, or an unsaved row holding the defaults."""
    saved = session.get(StaffNotificationPreference, user.id)
    if saved is not None:
        return saved
    return StaffNotificationPreference(user_id=user.id, **DEFAULTS)


def save_preference(session: Session, user: User, *, new_ticket: NewTicketMode,
                    assigned: bool, sla_warning: bool, sla_breach: bool,
                    now: datetime | None = None) -> StaffNotificationPreference:
    """Store the user's choices. Flushes, never commits.

    Choosing a digest when none was running (switching from another mode, or
    the first digest ever) starts it now, so the first one does not list
    requests the user was already told about one by one.
    """
    now = now or utcnow()
    preference = session.get(StaffNotificationPreference, user.id)
    if preference is None:
        preference = StaffNotificationPreference(user_id=user.id, **DEFAULTS)
        session.add(preference)
    if new_ticket.is_digest and (preference.last_digest_at is None
                                 or not preference.new_ticket.is_digest):
        preference.last_digest_at = now
    preference.new_ticket = new_ticket
    preference.assigned = assigned
    preference.sla_warning = sla_warning
    preference.sla_breach = sla_breach
    preference.updated_at = now
    session.flush()
    return preference
