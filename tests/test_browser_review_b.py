"""A newcomer's walk on a TRAINED network (review findings): one colour rule shared by the network overlay
and the tables, a "hard one" that shows a large gradient (and a saturated example that says so), the
notes' index letters, and labels and charts that fit at every screen size.

One server for the file, started from a [784, 16, 16, 10] checkpoint trained for one epoch (about 91%);
Debian's Chromium driven by Playwright. Screenshots go to test-artifacts/reviewb-*.png.
"""

from __future__ import annotations

import numpy as np
import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    LiveServer,
    animation_frames,
    browser,
    chromium_path,
    ensure_paused,
    shot,
    wait_connected,
    wait_until,
)
from test_browser_walkthrough import number

pytest_plugins = ["conftest_server"]
pytestmark = pytest.mark.browser

SIZES = {
    "phone": (390, 844, True),
    "tablet": (768, 1024, True),
    "laptop": (1280, 720, False),
    "projector": (1920, 1080, False),
}


@pytest.fixture(scope="module")
def server(chromium_path, trained_checkpoint, tmp_path_factory):
    path, _, _ = trained_checkpoint
    folder = tmp_path_factory.mktemp("reviewb-ckpt")
    srv = LiveServer(extra_args=["--load", path, "--no-autosave", "--checkpoint-dir", folder]).start()
    yield srv
    srv.stop()


def new_tab(browser, server, size="laptop"):
    width, height, touch = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"HTTP {r.status} {r.request.method} {r.url} {r.request.post_data}"))
    page.goto(server.url)
    wait_connected(page)
    return context, page


@pytest.fixture(scope="module")
def laptop(browser, server):
    context, page = new_tab(browser, server, "laptop")
    ensure_paused(page, server)
    yield page
    context.close()


def wt(page, expr: str):
    return page.evaluate(f"(() => {{ const w = window.__lab.walkthrough; return {expr}; }})()")


def open_walkthrough(page):
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("window.__lab.walkthrough.ready && window.__lab.walkthrough.bd !== null", timeout=15000)


def go_kind(page, kind: str, l: int | None = None):
    cond = f"s.kind === '{kind}'" + (f" && s.l === {l}" if l is not None else "")
    i = wt(page, f"w.steps.findIndex((s) => {cond})")
    assert i >= 0, (kind, l)
    page.evaluate(f"window.__lab.walkthrough.goTo({i})")
    page.wait_for_function(f"window.__lab.walkthrough.index === {i}")
    animation_frames(page, 3)


# The colour of the network view at a point (CSS px of the canvas): "pos" (blue), "neg" (orange) or None.
PIXEL = """([x, y]) => {
  const c = document.querySelector('[data-testid=network-view]');
  const k = c.width / c.clientWidth;
  const d = c.getContext('2d').getImageData(Math.round(x * k) - 1, Math.round(y * k) - 1, 3, 3).data;
  let best = null, score = 0;
  for (let i = 0; i < d.length; i += 4) {
    const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
    // blue #58c4dd: b well over r; orange #ff8c38: r high, g middling (not the gold #ffd166 of a callout)
    const kind = b > r + 40 ? 'pos' : r > b + 40 && g < 0.7 * r ? 'neg' : null;
    const s = Math.abs(b - r);
    if (kind && s > score) { score = s; best = kind; }
  }
  return best;
}"""


def view_colour(page, x, y):
    return page.evaluate(PIXEL, [x, y])


def table_class(cell) -> str | None:
    cls = cell.locator(".n").first.get_attribute("class") or ""
    return "pos" if "pos" in cls.split() else "neg" if "neg" in cls.split() else None


# ----- 1. one colour rule ------------------------------------------------------------------------------
def test_a_path_has_the_same_colour_on_the_network_and_in_the_table(laptop):
    page = laptop
    open_walkthrough(page)
    L = wt(page, "w.bd.layers.length")

    # the sum over paths into the last hidden layer: each path's colour on the view and in its row
    go_kind(page, "dCda", L - 1)
    k = wt(page, f"w.sel[{L - 1}]")
    rows = page.locator("#wt-body table.terms tbody tr")
    checked = 0
    for r in range(rows.count()):
        row = rows.nth(r)
        label = row.locator("th").inner_text().strip()
        if not label.startswith("output"):
            continue
        j = int(label.split()[-1])
        cells = row.locator("td")
        product = number(cells.nth(2).inner_text())
        if abs(product) < 0.2 * abs(number(rows.nth(0).locator("td").nth(2).inner_text())):
            continue  # a thin line: too faint to sample
        a = page.evaluate(f"window.__lab.networkView.positionOf({L - 1}, {k})")
        b = page.evaluate(f"window.__lab.networkView.positionOf({L}, {j})")
        # along the line (a few points: the selected neuron's callout may cover part of it)
        seen = [view_colour(page, a["x"] + t * (b["x"] - a["x"]), a["y"] + t * (b["y"] - a["y"])) for t in np.arange(0.55, 0.89, 0.03)]  # (nearer the neuron the paths run too close together)
        seen = [c for c in seen if c]
        on_view = max(set(seen), key=seen.count) if seen else None
        in_table = table_class(cells.nth(2))
        arrow = cells.nth(2).locator(".arrow").inner_text()
        assert on_view == in_table, f"path {k} → output {j} (w·δ = {product}): {on_view} on the network, {in_table} in the table"
        assert (in_table == "pos") == (arrow == "↑"), f"path to output {j}: colour {in_table} with arrow {arrow}"
        checked += 1
    assert checked >= 1

    # the output layer: each output's δ (its bias's nudge) as a ring on the view and a row in the table
    go_kind(page, "output")
    rows = page.locator("#wt-body table.vertical tbody tr")
    deltas = wt(page, "w.bd.layers[w.bd.layers.length - 1].delta")
    biggest = [j for j in np.argsort(-np.abs(deltas))[:3] if abs(deltas[j]) >= 0.25 * np.abs(deltas).max()]  # rings thick enough to sample
    for j in biggest:
        cell = rows.nth(int(j)).locator("td").nth(4)
        p = page.evaluate(f"window.__lab.networkView.positionOf({L}, {int(j)})")
        on_view = view_colour(page, p["x"], p["y"] - p["r"] - 2.5)
        assert on_view == table_class(cell), f"output {j} (δ = {deltas[j]}): ring {on_view}, table {table_class(cell)}"
    legend = page.locator("#wt-legend").inner_text()
    assert "↑" in legend and "↓" in legend, legend  # the rule is stated where the colours are
    shot(page, "reviewb-colours-output")
    assert page.problems == []


# ----- 2. the hard one learns; a saturated one says why it does not ------------------------------------
def saturated_mistake(net, data):
    """A training image the trained network gets confidently wrong with its label's output saturated."""
    from server.engine.data import to_float
    from server.network import one_hot

    idx = np.arange(2000)
    x, labels = to_float(data.train_images[idx]), data.train_labels[idx]
    g = net.backprop(x, one_hot(labels, 10), input_gradient=False)
    delta = np.abs(g.deltas[-1][np.arange(len(idx)), labels])
    wrong = g.trace.activations[-1].argmax(axis=1) != labels
    candidates = np.nonzero(wrong & (g.costs > 1.5) & (delta < 1e-4))[0]
    assert len(candidates), "no saturated mistake in the first 2000 training images"
    i = int(candidates[0])
    # on this network the wrong answer's own output is not saturated: it is what the example moves
    mover = int(np.argmax(np.abs(g.deltas[-1][i])))
    whole = bool(np.abs(g.deltas[-1][i]).max() < 1e-3)
    return {"index": i, "label": int(labels[i]), "pixels": x[i].astype(float).round(6).tolist(), "mover": mover, "whole": whole}


def test_the_hard_one_has_big_nudges_and_a_saturated_mistake_says_why_it_barely_moves(laptop, trained_checkpoint, server_data):
    page = laptop
    if not wt(page, "w.active"):
        open_walkthrough(page)
    page.locator("[data-source=hard]").click()
    page.wait_for_function("window.__lab.walkthrough.example.source === 'hard' && window.__lab.walkthrough.bd")
    rank = wt(page, "w.example.rank")
    assert rank["gradient_norm"] > 10 * rank["median_gradient_norm"], rank
    assert page.get_by_test_id("wt-example-title").inner_text().startswith("Biggest nudges of")
    go_kind(page, "output")
    # it learns: the example as a whole is never "saturated". (The hard one comes from a random sample, so
    # the output shown may be a saturated one of it, and then the note says which other output moves.)
    hard_note = page.get_by_test_id("wt-saturated")
    if hard_note.count():
        assert "It barely learns" not in hard_note.inner_text() and "comes from output" in hard_note.inner_text()

    _, net, _ = trained_checkpoint
    ex = saturated_mistake(net, server_data)
    before = wt(page, "w.version")
    page.evaluate("(ex) => window.__lab.walkthrough.setExample({source: 'training', label: ex.label, index: ex.index, request: {pixels: ex.pixels}})", ex)
    page.wait_for_function(f"window.__lab.walkthrough.version > {before}")
    go_kind(page, "output")
    note = page.get_by_test_id("wt-saturated")
    assert note.is_visible()
    text = note.inner_text()
    assert "saturated" in text and "σ′" in text and "cross-entropy" in text, text
    assert ex["whole"] or f"comes from output {ex['mover']}" in text, text  # and what it does move, truly
    shot(page, "reviewb-saturated-output")
    # the mini-batch says its column barely moves anything exactly when that is so
    go_kind(page, "batch")
    page.get_by_test_id("wt-batch-table").wait_for()
    assert ("barely moves anything" in page.locator("#wt-step-caption").inner_text()) == ex["whole"]
    assert page.problems == []


# ----- 3. the notes' letters (j this layer, k the one before) and one name per layer ------------------
def test_the_notes_letters_and_one_name_for_each_layer_in_every_view(laptop, server):
    page = laptop
    if not wt(page, "w.active"):
        open_walkthrough(page)
    L = wt(page, "w.bd.layers.length")
    # one layer back, the layer's own neurons are j and the layer before is k, as in the notes' w_jk
    go_kind(page, "hidden", L - 1)
    heads = page.locator("#wt-body table.vertical thead th").all_inner_texts()
    assert heads[0] == "j" and any("δⱼ" in h for h in heads) and any("∂C₀/∂aⱼ" in h for h in heads), heads
    caption = page.locator("#wt-step-caption").inner_text()
    assert "δⱼ = σ′(zⱼ)·∂C₀/∂aⱼ" in caption and "aₖ·δⱼ" in caption, caption
    # no other letters anywhere in the walk: never i, never δ with k
    kinds = wt(page, "w.steps.map((s) => [s.kind, s.l])")
    for kind, l in kinds:
        if kind in ("batch", "step"):
            continue
        go_kind(page, kind, l)
        text = page.locator("#wt-step-caption").inner_text() + page.locator("#wt-body").inner_text() + page.locator("#wt-legend").inner_text()
        assert "ᵢ" not in text and "δₖ" not in text, f"{kind} {l}: {text[:300]}"
    # the step's map names its neuron as the network view does
    go_kind(page, "step")
    page.get_by_test_id("wt-take-step").click()
    page.get_by_test_id("wt-first-layer-change").locator("canvas").first.wait_for()
    assert "hidden 1 neuron" in page.get_by_test_id("wt-first-layer-change").inner_text()
    page.get_by_test_id("wt-undo").click()
    page.wait_for_function("window.__lab.walkthrough.undoDepth === 0")
    page.locator("#wt-leave").click()
    page.wait_for_function("document.body.dataset.mode === 'live'")
    ensure_paused(page, server)

    # the live view's gradient lengths and Look back name the matrices W⁽ˡ⁾ and the layers hidden 1 … output
    page.evaluate("window.__lab.send({type: 'step', unit: 'epoch'}, 'transport')")
    page.wait_for_function("window.__lab.store.gradNorms && window.__lab.store.gradNorms.length > 0 && window.__lab.store.gradNorms.every((g) => g.w != null)", timeout=30000)
    page.locator("#show-gradients").click()
    # (the legend's span is made empty when the view switches; the animation loop writes it on its next frame)
    page.wait_for_function("(document.querySelector('.legend-item.norms')?.textContent || '') !== ''")
    norms = page.locator(".legend-item.norms").inner_text()
    assert "W⁽¹⁾" in norms and "W0" not in norms, norms
    page.locator("#show-weights").click()
    # Descent's "two weights" counts W⁽¹⁾ … W⁽ᴸ⁾ as the walkthrough does
    page.get_by_test_id("mode-descent").click()
    page.get_by_test_id("descent-plane").select_option("weights")
    layer_input = page.locator(".dc-weights input[name=l1]")
    assert layer_input.get_attribute("min") == "1" and layer_input.get_attribute("max") == str(L)
    assert "W⁽¹⁾" in layer_input.get_attribute("title")
    page.get_by_test_id("mode-live").click()

    page.get_by_test_id("lookback-toggle").click()
    page.wait_for_function("document.querySelector('[aria-label=\"Layer for the distributions\"]').options.length > 0", timeout=15000)
    options = page.locator("[aria-label='Layer for the distributions'] option").all_inner_texts()
    assert options == ["hidden 1 · W⁽¹⁾", "hidden 2 · W⁽²⁾", "output · W⁽³⁾"], options
    legend = page.locator(".lb-legend").inner_text()
    assert "W⁽¹⁾" in legend and "W1" not in legend, legend
    assert page.problems == []


# ----- 4. the walkthrough's network view: room, every output shown, labels that never collide ----------
LABELS = """() => {
  const w = window.__lab.walkthrough, v = window.__lab.networkView, L = w.bd.layers.length;
  return {boxes: w.overlay.labels || [], layers: v.layout.layers.slice(1).map((l) => [l.k, l.n]),
          width: v.layout.width, height: document.querySelector('[data-testid=network-view]').clientHeight};
}"""


def collisions(boxes) -> list:
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            ox = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            oy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if ox > 0.5 and oy > 0.5:
                found.append(f"{a['kind']} {a['j']} “{a['text']}” × {b['kind']} {b['j']} “{b['text']}” ({ox:.0f}×{oy:.0f} px)")
    return found


@pytest.mark.parametrize("size", list(SIZES))
def test_the_walkthrough_shows_every_neuron_and_its_output_labels_never_collide(browser, server, size):
    context, page = new_tab(browser, server, size)
    try:
        open_walkthrough(page)
        kinds = wt(page, "w.steps.map((s) => s.kind)")
        for i, kind in enumerate(kinds):
            page.evaluate(f"window.__lab.walkthrough.goTo({i})")
            page.wait_for_function(f"window.__lab.walkthrough.index === {i}")
            if kind in ("batch", "step"):
                page.get_by_test_id(f"wt-{kind}-table").wait_for()
            animation_frames(page, 3)
            g = page.evaluate(LABELS)
            where = f"{size}, step {i + 1} ({kind}), view {g['width']:.0f}×{g['height']:.0f}"
            assert all(k == n for k, n in g["layers"]), f"{where}: neurons shown of each layer {g['layers']}"
            assert len([b for b in g["boxes"] if b["kind"] == "digit"]) == g["layers"][-1][1], where
            assert not collisions(g["boxes"]), f"{where}: " + "; ".join(collisions(g["boxes"]))
            outside = [b["text"] for b in g["boxes"] if b["x"] < 0 or b["x"] + b["w"] > g["width"] + 0.5]
            assert not outside, f"{where}: cut at the edge: {outside}"
            if size == "laptop":  # (the mini-batch and the step leave their tables more room)
                least = 195 if kind in ("batch", "step") else 240
                assert g["height"] >= least, f"{where}: the network view is only {g['height']} px tall"
            if kind in ("output", "batch"):
                shot(page, f"reviewb-{size}-wt-{i + 1:02d}-{kind}")
        assert page.problems == []
    finally:
        context.close()


# ----- 5. the live view and Descent's runners at 1280×720 ----------------------------------------------
CLIPPED = """(selectors) => selectors.map((s) => {
  const e = document.querySelector(s);
  if (!e || !e.getClientRects().length) return [s, 'missing'];
  return e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1 ? [s, `${e.scrollWidth}×${e.scrollHeight} in ${e.clientWidth}×${e.clientHeight}: “${e.textContent.trim().slice(0, 60)}”`] : null;
}).filter(Boolean)"""


def test_the_laptop_live_view_has_a_real_chart_and_no_cut_words(browser, server):
    context, page = new_tab(browser, server, "laptop")
    try:
        ensure_paused(page, server)
        # a history to scrub, and a setting change to mark on the curve
        start = server.state()["iteration"]
        page.evaluate("window.__lab.send({type: 'step', unit: 'epoch'}, 'transport')")
        page.wait_for_function(f"window.__lab.store.state.iteration >= {start + 3000}", timeout=60000)
        # the epoch step ends before the next begins (a second `step epoch` sent while the first still runs
        # joins it: training stopped at the first epoch's end and the wait for start + 9000 timed out)
        wait_until(lambda: not server.state()["running"], 30, message="the first epoch step to end")
        page.wait_for_function("window.__lab.store.state.running === false")
        page.get_by_test_id("learning-rate").fill("2")
        page.get_by_test_id("learning-rate").press("Enter")
        page.wait_for_function("window.__lab.store.markers.length > 0")
        page.evaluate("window.__lab.send({type: 'step', unit: 'epoch'}, 'transport')")
        page.wait_for_function(f"window.__lab.store.state.iteration >= {start + 9000}", timeout=60000)
        wait_until(lambda: not server.state()["running"], 30, message="the epoch step to end")
        page.wait_for_function("window.__lab.store.state.running === false")
        animation_frames(page, 3)
        chart = page.get_by_test_id("cost-chart").bounding_box()
        assert chart["height"] >= 145, f"the descent curve's canvas is {chart['height']:.0f} px tall (its plot 43 px less; it was 97)"
        assert page.evaluate("window.__lab.networkView.layout.layers.slice(1).every((l) => l.k === l.n)")  # and every neuron
        assert page.evaluate("document.documentElement.scrollHeight") <= 720  # still one screen
        # the chart's own words sit outside the plotted curve: chance level in the legend, markers above the plot
        labels = page.evaluate("window.__lab.chart.labels")
        plot = page.evaluate("window.__lab.chart.geom")
        inside = [b["text"] for b in labels if b["y"] + b["h"] > plot["y"] + 0.5 and b["x"] < plot["x"] + plot["w"]]
        assert not inside, f"drawn on the curve: {inside}"
        assert any(b["text"].startswith("η") for b in labels), labels
        assert "chance 11%" in page.locator(".chart .panel-head").inner_text()
        # scrub back: the readout, the legend and the network's caption are whole
        box = page.get_by_test_id("history-timeline").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
        page.wait_for_function("document.querySelector('[data-testid=history-readout]').textContent.startsWith('Showing iteration')")
        animation_frames(page, 2)
        assert page.get_by_test_id("cost-chart").bounding_box() == chart, "the curve moved when scrubbing began"
        cut = page.evaluate(CLIPPED, [".chart .panel-head .subtle", "[data-testid=history-readout]", "#example-caption", "[data-testid=purpose-chart]", "#network-purpose", "#network-legend"])
        assert not cut, cut
        shot(page, "reviewb-laptop-live-scrubbed")
        page.get_by_test_id("history-now").click()
        assert page.problems == []
    finally:
        context.close()


def test_the_laptop_runners_charts_have_room_whole_words_and_a_visible_race(browser, server):
    context, page = new_tab(browser, server, "laptop")
    try:
        ensure_paused(page, server)
        page.get_by_test_id("mode-descent").click()
        page.locator("[data-testid=descent-runners-card] select").nth(0).select_option("fresh")
        page.locator("[data-testid=descent-runners-card] select").nth(1).select_option("20")
        run = page.get_by_test_id("descent-run")
        run.scroll_into_view_if_needed()
        run.click()
        page.wait_for_function("window.__lab.descent.runDrawn && window.__lab.descent.runDrawn.examples", timeout=90000)
        for test_id in ("descent-runners-plane", "descent-runners-examples", "descent-runners-time"):
            b = page.get_by_test_id(test_id).bounding_box()
            assert b["height"] >= 150, f"{test_id} is {b['height']:.0f} px tall"
        drawn = page.evaluate("window.__lab.descent.runDrawn")
        for key, chart in drawn.items():
            assert not collisions([{**b, "kind": "text", "j": ""} for b in chart["boxes"]]), f"{key}: " + "; ".join(collisions([{**b, "kind": "text", "j": ""} for b in chart["boxes"]]))
            # from a fresh start the first cost towers over the race: it runs off the top, with a note
            assert chart["clipped"] and any(b["text"].startswith("↑ starts at C =") for b in chart["boxes"]), chart
        page.get_by_test_id("descent-runners-card").screenshot(path=str(shot.__globals__["ARTIFACTS"] / "reviewb-laptop-runners.png"))
        assert page.problems == []
    finally:
        context.close()


# ----- 6. a phone (390×844, touch) ---------------------------------------------------------------------
KEY_GAPS = """() => [...document.querySelectorAll('.chart .panel-head .subtle .swatch')].map((sw) => {
  const s = sw.getBoundingClientRect();
  const range = document.createRange();
  let words = sw.nextSibling;
  while (words && !words.textContent.trim()) words = words.nextSibling;
  range.selectNodeContents(words);
  const t = range.getClientRects()[0];
  return {words: words.textContent.trim(), dy: Math.abs((s.top + s.bottom) / 2 - (t.top + t.bottom) / 2), dx: t.left - s.right};
})"""

IN_BOX = """(sel) => {
  const cell = document.querySelector(sel);
  const box = cell.closest('.wt-scroll-x').getBoundingClientRect();
  const r = cell.getBoundingClientRect();
  return r.left >= box.left - 0.5 && r.right <= box.right + 0.5;
}"""


def test_the_phone_plays_in_the_first_screen_and_walks_with_next_at_hand(browser, server):
    context, page = new_tab(browser, server, "phone")
    try:
        ensure_paused(page, server)
        play = page.get_by_test_id("play-pause").bounding_box()
        assert play["y"] + play["height"] <= 844, f"Play ends at y = {play['y'] + play['height']:.0f}, below the first screen"
        # the curve's key: every swatch on the line of its words, right before them
        for k in page.evaluate(KEY_GAPS):
            assert k["dy"] < 8 and -1 <= k["dx"] <= 12, f"the swatch of “{k['words']}” is apart from its words: {k}"

        open_walkthrough(page)
        kinds = wt(page, "w.steps.map((s) => s.kind)")
        for i, kind in enumerate(kinds):
            # the step's title in view: Next is in view too, uncovered, and takes you on
            page.get_by_test_id("wt-step-title").scroll_into_view_if_needed()
            if kind in ("batch", "step"):
                page.get_by_test_id(f"wt-{kind}-table").wait_for()
            nav = page.get_by_test_id("wt-next").bounding_box()
            assert 0 <= nav["y"] and nav["y"] + nav["height"] <= 844, f"step {i + 1}: Next at y = {nav['y']:.0f}"
            assert page.evaluate("(() => { const b = document.querySelector('[data-testid=wt-next]'); const r = b.getBoundingClientRect(); const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return b === hit || b.contains(hit); })()")
            title = page.get_by_test_id("wt-step-title").bounding_box()
            assert title["y"] + title["height"] <= nav["y"], f"step {i + 1}: Next covers the step's title"
            if kind == "batch":
                # the table scrolls inside its box, says so, and every column can be seen whole
                box = "document.querySelector('[data-testid=wt-batch-table]').closest('.wt-scroll-x')"
                assert page.evaluate(f"{box}.scrollWidth > {box}.clientWidth")
                cue = page.locator("[data-testid=wt-body] .scroll-cue").first
                assert cue.is_visible() and "sideways" in cue.inner_text()
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
                page.evaluate(f"{box}.scrollLeft = {box}.scrollWidth")
                animation_frames(page, 2)
                n = page.locator("[data-testid=wt-batch-table] thead th").count()
                assert page.evaluate(IN_BOX, f"[data-testid=wt-batch-table] thead th:nth-child({n - 1})")
                shot(page, "reviewb-phone-batch-scrolled")
            if kind == "step":
                # the step's result, "after", stays in view at either end of the table
                after = "[data-testid=wt-step-table] thead th:last-child"
                assert page.evaluate(IN_BOX, after)
                shot(page, "reviewb-phone-step")
            if i < len(kinds) - 1:
                page.get_by_test_id("wt-next").click()
                page.wait_for_function(f"window.__lab.walkthrough.index === {i + 1}")
        assert page.problems == []
    finally:
        context.close()
