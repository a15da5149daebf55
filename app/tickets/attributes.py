"""Answers a request gave to its category's custom attributes.

Written only by ``tickets.intake.submit`` (after ``catalog.attributes.clean_values``);
read by the staff page, the REST API and Open311.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, backref, mapped_column, relationship

from app.catalog.attributes import LOCAL_TZ, CategoryAttribute, Datatype
from app.extensions import db
from app.tickets.models import Ticket


class TicketAttributeValue(db.Model):
    __tablename__ = "ticket_attribute_values"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "attribute_id",
                            name="uq_ticket_attribute_values_ticket_attribute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    attribute_id: Mapped[int] = mapped_column(
        sa.ForeignKey("category_attributes.id", ondelete="CASCADE"), index=True
    )
    # str, number, ISO 8601 datetime str, or a list of keys (multivaluelist).
    value: Mapped[object] = mapped_column(sa.JSON)

    attribute: Mapped[CategoryAttribute] = relationship(lazy="joined")
    ticket: Mapped[Ticket] = relationship(
        backref=backref("attribute_values", cascade="all, delete-orphan",
                        passive_deletes=True)
    )

    @property
    def display(self) -> str:
        return display_value(self.attribute, self.value)


def store_values(session: Session, ticket: Ticket, values: dict[str, object]) -> None:
    """Save cleaned answers (from ``clean_values``) for a new request; flushes."""
    by_code = {a.code: a for a in ticket.category.attributes}
    for code, value in values.items():
        session.add(TicketAttributeValue(ticket=ticket, attribute=by_code[code], value=value))
    session.flush()


def values_by_code(ticket: Ticket) -> dict[str, object]:
    """The request's answers as ``{code: value}``, in the attributes' order."""
    pairs = sorted(ticket.attribute_values, key=lambda v: v.attribute.order)
    return {v.attribute.code: v.value for v in pairs}


def display_value(attribute: CategoryAttribute, value: object) -> str:
    """A value as people read it: list keys shown by their names."""
    names = attribute.value_names
    if isinstance(value, list):
        return ", ".join(names.get(str(v), str(v)) for v in value)
    if attribute.datatype.is_list:
        return names.get(str(value), str(value))
    if attribute.datatype is Datatype.DATETIME:
        try:
            return datetime.fromisoformat(str(value)).astimezone(LOCAL_TZ).strftime(
                "%d-%m-%Y %H:%M")
        except ValueError:
            return str(value)
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)
