"""The page on the datasets of issue 15, in a real browser (Chromium via Playwright against `python -m server`).

Picking a plane dataset in the editor shows the plane view; clicking on the custom set adds points and the
decision map changes as the network retrains; the per-neuron maps the page computes equal an independent
forward pass of GET /api/model; Fashion-MNIST's class names reach the page. Tests wait on conditions,
never on fixed sleeps. Screenshots (1280×720 and 390×844) go to test-artifacts/.
"""

from __future__ import annotations

import io
import json
import re
import urllib.request

import numpy as np
import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    LiveServer,
    animation_frames,
    axe,
    browser,
    chromium_path,
    ensure_paused,
    open_tab,
    settle_page,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(chromium_path, tmp_path_factory):
    srv = LiveServer(extra_args=["--no-autosave", "--flat-out", "--checkpoint-dir", tmp_path_factory.mktemp("ckpt")]).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser, server):
    context, pg = open_tab(browser, server.url, 1280, 720)
    yield pg
    context.close()


def get(server, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as r:
        return r.read()


def reset_in_editor(page, dataset, hidden, activation="tanh", options=None):
    """Pick `dataset` and a network in the editor, press Reset, wait for the new hello."""
    page.evaluate("document.getElementById('editor').open = true")
    page.wait_for_function(f"[...document.querySelectorAll('#dataset option')].some(o => o.value === '{dataset}')")
    hellos = page.evaluate("window.__lab.store.helloCount")
    page.select_option("#dataset", dataset)
    for name, value in (options or {}).items():
        page.fill(f"#ds-opt-{name}", str(value))
    page.select_option("#hidden-count", str(len(hidden)))
    for i, n in enumerate(hidden):
        page.locator("#hidden-sizes input").nth(i).fill(str(n))
    page.select_option("#activation", activation)
    page.select_option("#output-activation", "softmax")
    page.select_option("#cost-fn", "cross_entropy")
    page.click("#reset")
    page.get_by_test_id("reset-confirm-ok").click()  # every tab shares the network: it asks first
    page.wait_for_function(
        "([n, d]) => window.__lab.store.helloCount > n && window.__lab.store.dataset?.name === d", arg=[hellos, dataset]
    )


PLOT_PIXELS = """() => {
    const c = document.getElementById('plane-plot');
    return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
}"""


def test_picking_a_plane_dataset_shows_the_plot_and_the_maps(page, server):
    # The picker lists the server's datasets with its limits (never hard-coded): unavailable ones disabled.
    listed = json.loads(get(server, "/api/datasets"))["datasets"]
    page.evaluate("document.getElementById('editor').open = true")
    page.wait_for_function("document.querySelectorAll('#dataset option').length > 1")
    options = page.evaluate("[...document.querySelectorAll('#dataset option')].map(o => [o.value, o.disabled, o.title])")
    assert [o[0] for o in options] == [d["name"] for d in listed]
    for (name, disabled, title), entry in zip(options, listed):
        assert disabled == (not entry["available"])
        if not entry["available"]:
            assert title == entry["reason"]
    reset_in_editor(page, "gauss", [8, 8, 8], options={"classes": 3})
    gauss = next(d for d in listed if d["name"] == "gauss")
    classes = next(o for o in gauss["options"] if o["name"] == "classes")
    assert page.get_attribute("#ds-opt-classes", "max") == str(classes["max"])
    assert page.evaluate("window.__lab.store.sizes") == [2, 8, 8, 8, 3]
    page.wait_for_function("document.body.dataset.kind === 'plane'")
    assert page.get_by_test_id("plane-plot").is_visible()
    assert not page.get_by_test_id("draw-pad").is_visible()
    legend = page.get_by_test_id("plane-legend").inner_text()
    for name in ("blob 1", "blob 2", "blob 3"):
        assert name in legend
    # Something is drawn: the decision map and the points.
    page.wait_for_function("window.__lab.planeMaps.maps() !== null")
    pixels = np.array(page.evaluate(PLOT_PIXELS)).reshape(-1, 4)
    assert len(np.unique(pixels[:, :3], axis=0)) > 20
    # Click: the point is classified and becomes the shown example.
    box = page.get_by_test_id("plane-plot").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    page.wait_for_function("window.__lab.store.drawing?.meta?.source === 'point'")
    page.wait_for_function("document.querySelector('[data-testid=plane-verdict]').textContent.includes('the network says')")
    # (the caption follows on the next animation frame)
    page.wait_for_function("document.getElementById('example-caption').textContent.includes('Your point')")
    # Random test point / next mistake work on the plane.
    page.click("#plane-random-test")
    page.wait_for_function("window.__lab.store.drawing?.meta?.source === 'test'")
    page.click("#plane-next-mistake")
    page.wait_for_function("document.querySelector('[data-testid=plane-verdict]').textContent.includes('Test point')"
                           " || document.querySelector('.toast')")
    page.check("#plane-show-test")
    settle_page(page)
    shot(page, "plane-1280x720")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#plane-box").scroll_into_view_if_needed()
    settle_page(page)
    shot(page, "plane-390x844-plot")
    page.locator("#network-view").scroll_into_view_if_needed()
    settle_page(page)
    shot(page, "plane-390x844-network")
    assert page.problems == []


def test_the_pages_maps_equal_a_forward_pass_of_the_model(page, server):
    reset_in_editor(page, "gauss", [8, 8, 8], options={"classes": 3})
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.__lab.store.state.iteration > 200", timeout=20000)
    ensure_paused(page, server)
    iteration = server.state()["iteration"]
    page.wait_for_function("(it) => window.__lab.store.state.iteration === it", arg=iteration)
    z = np.load(io.BytesIO(get(server, "/api/model")), allow_pickle=False)
    sizes = page.evaluate("window.__lab.store.sizes")
    # The page's weights are the model's (the frame after the pause carries them all).
    page.wait_for_function(
        "(w) => Math.abs(window.__lab.store.weights[0][0] - w) < 1e-6", arg=float(z["W0"][0, 0]), timeout=10000
    )
    result = page.evaluate(
        """() => {
            const m = window.__lab.planeMaps.maps();
            const samples = [0, 63, 64 * 20 + 7, 64 * 31 + 32, 64 * 50 + 41, 4095];
            return {size: m.size, samples, a: m.a.map(layer => samples.map(p => {
                const N = m.N, n = layer.length / N, out = [];
                for (let j = 0; j < n; j++) out.push(layer[j * N + p]);
                return out;
            }))};
        }"""
    )
    size, e = result["size"], 1.0
    assert size == 64
    for s, p in enumerate(result["samples"]):
        r, c = divmod(p, size)
        a = np.array([-e + (c + 0.5) * 2 * e / size, e - (r + 0.5) * 2 * e / size])
        assert np.allclose(result["a"][0][s], a, atol=1e-6)
        for l in range(len(sizes) - 1):
            zl = z[f"W{l}"].astype(np.float64) @ a + z[f"b{l}"]
            if l == len(sizes) - 2:
                ez = np.exp(zl - zl.max())
                a = ez / ez.sum()
            else:
                a = np.tanh(zl)
            assert np.allclose(result["a"][l + 1][s], a, atol=1e-4), (l, s)
    # Time: every neuron's map of a [2,8,8,8,3] network at 64×64, in the page.
    ms = page.evaluate(
        """async () => {
            const m = await import('/static/js/plane/maps.js');
            const net = {sizes: [2, 8, 8, 8, 3], weights: window.__lab.store.weights, biases: window.__lab.store.biases,
                         activation: 'tanh', outputActivation: 'softmax'};
            let cache = null;
            for (let i = 0; i < 20; i++) cache = m.computeMaps(net, 64, 1, cache);
            const times = [];
            for (let i = 0; i < 60; i++) { const t = performance.now(); cache = m.computeMaps(net, 64, 1, cache); times.push(performance.now() - t); }
            times.sort((x, y) => x - y);
            return times[30];
        }"""
    )
    print(f"maps of [2,8,8,8,3] at 64x64 in the page: {ms:.2f} ms (median)")
    assert ms < 10
    assert page.problems == []


def post(server, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)


GRADIENT_SAMPLES = """() => {
    const maps = window.__lab.planeMaps;
    const m = maps.maps(), g = maps.gradients(), N = m.N;
    const samples = [0, 63, 64 * 20 + 7, 64 * 31 + 32, 64 * 50 + 41, 4095];
    return {size: m.size, samples, labels: samples.map(p => g.labels[p]),
            inputs: samples.map(p => [m.a[0][p], m.a[0][N + p]]),
            dC: g.dC.slice(1).map(layer => samples.map(p => {
                const n = layer.length / N, out = [];
                for (let j = 0; j < n; j++) out.push(layer[j * N + p]);
                return out;
            }))};
}"""


def close_enough(got, want, noise, where):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    bound = noise + 1e-4 * np.abs(want).max() + 1e-3 * np.abs(want)
    assert np.all(np.abs(got - want) <= bound), f"{where}: page {got} engine {want} (allowed {bound})"


def set_learning_rate(page, value):
    page.fill("#lr-number", str(value))
    page.press("#lr-number", "Enter")
    page.wait_for_function("(v) => window.__lab.store.params.learning_rate === v", arg=value)


def test_the_pages_cost_gradient_maps_equal_the_engines_backprop(page, server):
    reset_in_editor(page, "gauss", [8, 8, 8], options={"classes": 3})
    set_learning_rate(page, 0.3)  # a network that learns (not saturated): gradients worth comparing
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.__lab.store.state.iteration > 200", timeout=20000)
    ensure_paused(page, server)
    z = np.load(io.BytesIO(get(server, "/api/model")), allow_pickle=False)
    page.wait_for_function(
        "(w) => Math.abs(window.__lab.store.weights[0][0] - w) < 1e-6", arg=float(z["W0"][0, 0]), timeout=10000
    )
    # The network view shows the cost-gradient maps in its nodes with "Gradients" (and says what they are).
    box = page.get_by_test_id("network-view").bounding_box()
    node = page.evaluate("(() => { const p = window.__lab.networkView.positionOf(2, 3); return [p.x, p.y, p.r]; })()")
    inside = """([x, y, r]) => {
        const c = document.getElementById('network-view'), k = c.width / c.getBoundingClientRect().width;
        return Array.from(c.getContext('2d').getImageData(Math.round((x - r / 2) * k), Math.round((y - r / 2) * k),
                                                          Math.round(r * k), Math.round(r * k)).data);
    }"""
    settle_page(page)
    before = np.array(page.evaluate(inside, node))
    page.click("#show-gradients")
    page.wait_for_function("window.__lab.planeMaps.grads !== null")
    settle_page(page)
    after = np.array(page.evaluate(inside, node))
    assert np.abs(after - before).sum() > 0, "the node's picture did not change to its gradient map"
    legend = page.locator("#network-legend").inner_text()
    assert "−∂C₀/∂a over the plane" in legend
    # Each sample grid point: the page's ∂C₀/∂a of every neuron equals the engine's backprop of that point
    # with the label the page scored it against — the nearest training point's class.
    result = page.evaluate(GRADIENT_SAMPLES)
    L = len(page.evaluate("window.__lab.store.sizes")) - 1
    noise = [None] * L
    noise[L - 1] = np.full(z[f"b{L - 1}"].shape, 4 * np.finfo(np.float32).eps)
    for l in range(L - 2, -1, -1):
        noise[l] = np.abs(z[f"W{l + 1}"]).T @ noise[l + 1] + 4 * np.finfo(np.float32).eps * 1e-3
    points = page.evaluate("[Array.from(window.__lab.store.points.x), Array.from(window.__lab.store.points.y)]")
    xy = np.array(points[0], dtype=np.float64).reshape(-1, 2)
    for s, p in enumerate(result["samples"]):
        r, c = divmod(p, 64)
        point = np.array([-1 + (c + 0.5) / 32, 1 - (r + 0.5) / 32])
        assert np.allclose(result["inputs"][s], point, atol=1e-6)
        assert result["labels"][s] == points[1][int(np.argmin(((xy - point) ** 2).sum(axis=1)))]
        bd = post(server, "/api/backprop", {"input": point.tolist(), "label": result["labels"][s]})
        # atol: float32's rounding. Where the network is sure, the engine computes a softmax output as
        # 1 − 6e-8 and the page as 1, so δ = a − y differs by float32's epsilon; that difference flows back
        # through |W| (σ′ ≤ 1 for tanh): the bound below, per neuron. A wrong gradient is off by far more.
        for l, layer in enumerate(bd["layers"]):
            want = np.array(layer["dC_da"])
            close_enough(result["dC"][l][s], want, noise[l], f"layer {l + 1}, grid pixel {p}")
    # One class everywhere: "what if the answer here were blob 2".
    page.select_option("#gradient-label", "1")
    page.wait_for_function("window.__lab.planeMaps.gradients().labels.every(v => v === 1)")
    result = page.evaluate(GRADIENT_SAMPLES)
    for s in (1, 3):
        bd = post(server, "/api/backprop", {"input": [float(v) for v in result["inputs"][s]], "label": 1})
        for l, layer in enumerate(bd["layers"]):
            want = np.array(layer["dC_da"])
            close_enough(result["dC"][l][s], want, noise[l], f"label 1, layer {l + 1}")
    # Hovering a neuron enlarges its activation map and its gradient map side by side, clear of the tooltip.
    p = page.evaluate("(() => { const p = window.__lab.networkView.positionOf(1, 2); return [p.x, p.y]; })()")
    page.mouse.move(box["x"] + p[0], box["y"] + p[1])
    page.wait_for_function("window.__lab.networkView.enlargedBox() !== null")
    page.wait_for_function("!document.getElementById('neuron-tooltip').hidden")
    settle_page(page)
    enlarged = page.evaluate("window.__lab.networkView.enlargedBox()")
    assert enlarged["w"] > 1.8 * (enlarged["h"] - 32), enlarged  # two squares
    tip = page.locator("#neuron-tooltip").bounding_box()
    ex, ey = box["x"] + enlarged["x"], box["y"] + enlarged["y"]
    assert (tip["x"] >= ex + enlarged["w"] or tip["x"] + tip["width"] <= ex
            or tip["y"] >= ey + enlarged["h"] or tip["y"] + tip["height"] <= ey), (tip, enlarged)
    shot(page, "plane-gradient-maps")
    # Time: forward and backward over a 64×64 grid of a [2,8,8,8,3] network, in the page.
    ms = page.evaluate(
        """async () => {
            const m = await import('/static/js/plane/maps.js');
            const s = window.__lab.store;
            const net = {sizes: [2, 8, 8, 8, 3], weights: s.weights, biases: s.biases, activation: 'tanh',
                         outputActivation: 'softmax', cost: 'cross_entropy'};
            const labels = window.__lab.planeMaps.gradients().labels;
            let maps = null, grads = null;
            for (let i = 0; i < 20; i++) { maps = m.computeMaps(net, 64, 1, maps); grads = m.computeCostGradients(maps, net, labels, grads); }
            const times = [];
            for (let i = 0; i < 60; i++) {
                const t = performance.now();
                maps = m.computeMaps(net, 64, 1, maps);
                grads = m.computeCostGradients(maps, net, labels, grads);
                times.push(performance.now() - t);
            }
            times.sort((x, y) => x - y);
            return times[30];
        }"""
    )
    # printed, not asserted: a speed measured while other tests run is noise (the ≤ 10 ms target is the
    # activation maps', checked above); README quotes this number with the machine's load
    print(f"activation and cost-gradient maps of [2,8,8,8,3] at 64x64 in the page: {ms:.2f} ms (median)")
    page.click("#show-weights")
    assert page.problems == []


def test_custom_points_by_clicking_and_the_map_follows(page, server):
    reset_in_editor(page, "custom", [8], options={"classes": 2})
    ensure_paused(page, server)
    page.wait_for_function("document.querySelectorAll('#plane-classes button').length === 2")
    start = page.evaluate("window.__lab.store.points.y.length")
    box = page.get_by_test_id("plane-plot").bounding_box()
    page.click("#plane-classes button[data-class='1']")
    spots = [(0.2, 0.2), (0.25, 0.3), (0.3, 0.2), (0.2, 0.28)]
    for i, (x, y) in enumerate(spots):
        page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
        page.wait_for_function("(n) => window.__lab.store.points.y.length === n", arg=start + i + 1)
    assert page.evaluate("Array.from(window.__lab.store.points.y).slice(-4)") == [1, 1, 1, 1]
    # Right-click removes the nearest point.
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2, button="right")
    page.wait_for_function("(n) => window.__lab.store.points.y.length === n", arg=start + 3)
    assert "of at most 500 points" in page.get_by_test_id("plane-note").inner_text()
    page.wait_for_function("window.__lab.planeMaps.maps() !== null")
    settle_page(page)
    before = np.array(page.evaluate(PLOT_PIXELS))
    page.click("[data-testid=play-pause]")
    it = server.state()["iteration"]
    wait_until(lambda: server.state()["iteration"] > it + 150, 40, message="training on the new points")
    ensure_paused(page, server)
    page.wait_for_function(
        """(before) => {
            const c = document.getElementById('plane-plot');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let diff = 0;
            for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - before[i]) + Math.abs(d[i + 1] - before[i + 1]) > 30) diff++;
            return diff > d.length / 4 / 50;
        }""",
        arg=before.tolist(),
        timeout=15000,
    )
    shot(page, "plane-custom")
    assert page.problems == []


def test_walkthrough_walks_the_clicked_point(page, server):
    reset_in_editor(page, "xor", [3], activation="sigmoid")
    ensure_paused(page, server)
    page.wait_for_function("window.__lab.planeMaps.maps() !== null")
    box = page.get_by_test_id("plane-plot").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    page.wait_for_function("window.__lab.store.drawing?.meta?.source === 'point'")
    point = page.evaluate("Array.from(window.__lab.store.drawing.activations[0])")
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("window.__lab.walkthrough.ready && window.__lab.walkthrough.bd", timeout=15000)
    walked = page.evaluate("Array.from(window.__lab.walkthrough.bd.input)")
    assert np.allclose(walked, point, atol=1e-5)
    settle_page(page)
    shot(page, "plane-walkthrough")
    page.get_by_test_id("mode-live").click()
    assert page.problems == []


# what MNIST's texts say that a point of the plane is not (a mini-batch of 10 still has "nine" others)
# "784" as a size, not as the digits of a number such as 0.784 (the step phase shows many numbers)
IMAGE_WORDS = re.compile(r"\b(pixels?|images?|digits?|ink|handwrit\w*|drawing|28 ?× ?28|(?<![\d.,])784(?![\d.,])|the other nine|of the ten"
                         r"|ten (?:outputs|probabilities|classes))\b", re.IGNORECASE)
WALKTHROUGH_TEXTS = """() => ['wt-detail', 'wt-legend', 'wt-side', 'wt-tools', 'wt-caption']
    .map(id => document.getElementById(id).innerText).join('\\n')"""


def test_the_walkthrough_on_the_plane_speaks_of_points_and_teaches_one(page, server):
    reset_in_editor(page, "xor", [3], activation="sigmoid")
    set_learning_rate(page, 0.5)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.__lab.store.state.iteration > 200", timeout=20000)
    ensure_paused(page, server)
    names = page.evaluate("window.__lab.store.classNames")
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("window.__lab.walkthrough.ready && window.__lab.walkthrough.bd", timeout=15000)
    # Every phase, in the dataset's words: inputs x₁, x₂ and the class names, never pixels or digits.
    steps = page.evaluate("window.__lab.walkthrough.steps.length")
    seen = ""
    for i in range(steps):
        page.evaluate(f"window.__lab.walkthrough.goTo({i})")
        kind = page.evaluate("window.__lab.walkthrough.steps[window.__lab.walkthrough.index].kind")
        if kind in ("batch", "step"):
            page.wait_for_function("window.__lab.walkthrough.batch?.table && !window.__lab.walkthrough.batch.loading")
        animation_frames(page)
        text = page.evaluate(WALKTHROUGH_TEXTS)
        found = IMAGE_WORDS.findall(text)
        assert not found, f"step {i + 1} ({kind}) speaks of images: {found}"
        seen += text
        if kind == "pixels":
            assert page.evaluate("document.getElementById('wt-step-title').textContent") == "Down to the inputs"
            assert "x₁" in text and "x₂" in text
        if kind == "hidden":
            # the first layer's every weight and bias in one table: 3 neurons × (x₁, x₂, b)
            table = page.get_by_test_id("wt-first-layer-table")
            assert table.locator("tbody tr").count() == 3
    assert any(name in seen for name in names)
    # The mini-batch: the walked point in column 1, and every one of the 13 parameters of [2,3,2] as a row.
    page.evaluate("window.__lab.walkthrough.goTo(window.__lab.walkthrough.steps.findIndex(s => s.kind === 'batch'))")
    page.wait_for_function("window.__lab.walkthrough.batch?.table && !window.__lab.walkthrough.batch.loading")
    table = page.evaluate("window.__lab.walkthrough.batch.table")
    assert table["example_first"] is True
    assert len(table["rows"]) == 2 * 3 + 3 + 3 * 2 + 2 == 17
    walked = page.evaluate("Array.from(window.__lab.walkthrough.bd.input)")
    assert np.allclose(table["inputs"][0], walked, atol=1e-4)
    shot(page, "plane-walkthrough-batch")
    # Teach it a point: place it on the plane pad, pick its class, one step; then undo restores the weights.
    model_before = get(server, "/api/model")
    pad = page.get_by_test_id("wt-plane-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.2)  # about (0.6, 0.6): x·y > 0
    page.wait_for_function("window.__lab.walkthrough.teach.point !== null")
    point = page.evaluate("window.__lab.walkthrough.teach.point")
    assert 0.4 < point[0] < 0.8 and 0.4 < point[1] < 0.8, point
    page.locator("#wt-teach-card .wt-digits .digit[data-digit='1']").click()  # teach it the wrong class
    page.wait_for_function("document.querySelector('[data-testid=wt-teach-status]').textContent.includes('The network thinks this point is')")
    page.get_by_test_id("wt-lr").fill("0.2")
    page.get_by_test_id("wt-lr").press("Enter")
    page.wait_for_function("window.__lab.walkthrough.lr === 0.2")
    with page.expect_response("**/api/teach") as response:
        page.get_by_test_id("wt-teach").click()
    taught = response.value.json()
    assert taught["label"] == 1 and taught["cost_after"] < taught["cost_before"], taught
    status = page.get_by_test_id("wt-teach-status").inner_text()
    assert f"toward “{names[1]}”" in status and f"P(“{names[1]}”)" in status, status
    assert page.get_by_test_id("wt-teach-bars").locator(".prob:not([hidden])").count() == 2
    assert get(server, "/api/model") != model_before
    # Walk that point through: the walkthrough's example is the point and its label.
    page.locator("#wt-walk-drawing").click()
    page.wait_for_function("window.__lab.walkthrough.example.source === 'drawing' && window.__lab.walkthrough.bd")
    page.wait_for_function("(p) => Math.abs(window.__lab.walkthrough.bd.input[0] - p[0]) < 1e-4", arg=point)
    assert page.evaluate("window.__lab.walkthrough.bd.label") == 1
    assert page.get_by_test_id("wt-example-title").inner_text().startswith("Your point (")
    # The gradient check on the walked point agrees with backprop.
    page.evaluate("window.__lab.walkthrough.goTo(window.__lab.walkthrough.steps.findIndex(s => s.kind === 'output'))")
    page.wait_for_function("!document.querySelector('[data-testid=wt-gc-error]').classList.contains('stale')", timeout=10000)
    assert "agree" in page.get_by_test_id("wt-gc-verdict").inner_text()
    assert re.search(r"weight from (x₁|x₂|hidden neuron \d) to output neuron", page.get_by_test_id("wt-gc-param").inner_text())
    # Undo: the weights are exactly those from before teaching.
    page.get_by_test_id("wt-undo").click()
    page.wait_for_function("window.__lab.walkthrough.undoDepth === 0")
    wait_until(lambda: get(server, "/api/model") == model_before, 5, message="undo to restore the weights exactly")
    page.wait_for_function("document.querySelector('[data-testid=wt-teach-status]').textContent.startsWith('Undone.')")
    settle_page(page)
    shot(page, "plane-walkthrough-teach")
    page.get_by_test_id("mode-live").click()
    assert page.problems == []


def test_the_confusion_matrix_walks_and_teaches_a_test_point(page, server):
    """Looking back on the plane: a confusion cell's test points go to the walkthrough and to teach as
    points (they were sent as pixels, and refused)."""
    reset_in_editor(page, "xor", [4])
    set_learning_rate(page, 0.3)
    page.click("[data-testid=play-pause]")
    page.wait_for_function("window.__lab.store.state.iteration > 200", timeout=20000)
    ensure_paused(page, server)
    page.get_by_test_id("lookback-toggle").click()
    page.get_by_test_id("lookback").wait_for(state="visible")
    page.wait_for_function("document.querySelectorAll('[data-testid=confusion-matrix] .lb-m').length === 4")
    cells = page.evaluate("""() => [...document.querySelectorAll('[data-testid=confusion-matrix] .lb-m')]
        .map(b => [Number(b.dataset.true), Number(b.dataset.pred), Number(b.textContent)])""")
    t, p_, _ = max((c for c in cells if c[2] > 0), key=lambda c: (c[0] != c[1], c[2]))
    page.locator(f"[data-testid=confusion-matrix] .lb-m[data-true='{t}'][data-pred='{p_}']").click()
    page.get_by_test_id("confusion-image").first.click()
    with page.expect_response("**/api/teach") as response:
        page.get_by_test_id("confusion-teach").click()
    assert response.value.status == 200, response.value.text()
    page.get_by_test_id("confusion-walk").click()
    page.wait_for_function("document.body.dataset.mode === 'walkthrough' && window.__lab.walkthrough.example?.source === 'test'"
                           " && window.__lab.walkthrough.bd")
    assert len(page.evaluate("window.__lab.walkthrough.example.request.input")) == 2
    assert page.evaluate("window.__lab.walkthrough.bd.label") == t
    assert post(server, "/api/undo", {})["undone"]  # the teach step (taught from the drawer, not the walkthrough)
    page.get_by_test_id("mode-live").click()
    assert page.problems == []


NAME_ROOM = """() => {
    const view = window.__lab.networkView, layout = view.layout, out = layout.layers[layout.layers.length - 1];
    const ctx = view.ctx;
    ctx.save();
    ctx.font = "700 16px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    const widest = Math.max(...window.__lab.store.classNames.map(n => ctx.measureText(n).width));
    ctx.restore();
    return {room: layout.width - (out.x + out.r + 8), widest};
}"""


@pytest.mark.parametrize("dataset, hidden, options", [("spiral", [8, 8], {"classes": 3}), ("xor", [6], {})])
def test_the_plane_page_at_four_sizes_names_every_class_and_passes_axe(browser, server, dataset, hidden, options):
    """A phone, a tablet, a laptop and a projector, on a trained network: the output's class names are
    never cut (they were "ar…" on a phone), and axe-core finds no contrast or serious problem."""
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        reset_in_editor(page, dataset, hidden, options=options)
        set_learning_rate(page, 0.3)
        page.click("[data-testid=play-pause]")
        page.wait_for_function("window.__lab.store.state.iteration > 300", timeout=30000)
        ensure_paused(page, server)
        box = page.get_by_test_id("plane-plot").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.4)
        page.wait_for_function("window.__lab.store.drawing?.meta?.source === 'point'")
        issues = []
        for width, height in ((390, 844), (768, 1024), (1280, 720), (1920, 1080)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function("(w) => window.__lab.networkView.layout && Math.abs(window.__lab.networkView.cssW - "
                                   "document.getElementById('network-view').getBoundingClientRect().width) < 1", arg=width)
            settle_page(page)
            fit = page.evaluate(NAME_ROOM)
            assert fit["room"] >= fit["widest"], f"{width}×{height}: class names need {fit['widest']:.0f} px, have {fit['room']:.0f}"
            page.locator("#network-view").scroll_into_view_if_needed()
            settle_page(page)
            shot(page, f"plane-{dataset}-{width}x{height}-network")
            page.locator("#plane-box").scroll_into_view_if_needed()
            settle_page(page)
            shot(page, f"plane-{dataset}-{width}x{height}-plot")
            issues += axe(page, f"{dataset} {width}×{height}")
            page.click("#show-gradients")
            settle_page(page)
            issues += axe(page, f"{dataset} {width}×{height}, gradients", ["color-contrast", "select-name", "label"])
            page.click("#show-weights")
        assert issues == [], issues
        assert page.problems == []
    finally:
        context.close()


def test_fashion_mnist_class_names_reach_the_page(page, server):
    entry = next(d for d in json.loads(get(server, "/api/datasets"))["datasets"] if d["name"] == "fashion-mnist")
    if not entry["available"]:
        pytest.skip(f"fashion-mnist is not available here: {entry['reason']}")
    reset_in_editor(page, "fashion-mnist", [16])
    page.wait_for_function("document.body.dataset.kind === 'image'")
    assert page.get_by_test_id("clothes-note").is_visible()
    labels = page.locator("#probabilities .pd").all_inner_texts()
    assert labels == entry["classes"]
    assert page.evaluate("window.__lab.store.classNames") == entry["classes"]
    assert page.get_by_test_id("draw-pad").is_visible()
    reset_in_editor(page, "mnist", [16])
    page.wait_for_function("!document.querySelector('[data-testid=clothes-note]').offsetParent")
    assert page.locator("#probabilities .pd").all_inner_texts() == [str(d) for d in range(10)]
    assert page.problems == []
