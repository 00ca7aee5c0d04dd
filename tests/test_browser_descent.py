"""The Descent view (issue 14) in a real browser: open it, see the line, the heat map and the path,
change the plane, run GD against SGD. Screenshots go to test-artifacts/descent-*.png.
"""

from __future__ import annotations

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    browser,
    chromium_path,
    open_tab,
    LiveServer,
    ensure_paused,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser

INK = """(id) => {
  const c = document.querySelector(`[data-testid=${id}]`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0, s = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) { n++; s += d[i] * 3 + d[i + 1] * 5 + d[i + 2] * 7; }
  return [n, s];
}"""


@pytest.fixture(scope="module")
def server(chromium_path, tmp_path_factory):
    srv = LiveServer(extra_args=["--checkpoint-dir", tmp_path_factory.mktemp("ckpt"), "--no-autosave"]).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser, server):
    context, pg = open_tab(browser, server.url, 1280, 720)
    yield pg
    assert not pg.problems, pg.problems
    context.close()


def test_descent_view_heat_map_path_and_plane(page, server):
    # a little training, so there is a path to draw
    page.get_by_test_id("play-pause").click()
    wait_until(lambda: (server.state() or {}).get("iteration", 0) >= 200, 60, message="200 iterations")
    page.get_by_test_id("mode-descent").click()
    page.get_by_test_id("descent-view").wait_for(state="visible")
    assert page.get_by_test_id("network-view").is_hidden()
    # the line, with η marked, updates while training runs
    page.wait_for_function("window.__lab.descent.lineData && window.__lab.descent.lineData.costs.length === 41", timeout=20000)
    first = page.evaluate("window.__lab.descent.lineData.iteration")
    page.wait_for_function(f"window.__lab.descent.lineData.iteration > {first}", timeout=10000)
    assert "η" in page.get_by_test_id("descent-line-caption").inner_text()
    # the heat map (all 41×41) and the projected path
    page.wait_for_function("window.__lab.descent.surf && !window.__lab.descent.surf.partial && window.__lab.descent.surf.plane === 'pca'"
                           " && window.__lab.descent.heatInfo && window.__lab.descent.heatInfo.pathPoints > 1", timeout=30000)
    page.evaluate("window.__lab.send({type: 'pause'})")  # the live controls are hidden in this mode
    wait_until(lambda: not server.state()["running"], 10, message="training to pause")
    n, pca = page.evaluate(INK, "descent-heat")
    assert n > 10000
    page.wait_for_function("document.querySelector('[data-testid=descent-surface-caption]').textContent.includes('variance')")
    shot(page, "descent-1280")
    # change the plane: a random plane draws a different slice
    page.get_by_test_id("descent-plane").select_option("random")
    page.wait_for_function("window.__lab.descent.surf && !window.__lab.descent.surf.partial && window.__lab.descent.surf.plane === 'random'", timeout=30000)
    page.wait_for_function(f"({INK})('descent-heat')[1] !== {pca}")
    page.get_by_test_id("descent-plane").select_option("weights")
    page.wait_for_function("window.__lab.descent.surf && !window.__lab.descent.surf.partial && window.__lab.descent.surf.plane === 'weights'", timeout=30000)
    page.wait_for_function("document.querySelector('[data-testid=descent-surface-caption]').textContent.includes('exact here')")
    # GD against SGD
    page.get_by_test_id("descent-run").click()
    page.wait_for_function("window.__lab.descent.runs && window.__lab.descent.runs.runners.length >= 4", timeout=60000)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_function(f"({INK})('descent-runners-examples')[0] > 0")
    shot(page, "descent-1920")
    # back to live training: the network is shown again
    page.get_by_test_id("mode-live").click()
    page.get_by_test_id("network-view").wait_for(state="visible")
