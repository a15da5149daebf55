"""Creating staff users and checking their credentials."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import Role, User
from app.catalog.models import Department
from app.database import utcnow
from app.domain import ValidationFailed
from app.tickets.contact import normalize_email

PASSWORD_MIN = 10
# Compared against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None.

    Takes about the same time whether or not the email exists, and does not
    say which part was wrong.
    """
    user = find_by_email(session, email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
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
