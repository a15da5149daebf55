"""axe-core on every HTML page of the app, in Spanish and in English.

The pages are the GET routes of the access matrix (``ROUTES`` in
tests/test_access_matrix.py, which fails on any route it does not classify),
so a new page is checked here as soon as it exists. Each is opened in the
matrix's own world of data, on a 320 px wide phone, by the first of
anonymous, an agent, a supervisor, a manager and an admin whom the matrix
lets in: resident, staff, manager and admin pages alike. Every page must
answer as it should (200, or 410 for a made-up sign-in link), carry the
language's ``lang``, have no axe-core violation (with WCAG 2.2's target
size on) and nothing sticking out sideways (WCAG 1.4.10).
"""

from __future__ import annotations

import pytest

from tests.browser.test_resident_browser import describe_violations, sideways_overflow
from tests.factories import PASSWORD
from tests.test_access_matrix import OK, ROUTES, world  # noqa: F401 (world: a fixture)

VISITORS = ["anonymous", "agent_own", "supervisor_own", "manager", "admin"]
# axe-core's defaults plus WCAG 2.2 AA's target size (2.5.8: 24 x 24 px), off by default.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
NOT_HTML = ("/api/v1/openapi.json", "/static/", "/healthz", "/readyz", "/open311/")
HTML_UNDER_API = "/api/v1/docs"
# Pages whose right answer in the matrix's world is not 200: a made-up sign-in link is gone.
STATUS = {"residents.redeem": 410}


def html_pages() -> dict[str, tuple[str, str]]:
    """``endpoint -> (path template, visitor)`` for every HTML page."""
    pages = {}
    for name, route in sorted(ROUTES.items()):
        path = route.path
        if "GET" not in route.methods or path.startswith(NOT_HTML):
            continue
        if path.startswith("/api/") and path != HTML_UNDER_API:
            continue
        if path.endswith((".csv", ".json", ".xml")) or "/adjuntos/" in path:
            continue  # downloads and files
        visitor = next((v for v in VISITORS if route.access(v) == OK), None)
        assert visitor is not None, f"{name}: no visitor may open it"
        pages[name] = (path, visitor)
    return pages


PAGES = html_pages()


def test_the_sweep_covers_the_pages_people_use():
    # A guard against the filter above quietly dropping pages.
    for name in ("resident.home", "resident.submit", "resident.status", "staff.queue",
                 "staff.detail", "metrics.dashboard", "admin.category_edit",
                 "transparency.municipality", "api_docs.page", "residents.request_link"):
        assert name in PAGES, name
    assert len(PAGES) >= 60


def sign_in(page, email: str) -> None:
    page.goto("/gestion/ingresar")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/gestion/ingresar" not in url)


@pytest.mark.parametrize(("language", "tag"), [("es_CL", "es-CL"), ("en", "en")])
def test_every_page_passes_axe_and_reflows_in_both_languages(app, world,  # noqa: F811
                                                             open_page, live_server,
                                                             language, tag):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages_by_visitor: dict[str, object] = {}
    problems: list[str] = []
    checked = 0
    for name, (template, visitor) in PAGES.items():
        page = pages_by_visitor.get(visitor)
        if page is None:
            page = open_page(320, 640)  # WCAG 1.4.10: 320 CSS px
            if visitor != "anonymous":
                sign_in(page, world.emails[visitor])
            page.context.add_cookies([{"name": "lang", "value": language,
                                       "url": live_server.url}])
            pages_by_visitor[visitor] = page
        response = page.goto(world.path(template))
        if response is None or response.status != STATUS.get(name, 200):
            problems.append(f"{name} as {visitor}: HTTP "
                            f"{response.status if response else '?'} at {page.url}")
            continue
        if page.locator("html").get_attribute("lang") != tag:
            problems.append(f"{name}: <html lang> is not {tag}")
        results = axe.run(page, options=AXE_OPTIONS)
        if results.violations_count:
            problems.append(f"{name} as {visitor} ({page.url}):\n"
                            f"{describe_violations(results.response)}")
        problems.extend(f"{name}: {line}" for line in sideways_overflow(page))
        checked += 1
    assert not problems, f"{len(problems)} problem(s) on {len(PAGES)} pages:\n" + \
        "\n".join(problems)
    assert checked == len(PAGES)
