"""Photos and documents attached to a request, and where their bytes live.

``add_attachment`` is the one way a file is attached, whatever the channel
(web form, counter, staff page, email intake). It checks the size, the count
per request and the type *by content* (Pillow for images, the ``%PDF-``
signature for PDF; the name is never trusted), re-encodes images without
their metadata (EXIF, GPS, XMP, comments) after applying the EXIF
orientation, and stores the bytes through a small storage interface
(``LocalStorage`` under ``UPLOADS_DIR``, outside the web root).

Files and rows: the file is written before the row is flushed. The key of
every file written in a transaction is kept in ``session.info``; if that
transaction rolls back the files are deleted, and on commit the list is
dropped. Only a crash between the write and the commit can leave a file no
row points to (harmless: it is never served, and a sweep can compare keys).
"""

from __future__ import annotations

import enum
import hashlib
import io
import os
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.accounts.models import User
from app.database import UTCDateTime, utcnow
from app.domain import ValidationFailed
from app.extensions import db
from app.tickets.models import (
    ActorKind,
    Channel,
    EventKind,
    EventVisibility,
    Ticket,
    TicketEvent,
    _str_enum,
)

FILENAME_MAX = 120
FIELD = "attachments"


class Kind(enum.StrEnum):
    """What the content turned out to be; decides how it is stored and served."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    PDF = "pdf"


CONTENT_TYPES = {Kind.JPEG: "image/jpeg", Kind.PNG: "image/png", Kind.WEBP: "image/webp",
                 Kind.PDF: "application/pdf"}
EXTENSIONS = {Kind.JPEG: ".jpg", Kind.PNG: ".png", Kind.WEBP: ".webp", Kind.PDF: ".pdf"}
# For the file inputs' ``accept`` (a hint to the browser; the content decides).
ACCEPTED_TYPES = "image/jpeg,image/png,image/webp,image/gif,application/pdf"
# Pillow format name -> what we store. GIF becomes PNG (first frame): animations
# add nothing to a report and PNG keeps it lossless.
_IMAGE_FORMATS = {"JPEG": Kind.JPEG, "PNG": Kind.PNG, "WEBP": Kind.WEBP, "GIF": Kind.PNG,
                  "MPO": Kind.JPEG}  # MPO: JPEG from some phone cameras


class Attachment(db.Model):
    """A stored file of a request. ``public``: shown on the resident's status page."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(FILENAME_MAX + 8))
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    public: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(_str_enum(Channel))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(
        backref=sa.orm.backref("attachments", order_by="Attachment.id",
                               cascade="all, delete-orphan"))
    uploaded_by: Mapped[User | None] = relationship()

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.content_type} {self.size}B>"


# --- storage -------------------------------------------------------------------------------

class Storage(Protocol):
    """Where attachment bytes live. Keys are ASCII paths made by ``add_attachment``."""

    def save(self, key: str, data: bytes) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files on a local disk under ``root`` (``instance/uploads`` by default).

    Keys must be relative paths of ``[A-Za-z0-9._-]`` segments; anything else
    (``..``, absolute paths) is refused, so a key can never leave ``root``.
    """

    _KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not self._KEY.match(key) or ".." in key:
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # readers never see half a file

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def storage() -> Storage:
    """The configured storage (local disk today; object storage would plug in here)."""
    return LocalStorage(current_app.config["UPLOADS_DIR"])


# --- checking and cleaning the content -----------------------------------------------------

@dataclass(frozen=True)
class CleanFile:
    kind: Kind
    data: bytes
    filename: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def _refuse(message: str):
    raise ValidationFailed(message, {FIELD: [message]})


def sanitize_filename(name: str | None, kind: Kind) -> str:
    """A safe display name: no path, no control characters, the right extension."""
    name = unicodedata.normalize("NFC", _display_name(name))
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^\w .()-]+", "_", stem).strip(" ._") or "adjunto"
    return stem[:FILENAME_MAX] + EXTENSIONS[kind]


def _display_name(name: str | None) -> str:
    """The name as the user knows it, for messages (no path, no control characters)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:FILENAME_MAX] or _("sin nombre")


def _clean_image(data: bytes, display_name: str) -> tuple[Kind, bytes]:
    max_pixels = current_app.config["ATTACHMENT_MAX_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = _IMAGE_FORMATS.get(image.format or "")
                if kind is None:
                    _refuse(_not_allowed(display_name))
                width, height = image.size
                if width * height > max_pixels:  # checked before decoding the pixels
                    _refuse(_("La imagen «%(name)s» es demasiado grande (%(w)d × %(h)d "
                              "píxeles).", name=display_name, w=width, h=height))
                image.load()
                upright = ImageOps.exif_transpose(image)
                return kind, _encode(upright, kind)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(_("La imagen «%(name)s» es demasiado grande.", name=display_name))
    except UnidentifiedImageError:
        _refuse(_not_allowed(display_name))
    except (OSError, ValueError, SyntaxError):
        _refuse(_("No pudimos leer la imagen «%(name)s»; puede estar dañada.",
                  name=display_name))
    raise AssertionError("unreachable")


def _not_allowed(display_name: str) -> str:
    return _("«%(name)s» no es un tipo de archivo permitido. Sube fotos JPG, PNG o WebP, "
             "o documentos PDF.", name=display_name)


def _encode(image: Image.Image, kind: Kind) -> bytes:
    """Write the pixels again: no EXIF, GPS, XMP, ICC or comments survive."""
    out = io.BytesIO()
    if kind is Kind.JPEG:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=88, optimize=True)
    elif kind is Kind.WEBP:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, "WEBP", quality=85)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def clean_upload(filename: str | None, data: bytes) -> CleanFile:
    """Check one upload's size and type by content; re-encode images.

    :raise ValidationFailed: (field ``attachments``) when it is empty, larger
        than ``ATTACHMENT_MAX_BYTES``, not a JPEG/PNG/WebP/GIF image or PDF
        document whatever its name says, damaged, or has too many pixels.
    """
    display_name = _display_name(filename)
    max_bytes = current_app.config["ATTACHMENT_MAX_BYTES"]
    if not data:
        _refuse(_("El archivo «%(name)s» está vacío.", name=display_name))
    if len(data) > max_bytes:
        _refuse(_("«%(name)s» pesa más de %(mb)s MB, el máximo por archivo.",
                  name=display_name, mb=_megabytes(max_bytes)))
    if data.startswith(b"%PDF-"):
        kind = Kind.PDF
    else:
        kind, data = _clean_image(data, display_name)
    return CleanFile(kind=kind, data=data, filename=sanitize_filename(filename, kind))


def _megabytes(n: int) -> str:
    value = n / (1024 * 1024)
    return f"{value:.0f}" if value >= 1 else f"{value:.1f}".replace(".", ",")


def limits_hint() -> str:
    """The limits in one Spanish sentence, for the forms' hints."""
    config = current_app.config
    return _("Hasta %(count)d archivos de %(mb)s MB cada uno: fotos JPG, PNG o WebP, o "
             "documentos PDF. Las fotos se guardan sin su ubicación ni otros datos "
             "ocultos.", count=config["ATTACHMENT_MAX_COUNT"],
             mb=_megabytes(config["ATTACHMENT_MAX_BYTES"]))


# --- attaching -----------------------------------------------------------------------------

def add_attachment(session: Session, ticket: Ticket, *, filename: str | None, data: bytes,
                   public: bool, uploaded_by: User | None = None,
                   channel: Channel | None = None, now: datetime | None = None) -> Attachment:
    """Attach a file to ``ticket``: check it, clean it, store it, record it.

    ``public`` files are shown on the resident's status page (by tracking
    code); the others only to staff who can see the request. ``channel``
    defaults to the request's own. Flushes but never commits; the stored file
    is deleted again if the transaction rolls back.

    :raise ValidationFailed: (field ``attachments``) as ``clean_upload``, or
        when the request already has ``ATTACHMENT_MAX_COUNT`` files.
    """
    now = now or utcnow()
    max_count = current_app.config["ATTACHMENT_MAX_COUNT"]
    session.flush()
    existing = session.scalar(sa.select(sa.func.count(Attachment.id))
                              .where(Attachment.ticket_id == ticket.id))
    if existing >= max_count:
        _refuse(_("Una solicitud puede tener como máximo %(n)d archivos.", n=max_count))
    clean = clean_upload(filename, data)
    key = f"{ticket.id}/{secrets.token_hex(16)}{EXTENSIONS[clean.kind]}"
    _track_written_file(session, key)
    storage().save(key, clean.data)
    attachment = Attachment(
        ticket=ticket, filename=clean.filename, content_type=clean.content_type,
        size=len(clean.data), sha256=hashlib.sha256(clean.data).hexdigest(),
        storage_key=key, public=public, uploaded_by=uploaded_by,
        channel=channel or ticket.channel, created_at=now)
    session.add(attachment)
    session.add(TicketEvent(
        ticket=ticket, kind=EventKind.ATTACHMENT_ADDED,
        visibility=EventVisibility.PUBLIC if public else EventVisibility.INTERNAL,
        actor_kind=ActorKind.STAFF if uploaded_by else ActorKind.RESIDENT,
        actor=uploaded_by, body=clean.filename, created_at=now))
    ticket.updated_at = max(ticket.updated_at, now) if ticket.updated_at else now
    session.flush()
    return attachment


def open_attachment(attachment: Attachment) -> BinaryIO:
    return storage().open(attachment.storage_key)


_WRITTEN = "attachments.written"


def _track_written_file(session: Session, key: str) -> None:
    """Remember ``key`` so that if this transaction does not commit, the file goes.

    ``after_commit`` forgets the keys; ``after_transaction_end`` of the
    outermost transaction (rollback, or a session closed without commit)
    deletes whatever is still remembered.
    """
    real = session() if isinstance(session, sa.orm.scoped_session) else session
    if not sa.event.contains(real, "after_transaction_end", _delete_unsaved):
        sa.event.listen(real, "after_commit", _forget_written)
        sa.event.listen(real, "after_transaction_end", _delete_unsaved)
    real.info.setdefault(_WRITTEN, []).append((storage(), key))


def _forget_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


def _delete_unsaved(session: Session, transaction) -> None:
    if transaction.parent is not None:  # a savepoint; the outer transaction decides
        return
    for store, key in session.info.pop(_WRITTEN, []):
        store.delete(key)
