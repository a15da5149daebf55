"""The mailbox poller: one pass over the unseen messages of an IMAP folder.

For each unseen message (fetched with ``BODY.PEEK[]``, so a failure leaves it
unseen): ``intake.ingest_message`` and a commit, then the message is flagged
``\\Seen`` and moved to ``IMAP_PROCESSED_FOLDER`` (created if missing), so it
is never fetched again. One transaction per message: a message that fails is
rolled back, recorded aside as malformed with the error (its bytes kept) and
moved too; the pass goes on with the next one. If even that record cannot be
written (the database is down), the message stays unseen in the folder and
the next pass tries again; the Message-ID makes that retry idempotent.

Connection security: ``ssl`` (IMAPS, port 993), ``starttls`` (port 143,
upgraded before login) or ``plain`` (no encryption: only for loopback tests).
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.channels.email.intake import (
    EmailIntakeNotConfigured,
    IntakeSettings,
    ingest_message,
    load_settings,
    message_key,
)
from app.channels.email.models import InboundEmail, InboundSource, InboundStatus
from app.channels.email.parser import MalformedEmail, parse_message
from app.database import utcnow

log = logging.getLogger(__name__)

SECURITY_MODES = ("ssl", "starttls", "plain")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class MailboxError(RuntimeError):
    """The mailbox could not be reached, logged in to, or opened."""


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    port: int
    security: str
    user: str
    password: str = field(repr=False)
    folder: str
    processed_folder: str
    timeout: int
    batch_size: int


@dataclass
class PollReport:
    fetched: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0  # messages whose handling raised (recorded aside) or could not be moved

    def add(self, status: InboundStatus) -> None:
        self.counts[status.value] = self.counts.get(status.value, 0) + 1

    def summary(self) -> str:
        parts = [f"{k} {v}" for k, v in sorted(self.counts.items())]
        return f"fetched {self.fetched}" + (", " + ", ".join(parts) if parts else "") + (
            f", errors {self.errors}" if self.errors else "")


def mailbox_settings(config: Mapping[str, object]) -> MailboxSettings:
    """Read and check the IMAP settings.

    :raise EmailIntakeNotConfigured: if the host, user or password is missing,
        the security mode is unknown, or ``plain`` is asked for a non-loopback host.
    """
    host = str(config.get("IMAP_HOST") or "").strip()
    security = str(config.get("IMAP_SECURITY") or "ssl").strip().lower()
    if not host:
        raise EmailIntakeNotConfigured(_("Falta IMAP_HOST: el servidor del buzón de correo."))
    if security not in SECURITY_MODES:
        raise EmailIntakeNotConfigured(_(
            "IMAP_SECURITY debe ser ssl, starttls o plain (no «%(value)s»).", value=security))
    if security == "plain" and host not in _LOOPBACK:
        raise EmailIntakeNotConfigured(_(
            "IMAP_SECURITY=plain envía la clave sin cifrar: solo se permite con un "
            "servidor local (127.0.0.1). Usa ssl o starttls."))
    user, password = str(config.get("IMAP_USER") or ""), str(config.get("IMAP_PASSWORD") or "")
    if not user or not password:
        raise EmailIntakeNotConfigured(_("Faltan IMAP_USER o IMAP_PASSWORD."))
    folder = str(config.get("IMAP_FOLDER") or "INBOX")
    processed = str(config.get("IMAP_PROCESSED_FOLDER") or "")
    if not processed or processed == folder:
        raise EmailIntakeNotConfigured(_(
            "IMAP_PROCESSED_FOLDER debe ser una carpeta distinta de IMAP_FOLDER."))
    for name, value in (("IMAP_FOLDER", folder), ("IMAP_PROCESSED_FOLDER", processed)):
        if not value.isascii() or not value.isprintable() or '"' in value:
            raise EmailIntakeNotConfigured(_(
                "%(name)s solo puede tener letras sin tilde, números y signos simples.",
                name=name))
    port = int(config.get("IMAP_PORT") or 0) or (993 if security == "ssl" else 143)
    return MailboxSettings(
        host=host, port=port, security=security, user=user, password=password,
        folder=folder, processed_folder=processed,
        timeout=int(config.get("IMAP_TIMEOUT_SECONDS") or 30),
        batch_size=int(config.get("IMAP_BATCH_SIZE") or 100),
    )


def connect(settings: MailboxSettings,
            ssl_context: ssl.SSLContext | None = None) -> imaplib.IMAP4:
    """Open and log in to the mailbox.

    :raise MailboxError: on a network, TLS or login failure.
    """
    context = ssl_context or ssl.create_default_context()
    try:
        if settings.security == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port,
                                                   ssl_context=context,
                                                   timeout=settings.timeout)
        else:
            conn = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
            if settings.security == "starttls":
                conn.starttls(ssl_context=context)
        conn.login(settings.user, settings.password)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(_("No se pudo conectar al buzón %(host)s:%(port)d: %(error)s",
                             host=settings.host, port=settings.port,
                             error=f"{type(exc).__name__}: {exc}")) from exc
    return conn


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ensure_folder(conn: imaplib.IMAP4, folder: str) -> None:
    status, _data = conn.select(_quote(folder), readonly=True)
    if status == "OK":
        return
    status, data = conn.create(_quote(folder))
    if status != "OK":
        raise MailboxError(_("No se pudo crear la carpeta %(folder)s: %(error)s",
                             folder=folder, error=data))
    conn.subscribe(_quote(folder))


_UID_RE = re.compile(rb"UID (\d+)")


def poll_once(session: Session, config: Mapping[str, object], *,
              now: datetime | None = None,
              ssl_context: ssl.SSLContext | None = None) -> PollReport:
    """Process the folder's unseen messages once (at most ``IMAP_BATCH_SIZE``).

    Commits once per message. ``now`` fixes the received time (tests).

    :raise EmailIntakeNotConfigured: when the settings are incomplete (checked
        before connecting).
    :raise MailboxError: when the mailbox cannot be reached or opened.
    """
    mailbox = mailbox_settings(config)
    settings = load_settings(session, config)
    session.commit()  # end the read transaction; each message gets its own
    report = PollReport()
    conn = connect(mailbox, ssl_context)
    try:
        _ensure_folder(conn, mailbox.processed_folder)
        status, data = conn.select(_quote(mailbox.folder))
        if status != "OK":
            raise MailboxError(_("No se pudo abrir la carpeta %(folder)s: %(error)s",
                                 folder=mailbox.folder, error=data))
        status, data = conn.uid("SEARCH", None, "UNSEEN")
        if status != "OK":
            raise MailboxError(_("El buzón rechazó la búsqueda: %(error)s", error=data))
        uids = data[0].split()[:mailbox.batch_size] if data and data[0] else []
        can_move = _has_capability(conn, "MOVE")
        for uid in uids:
            raw = _fetch(conn, uid)
            if raw is None:
                report.errors += 1
                continue
            report.fetched += 1
            recorded = _handle(session, raw, settings=settings, now=now, report=report)
            if recorded and not _move(conn, uid, mailbox.processed_folder, can_move):
                report.errors += 1
        if not can_move:
            conn.expunge()
    except (OSError, imaplib.IMAP4.error) as exc:  # the connection dropped mid-pass
        # Messages already committed stay recorded; the rest are still unseen.
        raise MailboxError(_("Se perdió la conexión con el buzón: %(error)s",
                             error=f"{type(exc).__name__}: {exc}")) from exc
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return report


def _has_capability(conn: imaplib.IMAP4, name: str) -> bool:
    """Ask again after login: servers announce more capabilities then (e.g. MOVE)."""
    status, data = conn.capability()
    words = data[0].decode("ascii", "replace").upper().split() if status == "OK" and data else []
    return name in words or name in conn.capabilities


def _fetch(conn: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        log.warning("mailbox: could not fetch UID %s: %s", uid, data)
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    log.warning("mailbox: UID %s has no body in the answer", uid)
    return None


def _handle(session: Session, raw: bytes, *, settings: IntakeSettings,
            now: datetime | None, report: PollReport) -> bool:
    """Ingest and commit one message; on any error record it aside. True if recorded."""
    try:
        outcome = ingest_message(session, raw, settings=settings,
                                 source=InboundSource.IMAP, now=now or utcnow())
        session.commit()
        report.add(outcome.status)
        return True
    except Exception as exc:  # one bad message never stops the pass
        session.rollback()
        log.exception("mailbox: a message could not be processed; keeping it aside")
        report.errors += 1
        error = exc
    try:
        if _set_aside(session, raw, error, now=now or utcnow()):
            report.add(InboundStatus.MALFORMED)
        session.commit()
        return True
    except Exception:
        session.rollback()
        log.exception("mailbox: could not record the failed message; it stays unseen")
        return False


def _set_aside(session: Session, raw: bytes, exc: Exception, *, now: datetime) -> bool:
    """Keep a message whose handling failed, with the error, unless already kept."""
    try:
        message_id = parse_message(raw).message_id
    except MalformedEmail as malformed:
        message_id = malformed.message_id
    except Exception:
        message_id = None
    key = message_key(raw, message_id)
    if session.scalar(sa.select(InboundEmail.id).where(InboundEmail.message_key == key)):
        return False  # e.g. lost a race with another pass: it is recorded already
    session.add(InboundEmail(
        message_key=key, raw=raw, source=InboundSource.IMAP, received_at=now,
        status=InboundStatus.MALFORMED, attachment_count=0,
        reason=_("Error al procesar: %(error)s", error=f"{type(exc).__name__}: {exc}")[:2000],
    ))
    session.flush()
    return True


def _move(conn: imaplib.IMAP4, uid: bytes, folder: str, can_move: bool) -> bool:
    conn.uid("STORE", uid, "+FLAGS", r"(\Seen)")
    if can_move:
        status, data = conn.uid("MOVE", uid, _quote(folder))
    else:
        status, data = conn.uid("COPY", uid, _quote(folder))
        if status == "OK":
            conn.uid("STORE", uid, "+FLAGS", r"(\Deleted)")
    if status != "OK":
        log.warning("mailbox: could not move UID %s to %s: %s", uid, folder, data)
        return False
    return True
