"""Creating staff users and checking their credentials."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import Role, User
from app.catalog.models import Department
from app.database import utcnow
from app.domain import ValidationFailed
from app.tickets.contact import normalize_email

PASSWORD_MIN = 12  # staff passwords (creation and reset; the reset form hint says 12)
# Compared against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == email.strip().lower()))


# Progressive lockout: after LOCKOUT_THRESHOLD failures in a row the account
# is locked for 1 minute, doubling with each further failure up to 1 hour.
LOCKOUT_THRESHOLD = 5
LOCKOUT_FIRST = timedelta(minutes=1)
LOCKOUT_MAX = timedelta(hours=1)
# werkzeug's default method; a stored hash of another method is replaced on login.
# B105 (bandit): a hash method name, not a password
PASSWORD_METHOD = "scrypt"  # nosec B105


def lockout_for(failed_logins: int) -> timedelta | None:
    """How long an account with ``failed_logins`` failures in a row stays locked."""
    if failed_logins < LOCKOUT_THRESHOLD:
        return None
    return min(LOCKOUT_FIRST * 2 ** (failed_logins - LOCKOUT_THRESHOLD), LOCKOUT_MAX)


def authenticate(session: Session, email: str, password: str, *,
                 now: datetime | None = None) -> User | None:
    """Return the active user with these credentials, or None; flushes.

    Takes about the same time whether or not the email exists, and does not
    say which part was wrong, nor whether the account is locked. A failure
    counts towards the account's lockout (``lockout_for``); while locked,
    even the right password is refused. A success resets the count (for a
    user with TOTP, only the code does: ``accounts.totp``) and rehashes a
    password stored with an older method than ``PASSWORD_METHOD``.
    The caller must commit in both cases, so failures are remembered.
    """
    now = now or utcnow()
    user = find_by_email(session, email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if user.locked_until is not None and user.locked_until > now:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        user.failed_logins = (user.failed_logins or 0) + 1
        lock = lockout_for(user.failed_logins)
        user.locked_until = now + lock if lock else None
        session.flush()
        return None
    if not user.password_hash.startswith(PASSWORD_METHOD + ":"):
        user.set_password(password)
    if user.totp_secret is None:
        # With TOTP the lockout is cleared only by the second step
        # (accounts.totp.check_login_code), so the password does not reset
        # the count of wrong codes.
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
    session.flush()
    return user


def create_user(session: Session, *, email: str, name: str, password: str, role: Role,
                departments: list[Department]) -> User:
    """Create a staff user.

    :raise ValidationFailed: if the email is invalid or taken, the password is
        shorter than ``PASSWORD_MIN``, or an agent/supervisor has no department.
    """
    errors: dict[str, list[str]] = {}
    try:
        email = normalize_email(email).lower()
    except ValueError:
        errors["email"] = [_("El correo no es válido.")]
    else:
        if find_by_email(session, email) is not None:
            errors["email"] = [_("Ya existe un usuario con ese correo.")]
    if len(password or "") < PASSWORD_MIN:
        errors["password"] = [_("La contraseña debe tener al menos %(n)d caracteres.",
                                n=PASSWORD_MIN)]
    if not role.sees_all_departments and not departments:
        errors["department"] = [_("Un agente o supervisor debe pertenecer a un departamento.")]
    if not (name or "").strip():
        errors["name"] = [_("Escribe el nombre.")]
    if errors:
        raise ValidationFailed(_("Revisa los datos del usuario."), errors)
    user = User(email=email, name=name.strip(), role=role, departments=list(departments))
    user.set_password(password)
    session.add(user)
    session.flush()
    return user
