"""Attachments: checked by content, images cleaned of EXIF/GPS, stored outside the web
root, served only to who may see them; web form and staff uploads end to end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image

from app.accounts.models import Role
from app.domain import ValidationFailed
from app.tickets.attachments import Attachment, Kind, add_attachment, sanitize_filename
from app.tickets.models import EventKind, Ticket
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.pages import count, error_summary, text_of


def photo(fmt: str = "JPEG", size=(40, 20), gps: bool = True) -> bytes:
    """A real image with a camera's EXIF: orientation 6 (rotate 90°) and a GPS position."""
    image = Image.new("RGB", size, "red")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TelefonoX"
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "S"
        info[ExifTags.GPS.GPSLatitude] = (33.0, 29.0, 12.5)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def uploads(app, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(root))
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_image_is_stored_reencoded_without_exif_or_gps_and_upright(session, uploads, fmt):
    ticket = make_ticket(session, notify=False)
    original = photo(fmt)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    attachment = add_attachment(session, ticket, filename="foto del poste.jpeg",
                                data=original, public=True)

    (path,) = stored_files(uploads)
    stored = Image.open(path)
    assert stored.format == fmt
    assert dict(stored.getexif()) == {}  # no orientation, make, GPS pointer...
    assert "exif" not in stored.info
    assert stored.size == (20, 40)  # orientation 6 applied to the pixels
    assert attachment.content_type == f"image/{fmt.lower()}"
    assert attachment.size == path.stat().st_size
    assert str(uploads) in str(path) and "static" not in str(path)
    ext = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[fmt]
    assert attachment.filename == f"foto del poste{ext}"


def test_gif_becomes_png_and_pdf_is_kept_byte_for_byte(session, uploads):
    ticket = make_ticket(session, notify=False)
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, "GIF")
    as_png = add_attachment(session, ticket, filename="anim.gif", data=gif.getvalue(),
                            public=False)
    pdf = add_attachment(session, ticket, filename="certificado", data=PDF, public=False)
    assert (as_png.content_type, as_png.filename) == ("image/png", "anim.png")
    assert (pdf.content_type, pdf.filename) == ("application/pdf", "certificado.pdf")
    assert (uploads / pdf.storage_key).read_bytes() == PDF


@pytest.mark.parametrize("filename, data, message", [
    ("foto.jpg", b"<html><script>alert(1)</script></html>", "no es un tipo de archivo permitido"),
    ("foto.jpg", b"just some text pretending to be a photo", "no es un tipo de archivo permitido"),
    ("doc.pdf", b"MZ\x90\x00 an exe renamed", "no es un tipo de archivo permitido"),
    ("vacio.png", b"", "está vacío"),
    ("roto.jpg", photo("JPEG")[:200], "puede estar dañada"),
])
def test_file_whose_content_is_not_an_allowed_type_is_refused(session, uploads, filename,
                                                              data, message):
    ticket = make_ticket(session, notify=False)
    with pytest.raises(ValidationFailed) as caught:
        add_attachment(session, ticket, filename=filename, data=data, public=True)
    assert message in caught.value.field_errors["attachments"][0]
    assert stored_files(uploads) == []
    assert count(session, Attachment) == 0


def test_too_big_file_is_refused_with_the_limit(session, app, uploads, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    ticket = make_ticket(session, notify=False)
    with pytest.raises(ValidationFailed) as caught:
        add_attachment(session, ticket, filename="grande.pdf", data=PDF + b"0" * 1000,
                       public=True)
    assert "pesa más de" in caught.value.field_errors["attachments"][0]


def test_image_with_too_many_pixels_is_refused_before_decoding(session, app, uploads,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_PIXELS", 100)
    ticket = make_ticket(session, notify=False)
    with pytest.raises(ValidationFailed) as caught:
        add_attachment(session, ticket, filename="x.png", data=photo("PNG", (20, 20)),
                       public=True)
    assert "20 × 20" in caught.value.field_errors["attachments"][0]


def test_more_files_than_the_count_limit_are_refused(session, app, uploads, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_COUNT", 2)
    ticket = make_ticket(session, notify=False)
    add_attachment(session, ticket, filename="a.pdf", data=PDF, public=True)
    add_attachment(session, ticket, filename="b.pdf", data=PDF, public=True)
    with pytest.raises(ValidationFailed) as caught:
        add_attachment(session, ticket, filename="c.pdf", data=PDF, public=True)
    assert "como máximo 2 archivos" in caught.value.field_errors["attachments"][0]
    assert len(stored_files(uploads)) == 2


def test_files_of_a_rolled_back_transaction_are_deleted_and_committed_ones_kept(
        app, database, uploads):
    with database() as session:
        ticket = make_ticket(session, notify=False)
        add_attachment(session, ticket, filename="kept.pdf", data=PDF, public=True)
        session.commit()
        add_attachment(session, ticket, filename="lost.pdf", data=PDF, public=True)
        assert len(stored_files(uploads)) == 2
        session.rollback()
        assert len(stored_files(uploads)) == 1
        assert [a.filename for a in session.scalars(sa.select(Attachment))] == ["kept.pdf"]


@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd", "passwd.pdf"),
    ("C:\\Users\\rosa\\informe final.PDF", "informe final.pdf"),
    ("<script>.pdf", "script.pdf"),
    ("\x00\x1f.pdf", "adjunto.pdf"),
    ("", "sin nombre.pdf"),
])
def test_filenames_lose_paths_and_unsafe_characters(app_ctx, raw, expected):
    assert sanitize_filename(raw, Kind.PDF) == expected


def test_upload_writes_an_event_public_or_internal(session, uploads):
    ticket = make_ticket(session, notify=False)
    add_attachment(session, ticket, filename="a.pdf", data=PDF, public=False)
    event = [e for e in ticket.events if e.kind is EventKind.ATTACHMENT_ADDED][0]
    assert event.visibility.value == "internal" and event.body == "a.pdf"
    assert ticket.public_events[-1].kind is EventKind.CREATED


# --- HTTP: staff upload, serving, resident form -----------------------------------------

def login(client, email: str) -> None:
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    response = client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def served(database, uploads):
    """A request of Aseo with a public photo and an internal PDF; agents of Aseo and Obras."""
    with database() as session:
        aseo, obras = make_department(session, name="Aseo"), make_department(session)
        ticket = make_ticket(session, make_category(session, aseo), notify=False)
        public = add_attachment(session, ticket, filename="foto.jpg", data=photo(),
                                public=True)
        internal = add_attachment(session, ticket, filename="informe.pdf", data=PDF,
                                  public=False)
        aseo_agent = make_user(session, Role.AGENT, [aseo])
        obras_agent = make_user(session, Role.AGENT, [obras])
        session.commit()
        return {"ticket": ticket.id, "code": ticket.formatted_tracking_code,
                "public": public.id, "internal": internal.id,
                "aseo": aseo_agent.email, "obras": obras_agent.email}


def test_staff_of_the_department_get_files_with_detected_type_and_nosniff(client, served):
    login(client, served["aseo"])
    base = f"/gestion/solicitudes/{served['ticket']}/adjuntos"
    image = client.get(f"{base}/{served['public']}")
    document = client.get(f"{base}/{served['internal']}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    assert Image.open(io.BytesIO(image.data)).getexif().get(ExifTags.Base.Make) is None
    assert document.mimetype == "application/pdf" and document.data == PDF
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in document.headers["Content-Security-Policy"]


def test_another_departments_agent_gets_404_for_the_files(client, served):
    login(client, served["obras"])
    base = f"/gestion/solicitudes/{served['ticket']}/adjuntos"
    assert client.get(f"{base}/{served['public']}").status_code == 404
    assert client.get(f"{base}/{served['internal']}").status_code == 404


def test_anonymous_visitor_cannot_use_the_staff_file_url(client, served):
    response = client.get(f"/gestion/solicitudes/{served['ticket']}/adjuntos/{served['public']}")
    assert response.status_code == 302 and "/gestion/ingresar" in response.location


def test_tracking_code_serves_public_files_only(client, served):
    base = f"/seguimiento/{served['code']}/adjuntos"
    public = client.get(f"{base}/{served['public']}")
    assert public.status_code == 200 and public.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"{base}/{served['internal']}").status_code == 404
    assert client.get(f"/seguimiento/AAAA-AAAA-AAAA/adjuntos/{served['public']}").status_code == 404
    status_page = client.get(f"/seguimiento/{served['code']}").get_data(as_text=True)
    assert "foto.jpg" in status_page and "informe.pdf" not in status_page


def test_staff_upload_form_attaches_internal_file_and_refuses_fake_image(client, database,
                                                                         served, uploads):
    login(client, served["aseo"])
    url = f"/gestion/solicitudes/{served['ticket']}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    ok = client.post(f"{url}/adjuntos", content_type="multipart/form-data", data={
        "attachment-csrf_token": token,
        "attachment-files": (io.BytesIO(PDF), "acta.pdf")})
    assert ok.status_code == 302
    bad = client.post(f"{url}/adjuntos", content_type="multipart/form-data", data={
        "attachment-csrf_token": token,
        "attachment-files": (io.BytesIO(b"<html>hola</html>"), "foto.jpg")})
    assert bad.status_code == 422
    summary = text_of(error_summary(bad.get_data(as_text=True)))
    assert "no es un tipo de archivo permitido" in summary
    assert "Vuelve a elegir los archivos" in summary
    with database() as session:
        names = {a.filename: a.public for a in session.scalars(sa.select(Attachment))}
    assert names == {"foto.jpg": True, "informe.pdf": False, "acta.pdf": False}
    assert len(stored_files(uploads)) == 3


def form_data(client, **overrides):
    html = client.get("/solicitudes/nueva").get_data(as_text=True)
    return {"csrf_token": csrf_token_from(html), "description": "Microbasural en la esquina.",
            "name": "Rosa", "email": "rosa@example.cl", "consent": "y", **overrides}


def test_resident_form_creates_request_with_public_photo_without_gps(client, database,
                                                                     uploads):
    with database() as session:
        category = make_category(session)
        session.commit()
        category_id = category.id
    response = client.post("/solicitudes/nueva", content_type="multipart/form-data",
                           data=form_data(client, category=str(category_id), attachments=[
                               (io.BytesIO(photo()), "IMG_0001.JPG"),
                               (io.BytesIO(PDF), "receta.pdf")]))
    assert response.status_code == 302
    with database() as session:
        ticket = session.scalars(sa.select(Ticket)).one()
        assert [(a.filename, a.public, a.channel.value) for a in ticket.attachments] == [
            ("IMG_0001.jpg", True, "web"), ("receta.pdf", True, "web")]
        (photo_path,) = [p for p in stored_files(uploads) if p.suffix == ".jpg"]
        assert not Image.open(photo_path).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_resident_form_with_an_error_keeps_text_and_asks_to_choose_file_again(client,
                                                                              database,
                                                                              uploads):
    with database() as session:
        category = make_category(session)
        session.commit()
        category_id = category.id
    response = client.post("/solicitudes/nueva", content_type="multipart/form-data",
                           data=form_data(client, category=str(category_id),
                                          email="no-es-correo",
                                          attachments=[(io.BytesIO(photo()), "a.jpg")]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vuelve a elegir los archivos" in text_of(error_summary(html))
    assert "Microbasural en la esquina." in html
    assert stored_files(uploads) == []
    with database() as session:
        assert count(session, Ticket) == 0


def test_resident_form_refuses_fake_image_and_creates_nothing(client, database, uploads):
    with database() as session:
        category = make_category(session)
        session.commit()
        category_id = category.id
    response = client.post("/solicitudes/nueva", content_type="multipart/form-data",
                           data=form_data(client, category=str(category_id), attachments=[
                               (io.BytesIO(PDF), "ok.pdf"),
                               (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")]))
    assert response.status_code == 422
    assert "x.png" in text_of(error_summary(response.get_data(as_text=True)))
    assert stored_files(uploads) == []  # ok.pdf was written, then removed on rollback
    with database() as session:
        assert count(session, Ticket) == 0 and count(session, Attachment) == 0


def test_resident_form_shows_the_limits_next_to_the_file_input(client, app):
    html = client.get("/solicitudes/nueva").get_data(as_text=True)
    assert 'type="file"' in html and "multiple" in html
    assert 'aria-describedby="attachments-hint"' in html
    assert "Hasta 5 archivos de 10 MB" in text_of(html)


def test_body_over_the_total_limit_gets_a_spanish_page(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/solicitudes/nueva", content_type="multipart/form-data",
                           data={"attachments": (io.BytesIO(b"x" * 5000), "big.pdf")})
    assert response.status_code == 413
    assert "demasiado" in text_of(response.get_data(as_text=True))



@pytest.mark.parametrize("files, message", [
    ([(PDF, f"doc{i}.pdf") for i in range(6)], "como máximo 5 archivos"),
    ([(PDF + b"x" * 2000, "grande.pdf")], "pesa más de"),
    ([(b"GIF89a not really", "mal.gif")], "mal.gif"),
])
def test_resident_form_file_limits_are_explained_and_nothing_is_saved(
        client, app, database, uploads, monkeypatch, files, message):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1500)
    with database() as session:
        category = make_category(session)
        session.commit()
        category_id = category.id
    response = client.post("/solicitudes/nueva", content_type="multipart/form-data",
                           data=form_data(client, category=str(category_id), attachments=[
                               (io.BytesIO(data), name) for data, name in files]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = text_of(error_summary(html))
    assert message in summary and "Vuelve a elegir los archivos" in summary
    assert 'href="#attachments"' in error_summary(html)
    assert "Microbasural en la esquina." in html
    assert stored_files(uploads) == []
    with database() as session:
        assert count(session, Ticket) == 0
