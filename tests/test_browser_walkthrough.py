"""The backprop walkthrough in a real browser: Debian's Chromium driven by Playwright against `python -m server`.

One server and one tab for the whole file; the tests run in order (walk the phases, check the numbers
against the server's API, take a step, teach and undo, the gradient check, keys and clicks, another
network shape, leaving). Screenshots of every phase go to test-artifacts/walkthrough-*.png.
"""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    open_tab,
    LiveServer,
    animation_frames,
    browser,
    chromium_path,
    draw_strokes,
    iteration,
    settle_page,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser

SEVEN = [[(0.22, 0.2), (0.78, 0.2), (0.5, 0.55), (0.38, 0.85)]]
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")


def number(text: str) -> float:
    """A number as the page shows it: '−1.77×10⁻⁴', '+0.0123', '4.452×10⁻⁴' → float."""
    t = text.strip().rstrip("↑↓▲▼ ").replace("−", "-").replace("+", "")
    if "×10" in t:
        mantissa, exponent = t.split("×10")
        return float(mantissa) * 10 ** int(exponent.translate(SUPERSCRIPT))
    return float(t)


def shown_precision(text: str) -> float:
    """Half a unit in the last digit shown: the tolerance for 'equal to the shown precision'."""
    t = text.strip().rstrip("↑↓▲▼ ")
    if "×10" in t:
        mantissa, exponent = t.split("×10")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return 0.5 * 10 ** (int(exponent.translate(SUPERSCRIPT)) - decimals)
    decimals = len(t.split(".")[1]) if "." in t else 0
    return 0.5 * 10 ** -decimals


def api(server: LiveServer, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data, method="GET" if body is None else "POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if response.headers.get("content-type", "").startswith("application/json") else raw


@pytest.fixture(scope="module")
def server(chromium_path):
    srv = LiveServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(browser, server):
    """One tab at 1440×900 for the whole file; ``page.problems`` collects console and page errors."""
    context, pg = open_tab(browser, server.url)
    yield pg
    context.close()


def wt(page, expr: str):
    return page.evaluate(f"(() => {{ const w = window.__lab.walkthrough; return {expr}; }})()")


def current_kind(page) -> str:
    return wt(page, "w.steps[w.index].kind")


def next_step(page):
    before = wt(page, "w.index")
    page.get_by_test_id("wt-next").click()
    page.wait_for_function(f"window.__lab.walkthrough.index === {before + 1}")
    animation_frames(page)  # the network view redraws on the next animation frame


def open_walkthrough(page, server):
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("window.__lab.walkthrough.bd !== null && document.getElementById('wt-step-title').textContent !== 'Backprop walkthrough'", timeout=15000)
    wait_until(lambda: not server.state()["running"], 10, message="the walkthrough to pause training")


def go_phase(page, n: int):
    page.locator(".wt-phases .phase").nth(n - 1).click()
    page.wait_for_function(f"window.__lab.walkthrough.steps[window.__lab.walkthrough.index].phase === {n}")


def example_body(page) -> dict:
    return wt(page, "({...w.example.request, label: w.example.label})")


# ----- the walk -------------------------------------------------------------------------------------
def test_walk_every_phase_with_the_engines_numbers(page, server):
    # some training first, so the numbers are those of a network that has learned something
    if page.get_by_test_id("pace-flat").is_enabled():  # the served page starts slowly: one click
        page.get_by_test_id("pace-flat").click()
    page.get_by_test_id("play-pause").click()
    wait_until(lambda: server.state()["iteration"] > 2500, 30, message="some training")
    assert server.state()["running"]
    open_walkthrough(page, server)
    assert page.evaluate("document.body.dataset.mode") == "walkthrough"
    page.wait_for_function("window.__lab.store.state.running === false")  # every tab sees it paused
    steps = wt(page, "w.steps.map((s) => s.kind)")
    assert steps == ["forward", "forward", "forward", "cost", "output", "dCda", "hidden", "dCda", "hidden", "pixels", "batch", "step"]

    body = example_body(page)
    truth = api(server, "/api/backprop", body)  # the engine's numbers for the same example
    sel = wt(page, "w.sel")
    names = {}
    for i, kind in enumerate(steps):
        if i:
            next_step(page)
        assert current_kind(page) == kind
        phase = wt(page, "w.steps[w.index].phase")
        assert page.get_by_test_id("wt-step-title").inner_text().strip() != ""
        if kind == "forward":
            l = wt(page, "w.steps[w.index].l")
            z_text = page.locator("#wt-body .wt-formula .n.result").first.inner_text()
            z = truth["layers"][l - 1]["z"][sel[l]]
            assert abs(number(z_text) - z) <= shown_precision(z_text) + 1e-9, (z_text, z)
        if kind == "cost":
            c_text = page.get_by_test_id("wt-cost-total").inner_text()
            assert abs(number(c_text) - truth["cost"]) <= shown_precision(c_text), (c_text, truth["cost"])
        if kind == "output":
            j = sel[len(truth["layers"])]
            row = page.locator("#wt-body table.vertical tbody tr").nth(j)
            d_text = row.locator("td").nth(4).inner_text()
            assert abs(number(d_text) - truth["layers"][-1]["delta"][j]) <= shown_precision(d_text), d_text
        if kind == "dCda":
            l = wt(page, "w.steps[w.index].l")
            s_text = page.locator("#wt-body table.terms tr.total td").nth(2).inner_text()
            assert abs(number(s_text) - truth["layers"][l - 1]["dC_da"][sel[l]]) <= shown_precision(s_text), s_text
        if kind == "hidden" and wt(page, "w.steps[w.index].l") == 1:
            assert page.get_by_test_id("wt-nudge-maps").locator("canvas").count() == 16
        if kind == "batch":
            page.get_by_test_id("wt-batch-table").wait_for()
        page.wait_for_function("!document.querySelector('[data-testid=wt-gc-error]').classList.contains('stale')")
        name = f"walkthrough-{i + 1:02d}-phase{phase}-{kind}"
        names[name] = shot(page, name)
    assert len(names) == len(steps)
    # every control of the walkthrough explains itself in a tooltip and has a label
    unexplained = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select')]
              .filter(e => !e.hidden && e.offsetParent !== null)
              .filter(e => !e.title || !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
              .map(e => e.id || e.outerHTML.slice(0, 80))"""
    )
    assert unexplained == []
    assert page.get_by_test_id("wt-next").is_disabled()
    assert page.problems == []


def test_the_mini_batch_table_is_the_engines_and_the_step_lowers_the_cost(page, server):
    go_phase(page, 5)
    page.get_by_test_id("wt-batch-table").wait_for()
    batch = wt(page, "({seed: w.batch.seed, params: w.batch.params})")
    walked = wt(page, "({pixels: Array.from(w.example.request.pixels), label: w.example.label})")
    truth = api(server, "/api/walkthrough/batch", {"size": 10, "seed": batch["seed"], "params": batch["params"],
                                                     "example": walked})
    table = page.get_by_test_id("wt-batch-table")
    rows = table.locator("tbody tr")
    assert rows.count() == len(truth["rows"]) + 1  # + the cost row
    assert table.locator("thead th.ex").count() == 10
    for r, row in enumerate(truth["rows"]):
        cells = rows.nth(r).locator("td")
        avg_text = cells.nth(10).inner_text()
        assert abs(number(avg_text) - row["average"]) <= shown_precision(avg_text.rstrip("↑↓ ")), (r, avg_text, row)
        # the average column is the average of the row
        # (float32: when the nudges cancel, the rounding is relative to the largest of them)
        scale = max(abs(v) for v in row["per_example"])
        assert abs(sum(row["per_example"]) / 10 - row["average"]) <= 1e-4 * abs(row["average"]) + 1e-6 * scale + 1e-12

    # the step with a small learning rate: the batch's cost drops
    next_step(page)
    lr = page.get_by_test_id("wt-lr")
    lr.fill("0.5")
    lr.press("Enter")
    page.wait_for_function("window.__lab.walkthrough.lr === 0.5")
    first = truth["rows"][0]["param"]
    page.get_by_test_id("wt-take-step").click()
    cost = page.get_by_test_id("wt-step-cost")
    cost.wait_for()
    before, after = float(cost.get_attribute("data-before")), float(cost.get_attribute("data-after"))
    assert after < before
    assert "dropped" in page.get_by_test_id("wt-step-verdict").inner_text()
    # the "after" shown for row ① is the live network's weight now
    after_text = page.get_by_test_id("wt-step-table").locator("tbody tr").first.locator("td").nth(3).inner_text()
    now = api(server, "/api/backprop", example_body(page))["layers"][first["layer"]]["w"][first["j"]][first["k"]]
    assert abs(number(after_text) - now) <= shown_precision(after_text), (after_text, now)
    settle_page(page)  # the cost bars' move
    shot(page, "walkthrough-13-step-taken")

    # undo: the weight is back to "before"
    before_text = page.get_by_test_id("wt-step-table").locator("tbody tr").first.locator("td").nth(0).inner_text()
    page.get_by_test_id("wt-undo").click()
    wait_until(lambda: abs(api(server, "/api/backprop", example_body(page))["layers"][first["layer"]]["w"][first["j"]][first["k"]] - number(before_text)) <= shown_precision(before_text),
               10, message="undo to restore the weight")
    assert page.problems == []


def test_a_big_learning_rate_says_why_the_cost_went_up(page, server):
    lr = page.get_by_test_id("wt-lr")
    lr.fill("10")
    lr.press("Enter")
    page.wait_for_function("window.__lab.walkthrough.lr === 10")
    page.get_by_test_id("wt-take-step").click()
    page.wait_for_function("document.querySelector('[data-testid=wt-step-cost]') && window.__lab.walkthrough.stepResult?.learning_rate === 10")
    cost = page.get_by_test_id("wt-step-cost")
    verdict = page.get_by_test_id("wt-step-verdict").inner_text()
    if float(cost.get_attribute("data-after")) >= float(cost.get_attribute("data-before")):
        assert "too big" in verdict and "smaller learning rate" in verdict
    else:
        assert "dropped" in verdict
    page.get_by_test_id("wt-undo").click()
    page.wait_for_function("window.__lab.walkthrough.stepResult === null")
    lr.fill("3")
    lr.press("Enter")
    assert page.problems == []


def test_my_drawing_walked_through_and_taught_with_undo(page, server):
    # draw a 7 on the walkthrough's pad, say it is a 7, walk through it
    draw_strokes(page, "wt-pad", SEVEN, steps=6)
    page.locator(".wt-digits .digit[data-digit='7']").click()
    page.get_by_test_id("wt-teach-bars").wait_for()  # the network's guess for the drawing
    page.locator("#wt-walk-drawing").click()
    page.wait_for_function("window.__lab.walkthrough.example.source === 'drawing' && window.__lab.walkthrough.example.request.pixels")
    assert page.get_by_test_id("wt-example-title").inner_text() == "Your drawing"
    assert wt(page, "w.bd.label") == 7
    truth = api(server, "/api/backprop", example_body(page))
    assert abs(wt(page, "w.bd.cost") - truth["cost"]) <= 1e-6 * max(1.0, truth["cost"])

    # teach it a digit it gets wrong: a misread test image on the pad, with its true label
    mistake = api(server, "/api/mistake?after=-1")
    example = api(server, f"/api/test-example?index={mistake['index']}")
    page.evaluate("(px) => { const t = window.__lab.walkthrough.teach; t.pad.showImage(px); t.changed(); }", example["pixels"])
    page.locator(f".wt-digits .digit[data-digit='{example['label']}']").click()
    # a small η: one step on one example with η = 3 (or even 0.5) can overshoot: the cost then rises
    page.get_by_test_id("wt-lr").fill("0.05")
    page.get_by_test_id("wt-lr").press("Enter")
    page.wait_for_function("window.__lab.walkthrough.lr === 0.05")
    model_before = api(server, "/api/model")
    label = example["label"]
    for n in (1, 2):
        with page.expect_response("**/api/teach") as response:
            page.get_by_test_id("wt-teach").click()
        taught = response.value.json()
        # a small step downhill on that one example: its cost falls (what gradient descent promises;
        # P(label), a share of all ten outputs, usually rises too but need not)
        assert taught["cost_after"] < taught["cost_before"], taught
        page.wait_for_function(f"document.querySelector('.wt-card-head .subtle').textContent === 'taught ×{n}'")
        status = page.get_by_test_id("wt-teach-status").inner_text()
        # ... and the card shows those numbers (to its precision)
        p_before, p_after = (float(x) for x in re.search(rf"P\({label}\) ([\d.]+)% → ([\d.]+)%", status).groups())
        c_before, c_after = (number(x) for x in re.search(r"C₀ (\S+) → (\S+?)\.(?:\s|$)", status).groups())
        assert c_after <= c_before, status
        assert abs(c_before - taught["cost_before"]) <= 0.01 * taught["cost_before"], status
        for shown, true in ((p_before, taught["before"]["probabilities"][label]),
                            (p_after, taught["after"]["probabilities"][label])):
            assert abs(shown - 100 * true) <= 0.05 * max(100 * true, 1) + 0.051, status  # 2 significant digits
    assert page.get_by_test_id("wt-teach-bars").locator(".prob").count() == 10
    settle_page(page)  # the bars' move
    shot(page, "walkthrough-14-teach")
    assert api(server, "/api/model") != model_before
    for _ in range(2):
        depth = wt(page, "w.undoDepth")
        page.get_by_test_id("wt-undo").click()
        page.wait_for_function(f"window.__lab.walkthrough.undoDepth === {depth - 1}")
    wait_until(lambda: api(server, "/api/model") == model_before, 5, message="undo to restore the weights exactly")
    page.get_by_test_id("wt-lr").fill("3")
    page.get_by_test_id("wt-lr").press("Enter")
    assert page.problems == []


def test_the_gradient_check_agrees_with_backprop(page, server):
    go_phase(page, 3)
    page.wait_for_function("!document.querySelector('[data-testid=wt-gc-error]').classList.contains('stale')")
    error = number(page.get_by_test_id("wt-gc-error").inner_text())
    assert error < 1e-4
    assert "agree" in page.get_by_test_id("wt-gc-verdict").inner_text()
    # backprop's value is the walkthrough's own ∂C₀/∂w for that weight
    p = wt(page, "w.gradcheck.param")
    nabla = wt(page, f"w.bd.layers[{p['layer']}].nabla_w[{p['j']}][{p['k']}]")
    shown = page.get_by_test_id("wt-gc-backprop").inner_text()
    # (the check runs in float64, the walkthrough's backprop in the engine's float32)
    assert abs(number(shown) - nabla) <= max(shown_precision(shown), 1e-4 * abs(nabla))
    shot(page, "walkthrough-15-gradcheck")
    assert page.problems == []


def test_keys_auto_play_and_clicking_a_neuron(page, server):
    start = server.state()["iteration"]
    go_phase(page, 1)
    page.mouse.click(5, 890)  # focus nothing in particular
    page.keyboard.press("ArrowRight")
    page.wait_for_function("window.__lab.walkthrough.index === 1")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("window.__lab.walkthrough.index === 0")
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('wt-auto').getAttribute('aria-pressed') === 'true'")
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('wt-auto').getAttribute('aria-pressed') === 'false'")
    assert server.state()["iteration"] == start and not server.state()["running"]  # → and space did not train

    # clicking a neuron of the second hidden layer follows it (and goes to its layer's forward step)
    canvas = page.get_by_test_id("network-view").bounding_box()
    pos = page.evaluate("window.__lab.networkView.positionOf(2, 5)")
    page.mouse.click(canvas["x"] + pos["x"], canvas["y"] + pos["y"])
    page.wait_for_function("window.__lab.walkthrough.sel[2] === 5 && window.__lab.walkthrough.steps[window.__lab.walkthrough.index].l === 2")
    assert page.locator("#inspector").is_hidden()
    assert page.problems == []


def test_another_shape_softmax_and_cross_entropy_walks_without_errors(page, server):
    # (η 0.1: at the session's η 3 this network's ReLUs die within one epoch, and the next test, which
    # resumes training and then pauses it, would race the `stalled` pause)
    page.evaluate("""window.__lab.send({type: 'reset', hidden: [24], activation: 'relu', output_activation: 'softmax',
                     cost: 'cross_entropy', seed: 5, learning_rate: 0.1}, 'reset')""")
    page.wait_for_function("window.__lab.store.sizes.join() === '784,24,10' && window.__lab.walkthrough.bd?.layers.length === 2")
    go_phase(page, 1)
    kinds = wt(page, "w.steps.map((s) => s.kind)")
    assert kinds == ["forward", "forward", "cost", "output", "dCda", "hidden", "pixels", "batch", "step"]
    truth = api(server, "/api/backprop", example_body(page))
    for i in range(1, len(kinds)):
        next_step(page)
        if current_kind(page) == "cost":
            c_text = page.get_by_test_id("wt-cost-total").inner_text()
            assert abs(number(c_text) - truth["cost"]) <= shown_precision(c_text)
        if current_kind(page) == "output":
            assert "Jacobian" in page.locator("#wt-step-caption").inner_text()  # δ ≠ σ′·∂C₀/∂a for softmax
            shot(page, "walkthrough-16-softmax-output")
    assert page.problems == []


def test_leaving_resumes_training_from_the_updated_weights(page, server):
    page.locator("#wt-leave").click()
    wait_until(lambda: server.state()["running"], 10, message="training to resume")
    page.wait_for_function("document.body.dataset.mode === 'live' && window.__lab.store.drawing === null")
    start = iteration(page)
    wait_until(lambda: iteration(page) > start + 50, 15, message="the counter to rise again")
    # pause (a command, not the toggle: this ReLU network at η 3 may stall and pause itself meanwhile,
    # and the toggle would then start it again)
    page.evaluate("window.__lab.send({type: 'pause'}, 'transport')")
    wait_until(lambda: not server.state()["running"], 10, message="a pause")
    assert page.problems == []
