"""The page on the biggest network the editor allows, streaming the summary (issue 17), in a real browser.

[784,512,512,512,512,10] trains while the page shows it: the view draws (connections, maps, strips), a
big layer shows the neurons the server sends (the strongest), the inspector's numbers are exactly those
of GET /api/model, a big layer's tooltip shows the exact z, and screenshots at four screen sizes go to
test-artifacts/ (looked at when this test was written). Frame rates and bytes are measured by
bench/budget_bench.py, not here.
"""

from __future__ import annotations

import io
import urllib.request

import numpy as np
import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    LiveServer,
    browser,
    chromium_path,
    ensure_paused,
    open_tab,
    settle_page,
    shot,
)

pytestmark = pytest.mark.browser
BIGGEST = [512, 512, 512, 512]
SIZES = [(390, 844), (768, 1024), (1280, 720), (1920, 1080)]


@pytest.fixture(scope="module")
def server(chromium_path, tmp_path_factory):
    srv = LiveServer(extra_args=["--flat-out", "--no-autosave", "--checkpoint-dir",
                                 tmp_path_factory.mktemp("ckpt")]).start()
    yield srv
    srv.stop()


def get(server, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=30) as r:
        return r.read()


def ink(page, selector: str) -> int:
    """Pixels of a canvas that are not transparent (something is drawn there)."""
    return page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 40) n++;
            return n;
        }""",
        selector,
    )


def test_the_biggest_network_streams_draws_and_reads_exactly(browser, server):
    context, page = open_tab(browser, server.url, 1280, 720)
    try:
        page.evaluate("""(h) => window.__lab.send({type: 'reset', hidden: h, activation: 'relu',
            output_activation: 'softmax', cost: 'cross_entropy', seed: 0, learning_rate: 0.05, batch_size: 32})""",
                      BIGGEST)
        page.wait_for_function("window.__lab.store.sizes.join() === '784,512,512,512,512,10'", timeout=30000)
        assert page.evaluate("window.__lab.store.summary") is True
        page.click("[data-testid=play-pause]")
        page.wait_for_function("window.__lab.store.state.iteration > 20", timeout=60000)
        shot(page, "17-biggest-training-1280x720")
        ensure_paused(page, server)
        iteration = server.state()["iteration"]
        page.wait_for_function("(it) => window.__lab.store.state.iteration === it", arg=iteration)

        # it draws: the connections behind, the neurons, maps and strips in front
        page.wait_for_function("window.__lab.networkView.backKey !== ''")
        assert ink(page, "#network-wrap canvas.network-links") > 2000
        assert ink(page, "#network-view") > 20000
        # a big layer shows the strongest neurons, as the server chose them (the page follows the server's
        # choice when it refreshes its own, every 2 s: the strongest may change while training)
        page.wait_for_function("""() => { const v = window.__lab.networkView, s = window.__lab.store;
            return [2, 3].every(l => { const L = v.layout.layers[l], top = new Set((s.shownOrder[l] || []).slice(0, L.k));
                return L.visible.every(j => top.has(j)); }); }""", timeout=10000)
        layout = page.evaluate("""() => { const v = window.__lab.networkView, s = window.__lab.store;
            return [2, 3].map(l => ({subset: v.layout.layers[l].subset, k: v.layout.layers[l].k,
                visible: Array.from(v.layout.layers[l].visible), order: Array.from(s.shownOrder[l] || [])})); }""")
        for layer in layout:
            assert layer["subset"] and 2 <= layer["k"] < 512
            assert set(layer["visible"]) <= set(layer["order"][: layer["k"]])

        # pin a neuron of hidden layer 2: the inspector's numbers are the model's, exactly
        l, j = 2, layout[0]["visible"][3]
        box = page.get_by_test_id("network-view").bounding_box()
        pos = page.evaluate(f"window.__lab.networkView.positionOf({l}, {j})")
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
        page.wait_for_function("(it) => document.getElementById('inspector').dataset.iteration === String(it)",
                               arg=iteration, timeout=15000)
        model = np.load(io.BytesIO(get(server, "/api/model")), allow_pickle=False)
        w, b = model[f"W{l - 1}"][j], model[f"b{l - 1}"][j]
        record = page.evaluate("Array.from(window.__lab.inspector.shownRecord.w)")
        np.testing.assert_array_equal(np.array(record, np.float32), w)
        shown = page.evaluate("""async ([w, b]) => {
            const f = await import('/static/js/lib/format.js');
            const rows = [...document.querySelectorAll('#inspector .contrib li')];
            return {
              rows: rows.filter(li => !li.classList.contains('bias-row')).map(li => ({
                who: li.querySelector('.who').textContent, calc: li.querySelector('.calc').textContent})),
              bias: rows.find(li => li.classList.contains('bias-row')).querySelector('.val').textContent,
              expectBias: f.fmtSigned(b, 3),
              fmt: w.map(x => f.fmtNum(x, 3)),
            }; }""", [w.astype(float).tolist(), float(b)])
        assert shown["bias"] == shown["expectBias"]
        assert len(shown["rows"]) == 5
        for row in shown["rows"]:
            k = int(row["who"].split()[-1])
            assert row["calc"].split(" × ")[0] == shown["fmt"][k], (row, k)

        # a big layer's tooltip: its z is the exact one (the frames do not carry a big layer's z)
        page.mouse.move(5, 5)
        other = layout[1]["visible"][1]
        pos = page.evaluate(f"window.__lab.networkView.positionOf(3, {other})")
        page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        page.wait_for_selector("#neuron-tooltip:not([hidden])")
        exact = json_get(server, f"/api/neuron?layer=3&index={other}")
        expect_z = page.evaluate("async (z) => (await import('/static/js/lib/format.js')).fmtNum(z, 4)", exact["z"])
        page.wait_for_function("(z) => document.querySelector('#neuron-tooltip dd').textContent === z", arg=expect_z,
                               timeout=10000)

        # readable at every screen size (screenshots looked at), training again
        page.mouse.move(5, 5)
        page.click("[data-testid=play-pause]")
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function("(w) => Math.abs(window.__lab.networkView.cssW - document.getElementById("
                                   "'network-wrap').clientWidth) < 1 && window.__lab.store.state.running", arg=width)
            page.wait_for_function("window.__lab.networkView.backKey.includes(window.__lab.networkView.back.width + 'x')")
            n = page.evaluate("window.__lab.store.state.iteration")
            page.wait_for_function("(n) => window.__lab.store.state.iteration > n + 5", arg=n, timeout=30000)
            page.locator("#network-view").scroll_into_view_if_needed()
            shot(page, f"17-biggest-{width}x{height}")
            assert ink(page, "#network-view") > 5000, (width, height)
            # six columns on a phone: each caption is shortened or left out, never drawn over its neighbour's
            boxes = page.evaluate("window.__lab.networkView.captionBoxes")
            assert len(boxes) >= 6, boxes
            for row in (0, 1):
                line = sorted((b for b in boxes if b["row"] == row), key=lambda b: b["x"])
                for a, b in zip(line, line[1:]):
                    assert a["x"] + a["w"] <= b["x"] + 0.5, (width, a, b)
        ensure_paused(page, server)
        assert page.problems == []
    finally:
        context.close()


def json_get(server, path):
    import json

    return json.loads(get(server, path))


def test_the_pages_decoder_reads_scaled_and_float16_arrays_as_the_protocol_says(browser, server):
    """The same numbers in the page as in Python's reference decoder (wire.decode), to the bit."""
    import base64

    from server.web.stream import quantise, wire

    rng = np.random.default_rng(1)
    w = (rng.standard_normal((5, 33)) * np.array([[1e-4], [1], [40], [0], [3]])).astype(np.float32)
    a = (rng.standard_normal(77) * 9).astype(np.float32)
    data = wire.encode({"type": "x"}, {"w": quantise.u1_rows(w), "a": quantise.f2(a), "u": quantise.u1(a),
                                        "p": quantise.pixels(np.arange(256, dtype=np.uint8) * np.float32(1 / 255)),
                                        "plain": a})
    _, expected = wire.decode(data)
    context, page = open_tab(browser, server.url, 800, 600)
    try:
        got = page.evaluate("""async (b64) => {
            const m = await import('/static/js/net/envelope.js');
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const { arrays } = m.decodeEnvelope(bytes.buffer);
            return Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, [v.constructor.name, Array.from(v)]]));
        }""", base64.b64encode(data).decode())
    finally:
        context.close()
    for name, values in expected.items():
        kind, numbers = got[name]
        assert kind == "Float32Array", name
        np.testing.assert_array_equal(np.array(numbers, np.float32), values.ravel(), err_msg=name)
