"""The email parser on a corpus of real-shaped messages (tests/email_corpus/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.channels.email.parser import (
    MailKind,
    MalformedEmail,
    html_to_text,
    parse_message,
    trim_reply,
)

CORPUS = Path(__file__).parent / "email_corpus"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.mark.parametrize(("name", "sender", "display_name", "subject", "text"), [
    ("plain_utf8.eml", "rosa.perez@example.cl", "Rosa Pérez",
     "Luminaria apagada en pasaje Los Aromos",
     "Hola, la luminaria frente al número 1234 del pasaje Los Aromos está apagada\n"
     "hace una semana. Los vecinos tenemos miedo de salir de noche.\n\nGracias."),
    ("latin1_qp.eml", "maria@example.cl", "María Ibáñez", "Hoyo en la calle Ñuble",
     "Buenas tardes:\nHay un hoyo enorme en la calle Ñuble con Pirámide, frente a la "
     "panadería.\nUn auto ya rompió un neumático."),
    ("base64_body.eml", "pedro@example.cl", "Pedro Soto", "Retiro de ramas",
     "Solicito retiro de ramas que quedaron en la vereda después de la poda.\n"
     "Dirección: Av. Grecia 8735."),
    ("rfc2047_headers.eml", "jose@example.cl", "José Muñoz", "Árbol caído en la plaza 🌳",
     "Un arbol cayo en la plaza y bloquea el paso de los peatones."),
    ("multipart_alternative.eml", "luis@example.cl", "Luis Vera", "Semáforo intermitente",
     "El semáforo de Consistorial con Grecia está en amarillo intermitente desde la mañana."),
    ("unknown_charset.eml", "beatriz@example.cl", "Beatriz Fuentes",
     "Perro abandonado en la plaza",
     "Hay un perro abandonado en la plaza hace tres dias, necesita ayuda."),
])
def test_personal_messages_decode_sender_subject_and_body(name, sender, display_name, subject,
                                                          text):
    parsed = parse_message(corpus(name))

    assert parsed.kind is MailKind.PERSONAL and not parsed.automated
    assert (parsed.sender, parsed.name, parsed.subject) == (sender, display_name, subject)
    assert parsed.text == text
    assert parsed.message_id and parsed.message_id.startswith("<")
    assert parsed.attachments == ()


def test_html_only_body_becomes_safe_text_without_markup_scripts_or_quotes():
    parsed = parse_message(corpus("html_only.eml"))

    assert parsed.text == ("Hay un microbasural en la esquina de Tobalaba & Grecia.\n\n"
                           "Lleva dos semanas.\nPor favor, retírenlo.")
    for leftover in ("<", "alert", "color: red", "pixel.gif"):
        assert leftover not in parsed.full_text
    assert "Texto citado" not in parsed.text
    assert "Texto citado de un correo anterior" in parsed.full_text


def test_tracking_code_quoted_in_an_html_reply_is_found_but_not_kept_as_text():
    raw = ("From: a@example.cl\nSubject: Re: Recibimos tu solicitud\n"
           "Content-Type: text/html; charset=utf-8\n\n"
           "<div>Sigue sin luz.</div><div class=\"gmail_quote\">El lun escribió:"
           "<blockquote>Código de seguimiento: <b>K7QM-2XDP-9RTZ</b></blockquote></div>"
           ).encode()

    parsed = parse_message(raw)

    assert parsed.text == "Sigue sin luz."
    assert parsed.tracking_codes() == ["K7QM2XDP9RTZ"]


def test_attachments_are_decoded_with_their_names_and_types():
    parsed = parse_message(corpus("attachments.eml"))

    assert parsed.text == ("La vereda frente al consultorio está rota. "
                           "Adjunto una foto y el informe.")
    png, pdf = parsed.attachments
    assert (png.filename, png.content_type) == ("foto.png", "image/png")
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (pdf.filename, pdf.content_type) == ("informe_señal.pdf", "application/pdf")
    assert pdf.data.startswith(b"%PDF-1.4") and pdf.data.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize(("name", "kind", "reason"), [
    ("auto_submitted.eml", MailKind.AUTO_REPLY, "Auto-Submitted: auto-replied"),
    ("x_autoreply.eml", MailKind.AUTO_REPLY, "X-Autoreply"),
    ("precedence_bulk.eml", MailKind.BULK, "Precedence: bulk"),
    ("mailing_list.eml", MailKind.BULK, "List-Id"),
    ("dsn.eml", MailKind.BOUNCE, "multipart/report; report-type=delivery-status"),
])
def test_automated_messages_are_classified_with_the_reason(name, kind, reason):
    parsed = parse_message(corpus(name))

    assert parsed.automated
    assert (parsed.kind, parsed.kind_reason) == (kind, reason)


@pytest.mark.parametrize(("headers", "kind"), [
    ("Auto-Submitted: auto-generated", MailKind.AUTO_REPLY),
    ("Precedence: junk", MailKind.BULK),
    ("Precedence: list", MailKind.BULK),
    ("X-Autorespond: vacation", MailKind.AUTO_REPLY),
    ("List-Unsubscribe: <mailto:baja@lista.example.cl>", MailKind.BULK),
    ("Return-Path: <>", MailKind.AUTO_REPLY),
])
def test_automation_headers_are_recognised(headers, kind):
    raw = (f"From: Alguien <alguien@example.cl>\nSubject: Hola\n{headers}\n"
           "Message-ID: <a@example.cl>\n\nUn texto cualquiera de prueba.\n").encode()

    assert parse_message(raw).kind is kind


def test_auto_submitted_no_is_a_person():
    raw = (b"From: a@example.cl\nSubject: Hola\nAuto-Submitted: no\n\n"
           b"Escribo yo misma este mensaje.\n")

    assert parse_message(raw).kind is MailKind.PERSONAL


def test_bounce_from_mailer_daemon_without_report_part_is_a_bounce():
    raw = (b"From: MAILER-DAEMON@mx.example.cl\nSubject: failure notice\n\n"
           b"Sorry, we were unable to deliver your message.\n")

    assert parse_message(raw).kind is MailKind.BOUNCE


@pytest.mark.parametrize(("name", "codes", "text"), [
    ("reply_code_subject.eml", ["K7QM2XDP9RTZ"], "La luminaria se volvio a apagar anoche."),
    # the code is in the quoted confirmation; signature and quote are trimmed
    ("reply_code_body.eml", ["M4NP8QRS2TVC"],
     "Sigue igual: nadie ha venido a revisar la luminaria."),
    ("outlook_reply.eml", [], "Les agradezco la respuesta, quedo atento."),
])
def test_replies_carry_tracking_codes_and_are_trimmed(name, codes, text):
    parsed = parse_message(corpus(name))

    assert parsed.tracking_codes() == codes
    assert parsed.text == text


def test_reply_keeps_its_threading_headers():
    parsed = parse_message(corpus("reply_code_subject.eml"))

    assert parsed.in_reply_to == "<confirmation-1@conectados.local>"
    assert parsed.references == ("<original-1@example.cl>", "<confirmation-1@conectados.local>")


@pytest.mark.parametrize("text", [
    "Mi código es K7QM-2XDP-9RTA",  # wrong check character
    "Pedido 2026-000001",  # a public number is not a code
    "ABCDEFGHJKMNPQ",  # too long to be one
])
def test_invalid_or_absent_codes_are_not_taken(text):
    raw = f"From: a@example.cl\nSubject: {text}\n\nNada más que decir aquí.\n".encode()

    assert parse_message(raw).tracking_codes() == []


@pytest.mark.parametrize(("raw", "reason"), [
    (corpus("no_from.eml"), "remitente"),
    (corpus("bad_from.eml"), "remitente"),
    (corpus("garbage.eml"), "no tiene cabeceras"),
    (b"", "vacío"),
    (b"   \r\n\r\n", "vacío"),
    (b"From: a@example.cl, b@example.cl\nSubject: dos\n\nDos remitentes a la vez.\n",
     "remitente"),
    (b"From: " + b"a" * 250 + b"@example.cl\nSubject: largo\n\nRemitente demasiado largo.\n",
     "remitente"),
])
def test_malformed_messages_are_refused_with_a_reason(raw, reason):
    with pytest.raises(MalformedEmail) as caught:
        parse_message(raw)

    assert reason in caught.value.reason


def deeply_nested(levels: int = 3000) -> bytes:
    opening = b"".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'.encode()
                       for i in range(levels))
    closing = b"".join(f"--b{i}--\n".encode() for i in reversed(range(levels)))
    return (b"From: a@example.cl\nSubject: anidado\nMIME-Version: 1.0\n" + opening
            + b"Content-Type: text/plain\n\nHola, texto al fondo.\n" + closing)


def test_absurdly_nested_message_is_malformed_not_a_crash():
    with pytest.raises(MalformedEmail) as caught:
        parse_message(deeply_nested())

    assert "RecursionError" in caught.value.reason


def test_malformed_message_still_reports_its_message_id():
    with pytest.raises(MalformedEmail) as caught:
        parse_message(corpus("no_from.eml"))

    assert caught.value.message_id == "<no-from-0016@example.cl>"


def test_control_characters_and_nul_bytes_are_removed():
    raw = b"From: a@example.cl\nSubject: Hola\x00 mundo\n\nTexto\x00 con\x07 basura.\n"

    parsed = parse_message(raw)

    assert parsed.subject == "Hola mundo"
    assert parsed.text == "Texto con basura."


@pytest.mark.parametrize(("text", "kept"), [
    ("Nuevo texto\n\n> citado\n> más", "Nuevo texto"),
    ("Hola\n-- \nFirma", "Hola"),
    ("Arriba\n\nOn Mon, Nov 30, 2026 at 10:00 AM Someone <a@b.cl> wrote:\n> x", "Arriba"),
    ("Arriba\n-----Mensaje original-----\nDe: x", "Arriba"),
    ("> todo citado\n> nada nuevo", "> todo citado\n> nada nuevo"),  # nothing left: keep all
])
def test_trim_reply(text, kept):
    assert trim_reply(text) == kept


def test_html_to_text_keeps_words_and_drops_tags():
    assert html_to_text("<p>Uno<br>dos</p><script>x()</script>").split() == ["Uno", "dos"]


@pytest.mark.parametrize(("raw", "text"), [
    # 8-bit UTF-8 without any Content-Type (declared us-ascii by default)
    ("From: a@example.cl\nSubject: x\n\nYa volvió la luz.\n".encode(), "Ya volvió la luz."),
    # declared UTF-8, but written in Latin-1
    ("From: a@example.cl\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n"
     "Ya volvió la luz.\n".encode("iso-8859-1"), "Ya volvió la luz."),
])
def test_undeclared_or_wrong_charsets_still_give_the_words(raw, text):
    assert parse_message(raw).text == text
