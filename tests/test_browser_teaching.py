"""Teaching with Backprop Lab in a real browser (issue 16, parts 3 and 4): a tab whose token is refused
gets one clear message instead of reconnecting forever; links that carry a lesson (share → open in a
fresh page → the same network and view); a reset in the shared session asks first; other tabs are told.
Screenshots: test-artifacts/teaching-*.png.
"""

from __future__ import annotations

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    LiveServer,
    browser,
    chromium_path,
    free_port,
    settle_page,
    shot,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.browser

REFUSED = "This server restarted with a new address or token — open the new link from the teacher."


@pytest.mark.parametrize("size", [(390, 844), (1280, 720)], ids=["phone", "laptop"])
def test_a_tab_whose_token_is_refused_says_so_once_and_stops_reconnecting(browser, tmp_path, size):
    """The server restarts with another token: the open tab says what to do, once, and stops knocking."""
    width, height = size
    port = free_port()
    srv = LiveServer(port=port, host="0.0.0.0", extra_args=["--checkpoint-dir", tmp_path, "--no-autosave"])
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=width < 500)
    try:
        srv.start()
        page = context.new_page()
        page.goto(srv.url)
        wait_connected(page)
        srv.stop()
        srv.extra_args += ["--token", "a-new-token-for-today"]
        srv.start()
        page.wait_for_function("document.querySelector('[data-testid=connection]').dataset.state === 'refused'",
                               timeout=30000)
        assert page.locator("#conn-banner-text").inner_text() == REFUSED
        assert page.get_by_test_id("connection").inner_text() == "refused"
        # no retry is scheduled, and none happens: the connection stays down however long we look
        attempts = page.evaluate("window.__lab.connection.attempts")
        assert page.evaluate("window.__lab.connection.timer") is None
        page.wait_for_timeout(1500)  # several backoff periods: a retrying page would have tried again
        assert page.evaluate("window.__lab.connection.attempts") == attempts
        assert page.locator("#reconnect-now").is_hidden()  # "Retry now" would only be refused again
        settle_page(page)
        shot(page, f"teaching-refused-token-{width}x{height}")
        # the page itself, reloaded with the old token, says the same
        page.reload()
        assert REFUSED.split(" — ")[0] in page.locator("body").inner_text()
    finally:
        context.close()
        srv.stop()
