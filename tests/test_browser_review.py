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


CHART_STATE = """() => {
  const lab = window.__lab, s = lab.store.series;
  return {iteration: lab.store.state.iteration, points: s.length, first: s.length ? s.iters[0] : null,
          last: s.lastIteration, xMax: lab.chart.geom ? lab.chart.geom.xMax : null,
          accuracy: lab.store.accuracy.map((a) => a[0]),
          snapshots: lab.scrubber.snapshots.map((x) => x.iteration)};
}"""


def test_the_cost_chart_starts_again_after_a_reset_in_every_tab(browser, server, trained):
    """Review item 1: after Network → Reset, Play, the chart kept saying "Press Play…" (in the tab that
    reset and in another one) until the new run passed the old run's last iteration."""
    ctx_a, a = open_tab(browser, server.url, 1280, 720)
    ctx_b, b = open_tab(browser, server.url, 1280, 720)
    try:
        old = server.state()["iteration"]
        assert old >= 3000
        a.locator("#editor summary").click()
        a.locator("#reset").click()
        a.get_by_test_id("reset-confirm-ok").click()
        for page in (a, b):
            page.wait_for_function("window.__lab.store.state.iteration === 0 && window.__lab.store.helloCount >= 2")
            # nothing of the old run is left: not its costs, its scale, its evaluations or its snapshots
            page.wait_for_function(f"(({CHART_STATE})()).xMax === null || (({CHART_STATE})()).xMax <= 10")
        for _ in range(3):
            assert command(server, {"type": "step"})["type"] == "ack"
        for page in (a, b):
            page.wait_for_function(f"(({CHART_STATE})()).points === 3", timeout=10000)
            state = page.evaluate(CHART_STATE)
            assert state["first"] == 1 and state["last"] == 3 and state["xMax"] <= 10, state
            assert all(it <= 3 for it in state["accuracy"]), state
            page.wait_for_function(f"(({CHART_STATE})()).snapshots.every((it) => it <= 3)")
        shot(a, "review-chart-after-reset-1280")
        shot(b, "review-chart-after-reset-other-tab-1280")
    finally:
        ctx_a.close()
        ctx_b.close()
