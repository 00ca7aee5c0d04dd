"""What a reviewer found using the app as a new user, in a real browser (each test failed before its fix).

One server shared by the tests, which run in file order; the network is trained a while first.
Screenshots go to test-artifacts/review-*.png.
"""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    LiveServer,
    browser,
    chromium_path,
    ensure_paused,
    open_tab,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(chromium_path, tmp_path_factory):
    srv = LiveServer(extra_args=["--checkpoint-dir", tmp_path_factory.mktemp("ckpt"), "--no-autosave", "--flat-out"]).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def trained(browser, server):
    """Train to iteration ≥ 3000 (test accuracy well above chance; snapshots and evaluations recorded)."""
    context, pg = open_tab(browser, server.url)
    pg.get_by_test_id("play-pause").click()
    wait_until(lambda: (server.state() or {}).get("iteration", 0) >= 3000, 90, message="3000 iterations")
    ensure_paused(pg, server)
    context.close()
    return True


def command(server, message: dict) -> dict:
    """Send one command as another tab would, and return the server's answer (ack or error)."""
    with connect(f"ws://127.0.0.1:{server.port}/ws", max_size=None) as ws:
        ws.send(json.dumps(message))
        while True:
            reply = ws.recv(timeout=10)
            if isinstance(reply, str) and json.loads(reply)["type"] in ("ack", "error"):
                return json.loads(reply)


def test_a_tab_that_vanishes_in_the_walkthrough_does_not_keep_training_paused(browser, server, trained):
    """Review item 3: a tab gone without `pagehide` (here its goodbye is dropped) left its hold for ever."""
    command(server, {"type": "set_params", "steps_per_second": 20})
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        assert command(server, {"type": "play"})["type"] == "ack"
        wait_until(lambda: server.state()["running"], 10, message="training to run")
        page.get_by_test_id("mode-walkthrough").click()
        page.wait_for_function("window.__lab.walkthrough.ready", timeout=15000)
        assert server.state()["running"] is False
        # the hold belongs to this tab's websocket
        assert page.evaluate("window.__lab.walkthrough.holdsFor === window.__lab.store.connection")
        page.evaluate("window.__lab.walkthrough.holds.length = 0")  # its `pagehide` goodbye never arrives
    finally:
        context.close()
    wait_until(lambda: server.state()["running"], 40, message="training to run again once the tab is gone")
    assert command(server, {"type": "pause"})["type"] == "ack"
    command(server, {"type": "set_params", "steps_per_second": None})
