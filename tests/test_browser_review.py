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
    wait_until(lambda: (server.state() or {}).get("iteration", 0) >= 3000 and server.state().get("accuracy") is not None,
               120, message="3000 iterations and a test accuracy (at the first epoch's end)")
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


def requests_to(page, path: str) -> list:
    """Every request this page makes to `path` from now on (a list that fills as they go)."""
    seen = []
    page.on("request", lambda r: path in r.url and seen.append(r.url))
    return seen


def visible_error(page, selector: str) -> str:
    """The text of a visible field error (waits for it)."""
    page.wait_for_function(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); return e && !e.hidden && e.textContent.trim(); }})()")
    return page.locator(selector).inner_text()


def test_bad_numbers_are_refused_beside_their_field_and_change_nothing(browser, server, trained):
    """Review item 2: `1e309` or an empty field became 0 (`+input.value`): the walkthrough set the weight
    to 0 and added an Undo entry; the editor reset with seed 0. Every numeric field now refuses an empty
    field, a number JavaScript cannot hold, and one outside its range, beside the field."""
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        ensure_paused(page, server)
        model = server.state()
        # ----- the walkthrough's "set it by hand"
        page.get_by_test_id("mode-walkthrough").click()
        page.wait_for_function("window.__lab.walkthrough.ready && window.__lab.walkthrough.bd", timeout=15000)
        i = page.evaluate("window.__lab.walkthrough.steps.findIndex((s) => s.kind === 'output')")
        page.evaluate(f"window.__lab.walkthrough.goTo({i})")
        page.wait_for_function("window.__lab.walkthrough.gradcheck.param")
        sets = requests_to(page, "/api/walkthrough/set")
        depth = page.evaluate("window.__lab.walkthrough.undoDepth")
        for typed, words in (("1e309", "not a number"), ("", "empty"), ("1e308", "from −1000 to 1000")):
            page.get_by_test_id("wt-set-value").fill("")
            if typed:
                page.get_by_test_id("wt-set-value").type(typed)
            page.get_by_test_id("wt-set").click()
            assert words in visible_error(page, "[data-testid=wt-set-error]"), typed
        page.get_by_test_id("wt-set-value").fill("")
        page.get_by_test_id("wt-set-value").press("Enter")
        assert "empty" in visible_error(page, "[data-testid=wt-set-error]")
        shot(page, "review-set-by-hand-refused-1280")
        assert sets == [] and page.evaluate("window.__lab.walkthrough.undoDepth") == depth
        # the walkthrough's η
        page.get_by_test_id("wt-lr").fill("")
        page.get_by_test_id("wt-lr").press("Enter")
        page.get_by_test_id("wt-lr").blur()
        assert "empty" in visible_error(page, "#wt-side .field-error")
        assert page.evaluate("window.__lab.walkthrough.lr") > 0
        page.locator("#wt-leave").click()
        page.wait_for_function("document.body.dataset.mode === 'live'")
        # ----- the network editor: seed and hidden-layer sizes
        page.locator("#editor summary").click()
        for selector, typed, words in (("#seed", "", "seed"), ("#seed", "1e309", "seed"),
                                       ("#hidden-sizes input", "", "Hidden layer 1")):
            page.locator(selector).first.fill("")
            if typed:
                page.locator(selector).first.type(typed)
            page.locator("#reset").click()
            text = visible_error(page, "#err-reset")
            assert words in text and ("empty" in text or "not a number" in text), (selector, typed, text)
            assert page.get_by_test_id("reset-confirm").count() == 0 or page.get_by_test_id("reset-confirm").is_hidden()
            page.locator(selector).first.fill("16" if "hidden" in selector else "0")
        shot(page, "review-editor-refused-1280")
        # ----- the learning rate and batch size
        page.get_by_test_id("learning-rate").fill("")
        page.get_by_test_id("learning-rate").press("Enter")
        page.get_by_test_id("learning-rate").blur()
        assert "empty" in visible_error(page, "#err-lr")
        page.locator("#batch-size").fill("")
        page.locator("#batch-size").press("Enter")
        page.locator("#batch-size").blur()
        assert "empty" in visible_error(page, "#err-batch")
        # ----- looking back: branch from a snapshot with an empty η
        branches = requests_to(page, "/api/branch")
        box = page.get_by_test_id("history-timeline").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
        page.get_by_test_id("history-branch").click()
        page.locator("[data-testid=history-branch-form] input[name=lr]").fill("")
        page.locator("[data-testid=history-branch-form] button[type=submit]").click()
        assert "η is empty" in visible_error(page, "[data-testid=history-branch-error]")
        assert branches == []
        page.get_by_test_id("history-now").click()
        # ----- the descent view's two weights
        page.get_by_test_id("mode-descent").click()
        page.get_by_test_id("descent-plane").select_option("weights")
        surfaces = requests_to(page, "/api/descent/surface")
        page.locator(".dc-weights input[name=k1]").fill("")
        page.locator(".dc-weights input[name=k1]").dispatch_event("change")
        assert "input k is empty" in visible_error(page, "[data-testid=descent-weights-error]")
        page.locator(".dc-weights input[name=k1]").fill("784")
        page.locator(".dc-weights input[name=k1]").dispatch_event("change")
        assert "from 0 to 783, not 784" in visible_error(page, "[data-testid=descent-weights-error]")
        shot(page, "review-descent-weights-refused-1280")
        assert surfaces == []
        state = server.state()
        for key in ("iteration", "learning_rate", "batch_size", "sizes", "seed"):
            assert state.get(key) == model.get(key), key
    finally:
        context.close()


FORMAT = """async () => {
  const f = await import('/static/js/lib/format.js');
  return {grouped: f.fmtGrouped(229495), small: f.fmtNum(9.55e-4, 3), mid: f.fmtNum(0.001754, 3),
          negative: f.fmtNum(-0.25, 3), math: f.fmtMath(9.55e-4, 3), an8: f.withArticle('8'), a7: f.withArticle('7'),
          an18: f.withArticle('18'), boot: f.withArticle('Ankle boot'), shirt: f.withArticle('T-shirt/top')};
}"""


def test_one_number_one_format(browser, server, trained):
    """Review item 4: iteration "229495", examples "2 294 950" and "101,702" in a toast; cost "9.55e-4"
    beside "0.001754" and "9.55×10⁻⁴"; "is a 8"."""
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        ensure_paused(page, server)
        f = page.evaluate(FORMAT)
        assert f["grouped"] == "229,495"
        assert f["small"] == f["math"] == "9.55×10⁻⁴" and f["mid"] == "0.00175" and f["negative"] == "−0.25"
        assert (f["an8"], f["a7"], f["an18"], f["boot"], f["shirt"]) == ("an 8", "a 7", "an 18", "an Ankle boot", "a T-shirt/top")
        state = server.state()
        assert state["iteration"] >= 1000  # so that it has a group separator
        page.wait_for_function(f"document.getElementById('iteration').textContent === '{state['iteration']:,}'")
        assert page.locator("#examples").inner_text() == f"{state['examples_seen']:,}"
        assert "\u2009" not in page.locator(".counters, #counters, body").first.inner_text()
        cost = page.locator("#cost").inner_text()
        assert "e-" not in cost and "e+" not in cost, cost
    finally:
        context.close()


def test_the_guess_says_what_its_percentage_is_and_when_nothing_fits(browser, server, trained):
    """Review item 5: "It thinks this is a 6 (99% sure)" while output neuron 6 showed 0.94: the percentage
    is that output's share of the ten outputs' sum; and an input unlike any digit got a confident guess."""
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        ensure_paused(page, server)
        verdict = page.locator("#verdict-text")
        show = """([outputs, digit]) => {
          const sum = outputs.reduce((a, b) => a + b, 0);
          window.__lab.digitLab.panel.show({digit, probabilities: outputs.map((a) => a / sum),
            activations: [[0], outputs]}, {kind: 'drawing'});
        }"""
        confident = [0.01] * 10
        confident[8] = 0.94
        page.evaluate(show, [confident, 8])
        text = verdict.inner_text()
        assert text.startswith("It thinks this is an 8") and "0.94" in text and "91% of the ten outputs' sum" in text, text
        unsure = [0.02] * 10
        unsure[8] = 0.23
        page.evaluate(show, [unsure, 8])
        text = verdict.inner_text()
        assert "does not look like anything it knows" in text and "0.23" in text, text
        assert "sure" not in text
        # a real drawing: the number in the sentence is the one the output neuron shows
        from browser_helpers import draw_strokes

        draw_strokes(page, "draw-pad", [[(0.5, 0.5), (0.51, 0.51)]])
        # (classified as it is drawn: an early stroke's answer may come first, so compare the latest of both)
        page.wait_for_function("""(() => {
          const a = window.__lab.store.drawing?.activations;
          if (!a) return false;
          const top = Math.max(...a[a.length - 1]);
          return document.getElementById('verdict-text').textContent.includes(top.toFixed(2));
        })()""")
        shot(page, "review-guess-of-a-dot-1280")
    finally:
        context.close()



def test_look_back_is_titled_for_the_state_of_the_network(browser, server, trained):
    """Review item 6: "Why isn't it learning?" over a network at 94% test accuracy."""
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        ensure_paused(page, server)
        assert server.state()["accuracy"] > 0.8
        page.get_by_test_id("lookback-toggle").click()
        title = page.locator("[data-testid=lb-diagnostics] h3").first
        page.wait_for_function("window.__lab.lookback.diag !== null")
        assert title.inner_text() == "How is it learning?"
        titles = page.evaluate("""async () => {
          const m = await import('/static/js/history/lookback.js');
          return ['good', 'chance', 'worse', 'none'].map(m.diagnosticsTitle);
        }""")
        assert titles == ["How is it learning?", "Why isn't it learning?", "Why is it getting worse?", "Is it learning?"]
        shot(page, "review-lookback-title-1280")
    finally:
        context.close()


def api(server, method: str, path: str, body=None):
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_scrubbing_before_a_loaded_checkpoint_says_there_are_no_snapshots_there(browser, server, trained):
    """Review item 7: after loading a checkpoint (saved without its history) the timeline spans 0–127k but
    the snapshots start at 101,702: dragging to 2%, 10% or 50% showed 101,702 without a word."""
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        ensure_paused(page, server)
        saved = api(server, "POST", "/api/checkpoints", {"name": "review-mid", "overwrite": True})
        at = saved.get("iteration") or server.state()["iteration"]
        helloes = page.evaluate("window.__lab.store.helloCount")
        api(server, "POST", "/api/checkpoints/review-mid/load")
        page.wait_for_function(f"window.__lab.store.helloCount > {helloes}")
        page.wait_for_function(f"window.__lab.scrubber.snapshots.length > 0 && window.__lab.scrubber.snapshots[0].iteration === {at}")
        page.wait_for_function("window.__lab.chart.geom && window.__lab.chart.geom.xMax >= " + str(at))
        page.wait_for_function("!document.querySelector('#toasts .toast')", timeout=15000)  # "Checkpoint loaded" covers the timeline's start
        box = page.get_by_test_id("history-timeline").bounding_box()
        note = page.get_by_test_id("history-gap-note")
        for fraction in (0.02, 0.1, 0.5):
            page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
            page.wait_for_function("window.__lab.scrubber.current !== null")
            note.wait_for(state="visible")
            text = note.inner_text()
            assert f"No snapshots before iteration {at:,}" in text and "checkpoint" in text, text
            assert f"iteration {at:,}" in page.get_by_test_id("history-readout").inner_text()
        shot(page, "review-scrub-before-a-load-1280")
        page.get_by_test_id("history-now").click()
        note.wait_for(state="hidden")
    finally:
        context.close()

# ----- last: it replaces the trained network -------------------------------------------------------
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
