"""Parse one raw email (RFC 822 bytes) into what intake needs; pure, no database.

Uses the standard library's ``email`` package with ``policy.default``, which
decodes RFC 2047 headers, quoted-printable and base64 bodies, and charsets.
HTML is reduced to text with BeautifulSoup (the raw HTML is never kept);
quoted replies and signatures are trimmed where they are recognisable.

Automated mail (auto-replies, mailing lists, bounces) is classified rather
than refused: the caller ignores it and never answers it.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser

from bs4 import BeautifulSoup
from flask_babel import gettext as _

from app.tickets.tracking import InvalidTrackingCode, normalize_code

SUBJECT_MAX = 255
NAME_MAX = 120
MESSAGE_ID_MAX = 255
ADDRESS_MAX = 254  # RFC 5321's limit for a path, and the column's
_MSGID_RE = re.compile(r"<[^<>\s]+>")
# A tracking code as we print it (K7QM-2XDP-9RTA), also with spaces or none.
_CODE_RE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{4})[- ]?([0-9A-Za-z]{4})[- ]?"
                      r"([0-9A-Za-z]{4})(?![0-9A-Za-z])")
# Lines that start the quoted original in a reply, in Spanish and English clients.
_REPLY_HEADER_RES = [
    re.compile(r"^\s*(el|on)\b.{0,200}\b(escribió|wrote)\s*:?\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(mensaje original|original message|forwarded message|"
               r"mensaje reenviado)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above its "De:/From:" block
]
_OUTLOOK_HEADER_RE = re.compile(r"^\s*\*?(de|from)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT_RE = re.compile(r"^\s*\*?(enviado|sent|fecha|date|para|to)\s*:", re.IGNORECASE)
_MOBILE_SIGNATURE_RE = re.compile(
    r"^\s*(enviado desde mi|sent from my|obtener outlook para|get outlook for)\b",
    re.IGNORECASE)
_BLOCK_TAGS = ["p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
               "h6", "pre", "hr", "section", "article", "header", "footer", "address"]
_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")


class MailKind(enum.StrEnum):
    """Who wrote the message: a person, or a machine that must never be answered."""

    PERSONAL = "personal"
    AUTO_REPLY = "auto_reply"  # Auto-Submitted, X-Autoreply, vacation notices
    BULK = "bulk"  # Precedence bulk/junk/list, mailing lists (List-Id)
    BOUNCE = "bounce"  # delivery status notifications


class MalformedEmail(ValueError):
    """The bytes are not a usable email; ``reason`` says why (Spanish, for staff).

    Carries whatever could still be read, so the message is kept with it.
    """

    def __init__(self, reason: str, *, message_id: str | None = None,
                 sender: str | None = None, subject: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_id = message_id
        self.sender = sender
        self.subject = subject


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedEmail:
    sender: str | None  # the From address, lower-cased; None only for automated mail
    name: str | None  # the From display name, decoded
    subject: str
    message_id: str | None  # "<…>", as written by the sender's system
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str  # the resident's own words: quotes and signature trimmed
    full_text: str  # the whole body as text (quotes kept), searched for codes
    attachments: tuple[ParsedAttachment, ...]
    kind: MailKind
    kind_reason: str | None  # which header or part made it automated

    @property
    def automated(self) -> bool:
        return self.kind is not MailKind.PERSONAL

    def tracking_codes(self) -> list[str]:
        """Valid tracking codes written in the subject, then the body (in order, once)."""
        found: list[str] = []
        for text in (self.subject, self.full_text):
            for match in _CODE_RE.finditer(text):
                try:
                    code = normalize_code("".join(match.groups()))
                except InvalidTrackingCode:
                    continue
                if code not in found:
                    found.append(code)
        return found


def parse_message(raw: bytes) -> ParsedEmail:
    """Parse ``raw`` (one RFC 822 message).

    :raise MalformedEmail: when it is empty, not an email at all, or a message
        from a person without a usable From address.
    """
    if not raw or not raw.strip():
        raise MalformedEmail(_("El mensaje está vacío."))
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        headers = _read_headers(message)
    except MalformedEmail:
        raise
    except Exception as exc:  # the email package can raise almost anything on garbage
        raise MalformedEmail(_("No se pudieron leer las cabeceras: %(error)s",
                               error=f"{type(exc).__name__}: {exc}")) from exc
    message_id, sender, name, subject = headers
    if not any(message.get(h) is not None for h in ("From", "Date", "Message-ID", "Subject")):
        raise MalformedEmail(_("No es un correo: no tiene cabeceras reconocibles."),
                             message_id=message_id)

    try:
        kind, kind_reason = classify(message, sender)
    except Exception as exc:
        raise MalformedEmail(_("No se pudo leer la estructura: %(error)s",
                               error=f"{type(exc).__name__}: {exc}"),
                             message_id=message_id, sender=sender, subject=subject) from exc
    if kind is MailKind.PERSONAL and sender is None:
        raise MalformedEmail(
            _("No tiene un remitente válido (cabecera From)."),
            message_id=message_id, subject=subject)
    try:
        full_text, own_text, attachments = _read_body(message)
    except Exception as exc:
        raise MalformedEmail(_("No se pudo leer el cuerpo: %(error)s",
                               error=f"{type(exc).__name__}: {exc}"),
                             message_id=message_id, sender=sender, subject=subject) from exc
    return ParsedEmail(
        sender=sender, name=name, subject=subject, message_id=message_id,
        in_reply_to=_first_message_id(_header_text(message, "In-Reply-To")),
        references=tuple(_MSGID_RE.findall(_header_text(message, "References"))),
        text=trim_reply(own_text), full_text=full_text,
        attachments=tuple(attachments), kind=kind, kind_reason=kind_reason,
    )


def classify(message: EmailMessage, sender: str | None) -> tuple[MailKind, str | None]:
    """Tell mail written by a person from auto-replies, list mail and bounces."""
    content_type = message.get_content_type()
    if (content_type == "multipart/report"
            and message.get_param("report-type", "").lower() == "delivery-status"):
        return MailKind.BOUNCE, "multipart/report; report-type=delivery-status"
    if any(part.get_content_type() == "message/delivery-status" for part in message.walk()):
        return MailKind.BOUNCE, "message/delivery-status"
    if sender is not None and sender.startswith(_BOUNCE_SENDERS):
        return MailKind.BOUNCE, f"From: {sender}"
    if _header_text(message, "Return-Path").strip() == "<>":
        # The null sender: only bounces and auto-replies use it (RFC 3834, 5321).
        return MailKind.AUTO_REPLY, "Return-Path: <>"
    auto_submitted = _header_text(message, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return MailKind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if message.get(header) is not None:
            return MailKind.AUTO_REPLY, header
    precedence = _header_text(message, "Precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return MailKind.BULK, f"Precedence: {precedence}"
    for header in ("List-Id", "List-Unsubscribe"):
        if message.get(header) is not None:
            return MailKind.BULK, header
    return MailKind.PERSONAL, None


def _read_headers(message: EmailMessage) -> tuple[str | None, str | None, str | None, str]:
    message_id = _first_message_id(_header_text(message, "Message-ID"))
    sender = name = None
    from_header = message.get("From")
    if from_header is not None:
        addresses: tuple[Address, ...] = getattr(from_header, "addresses", ())
        usable = [a for a in addresses if a.username and a.domain
                  and len(a.addr_spec) <= ADDRESS_MAX]
        if len(usable) == 1:
            sender = clean_text(unescape_raw(usable[0].addr_spec)).lower()
            name = clean_text(unescape_raw(usable[0].display_name or ""))
            name = " ".join(name.split())[:NAME_MAX].strip() or None
    subject = clean_text(_header_text(message, "Subject"))[:SUBJECT_MAX].strip()
    return message_id, sender, name, subject


def _header_text(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return "" if value is None else unescape_raw(str(value))


def unescape_raw(text: str) -> str:
    """Undo the surrogate escapes the parser uses for raw 8-bit header bytes.

    Raw UTF-8 in headers (RFC 6532) is common; ISO-8859-1 is the fallback.
    """
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


def _first_message_id(value: str) -> str | None:
    match = _MSGID_RE.search(value or "")
    if match is None or len(match.group(0)) > MESSAGE_ID_MAX:
        return None
    return match.group(0)


def _read_body(message: EmailMessage) -> tuple[str, str, list[ParsedAttachment]]:
    """The whole body as text, the body without HTML-quoted parts, and the attachments."""
    body = message.get_body(preferencelist=("plain", "html"))
    text = own_text = ""
    if body is not None:
        text = own_text = _part_text(body)
        if body.get_content_type() == "text/html":
            text = html_to_text(own_text, keep_quotes=True)
            own_text = html_to_text(own_text)
    attachments: list[ParsedAttachment] = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        content_type = part.get_content_type()
        if part.get_content_maintype() == "message":
            continue  # an attached email is walked into; its parts count on their own
        filename = part.get_filename()
        if not (filename or part.is_attachment()):
            # an alternative of the body (e.g. the HTML next to the plain text)
            continue
        data = part.get_payload(decode=True) or b""
        attachments.append(ParsedAttachment(
            filename=_safe_filename(filename, len(attachments) + 1, content_type),
            content_type=content_type, data=data))
    return normalize_whitespace(text), normalize_whitespace(own_text), attachments


def _part_text(part: EmailMessage) -> str:
    """Decode a text part: its declared charset, else UTF-8, else Windows-1252/Latin-1.

    Declared charsets lie (or are missing while the body is 8-bit UTF-8), and
    an unknown one must not lose the text.
    """
    payload = part.get_payload(decode=True) or b""
    declared = part.get_content_charset() or "us-ascii"
    for charset in (declared, "utf-8", "windows-1252"):
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("iso-8859-1")


def html_to_text(html: str, *, keep_quotes: bool = False) -> str:
    """Readable text of an HTML body: no tags, scripts, styles, images.

    Quoted replies (``blockquote``, Gmail/Thunderbird/Outlook quote blocks)
    are dropped unless ``keep_quotes`` (to search them for a tracking code).
    """
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "template", "noscript"]):
        tag.decompose()
    if not keep_quotes:
        for tag in soup.select("blockquote, div.gmail_quote, div.moz-cite-prefix, "
                               "div#appendonsend, div#divRplyFwdMsg"):
            tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text()


def normalize_whitespace(text: str) -> str:
    lines = [" ".join(line.split()) for line in clean_text(text).splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def clean_text(text: str) -> str:
    """Drop NUL and other control characters (keep newlines and tabs)."""
    return "".join(c for c in text
                   if c in "\r\n\t" or unicodedata.category(c)[0] != "C")


def trim_reply(text: str) -> str:
    """Cut the quoted original and the signature from a reply, where recognisable.

    If that would leave nothing, the whole text is returned.
    """
    lines = text.splitlines()
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.rstrip()
        if stripped in ("--", "-- ") or _MOBILE_SIGNATURE_RE.match(stripped):
            break
        if any(r.match(stripped) for r in _REPLY_HEADER_RES):
            break
        if (_OUTLOOK_HEADER_RE.match(stripped) and index + 1 < len(lines)
                and _OUTLOOK_NEXT_RE.match(lines[index + 1])):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    trimmed = normalize_whitespace("\n".join(kept))
    return trimmed or text


def _safe_filename(filename: str | None, number: int, content_type: str) -> str:
    name = clean_text(filename or "").replace("/", "_").replace("\\", "_").strip(" .")
    if not name:
        extension = {"image/png": ".png", "image/jpeg": ".jpg",
                     "application/pdf": ".pdf"}.get(content_type, "")
        name = f"adjunto-{number}{extension}"
    return name[:200]
