"""Reading the files of a submitted form and attaching them (a view helper)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from app.accounts.models import User
from app.domain import ValidationFailed
from app.tickets.attachments import FIELD, add_attachment
from app.tickets.models import Channel, Ticket

Upload = tuple[str, bytes]


def read_uploads(files: Iterable[FileStorage] | None) -> list[Upload]:
    """(name, bytes) of each chosen file; reads at most one byte past the limit.

    An empty part without a name (no file chosen) is skipped.

    :raise ValidationFailed: when more files than ``ATTACHMENT_MAX_COUNT`` came.
    """
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    uploads = []
    for item in files or []:
        if not isinstance(item, FileStorage):
            continue
        data = item.stream.read(limit + 1)
        if not data and not item.filename:
            continue
        uploads.append((item.filename or "", data))
    max_count = current_app.config["ATTACHMENT_MAX_COUNT"]
    if len(uploads) > max_count:
        message = _("Puedes adjuntar como máximo %(n)d archivos.", n=max_count)
        raise ValidationFailed(message, {FIELD: [message]})
    return uploads


def attach_uploads(session: Session, ticket: Ticket, uploads: list[Upload], *,
                   public: bool, uploaded_by: User | None = None,
                   channel: Channel | None = None) -> None:
    """Attach each upload; the first refused one stops with its message.

    :raise ValidationFailed: as ``tickets.attachments.add_attachment``.
    """
    for name, data in uploads:
        add_attachment(session, ticket, filename=name, data=data, public=public,
                       uploaded_by=uploaded_by, channel=channel)


def reselect_message() -> str:
    return _("Vuelve a elegir los archivos que querías adjuntar: por seguridad el "
             "navegador no los guarda cuando el formulario tiene errores.")
