"""Real-browser fixtures: the app on a loopback HTTP server, driven by Chromium.

Chromium comes from Debian (``apt-get install chromium``), never from
``playwright install``. Without ``/usr/bin/chromium`` the browser tests are
skipped, or fail when ``REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.url = f"http://{self.host}:{self.port}"
        self._server = make_server(self.host, self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="live-server", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """The session ``app`` (so: once per DB backend) served over real HTTP."""
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        reason = (f"{CHROMIUM} not found: install Debian's chromium "
                  "(apt-get install -y chromium) to run the browser tests")
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@pytest.fixture
def open_page(browser, live_server):
    """Make pages of a given viewport (phone-like: touch, mobile) on the live server.

    Every page reports Content-Security-Policy violations from the console; the
    test fails if there was any (the site's CSP allows no inline script or style).
    """
    contexts = []
    violations: list[str] = []

    def watch(message) -> None:
        if is_csp_violation(message.text):
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def make(width: int = 375, height: int = 740, **options):
        """``options`` override the phone defaults, e.g. ``is_mobile=False`` for a
        desktop zoomed to 200% (half its width in CSS pixels, scale factor 2)."""
        settings = {"has_touch": True, "is_mobile": True, "device_scale_factor": 2, **options}
        context = browser.new_context(viewport={"width": width, "height": height},
                                      base_url=live_server.url, locale="es-CL", **settings)
        context.set_default_timeout(10_000)
        context.on("console", watch)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def phone(open_page):
    """A 375x740 phone-sized page whose relative URLs hit the live server."""
    return open_page(375, 740)


@pytest.fixture
def screenshot():
    """``screenshot(page, name)`` saves a full-page PNG to $BROWSER_SHOTS, when set."""
    target = os.environ.get("BROWSER_SHOTS", "").strip()

    def save(page, name: str) -> None:
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)

    return save
