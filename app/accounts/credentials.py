"""API keys for applications and short-lived tokens for staff.

Both are random bearer secrets shown once and stored only as a SHA-256
digest (they carry 256 bits of randomness, so a fast digest is enough; a
password hash would only slow every API call). A key's scopes say what an
application may do; a staff token acts as its staff member, with the same
department access as on the staff pages.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.accounts.models import User
from app.database import UTCDateTime, utcnow
from app.domain import ValidationFailed
from app.extensions import db

APP_KEY_PREFIX = "cak_"
# B105 (bandit): a public prefix, not a secret
STAFF_TOKEN_PREFIX = "cst_"  # nosec B105
NAME_MAX = 120
LAST_USED_PRECISION = timedelta(minutes=5)


class Scope(enum.StrEnum):
    """What an application key may do. Staff tokens do not use scopes."""

    CATEGORIES_READ = "categories:read"
    REQUESTS_CREATE = "requests:create"
    REQUESTS_TRACK = "requests:track"
    REQUESTS_READ = "requests:read"
    OPEN311_SUBMIT = "open311:submit"

    @property
    def description(self) -> str:
        return str(SCOPE_DESCRIPTIONS[self])


SCOPE_DESCRIPTIONS = {
    Scope.CATEGORIES_READ: _l("Ver categorías y departamentos"),
    Scope.REQUESTS_CREATE: _l("Crear solicitudes"),
    Scope.REQUESTS_TRACK: _l("Ver una solicitud por su código de seguimiento"),
    Scope.REQUESTS_READ: _l("Listar y ver solicitudes (sin datos de contacto)"),
    Scope.OPEN311_SUBMIT: _l("Crear solicitudes por Open311"),
}

# A resident-facing app: create, follow by code, never list.
RESIDENT_APP_SCOPES = (Scope.CATEGORIES_READ, Scope.REQUESTS_CREATE, Scope.REQUESTS_TRACK)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    # The first characters of the key, to recognise it in lists and logs.
    prefix: Mapped[str] = mapped_column(sa.String(16), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[str] = mapped_column(sa.String(300))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Accurate to ``LAST_USED_PRECISION`` (see ``note_api_key_use``).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.scopes.split() if s in Scope._value2member_map_)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix} {self.name!r}>"


class StaffToken(db.Model):
    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


@dataclass(frozen=True)
class IssuedSecret:
    """A new key or token; ``secret`` is shown once and never stored."""

    secret: str
    record: ApiKey | StaffToken


def parse_scopes(values: list[str] | tuple[str, ...]) -> list[Scope]:
    """Scopes from names, accepting repeated or comma/space separated values.

    :raise ValidationFailed: for an unknown scope name or none at all.
    """
    names = [n for value in values for n in value.replace(",", " ").split()]
    unknown = [n for n in names if n not in Scope._value2member_map_]
    if unknown or not names:
        message = _("Alcances válidos: %(scopes)s.", scopes=", ".join(s.value for s in Scope))
        raise ValidationFailed(message, {"scope": [message]})
    return list(dict.fromkeys(Scope(n) for n in names))


def create_api_key(session: Session, *, name: str, scopes: list[Scope],
                   now: datetime | None = None) -> IssuedSecret:
    """Create an application key; flushes. The secret is only in the result.

    :raise ValidationFailed: if the name is empty or too long, or no scope given.
    """
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = [_("Escribe un nombre de hasta %(n)d caracteres.", n=NAME_MAX)]
    if not scopes:
        errors["scope"] = [_("Indica al menos un alcance.")]
    if errors:
        raise ValidationFailed(_("Revisa los datos de la clave."), errors)
    secret = APP_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=secret[:12], key_hash=digest(secret),
                 scopes=" ".join(s.value for s in scopes), created_at=now or utcnow())
    session.add(key)
    session.flush()
    return IssuedSecret(secret=secret, record=key)


def find_api_key(session: Session, reference: str) -> ApiKey | None:
    """The key with this id or prefix (as shown by ``flask apikeys list``)."""
    reference = (reference or "").strip()
    if reference.isdigit():
        return session.get(ApiKey, int(reference))
    return session.scalar(sa.select(ApiKey).where(ApiKey.prefix == reference[:12]))


def revoke_api_key(session: Session, key: ApiKey, *, now: datetime | None = None) -> None:
    """Revoke ``key`` from now on (idempotent); flushes."""
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()


def note_api_key_use(session: Session, key: ApiKey, *, now: datetime | None = None) -> bool:
    """Record that ``key`` was just used, at most once per ``LAST_USED_PRECISION``.

    A conditional UPDATE, so busy keys do not write on every call and two
    concurrent calls do not fight. Flushes; returns True when it wrote (the
    caller then commits, so the time is kept even if the call itself fails).
    """
    now = now or utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_PRECISION:
        return False
    written = session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key.id,
               sa.or_(ApiKey.last_used_at.is_(None),
                      ApiKey.last_used_at < now - LAST_USED_PRECISION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if written:
        key.last_used_at = now
        session.flush()
    return bool(written)


def issue_staff_token(session: Session, user: User, *, lifetime: timedelta,
                      now: datetime | None = None) -> IssuedSecret:
    """Create a token acting as ``user`` until ``now + lifetime``; flushes."""
    now = now or utcnow()
    secret = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = StaffToken(user=user, prefix=secret[:12], token_hash=digest(secret),
                       created_at=now, expires_at=now + lifetime)
    session.add(token)
    session.flush()
    return IssuedSecret(secret=secret, record=token)


def revoke_staff_token(session: Session, token: StaffToken, *,
                       now: datetime | None = None) -> None:
    """Revoke ``token`` (idempotent); flushes."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.flush()


def authenticate_bearer(session: Session, secret: str, *,
                        now: datetime | None = None) -> ApiKey | StaffToken | None:
    """The live key or token for a bearer secret, or None.

    None for an unknown, revoked or expired secret, and for a token whose
    user is no longer active. Never writes.
    """
    now = now or utcnow()
    if secret.startswith(APP_KEY_PREFIX):
        key = session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == digest(secret)))
        return key if key is not None and key.active else None
    if secret.startswith(STAFF_TOKEN_PREFIX):
        token = session.scalar(
            sa.select(StaffToken).where(StaffToken.token_hash == digest(secret)))
        if (token is None or token.revoked_at is not None or token.expires_at <= now
                or not token.user.active):
            return None
        return token
    return None
