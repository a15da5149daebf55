from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.catalog.models import Department
from app.database import UTCDateTime, utcnow
from app.extensions import db


class Role(enum.StrEnum):
    """Staff roles, from narrowest to widest view."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def sees_all_departments(self) -> bool:
        return self in (Role.MANAGER, Role.ADMIN)


department_membership = sa.Table(
    "department_membership",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("department_id", sa.ForeignKey("departments.id", ondelete="CASCADE"),
              primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e]),
        default=Role.AGENT,
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Progressive lockout (accounts.lockout): failures in a row, and until when
    # a login is refused without even checking the password.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optional second step (accounts.totp): the base32 TOTP secret, and the
    # last 30-second time step accepted, so a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The language last chosen with the switch while signed in; their emails
    # use it (None: Spanish).
    locale: Mapped[str | None] = mapped_column(sa.String(8))

    departments: Mapped[list[Department]] = relationship(
        secondary=department_membership, order_by=Department.name
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def department_ids(self) -> set[int]:
        return {d.id for d in self.departments}

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"
