"""Optional TOTP second step for staff logins (RFC 6238, 30-second steps, 6 digits).

A user who enables it gets a secret (shown once as text and as a QR code),
and proves it works with a code before it is stored. From then on a login
needs the password and then a code. A code is accepted for the step before,
the current and the step after (clock drift), and never twice: the last
accepted step is stored, and only later steps are accepted. Wrong codes
count towards the account's lockout like wrong passwords.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.services import lockout_for
from app.database import utcnow
from app.domain import ValidationFailed

ISSUER = "Conectados"
VALID_WINDOW = 1  # steps accepted either side of the current one


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code as a ``data:`` URI (allowed by the CSP's ``img-src``)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=4)


def _matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step within ``VALID_WINDOW`` whose code is ``code``, later than ``after``."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (after is None or step > after):
            found = step
    return found


def check_login_code(session: Session, user: User, code: str, *,
                     now: datetime | None = None) -> bool:
    """Second login step: True if ``code`` is a fresh valid code; flushes.

    A success stores the step (no replay), clears the lockout and notes the
    login time. A wrong, reused or locked-out code counts towards the lockout
    (``lockout_for``). The caller commits in both cases.
    """
    now = now or utcnow()
    if user.totp_secret is None or not user.active:
        return False
    if user.locked_until is not None and user.locked_until > now:
        return False
    step = _matching_step(user.totp_secret, code, now, user.totp_last_step)
    if step is None:
        user.failed_logins = (user.failed_logins or 0) + 1
        lock = lockout_for(user.failed_logins)
        user.locked_until = now + lock if lock else None
        session.flush()
        return False
    user.totp_last_step = step
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return True


def enable(session: Session, user: User, secret: str, code: str, *,
           now: datetime | None = None) -> None:
    """Turn TOTP on for ``user`` with ``secret`` once ``code`` proves it; flushes.

    :raise ValidationFailed: if already enabled or the code is not valid.
    """
    now = now or utcnow()
    if user.totp_secret is not None:
        raise ValidationFailed(_("La verificación en dos pasos ya está activa."))
    step = _matching_step(secret, code, now, None) if secret else None
    if step is None:
        message = _("El código no es correcto. Revisa la hora de tu teléfono y escribe el "
                    "código que aparece ahora.")
        raise ValidationFailed(message, {"code": [message]})
    user.totp_secret = secret
    user.totp_last_step = step
    session.flush()


def disable(session: Session, user: User, password: str, code: str, *,
            now: datetime | None = None) -> None:
    """Turn TOTP off, with the password and a current code; flushes.

    :raise ValidationFailed: if it is not on, or the password or code is wrong.
    """
    now = now or utcnow()
    if user.totp_secret is None:
        raise ValidationFailed(_("La verificación en dos pasos no está activa."))
    errors: dict[str, list[str]] = {}
    if not user.check_password(password or ""):
        errors["password"] = [_("La contraseña no es correcta.")]
    step = _matching_step(user.totp_secret, code, now, user.totp_last_step)
    if step is None:
        errors["code"] = [_("El código no es correcto o ya se usó.")]
    if errors:
        raise ValidationFailed(_("No pudimos desactivar la verificación en dos pasos."),
                               errors)
    user.totp_secret = None
    user.totp_last_step = None
    session.flush()


def reset(session: Session, user: User) -> bool:
    """Turn TOTP off without a code (an administrator's reset); flushes.

    Returns False if it was not on.
    """
    if user.totp_secret is None:
        return False
    user.totp_secret = None
    user.totp_last_step = None
    session.flush()
    return True
