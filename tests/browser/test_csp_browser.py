"""The browser fixtures' CSP watch really sees violations (so a clean run means something)."""

from __future__ import annotations

from tests.browser.conftest import is_csp_violation


def test_chromium_reports_an_inline_style_blocked_by_the_site_policy(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    messages: list[str] = []
    context.on("console", lambda message: messages.append(message.text))
    page = context.new_page()
    policy = live_server_policy(page)
    page.route("**/csp-probe", lambda route: route.fulfill(
        status=200, content_type="text/html",
        headers={"Content-Security-Policy": policy},
        body="<!doctype html><p style='color:red'>x</p><script>document.title='x'</script>"))
    try:
        page.goto("/csp-probe")
        page.wait_for_timeout(300)
        assert page.title() != "x"  # the inline script did not run
        assert any(is_csp_violation(text) for text in messages), messages
    finally:
        context.close()


def live_server_policy(page) -> str:
    """The policy the app really sends on its pages."""
    response = page.goto("/")
    return response.headers["content-security-policy"]
