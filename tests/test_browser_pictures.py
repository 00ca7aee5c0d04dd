"""PNG of any view (issue 13 §5: "PNG of any view … a teacher can put a picture on a slide in two
clicks"), in a real browser: "PNG" in the header, then a click on a view, saves that view — canvases,
text and tables — as an opaque PNG named after it and its iteration; the Look back drawer lists the
views too. Pictures go to test-artifacts/picture-*.png (look at them).
"""

from __future__ import annotations

import base64
import re

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    ARTIFACTS,
    animation_frames,
    browser,
    chromium_path,
    open_tab,
    LiveServer,
    ensure_paused,
    wait_until,
)

pytestmark = pytest.mark.browser

DECODE = """async (b64) => {
  // the PNG as the browser decodes it: its size, whether every pixel is opaque, and how many differ
  // from the top-left pixel (the background): a blank picture has none
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const c = document.createElement('canvas');
  c.width = bitmap.width; c.height = bitmap.height;
  const ctx = c.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let opaque = true, ink = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] !== 255) opaque = false;
    if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 60) ink++;
  }
  return { width: c.width, height: c.height, opaque, ink };
}"""


@pytest.fixture(scope="module")
def server(chromium_path, tmp_path_factory):
    srv = LiveServer(extra_args=["--checkpoint-dir", tmp_path_factory.mktemp("ckpt"), "--no-autosave", "--flat-out"]).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def trained(browser, server):
    context, pg = open_tab(browser, server.url)
    pg.get_by_test_id("play-pause").click()
    wait_until(lambda: (server.state() or {}).get("epoch", 0) >= 1, 60, message="an epoch")
    ensure_paused(pg, server)
    context.close()
    return server.state()["iteration"]


@pytest.fixture
def page(browser, server, trained):
    context, pg = open_tab(browser, server.url, 1280, 720)
    yield pg
    assert not pg.problems, pg.problems
    context.close()


def save(page, action, name: str) -> dict:
    """Run ``action`` (the clicks), take the download, keep it as test-artifacts/picture-NAME.png."""
    with page.expect_download() as info:
        action()
    download = info.value
    path = ARTIFACTS / f"picture-{name}.png"
    download.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return {"filename": download.suggested_filename, **page.evaluate(DECODE, base64.b64encode(data).decode())}


def pick(page, selector, x=40, y=40):
    """The two clicks: "PNG" in the header, then the view."""
    def clicks():
        page.get_by_test_id("picture-toggle").click()
        page.locator(selector).first.click(position={"x": x, "y": y})
    return clicks


def test_two_clicks_save_the_network_view_as_an_opaque_picture_named_by_its_iteration(page, trained):
    panel = page.locator(".panel.network").bounding_box()
    got = save(page, pick(page, ".panel.network"), "network")
    assert got["filename"] == f"backprop-lab-the-network-{trained}.png"
    assert got["opaque"]  # on its own background: readable on a white slide too
    assert got["width"] == round(panel["width"]) * 2 and got["height"] > panel["height"] * 2  # 2× for a slide, and a caption
    assert got["ink"] > 0.05 * got["width"] * got["height"]
    assert page.evaluate("window.__lab.pictures.lastSaved.name") == "The network"
    assert not page.evaluate("document.body.classList.contains('picking')")


def test_a_view_looked_back_at_is_saved_at_that_iteration_and_picking_never_scrubs_or_draws(page, trained):
    page.evaluate("window.__lab.scrubber.scrubTo(0)")
    page.wait_for_function("window.__lab.scrubber.active")
    got = save(page, pick(page, ".panel.network"), "network-iteration-0")
    assert got["filename"] == "backprop-lab-the-network-0.png" and got["opaque"]
    page.get_by_test_id("history-now").click()
    # a pick on the timeline or the draw pad saves the view and does nothing else there
    got = save(page, pick(page, "[data-testid=history-timeline]", x=3, y=4), "descent-curve")
    assert got["filename"] == f"backprop-lab-gradient-descent-{trained}.png"
    assert page.evaluate("window.__lab.scrubber.active") is False
    got = save(page, pick(page, "[data-testid=draw-pad]", x=100, y=100), "draw")
    assert got["filename"].startswith("backprop-lab-draw-a-digit-")
    assert page.evaluate("window.__lab.digitLab.pad.strokes.length === 0 && window.__lab.digitLab.pad.mode === 'empty'")

    def slow_press_on_a_button():  # a press held a while: its click must not reach the button either
        page.get_by_test_id("picture-toggle").click()
        box = page.locator("#random-test").bounding_box()
        page.mouse.move(box["x"] + 10, box["y"] + 10)
        page.mouse.down()
        page.wait_for_timeout(300)
        page.mouse.up()
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    save(page, slow_press_on_a_button, "draw-2")
    animation_frames(page, 3)
    assert not [u for u in asked if "test-example" in u] and page.evaluate("window.__lab.digitLab.pad.mode") == "empty"


def test_the_look_back_drawer_saves_its_diagnostics_and_confusion_matrix(page, trained):
    page.get_by_test_id("lookback-toggle").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=confusion-matrix] .lb-m').length === 100")
    got = save(page, lambda: page.get_by_test_id("png-confusion").click(), "confusion-matrix")
    assert got["filename"] == "backprop-lab-confusion-matrix-test-images-6000.png"  # the evaluation it shows
    assert got["opaque"] and got["ink"] > 0.05 * got["width"] * got["height"]
    got = save(page, lambda: page.get_by_test_id("png-diagnostics").click(), "diagnostics")
    assert got["filename"].startswith("backprop-lab-how-is-it-learning-") and got["opaque"]  # the diagnostics, titled for a network that learns
    # any view in the drawer can be picked too
    got = save(page, pick(page, "[data-testid=lb-confusion]"), "confusion-picked")
    assert got["filename"] == "backprop-lab-confusion-matrix-test-images-6000.png"


def test_the_walkthrough_and_the_descent_cards_are_views_too(page, trained):
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("window.__lab.walkthrough.active && window.__lab.walkthrough.settled"
                           " && document.querySelector('[data-testid=wt-step-title]').textContent.startsWith('Forward')")
    got = save(page, pick(page, "#wt-detail"), "walkthrough-step")
    assert re.fullmatch(r"backprop-lab-forward-[a-z0-9-]+-\d+\.png", got["filename"]), got["filename"]
    page.get_by_test_id("mode-descent").click()
    page.wait_for_function("!document.querySelector('[data-testid=descent-surface-caption]').textContent.startsWith('…')",
                           timeout=30_000)
    got = save(page, pick(page, "[data-testid=descent-surface-card]"), "descent-surface")
    assert got["filename"].startswith("backprop-lab-a-slice-of-the-cost-surface") and got["opaque"]


def test_escape_cancels_and_the_keyboard_can_pick(page, trained):
    page.get_by_test_id("picture-toggle").click()
    page.get_by_test_id("picture-hint").wait_for(state="visible")
    assert page.locator(".pickable").count() >= 4
    page.keyboard.press("Escape")
    page.wait_for_function("!document.body.classList.contains('picking')")
    assert page.locator(".pickable").count() == 0 and page.get_by_test_id("picture-hint").is_hidden()

    def keys():
        page.get_by_test_id("picture-toggle").click()
        page.locator(".panel.chart").focus()
        page.keyboard.press("Enter")
    got = save(page, keys, "by-keyboard")
    assert got["filename"].startswith("backprop-lab-gradient-descent-")


def test_the_header_button_fits_a_phone(browser, server, trained):
    context, pg = open_tab(browser, server.url, 390, 844)
    try:
        box = pg.get_by_test_id("picture-toggle").bounding_box()
        assert box and box["x"] + box["width"] <= 390 and box["height"] >= 24
        pg.get_by_test_id("picture-toggle").click()
        pg.get_by_test_id("picture-hint").wait_for(state="visible")
        pg.screenshot(path=str(ARTIFACTS / "picture-picking-390.png"))
        pg.keyboard.press("Escape")
    finally:
        context.close()
