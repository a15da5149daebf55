"""Queue emails in the caller's transaction; deliver them in a job of their own.

``enqueue`` only adds a row, so a message exists exactly when the change that
caused it was committed. ``deliver_pending`` sends what is due, one commit per
message, and on failure keeps the message queued with the error and a later
retry time (exponential backoff) until ``OUTBOX_MAX_ATTEMPTS`` is reached.

Headers are built from user input (names, subjects of incoming mail), so
``enqueue`` makes them safe: a subject loses every control character (no CR/LF
can start a new header) and a recipient must be one plain address.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_mail import Message
from jinja2 import TemplateNotFound
from sqlalchemy.orm import Session

from app.database import utcnow
from app.domain import DomainError
from app.extensions import mail
from app.i18n import written_for
from app.notifications.models import OutboxMessage, OutboxStatus
from app.privacy.scrubbing import scrub

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
SUBJECT_MAX = 255

# C0 and C1 controls (CR, LF, TAB...), DEL and the Unicode line separators.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# One bare addr-spec: no display name, no list, no spaces or angle brackets.
_PLAIN_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")


class UnsafeRecipient(DomainError, ValueError):
    """The recipient is not one plain email address (e.g. it carries a new line)."""


def safe_subject(subject: str) -> str:
    """``subject`` on one line: control characters become spaces, runs collapse."""
    return " ".join(_CONTROL_CHARS.sub(" ", subject or "").split())[:SUBJECT_MAX]


def checked_recipient(recipient: str) -> str:
    """``recipient`` stripped, if it is one plain address.

    :raise UnsafeRecipient: if it holds a control character, a space, a
        display name, several addresses or no ``@``.
    """
    value = (recipient or "").strip()
    if not _PLAIN_ADDRESS.fullmatch(value) or _CONTROL_CHARS.search(value):
        raise UnsafeRecipient(
            _("La dirección «%(address)s» no sirve para enviar un correo.",
              address=_CONTROL_CHARS.sub(" ", value)[:254]))
    return value


def _render_html(template: str, context: dict) -> str | None:
    name = f"emails/{template}.html"
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound as exc:
        if exc.name != name:
            raise  # the HTML version exists but its layout or an include is missing
        return None
    return render_template(name, **context)


def enqueue(
    session: Session,
    *,
    recipient: str,
    subject: str | LazyString,
    template: str,
    context: dict,
    ticket_id: int | None = None,
    now: datetime | None = None,
    headers: dict[str, str] | None = None,
    locale: str | None = None,
) -> OutboxMessage:
    """Render ``templates/emails/<template>.txt`` (and ``.html`` if any) and queue it.

    Subject and body are in the recipient's ``locale`` (None: Spanish), never
    in the language of the current request. Build ``subject`` and ``context``
    under ``app.i18n.written_for(locale)`` too (or pass a lazy subject), as
    the callers do.

    The subject is put on one line (see ``safe_subject``). ``headers`` are
    extra headers (e.g. ``In-Reply-To``) sent as given.

    :raise UnsafeRecipient: if ``recipient`` is not one plain address.
    :raise ValueError: if a header name is not a plain field name or a value
        holds a line break (header injection).
    """
    now = now or utcnow()
    checked_headers, address = _checked_headers(headers), checked_recipient(recipient)
    # In the recipient's language, whatever the language of the person whose
    # action caused the email; a lazy ``subject`` is translated here too.
    with written_for(locale):
        subject = safe_subject(str(subject))
        body_text = render_template(f"emails/{template}.txt", **context)
        body_html = _render_html(template, context)
    message = OutboxMessage(
        headers=checked_headers,
        recipient=address,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        template=template,
        ticket_id=ticket_id,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    return message


_HEADER_NAME_RE = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext: printable, no colon


def _checked_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    if not headers:
        return None
    for name, value in headers.items():
        if not _HEADER_NAME_RE.match(name) or any(c in value for c in "\r\n\0"):
            raise ValueError(f"unsafe email header {name!r}")
    return dict(headers)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def backoff_delay(attempts: int, base: timedelta = BACKOFF_BASE) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 1, 2, 4... ``base``, capped."""
    return min(base * (2 ** min(max(attempts - 1, 0), 16)), BACKOFF_MAX)


def message_id(message: OutboxMessage, sender: str) -> str:
    """The ``Message-ID`` of ``message``: the same on every attempt.

    SMTP has no exactly-once: if the process dies after the server accepted a
    message but before its ``sent`` mark is committed, the next run sends it
    again. That copy then carries the same Message-ID, so mail systems that
    deduplicate by it (and the reliability benchmark) can tell it is one message.
    """
    domain = parseaddr(sender or "")[1].rpartition("@")[2] or "conectados.local"
    stamp = message.created_at.strftime("%Y%m%d%H%M%S%f") if message.created_at else "0"
    return f"<outbox.{message.id}.{stamp}@{domain}>"


def deliver_pending(session: Session, *, now: datetime | None = None,
                    limit: int | None = None) -> DeliveryReport:
    """Send up to ``limit`` due messages through Flask-Mail, one commit each.

    Never raises for a delivery failure: the error is stored on the message.
    On PostgreSQL each message is claimed with ``FOR UPDATE SKIP LOCKED``, so
    two deliverers running at once never send the same message twice.
    """
    config = current_app.config
    now = now or utcnow()
    limit = limit or config["OUTBOX_BATCH_SIZE"]
    max_attempts = config["OUTBOX_MAX_ATTEMPTS"]
    backoff = timedelta(seconds=config["OUTBOX_BACKOFF_SECONDS"])
    report = DeliveryReport()

    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for _attempt in range(limit):
        message = session.scalar(query)
        if message is None:
            break
        try:
            _deliver_one(message, now=now, max_attempts=max_attempts, backoff=backoff,
                         report=report)
        except Exception:
            session.rollback()
            raise
        sent = message.status is OutboxStatus.SENT
        values = {"status": message.status, "attempts": message.attempts,
                  "sent_at": message.sent_at, "last_error": message.last_error}
        message_pk = message.id
        try:
            session.commit()
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            session.rollback()
            if not sent:
                raise  # nothing went out: the message is still pending, as before
            _save_sent_mark(session, message_pk, values,
                            patience=config["OUTBOX_SENT_MARK_PATIENCE_SECONDS"])
    return report


def _save_sent_mark(session: Session, message_pk: int, values: dict, *,
                    patience: float) -> None:
    """The SMTP server took the message but its commit failed (database gone).

    Forgetting that would send the message again once the database is back;
    so keep trying to record it, once a second, for up to ``patience``
    seconds (a database restart takes a few). Only if the database stays
    away longer does the message remain ``pending`` and go out a second time,
    with the same Message-ID.
    """
    deadline = time.monotonic() + patience
    while True:
        time.sleep(1)
        try:
            session.execute(sa.update(OutboxMessage)
                            .where(OutboxMessage.id == message_pk).values(**values)
                            .execution_options(synchronize_session=False))
            session.commit()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            session.rollback()
            if time.monotonic() >= deadline:
                log.error("outbox message %s was sent but cannot be marked sent (%s): it "
                          "will be sent again", message_pk, type(exc).__name__)
                raise
            continue
        log.warning("outbox message %s: sent while the database was unreachable; its sent "
                    "mark is saved now", message_pk)
        return


def _deliver_one(message: OutboxMessage, *, now: datetime, max_attempts: int,
                 backoff: timedelta, report: DeliveryReport) -> None:
    message.attempts += 1
    email = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.body_text,
        html=message.body_html,  # multipart/alternative when there is one
        extra_headers=message.headers or None,
    )
    email.msgId = message_id(message, email.sender or "")
    try:
        mail.send(email)
    except Exception as exc:  # any SMTP or socket failure is recorded, not raised
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= max_attempts:
            message.status = OutboxStatus.FAILED
            report.failed += 1
            log.warning("outbox message %s failed for good: %s", message.id,
                        scrub(message.last_error))  # SMTP errors may name the address
        else:
            message.next_attempt_at = now + backoff_delay(message.attempts, backoff)
            report.retrying += 1
            log.info("outbox message %s will be retried: %s", message.id,
                     scrub(message.last_error))
        return
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.last_error = None
    report.sent += 1


def retry_failed(session: Session, ids: list[int] | None = None, *,
                 now: datetime | None = None) -> int:
    """Put ``failed`` messages (all, or those in ``ids``) back in the queue, due now.

    Their attempt count restarts, so they get the full backoff again; the last
    error stays until a delivery succeeds. Flushes, never commits. Returns how
    many were requeued.
    """
    now = now or utcnow()
    query = (sa.update(OutboxMessage)
             .where(OutboxMessage.status == OutboxStatus.FAILED)
             .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
             .execution_options(synchronize_session=False))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    count = session.execute(query).rowcount
    session.flush()
    return count
