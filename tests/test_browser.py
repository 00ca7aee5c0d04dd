"""The page in a real browser: Debian's Chromium driven by Playwright against `python -m server`.

Mandatory when CI is set; skipped with a message elsewhere when Chromium is missing. Screenshots of the
main states are saved under test-artifacts/. The tests share one server and run in file order
(the last one restarts the server).
"""

from __future__ import annotations


import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    animation_frames,
    browser,
    chromium_path,
    open_tab,
    LiveServer,
    canvas_ink,
    draw_strokes,
    ensure_paused,
    iteration,
    settle_page,
    shot,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.browser

TEST_IDS = ("draw-pad", "clear-pad", "prediction", "probabilities", "play-pause", "step", "learning-rate",
            "iteration", "network-view", "cost-chart", "connection")

# A "7": the top bar, then the diagonal down to the left (fractions of the pad).
SEVEN = [[(0.22, 0.2), (0.78, 0.2), (0.5, 0.55), (0.38, 0.85)]]


@pytest.fixture(scope="module")
def server(chromium_path):
    # flat out: the tests here need training under way, not the slow start (test_browser_lesson.py and
    # test_first_minute.py test that pace; the play test waited ~20 s for 300 mini-batches of it)
    srv = LiveServer(extra_args=["--flat-out"]).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser, server):
    """A fresh tab at 1440×900, connected; ``page.problems`` collects console errors and page errors."""
    context, pg = open_tab(browser, server.url)
    yield pg
    context.close()


def test_page_loads_without_console_errors_and_has_every_hook(page, server):
    for test_id in TEST_IDS:
        assert page.get_by_test_id(test_id).count() == 1, f"missing data-testid={test_id}"
    assert page.get_by_test_id("connection").inner_text() == "connected"
    assert page.get_by_test_id("learning-rate").evaluate("e => e.tagName") == "INPUT"
    assert page.get_by_test_id("prediction").inner_text() == ""
    # every control explains itself in a tooltip and has a label
    unexplained = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select')]
              .filter(e => !e.hidden && e.offsetParent !== null)
              .filter(e => !e.title || !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
              .map(e => e.id || e.outerHTML.slice(0, 60))"""
    )
    assert unexplained == []
    page.wait_for_function("window.__lab.store.example !== null")  # the first frame after hello
    settle_page(page)
    shot(page, "01-loaded")
    assert page.problems == []


def test_page_modules_decode_the_servers_envelope_and_bucket_the_curve(page):
    """Unit checks of the page's pure modules, in the browser, against the server's own encoder."""
    import base64

    import numpy as np

    from server.web.stream import wire

    data = wire.encode(
        {"type": "frame", "seq": 7, "note": "ünïcode"},
        {"W0": np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5, "mask": np.array([1, 2, 3], np.uint8),
         "iters": np.array([-1, 2**31 - 1], np.int32), "scalar": np.float32(4.25)},
    )
    result = page.evaluate(
        """async (b64) => {
            const { decodeEnvelope } = await import('/static/js/net/envelope.js');
            const { CostSeries } = await import('/static/js/state/series.js');
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const { header, arrays, shapes } = decodeEnvelope(bytes.buffer);
            const s = new CostSeries(64);
            s.setHistory([10, 20, 30], [3, 2, 1]);
            for (let i = 31; i <= 1000; i++) s.push(i, 1);
            let weight = 0, total = 0;
            for (let i = 0; i < s.length; i++) { weight += s.weights[i]; total += s.values[i] * s.weights[i]; }
            return { header, W0: [...arrays.W0], mask: [...arrays.mask], iters: [...arrays.iters],
                     scalar: [...arrays.scalar], shape: shapes.W0, length: s.length, last: s.lastIteration,
                     weight, total, bucket: s.bucket, widest: Math.max(...s.weights.subarray(0, s.length)) };
        }""",
        base64.b64encode(data).decode(),
    )
    assert result["header"]["seq"] == 7 and result["header"]["note"] == "ünïcode"
    assert result["W0"] == [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5] and result["shape"] == [2, 3]
    assert result["mask"] == [1, 2, 3] and result["iters"] == [-1, 2**31 - 1] and result["scalar"] == [4.25]
    # the curve keeps every mini-batch's weight and the newest iteration, within its capacity,
    # and old points are never merged more coarsely than new ones
    assert result["length"] <= 64 and result["last"] == 1000
    assert result["weight"] == 1000 and abs(result["total"] - (10 * 3 + 10 * 2 + 10 * 1 + 970)) < 1e-6
    assert result["widest"] < 2 * result["bucket"] + 10


def test_play_makes_the_counter_rise_and_the_curve_grow_and_pause_stops_it(page, server):
    ensure_paused(page, server)
    start = iteration(page)
    page.get_by_test_id("play-pause").click()
    wait_until(lambda: iteration(page) > start + 20, 15, message="the iteration counter to rise")
    first_points = page.evaluate("window.__lab.chart.length")
    wait_until(lambda: page.evaluate("window.__lab.chart.length") > first_points, 10, message="the cost curve to grow")
    assert page.get_by_test_id("play-pause").inner_text().strip().endswith("Pause")
    wait_until(lambda: iteration(page) > start + 300, 30, message="a stretch of training to show")
    animation_frames(page)
    shot(page, "02-training")

    page.get_by_test_id("play-pause").click()
    wait_until(lambda: not server.state()["running"], 10, message="the server to pause")
    page.wait_for_function("window.__lab.store.state.running === false")
    paused_at = server.state()["iteration"]
    wait_until(lambda: iteration(page) == paused_at, 10, message="the counter to show where training paused")
    # and it stays there: the server's counter, and the page's after a good many redraws
    animation_frames(page, 30)
    assert iteration(page) == paused_at == server.state()["iteration"]
    assert page.get_by_test_id("play-pause").inner_text().strip().endswith("Play")
    assert page.problems == []


def test_step_advances_by_exactly_one_by_button_and_by_keyboard(page, server):
    ensure_paused(page, server)
    start = server.state()["iteration"]
    wait_until(lambda: iteration(page) == start, 10, message="the counter to show the paused iteration")
    page.get_by_test_id("step").click()
    wait_until(lambda: iteration(page) == start + 1, 10, message="the counter to show one more iteration")
    animation_frames(page, 10)
    assert iteration(page) == start + 1 == server.state()["iteration"]  # one step, not more

    page.locator("body").click(position={"x": 5, "y": 890})  # focus nothing in particular
    page.keyboard.press("ArrowRight")
    wait_until(lambda: iteration(page) == start + 2, 10, message="→ to step once more")
    page.keyboard.press("Space")
    wait_until(lambda: server.state()["running"], 10, message="space to start training")
    page.keyboard.press("Space")
    wait_until(lambda: not server.state()["running"], 10, message="space to pause training")
    assert page.problems == []


def test_changing_the_learning_rate_reaches_the_server(page, server):
    box = page.get_by_test_id("learning-rate")
    box.fill("0.5")
    box.press("Enter")
    wait_until(lambda: server.state()["learning_rate"] == 0.5, 10, message="learning_rate 0.5 on the server")
    # the slider follows, and an out-of-range value is refused next to the control
    assert abs(page.evaluate("+document.getElementById('lr-slider').value") - 675) <= 2
    box.fill("50")
    box.press("Enter")
    page.wait_for_selector("#err-lr:not([hidden])")
    assert server.state()["learning_rate"] == 0.5
    # a value the server refuses: its `error` reply is shown beside the control that sent it
    page.evaluate("window.__lab.send({type: 'set_params', learning_rate: 0}, 'lr')")
    page.wait_for_function("document.getElementById('err-lr').textContent.includes('The learning rate η must be above 0')")
    box.fill("3")
    box.press("Enter")
    wait_until(lambda: server.state()["learning_rate"] == 3.0, 10, message="learning_rate back to 3")
    page.wait_for_selector("#err-lr", state="hidden")
    assert page.problems == []


def test_drawing_a_digit_shows_a_prediction_and_the_28x28_input(page, server):
    # train a little first so the guess means something
    if page.get_by_test_id("pace-flat").is_enabled():  # the served page starts slowly: one click
        page.get_by_test_id("pace-flat").click()
    page.get_by_test_id("play-pause").click()
    wait_until(lambda: server.state()["iteration"] > 2000, 30, message="some training")
    page.get_by_test_id("play-pause").click()
    ensure_paused(page, server)

    assert page.get_by_test_id("prediction").inner_text() == ""
    assert canvas_ink(page, "input-preview") == 0
    draw_strokes(page, "draw-pad", SEVEN)
    wait_until(lambda: page.get_by_test_id("prediction").inner_text().strip() != "", 10, message="a prediction")
    digit = page.get_by_test_id("prediction").inner_text().strip()
    assert digit in list("0123456789")
    wait_until(lambda: canvas_ink(page, "input-preview") > 40, 5, message="the 28×28 preview")
    assert page.get_by_test_id("probabilities").locator(".prob").count() == 10
    assert page.get_by_test_id("probabilities").locator(".prob.winner").get_attribute("data-digit") == digit
    # the network view shows the drawing's activations
    page.wait_for_function("window.__lab.store.drawing !== null")
    assert page.evaluate("window.__lab.store.drawing.activations.length") == len(server.state()["sizes"])
    settle_page(page)
    shot(page, "03-drawing")

    page.get_by_test_id("clear-pad").click()
    assert page.get_by_test_id("prediction").inner_text() == ""
    page.wait_for_function("window.__lab.store.drawing === null")
    assert page.problems == []


def test_test_images_mistakes_hover_and_pinned_inspector(page, server):
    page.get_by_role("button", name="Random test image").click()
    page.wait_for_function("document.getElementById('verdict-text').textContent.startsWith('Test image #')")
    page.get_by_role("button", name="Next mistake").click()
    page.wait_for_function("document.getElementById('verdict-text').textContent.includes('the network says')")
    page.wait_for_function("window.__lab.store.example && window.__lab.store.example.meta.pinned === true")

    # hover a neuron of the second layer: a live tooltip with z, a, b, σ'(z)
    canvas = page.get_by_test_id("network-view").bounding_box()
    pos = page.evaluate("window.__lab.networkView.positionOf(2, 3)")
    page.mouse.move(canvas["x"] + pos["x"], canvas["y"] + pos["y"])
    page.wait_for_selector("#neuron-tooltip:not([hidden])")
    tip = page.locator("#neuron-tooltip").inner_text()
    for part in ("z = Σ w·a + b", "σ′(z)", "bias b"):
        assert part in tip
    shot(page, "04-mistake-hover")
    page.mouse.click(canvas["x"] + pos["x"], canvas["y"] + pos["y"])
    page.wait_for_selector("#inspector:not([hidden])")
    page.wait_for_function("document.querySelectorAll('#inspector .contrib li').length >= 2")
    page.locator("#show-gradients").click()
    page.wait_for_function("document.getElementById('show-gradients').getAttribute('aria-checked') === 'true'")
    settle_page(page)
    shot(page, "05-gradients-inspector")
    page.locator("#follow-training").click()
    page.wait_for_function("window.__lab.store.example.meta.pinned === false", timeout=10000)
    page.locator("#inspector .icon-button").click()
    page.wait_for_selector("#inspector", state="hidden")

    # the same by keyboard: arrows choose a neuron (and do not step training), Enter pins, Escape unpins
    ensure_paused(page, server)
    before = server.state()["iteration"]
    page.mouse.move(5, 890)
    page.get_by_test_id("network-view").focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#neuron-tooltip:not([hidden])")
    page.keyboard.press("Enter")
    page.wait_for_selector("#inspector:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector("#inspector", state="hidden")
    assert server.state()["iteration"] == before
    assert page.problems == []


def animate_while_training(page, server, frames: int = 150) -> dict:
    """Play, wait for training to be under way, then for ``frames`` animation frames; their statistics."""
    ensure_paused(page, server)
    start = iteration(page)
    page.get_by_test_id("play-pause").click()
    wait_until(lambda: iteration(page) > start + 20, 15, message="training to be under way")
    before = iteration(page)
    animation_frames(page, frames)
    stats = page.evaluate(f"window.__lab.fps({frames})")
    stats["iterations"] = iteration(page) - before
    print(f"\nanimation while training flat out: {stats['fps']:.1f} fps, p95 interval {stats['p95']:.1f} ms, "
          f"worst {stats['worst']:.1f} ms, own drawing {stats['workMs']:.2f} ms/frame over {stats['frames']} frames")
    return stats


def test_animates_while_training_and_layout_at_1024(page, server):
    stats = animate_while_training(page, server)
    # the animation loop runs and the page follows training while it does
    assert stats["frames"] == 150 and stats["fps"] > 0 and stats["iterations"] > 0, stats
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_function("document.documentElement.clientWidth === 1024")
    before = iteration(page)
    wait_until(lambda: iteration(page) > before, 10, message="the page to redraw at 1024 px")
    shot(page, "06-training-1024")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 1025 && e.offsetParent!==null).slice(0,12).map(e => e.tagName+'#'+e.id+'.'+e.className+' '+Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024, wide
    page.get_by_test_id("play-pause").click()
    ensure_paused(page, server)
    assert page.problems == []


@pytest.mark.perf
def test_smooth_while_training(page, server):
    """≥ 20 frames per second while the server trains flat out on the same machine (only with --perf)."""
    stats = animate_while_training(page, server)
    page.get_by_test_id("play-pause").click()
    ensure_paused(page, server)
    # The machine also runs the training server flat out; the page's own work must stay far below a frame.
    assert stats["workMs"] < 12, stats
    assert stats["fps"] >= 20, stats


def test_the_network_editor_resets_and_a_divergence_shows_a_banner(page, server):
    ensure_paused(page, server)
    page.locator("#editor summary").click()
    page.locator("#hidden-count").select_option("1")
    page.locator("#hidden-sizes input").first.fill("30")
    page.locator("#cost-fn").select_option("cross_entropy")
    page.locator("#output-activation").select_option("relu")
    page.locator("#reset").click()
    page.wait_for_selector("#err-reset:not([hidden])")  # cross-entropy needs softmax or sigmoid
    page.locator("#output-activation").select_option("softmax")
    page.locator("#reset").click()
    page.get_by_test_id("reset-confirm-ok").click()  # every tab shares the network: it asks first
    wait_until(lambda: server.state()["sizes"] == [784, 30, 10], 10, message="the new network on the server")
    page.wait_for_function("window.__lab.store.sizes.join() === '784,30,10' && window.__lab.chart.length === 0")
    assert server.state()["output_activation"] == "softmax"
    page.locator("#editor summary").click()

    # a learning rate that blows up: the server pauses, restores the weights and says so
    page.evaluate("""window.__lab.send({type: 'reset', hidden: [128], activation: 'leaky_relu',
        output_activation: 'leaky_relu', cost: 'quadratic', seed: 3, learning_rate: 10, batch_size: 1}, 'reset')""")
    page.wait_for_function("window.__lab.store.config.activation === 'leaky_relu'")
    page.get_by_test_id("play-pause").click()
    page.wait_for_selector("#event-banner:not([hidden])", timeout=20000)
    assert "diverged" in page.locator("#event-banner").inner_text()
    wait_until(lambda: not server.state()["running"], 10, message="the server to pause itself")
    page.wait_for_function("window.__lab.store.state.running === false")
    settle_page(page)
    shot(page, "07-diverged")
    page.locator("#event-banner-close").click()
    page.wait_for_selector("#event-banner", state="hidden")
    assert page.problems == []


def test_a_token_protected_server_gets_the_token_on_the_socket_and_on_fetch(browser):
    """Bound beyond loopback, the server wants a token: the page passes it on the websocket and the API."""
    srv = LiveServer(host="0.0.0.0").start()
    try:
        assert srv.token
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        pg = context.new_page()
        pg.goto(srv.url)
        wait_connected(pg)
        pg.get_by_role("button", name="Random test image").click()  # GET /api/test-example with the header
        pg.wait_for_function("document.getElementById('verdict-text').textContent.startsWith('Test image #')")
        assert pg.locator("#err-pad").is_hidden()
        context.close()
    finally:
        srv.stop()


def test_reconnects_and_resyncs_after_a_server_restart(page, server):
    ensure_paused(page, server)
    page.get_by_test_id("step").click()
    wait_until(lambda: iteration(page) == server.state()["iteration"] and iteration(page) > 0, 10,
               message="the page to match the server")
    server.stop()
    page.wait_for_function("document.querySelector('[data-testid=connection]').textContent !== 'connected'")
    page.wait_for_selector("#conn-banner:not([hidden])")
    shot(page, "08-reconnecting")
    server.start()  # same port, a fresh session at iteration 0
    wait_connected(page, timeout=30)
    page.wait_for_selector("#conn-banner", state="hidden")
    wait_until(lambda: iteration(page) == server.state()["iteration"] == 0, 10, message="the counter to resync")
    page.get_by_test_id("step").click()
    wait_until(lambda: iteration(page) == 1, 10, message="a step after the reconnect")
    shot(page, "09-reconnected")
