"""The Descent view (issue 14) in a real browser: open it, see the line, the heat map and the path,
change the plane, run GD against SGD; on a trained network at four sizes, the whole path inside the PCA
slice and each path point's own cost beside the slice's. Screenshots go to test-artifacts/descent-*.png.
"""

from __future__ import annotations

import json

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
    srv = LiveServer(extra_args=["--checkpoint-dir", tmp_path_factory.mktemp("ckpt"), "--no-autosave", "--flat-out"]).start()
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


SIZES = {"phone": (390, 844, True), "tablet": (768, 1024, True), "laptop": (1280, 720, False), "projector": (1920, 1080, False)}
SURFACE_DONE = "(plane) => { const d = window.__lab.descent; return d.surf && !d.surf.partial && d.surf.plane === plane && d.heatGeo; }"
INSIDE = """() => {
  const d = window.__lab.descent, g = d.heatGeo, s = d.surf;
  return s.path.map(([a, b]) => [g.ax(a), g.by(b)]).filter(([x, y]) =>
    !(x > g.plot.x + 2 && x < g.plot.x + g.plot.w - 2 && y > g.plot.y + 2 && y < g.plot.y + g.plot.h - 2)).length;
}"""
DOT = """(i) => {
  const d = window.__lab.descent, p = d.surf.path[i], r = d.heat.canvas.getBoundingClientRect();
  return [r.left + d.heatGeo.ax(p[0]), r.top + d.heatGeo.by(p[1])];
}"""


def axe_check(page, where, every_rule):
    """axe-core on the page: every rule (phone and laptop, as the screens test does), else the main ones."""
    from test_browser_screens import axe  # noqa: PLC0415 (the screens test's axe runner, reused)

    return axe(page, where, None if every_rule else ["color-contrast", "label", "button-name", "select-name"])


@pytest.fixture(scope="module")
def trained(browser, server):
    """The session trained well past its slow start (a few thousand mini-batches), then paused."""
    context, pg = open_tab(browser, server.url, 1280, 720)
    pg.get_by_test_id("play-pause").click()
    wait_until(lambda: (server.state() or {}).get("iteration", 0) >= 3000, 120, message="3,000 iterations")
    pg.evaluate("window.__lab.send({type: 'pause'})")
    wait_until(lambda: not server.state()["running"], 10, message="training to pause")
    context.close()
    return server.state()


@pytest.mark.parametrize("size", list(SIZES))
def test_a_trained_networks_path_stays_inside_the_pca_slice_and_each_point_shows_both_costs(browser, server, trained, size):
    width, height, touch = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    try:
        page.goto(server.url)
        page.wait_for_function("window.__lab && window.__lab.store.ready")
        page.get_by_test_id("mode-descent").click()
        page.wait_for_function(SURFACE_DONE, arg="pca", timeout=60000)
        surf = page.evaluate("window.__lab.descent.surf")
        path = surf["path"]
        assert len(path) > 5 and path[-1][3] == trained["iteration"]
        assert page.evaluate(INSIDE) == 0, f"{size}: path points outside the drawn slice"
        caption = page.get_by_test_id("descent-surface-caption").inner_text()
        assert f"= {round(100 * sum(surf['explained']))}% of the path's variance" in caption
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width, f"{size}: the page scrolls sideways"
        side = page.evaluate("window.__lab.descent.heatGeo.plot.w")
        assert side >= 220, f"{size}: the heat map is only {side:.0f} px wide"
        for testid in ("descent-heat", "descent-path-costs"):
            box = page.get_by_test_id(testid).bounding_box()
            assert box and box["width"] >= 150 and box["height"] >= 90, f"{size}: {testid} is {box}"
        assert page.evaluate(INK, "descent-path-costs")[0] > 1000
        # the summary names the widest gap between a point's own cost and the slice's under it
        worst = max((p for p in path if p[2] is not None and p[4] is not None), key=lambda p: abs(p[4] - p[2]))
        summary = page.get_by_test_id("descent-path-point").inner_text()
        assert "the cost the network really had" in summary and f"differ by up to {abs(worst[4] - worst[2]):.3g}" in summary
        assert f"(iteration {worst[3]:,})" in summary and abs(worst[4] - worst[2]) > 0
        # hover (or tap) the start: the tip and the line beside the slice show both costs of that point
        page.get_by_test_id("descent-heat").scroll_into_view_if_needed()
        x, y = page.evaluate(DOT, 0)
        if touch:
            page.touchscreen.tap(x, y)
        else:
            page.mouse.move(x, y)
        page.wait_for_function("window.__lab.descent.selected !== null")
        i = page.evaluate("window.__lab.descent.selected")
        tip = page.get_by_test_id("descent-tip")
        assert tip.is_visible()
        text = page.get_by_test_id("descent-path-point").inner_text()
        assert f"iteration {path[i][3]:,}" in text and "its own cost" in text and "the slice under it" in text
        assert "its own cost" in tip.inner_text() and "off the plane" in tip.inner_text()
        issues = axe_check(page, f"{size}, descent", size in ("phone", "laptop"))
        assert not issues, json.dumps(issues, ensure_ascii=False)[:2000]
        shot(page, f"descent-{size}")
        # the 3-D view, with the path's stalks
        page.get_by_test_id("descent-3d").scroll_into_view_if_needed()
        assert page.evaluate(INK, "descent-3d")[0] > 10000
        shot(page, f"descent-{size}-3d")
        assert not page.problems, page.problems
    finally:
        context.close()


def test_the_arrow_keys_walk_the_path_and_turn_the_surface_without_stepping_the_training(page, server, trained):
    page.get_by_test_id("mode-descent").click()
    page.wait_for_function(SURFACE_DONE, arg="pca", timeout=60000)
    before = server.state()["iteration"]
    page.get_by_test_id("descent-heat").focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("window.__lab.descent.selected") == 1
    yaw = page.evaluate("window.__lab.descent.view.yaw")
    page.get_by_test_id("descent-3d").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("window.__lab.descent.view.yaw") > yaw
    page.get_by_test_id("mode-live").click()  # a round trip to the live page, where → would step
    page.get_by_test_id("network-view").wait_for(state="visible")
    assert server.state()["iteration"] == before, "an arrow key in the Descent view stepped the training"


def test_momentum_is_a_runner_beyond_the_lecture(page, server, trained):
    page.get_by_test_id("mode-descent").click()
    page.get_by_test_id("descent-momentum").check()
    page.get_by_test_id("descent-run").click()
    page.wait_for_function("window.__lab.descent.runs && window.__lab.descent.runs.runners.length === 5", timeout=60000)
    assert "beyond the lecture" in page.get_by_test_id("descent-runners-caption").inner_text()
    assert page.evaluate("window.__lab.descent.runs.runners[4].momentum") == 0.9
    page.wait_for_function(f"({INK})('descent-runners-plane')[0] > 0")


def test_a_weight_that_does_not_exist_is_refused_in_one_line_and_nothing_changes(page, server, trained):
    page.get_by_test_id("mode-descent").click()
    page.wait_for_function(SURFACE_DONE, arg="pca", timeout=60000)
    page.get_by_test_id("descent-plane").select_option("weights")
    page.wait_for_function(SURFACE_DONE, arg="weights", timeout=60000)
    before = page.evaluate("JSON.stringify(window.__lab.descent.surf.alphas)")
    # W⁽ˡ⁾ numbered as in the walkthrough (W⁽¹⁾ feeds hidden 1): one the network does not have, in those words
    layer = page.get_by_label("first weight: matrix W⁽ˡ⁾, l")
    layer.fill("9")
    layer.dispatch_event("change")
    # refused beside the fields, before asking the server (which would refuse it too, in one line)
    error = page.get_by_test_id("descent-weights-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "The first weight's matrix W⁽ˡ⁾, l must be a whole number from 1 to 3, not 9."
    assert page.evaluate("JSON.stringify(window.__lab.descent.surf.alphas)") == before  # the last slice stays drawn
    layer.fill("1")
    layer.dispatch_event("change")
    error.wait_for(state="hidden")
