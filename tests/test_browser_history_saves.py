"""Looking back after a restart, in a real browser (issue 13: "snapshots are saved with the autosave and
with checkpoints that ask for history"): train, save a checkpoint "with history" from the page, stop the
server (it autosaves), start it again with --resume, reload the page, and scrub back to the start.

Screenshots go to test-artifacts/history-saves-*.png.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    browser,
    chromium_path,
    open_tab,
    LiveServer,
    ensure_paused,
    settle_page,
    shot,
    wait_until,
)
from test_browser_history import HEAT_SUM

pytestmark = pytest.mark.browser


def api(server, path, method="GET", body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method, data=body)
    if server.token:
        request.add_header("X-Backprop-Token", server.token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def scrub_to_start(page):
    """Drag on the timeline to its far left: iteration 0."""
    box = page.get_by_test_id("history-timeline").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
    page.mouse.up()
    page.wait_for_function("window.__lab.scrubber.current && window.__lab.scrubber.current.snap.iteration === 0")


def test_after_a_restart_the_page_scrubs_back_through_the_whole_training(browser, chromium_path, tmp_path):
    folder = tmp_path / "checkpoints"
    srv = LiveServer(extra_args=["--checkpoint-dir", folder, "--flat-out"]).start()
    try:
        context, page = open_tab(browser, srv.url, 1280, 720)
        page.get_by_test_id("play-pause").click()
        wait_until(lambda: (srv.state() or {}).get("epoch", 0) >= 1, 60, message="an epoch")
        ensure_paused(page, srv)
        before = api(srv, "/api/snapshots")["snapshots"]
        assert [s["iteration"] for s in before][:8] == [0, 1, 2, 4, 8, 16, 32, 64] and 6000 in [s["iteration"] for s in before]
        now = srv.state()["iteration"]
        page.wait_for_function("window.__lab.store.example && window.__lab.networkView.heatCanvas")
        page.evaluate("window.__lab.scrubber.scrubTo(0)")
        page.wait_for_function("window.__lab.scrubber.current && window.__lab.scrubber.current.snap.iteration === 0")
        maps_at_0 = page.evaluate(HEAT_SUM)  # the first-layer maps at iteration 0, before the restart
        page.get_by_test_id("history-now").click()

        # save "with history" from the page: the note says how many snapshots went with it
        page.locator("#checkpoints > summary").click()
        page.get_by_test_id("ckpt-name").fill("with-history")
        page.get_by_test_id("ckpt-snapshots").check()
        page.wait_for_function("document.querySelector('[data-testid=ckpt-snapshots-size]').textContent.includes('snapshots')")
        size_text = page.get_by_test_id("ckpt-snapshots-size").inner_text()
        page.get_by_test_id("ckpt-save").click()
        ok = page.locator("#ok-ckpt-save")
        ok.wait_for(state="visible")
        assert f"with {len(before)} snapshots" in ok.inner_text(), ok.inner_text()
        item = page.locator(".ckpt-item[data-name='with-history']")
        item.wait_for()
        assert f"{len(before)} snapshots" in item.locator(".ckpt-info").inner_text()
        settle_page(page)
        shot(page, "history-saves-saved-1280")
        context.close()
        listed = {e["name"]: e for e in api(srv, "/api/checkpoints")["checkpoints"]}
        assert listed["with-history"]["snapshots"] == len(before)
        assert f"({len(before)} snapshots," in size_text, size_text

        # stop (it autosaves), start again from the autosave
        srv.stop()
        srv.extra_args.append("--resume")
        srv.start()
        assert srv.state()["iteration"] == now
        context, page = open_tab(browser, srv.url, 1280, 720)
        page.wait_for_function("window.__lab.store.example && window.__lab.networkView.heatCanvas")
        page.wait_for_function(f"window.__lab.scrubber.snapshots.length === {len(before) + (0 if now in [s['iteration'] for s in before] else 1)}")
        assert page.evaluate("window.__lab.scrubber.snapshots.map(s => s.iteration)")[: len(before)] == [s["iteration"] for s in before]
        live = page.evaluate(HEAT_SUM)
        scrub_to_start(page)
        page.wait_for_function(f"({HEAT_SUM})() === {maps_at_0}")  # the first-layer maps as they were at iteration 0
        assert maps_at_0 != live
        assert "iteration 0" in page.get_by_test_id("history-readout").inner_text()
        settle_page(page)
        shot(page, "history-saves-resumed-scrubbed-1280")
        assert srv.state()["iteration"] == now  # looking back never moves training
        page.get_by_test_id("history-now").click()
        page.wait_for_function(f"!window.__lab.scrubber.current && ({HEAT_SUM})() === {live}")

        # a phone: the same after a reload
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.wait_for_function("window.__lab && window.__lab.store.ready && window.__lab.scrubber.snapshots.length > 8")
        page.get_by_test_id("history-timeline").scroll_into_view_if_needed()
        scrub_to_start(page)
        settle_page(page)
        shot(page, "history-saves-resumed-scrubbed-390")
        assert not page.problems, page.problems
        context.close()
    finally:
        srv.stop()
