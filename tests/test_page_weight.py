"""The page weight budget: what a resident's phone downloads for the pages they
use most, counted as uncompressed bytes (the worst case: no gzip on the way).

Each page is fetched with the test client, then every asset it links that the
browser would fetch on load (stylesheets, scripts, images, icons, and the
fonts and images the stylesheets point to) is fetched too, and the bytes are
summed. An asset on another origin fails the test: the site must work with no
outside network.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from app.extensions import db
from tests.factories import make_category, make_department, make_ticket

BUDGET = 150 * 1024  # bytes, HTML + everything it loads
CSS_URL_RE = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class AssetLinks(HTMLParser):
    """The URLs a browser fetches while loading a page (not links it may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {
                "stylesheet", "icon", "preload", "apple-touch-icon", "manifest"}:
            self.urls.append(a["href"])
        elif tag in ("script", "img", "audio", "video", "source", "iframe") and a.get("src"):
            self.urls.append(a["src"])
        if a.get("srcset"):
            self.urls.extend(part.split()[0] for part in a["srcset"].split(",") if part.strip())


def page_weight(client, path: str) -> tuple[int, dict[str, int]]:
    """(total bytes, bytes per URL) of ``path`` and every same-origin asset it loads."""
    response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    sizes = {path: len(response.data)}
    parser = AssetLinks()
    parser.feed(response.get_data(as_text=True))
    pending = [urljoin(path, url) for url in parser.urls]
    while pending:
        url = pending.pop()
        parts = urlsplit(url)
        assert not parts.netloc or parts.netloc == "localhost", \
            f"{path} loads {url} from another origin (the site must work offline)"
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if local in sizes:
            continue
        asset = client.get(local)
        assert asset.status_code == 200, f"{path} links {local}, which answered " \
                                         f"{asset.status_code}"
        sizes[local] = len(asset.data)
        if asset.mimetype == "text/css":
            pending.extend(urljoin(local, m.group(1) or m.group(2))
                           for m in CSS_URL_RE.finditer(asset.get_data(as_text=True))
                           if not (m.group(1) or "").startswith("data:"))
    return sum(sizes.values()), sizes


def describe(sizes: dict[str, int]) -> str:
    return ", ".join(f"{url} {n / 1024:.1f} KB" for url, n in sizes.items())


@pytest.fixture
def tracking_code(app) -> str:
    with app.app_context():
        department = make_department(db.session, name="Alumbrado Público")
        for name in ("Luminaria apagada", "Microbasural", "Poda de árboles", "Bache"):
            make_category(db.session, department, name=name)
        ticket = make_ticket(db.session, make_category(db.session, department,
                                                       name="Semáforo"))
        db.session.commit()
        code = ticket.formatted_tracking_code
        db.session.remove()
    return code


@pytest.mark.parametrize("page", ["form", "status", "home"])
def test_resident_pages_stay_under_the_weight_budget(client, tracking_code, page):
    path = {"form": "/solicitudes/nueva", "status": f"/seguimiento/{tracking_code}",
            "home": "/"}[page]
    total, sizes = page_weight(client, path)
    assert any(url.endswith(".css") for url in sizes), f"{path} loads no stylesheet: {sizes}"
    assert total <= BUDGET, (f"{path} weighs {total / 1024:.1f} KB, over the "
                             f"{BUDGET // 1024} KB budget: {describe(sizes)}")
    print(f"{path}: {total / 1024:.1f} KB ({describe(sizes)})")


def test_weight_counts_the_assets_a_page_loads(client, tracking_code):
    """The measure is real: it includes the stylesheet's bytes, not just the HTML."""
    total, sizes = page_weight(client, "/solicitudes/nueva")
    css = client.get("/static/site.css")
    assert sizes.get("/static/site.css") == len(css.data) > 1000
    assert total == sum(sizes.values()) > len(client.get("/solicitudes/nueva").data)
