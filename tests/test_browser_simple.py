"""The lecture notes' simple example in a real browser (issue 11): Debian's Chromium driven by Playwright
against `python -m server`.

One server for the file, in order: the preset opened from the walkthrough on a network that was trained
(it asks before replacing it), the chain of the last layer with the engine's numbers (each product of the
factors shown is the engine's gradient), the tangent on the engine's curve C₀(w) (its slope is a finite
difference of that curve), the slider moving the live weight (the numbers follow, one Undo takes the drag
back), bad input, axe-core on the new panel; the live page of the simple network (a note instead of the
draw pad, training it, and its button back to the chain); screenshots at 390×844, 768×1024, 1280×720 and
1920×1080 (test-artifacts/simple-*).
"""

from __future__ import annotations

import json

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    ARTIFACTS, LiveServer, browser, chromium_path, open_tab, settle_page, shot, wait_until,
)
from test_browser_screens import AXE, SIZES, visible_text_sizes
from test_browser_walkthrough import api, number

pytestmark = pytest.mark.browser

EXAMPLE = {"input": [1.0], "label": 0}
W_L = {"layer": 2, "j": 0, "k": 0}
CHAIN_SHOWN = "document.querySelector('[data-testid=chain-plot]')?.dataset.points > 0"


@pytest.fixture(scope="module")
def server(chromium_path):
    srv = LiveServer(extra_args=["--no-autosave"]).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(browser, server):
    context, pg = open_tab(browser, server.url, 1280, 720)
    yield pg
    context.close()


def q(page, test_id: str, what: str = "dataset.value"):
    return page.evaluate(f"document.querySelector('[data-testid={test_id}]').{what}")


def shown_numbers(page) -> dict:
    """Every factor and result of the three derivatives: (full value, text shown)."""
    return page.evaluate("""() => {
        const out = {};
        document.querySelectorAll('[data-testid^=chain-][data-value]').forEach((n) => {
            out[n.dataset.testid] = [Number(n.dataset.value), n.querySelector('.cn-val')?.textContent ?? n.textContent];
        });
        return out;
    }""")


def engine(server) -> dict:
    """The engine's numbers for the example, with the live weights (the page is not asked)."""
    bd = api(server, "/api/backprop", EXAMPLE)
    last, prev = bd["layers"][-1], bd["layers"][-2]
    return {"w": last["w"][0][0], "dCdw": last["nabla_w"][0][0], "dCdb": last["nabla_b"][0],
            "dCdaPrev": prev["dC_da"][0], "cost": bd["cost"]}


def check_chain(page, server):
    """The chain shown is the engine's: each product of the factors shown is the engine's gradient."""
    n = shown_numbers(page)
    e = engine(server)
    for name, key in (("w", "dCdw"), ("b", "dCdb"), ("a", "dCdaPrev")):
        f = [n[f"chain-{name}-f{i}"][0] for i in (1, 2, 3)]
        assert f[0] * f[1] * f[2] == pytest.approx(e[key], rel=1e-6, abs=1e-12), (name, f, e[key])
        assert n[f"chain-{name}-result"][0] == e[key]  # the result shown is the engine's own number
        for i in (1, 2, 3):  # and each number is shown as itself, rounded
            value, text = n[f"chain-{name}-f{i}"]
            assert number(text.strip("()")) == pytest.approx(value, rel=5e-4, abs=1e-12), (name, i, text, value)
        assert number(n[f"chain-{name}-result"][1]) == pytest.approx(e[key], rel=5e-4)
    assert n["chain-node-w"][0] == e["w"] and n["chain-node-c"][0] == e["cost"]
    assert n["chain-b-f3"][1] == "1" and n["chain-node-y"][1] == "1"  # ∂z/∂b and the target, exactly
    # the tangent drawn: at the engine's w and C0, with backprop's slope
    plot = page.evaluate("({...document.querySelector('[data-testid=chain-plot]').dataset})")
    assert float(plot["w"]) == e["w"] and float(plot["cost"]) == e["cost"] and float(plot["slope"]) == e["dCdw"]
    return e


def tangent_pixels(page) -> int:
    """Pixels of the plot in the accent colour (#ffd166): the tangent and the point."""
    return page.evaluate("""() => {
        const c = document.querySelector('[data-testid=chain-plot]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 170 && d[i + 1] < 230 && d[i + 2] < 140) n++;
        return n;
    }""")


def axe_on(page, selector: str, where: str) -> None:
    """axe-core (every rule) on one element: no violation at all."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("(s) => axe.run(document.querySelector(s), {resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))", selector)
    assert found == [], f"{where}: " + json.dumps(found, ensure_ascii=False)


# ----- the preset, from the walkthrough, on a trained network -------------------------------------------
def test_the_preset_asks_before_replacing_a_trained_network_then_opens_the_chain(page, server):
    page.evaluate("window.__lab.send({type: 'step', unit: 'batch'})")
    wait_until(lambda: server.state()["iteration"] >= 1, 10, message="a trained step")
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("window.__lab.walkthrough.settled && window.__lab.walkthrough.bd")
    page.wait_for_function("!document.querySelector('[data-testid=wt-gc-verdict]').textContent.startsWith('Checking')")
    page.get_by_test_id("wt-preset-simple").click()
    notice = page.locator(".wt-notice")
    notice.wait_for(state="visible")
    assert "replaces the live network" in notice.inner_text() and server.state()["sizes"] == [784, 16, 16, 10]
    notice.get_by_role("button", name="Replace it").click()
    page.wait_for_function(CHAIN_SHOWN, timeout=20000)
    state = server.state()
    assert state["sizes"] == [1, 1, 1, 1] and state["dataset"] == "simple" and state["iteration"] == 0
    assert page.get_by_test_id("wt-step-title").inner_text() == "The chain rule, one neuron per layer"
    assert page.evaluate("window.__lab.walkthrough.steps[window.__lab.walkthrough.index].kind") == "chain"
    assert "The notes' simple example" in page.get_by_test_id("wt-example-title").inner_text()
    assert page.problems == []


def test_every_factor_is_the_engines_and_the_tangent_is_the_slope_of_the_engines_curve(page, server):
    e = check_chain(page, server)
    assert e["w"] == pytest.approx(-1.6563, abs=1e-4) and e["cost"] == pytest.approx(0.4935, abs=1e-4)  # seed 9
    # the curve the page drew is the engine's: its points and, near w, a finite difference = the tangent's slope
    assert q(page, "chain-plot", "dataset.points") == "161"
    h = 1e-4
    near = api(server, "/api/walkthrough/curve", {**EXAMPLE, "param": W_L, "low": e["w"] - h, "high": e["w"] + h, "points": 3})
    slope = float(q(page, "chain-plot", "dataset.slope"))
    assert (near["costs"][2] - near["costs"][0]) / (2 * h) == pytest.approx(slope, rel=1e-5)
    assert tangent_pixels(page) > 150  # the dashed tangent and the point are drawn
    shot(page, "simple-chain-1280x720")


def test_the_slider_moves_the_weight_and_every_number_follows(page, server):
    before = engine(server)
    slider = page.get_by_test_id("chain-w-slider")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)  # the thumb sits near w = −1.66 of ±6
    page.mouse.down()
    for i in range(1, 16):
        page.mouse.move(box["x"] + box["width"] * (0.5 + 0.025 * i), y)
    page.mouse.up()
    wait_until(lambda: float(q(page, "chain-plot", "dataset.w")) > 2 and not page.evaluate("window.__lab.walkthrough.chain.busy"),
               10, message="the dragged weight to be shown")
    e = check_chain(page, server)
    assert e["w"] == pytest.approx(float(slider.input_value()), abs=1e-6) and e["w"] > 2
    assert e["cost"] < before["cost"] and abs(e["dCdw"]) < abs(before["dCdw"])  # flatter, lower on the curve
    assert tangent_pixels(page) > 150
    assert page.get_by_test_id("wt-undo").inner_text() == "↶ Undo (1)"  # the whole drag is one step
    shot(page, "simple-slider-1280x720")
    page.get_by_test_id("wt-undo").click()
    wait_until(lambda: float(q(page, "chain-plot", "dataset.w")) == before["w"], 10, message="the undo to be shown")
    assert engine(server)["w"] == before["w"]
    check_chain(page, server)
    # typing a value: a step of its own
    box_ = page.get_by_test_id("chain-w-value")
    box_.fill("-3")
    box_.press("Enter")
    wait_until(lambda: float(q(page, "chain-plot", "dataset.w")) == -3, 10, message="w = −3 to be shown")
    assert float(slider.input_value()) == -3
    check_chain(page, server)
    assert page.problems == []


@pytest.mark.parametrize("text, message", [
    ("", "w⁽ᴸ⁾ is empty: type a number from −1000 to 1000."),
    ("2000", "w⁽ᴸ⁾ must be a number from −1000 to 1000, not 2000."),
    ("-1e6", "w⁽ᴸ⁾ must be a number from −1000 to 1000, not −1e6."),
    ("1e309", "w⁽ᴸ⁾: what is typed there is not a number. Type a number from −1000 to 1000."),
])
def test_a_bad_weight_is_refused_with_a_clear_message_and_changes_nothing(page, server, text, message):
    w = engine(server)["w"]
    box = page.get_by_test_id("chain-w-value")
    box.fill("")
    if text:
        box.type(text)  # as typed: fill() refuses what a number field cannot hold
    box.press("Enter")
    error = page.get_by_test_id("chain-error")
    error.wait_for(state="visible")
    assert error.inner_text() == message
    assert engine(server)["w"] == w
    box.fill("-3")  # and a good one clears it
    box.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=chain-error]').hidden")


def test_the_chain_panel_passes_axe_core(page):
    axe_on(page, "[data-testid=chain-panel]", "the chain panel")
    axe_on(page, "[data-testid=wt-preset-simple]", "the preset button")


def test_every_step_of_the_walkthrough_works_on_the_notes_network(page, server):
    """The other steps are the general ones; on one example of one number the mini-batch is that example
    (its column shows x, not an image: this step used to fail on a dataset without images)."""
    page.evaluate("window.__lab.walkthrough.goTo(0)")
    kinds = page.evaluate("window.__lab.walkthrough.steps.map((s) => s.kind)")
    assert kinds == ["forward"] * 3 + ["cost", "chain", "output", "dCda", "hidden", "dCda", "hidden", "pixels", "batch", "step"]
    for kind in kinds[1:]:
        page.get_by_test_id("wt-next").click()
        page.wait_for_function(f"window.__lab.walkthrough.steps[window.__lab.walkthrough.index].kind === '{kind}'")
        if kind == "batch":
            page.get_by_test_id("wt-batch-table").wait_for()
            assert page.locator("[data-testid=wt-batch-table] thead th.ex").count() == 1
            assert page.locator("[data-testid=wt-batch-table] thead th.ex .ex-in").inner_text() == "1.0"
    page.get_by_test_id("wt-step-table").wait_for()
    assert page.problems == []
    page.evaluate("window.__lab.walkthrough.goTo(window.__lab.walkthrough.steps.findIndex((s) => s.kind === 'chain'))")
    page.wait_for_function(CHAIN_SHOWN)


# ----- the live page of the simple network, and back to the chain ----------------------------------------
def test_the_live_page_shows_the_one_example_and_its_trained_chain(page, server):
    page.locator("#wt-leave").click()
    page.wait_for_function("document.body.dataset.mode === 'live'")
    note = page.get_by_test_id("scalar-box")
    assert note.is_visible() and "x = 1" in note.inner_text().replace("\n", " ")
    assert not page.get_by_test_id("draw-pad").is_visible()
    page.evaluate("window.__lab.send({type: 'set_params', steps_per_second: null})")
    page.get_by_test_id("play-pause").click()
    wait_until(lambda: server.state()["iteration"] > 500, 30, message="500 steps of training")
    page.get_by_test_id("play-pause").click()
    wait_until(lambda: not server.state()["running"], 10, message="training to pause")
    settle_page(page)
    axe_on(page, "[data-testid=scalar-box]", "the simple example's note")
    shot(page, "simple-live-1280x720")
    page.get_by_test_id("scalar-walk").click()
    page.wait_for_function(CHAIN_SHOWN, timeout=20000)
    page.wait_for_function("window.__lab.walkthrough.steps[window.__lab.walkthrough.index]?.kind === 'chain'")
    e = check_chain(page, server)
    assert e["cost"] < 0.05  # trained: close to the target y = 1
    assert float(q(page, "chain-plot", "dataset.range")) >= abs(e["w"])  # the slider reaches the trained w
    assert tangent_pixels(page) > 100
    assert page.problems == []


# ----- every screen -------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_chain_on_every_screen(browser, server, size):
    width, height, touch = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch)
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
    try:
        pg.goto(server.url)
        pg.wait_for_function("window.__lab && window.__lab.store.ready && window.__lab.store.dataset?.name === 'simple'")
        pg.get_by_test_id("mode-walkthrough").click()
        pg.wait_for_function("window.__lab.walkthrough.settled && window.__lab.walkthrough.bd")
        pg.get_by_test_id("wt-preset-simple").click()  # already the simple network: no reset, straight to the chain
        pg.wait_for_function(CHAIN_SHOWN, timeout=20000)
        pg.wait_for_function("window.__lab.walkthrough.steps[window.__lab.walkthrough.index]?.kind === 'chain'")
        assert server.state()["iteration"] > 500  # not replaced
        check_chain(pg, server)
        overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{size}: the page scrolls sideways by {overflow} px"
        slider = pg.get_by_test_id("chain-w-slider")
        slider.scroll_into_view_if_needed()
        assert slider.is_visible() and pg.get_by_test_id("chain-plot").is_visible()
        assert tangent_pixels(pg) > 100
        pg.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
        settle_page(pg)
        shot(pg, f"simple-{width}x{height}")
        pg.get_by_test_id("wt-detail").screenshot(path=str(ARTIFACTS / f"simple-panel-{width}x{height}.png"))
        axe_on(pg, "[data-testid=chain-panel]", f"the chain panel at {width}×{height}")
        assert pg.problems == []
    finally:
        context.close()


def test_presentation_mode_keeps_the_chain_readable(browser, server):
    """?present=1 at 1920×1080: every text of the chain step at least 18 px on screen."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    try:
        pg.goto(server.url + "?present=1")
        pg.wait_for_function("window.__lab && window.__lab.store.ready")
        pg.get_by_test_id("mode-walkthrough").click()
        pg.wait_for_function("window.__lab.walkthrough.settled && window.__lab.walkthrough.bd")
        pg.evaluate("window.__lab.walkthrough.preset(true)")  # (the simple network already, when run in order)
        pg.wait_for_function(CHAIN_SHOWN, timeout=20000)
        pg.wait_for_function("window.__lab.walkthrough.steps[window.__lab.walkthrough.index]?.kind === 'chain'")
        settle_page(pg)
        small = [t for t in visible_text_sizes(pg, ".wt-detail") if t[0] < 18]
        assert not small, f"presentation mode, the chain: text under 18 px: {small[:10]}"
        shot(pg, "simple-present-1920x1080")
    finally:
        context.close()
