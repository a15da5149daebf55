"""Screenshots of the main pages at phone (390x844) and desktop (1280x800) sizes,
on the demo data (``flask seed demo``), each page also checked with axe-core.

By default the PNGs go to a temporary folder and the test checks they are real
images of the right size. To refresh the ones the README shows:

    SCREENSHOTS_DIR=docs/screenshots python -m pytest tests/browser/test_screenshots.py -k sqlite
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.seed.demo import DEMO_PASSWORD, seed_demo
from app.tickets.models import EventKind, EventVisibility, Status, Ticket, TicketEvent
from tests.browser.test_survey_browser import assert_no_axe_violations

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
ADMIN = "admin@demo.conectados.cl"
MAX_SCREENS = 3


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def sample_ticket(app) -> tuple[str, int]:
    """A request in progress with a public reply: (tracking code, id)."""
    with app.app_context():
        summary = seed_demo(db.session, request_count=80)
        assert not summary.already_seeded
        db.session.commit()
        ticket = db.session.scalars(
            sa.select(Ticket).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(Ticket.status == Status.IN_PROGRESS, TicketEvent.kind == EventKind.PUBLIC_REPLY,
                   TicketEvent.visibility == EventVisibility.PUBLIC)
            .order_by(Ticket.id)).first()
        assert ticket is not None, "the demo data has no request in progress with a reply"
        values = ticket.formatted_tracking_code, ticket.id
        db.session.remove()
    return values


def test_screenshots_of_the_main_pages(app, open_page, tmp_path):
    target = Path(os.environ.get("SCREENSHOTS_DIR", "").strip() or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    code, ticket_id = sample_ticket(app)
    public = [("home", "/"), ("form", "/solicitudes/nueva"),
              ("status", f"/seguimiento/{code}"), ("transparency", "/transparencia")]
    staff = [("queue", "/gestion/"), ("detail", f"/gestion/solicitudes/{ticket_id}"),
             ("dashboard", "/gestion/tablero/"), ("admin", "/gestion/admin/")]
    saved = []
    for size, (width, height) in SIZES.items():
        options = {} if size == "phone" else {"is_mobile": False, "has_touch": False}
        page: Page = open_page(width, height, device_scale_factor=1, **options)
        for name, path in public:
            saved.append(shoot(page, path, target / f"{name}-{size}.png"))
        page.goto("/gestion/ingresar")
        page.get_by_label("Correo").fill(ADMIN)
        page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Bandeja de solicitudes")
        for name, path in staff:
            saved.append(shoot(page, path, target / f"{name}-{size}.png"))
    for path in saved:
        width, height = png_size(path)
        expected_width, screen = SIZES[path.stem.rsplit("-", 1)[1]]
        assert width == expected_width and screen <= height <= screen * MAX_SCREENS, \
            f"{path.name} is {width}x{height}"


def shoot(page: Page, path: str, file: Path) -> Path:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path} answered {response and response.status}"
    assert_no_axe_violations(page, file.stem)
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    full = page.evaluate("document.documentElement.scrollHeight")
    # The whole page, up to MAX_SCREENS screens (the queue's rows sit below its tools).
    page.screenshot(path=str(file), full_page=True,
                    clip={"x": 0, "y": 0, "width": width,
                          "height": min(full, height * MAX_SCREENS)})
    return file
