"""SLA policies: the targets a category's requests are measured against."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class PolicyKind(enum.StrEnum):
    """What kind of clock a policy runs.

    ``service`` is an internal service target (business hours or days);
    ``ley_20285`` the legal clock for access-to-information requests (20
    business days, one extension of 10 with notice); ``oirs`` the clock of
    OIRS complaints and suggestions, with a configurable number of days.
    """

    SERVICE = "service"
    LEY_20285 = "ley_20285"
    OIRS = "oirs"

    @property
    def label(self) -> str:
        return str(POLICY_KIND_LABELS[self])


POLICY_KIND_LABELS = {
    PolicyKind.SERVICE: _l("Compromiso de servicio"),
    PolicyKind.LEY_20285: _l("Acceso a la información (Ley 20.285)"),
    PolicyKind.OIRS: _l("OIRS"),
}


class TargetUnit(enum.StrEnum):
    BUSINESS_HOURS = "business_hours"
    BUSINESS_DAYS = "business_days"


def _str_enum(enum_cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, length=32,
                   values_callable=lambda e: [m.value for m in e])


class SlaPolicy(db.Model):
    """First-response and resolution targets, and when to warn before a breach.

    A target of None means that clock is not run for the policy (e.g. a legal
    clock with no first-response target).
    """

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[PolicyKind] = mapped_column(_str_enum(PolicyKind), default=PolicyKind.SERVICE)
    first_response_target: Mapped[int | None]
    first_response_unit: Mapped[TargetUnit] = mapped_column(
        _str_enum(TargetUnit), default=TargetUnit.BUSINESS_HOURS)
    resolution_target: Mapped[int | None]
    resolution_unit: Mapped[TargetUnit] = mapped_column(
        _str_enum(TargetUnit), default=TargetUnit.BUSINESS_DAYS)
    # Percentage of the resolution time after which the department is warned.
    warn_percent: Mapped[int] = mapped_column(default=75)
    # Business days one extension adds (Ley 20.285: 10); None: not extendable.
    extension_days: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<SlaPolicy {self.name} {self.kind.value}>"
