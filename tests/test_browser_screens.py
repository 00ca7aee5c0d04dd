"""Every screen (issue 12): phone and tablet by touch, a 1280×720 laptop and a 1920×1080 projector.

For the live view and every step of the walkthrough, at each size: no horizontal page scroll; every key
element has a size, sits inside the viewport's width, is not covered by another element and does not
overlap another key element; drawing on the pad by touch (phone, tablet) or pen (laptop, projector) is
classified, and the page does not scroll while drawing. axe-core (tests/vendor/axe.min.js) checks the
text contrast. Then the laptop's own problems, presentation mode, high-DPI canvases and rotation.
Screenshots go to test-artifacts/screens-*.png.
"""

from __future__ import annotations

import json

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    AXE,
    axe,
    ARTIFACTS,
    LiveServer,
    browser,
    chromium_path,
    ensure_paused,
    shot,
    wait_connected,
)

pytestmark = pytest.mark.browser

SIZES = {
    "phone": (390, 844, True),
    "tablet": (768, 1024, True),
    "laptop": (1280, 720, False),
    "projector": (1920, 1080, False),
}
LIVE_KEYS = ("play-pause", "step", "learning-rate", "network-view", "cost-chart", "draw-pad", "clear-pad")
WT_KEYS = ("network-view", "wt-back", "wt-next", "wt-lr", "wt-pad", "wt-teach")
# A "7" that starts in the pad's top-right corner (where a chip once sat on the canvas).
SEVEN = [(0.9, 0.12), (0.5, 0.12), (0.2, 0.14), (0.2, 0.14), (0.9, 0.12), (0.62, 0.5), (0.42, 0.9)]

GEOMETRY = """(ids) => {
  const de = document.documentElement;
  const boxes = {};
  const els = ids.map((id) => document.querySelector(`[data-testid="${id}"]`));
  ids.forEach((id, i) => {
    const r = els[i]?.getBoundingClientRect();
    boxes[id] = r ? {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height, covered: null} : null;
  });
  // Is each element itself at its centre (not covered by a chip, a panel, a tooltip)?
  ids.forEach((id, i) => {
    const el = els[i];
    if (!el || !boxes[id].w) return;
    el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
    const c = el.getBoundingClientRect();
    const hit = document.elementFromPoint(c.left + c.width / 2, c.top + c.height / 2);
    if (!(hit && (hit === el || el.contains(hit)))) boxes[id].covered = hit ? hit.outerHTML.slice(0, 120) : 'nothing';
  });
  scrollTo(0, 0);
  return {scrollW: Math.max(de.scrollWidth, document.body.scrollWidth), clientW: de.clientWidth, boxes};
}"""


def check_layout(page, keys, where):
    """No sideways page scroll; each key element sized, inside the width, uncovered, overlapping none."""
    g = page.evaluate(GEOMETRY, list(keys))
    problems = []
    if g["scrollW"] > g["clientW"]:
        problems.append(f"the page scrolls sideways: {g['scrollW']} px wide in a {g['clientW']} px viewport")
    boxes = g["boxes"]
    for key, b in boxes.items():
        if b is None:
            problems.append(f"{key}: missing")
        elif b["w"] < 1 or b["h"] < 1:
            problems.append(f"{key}: {b['w']:.0f}×{b['h']:.0f} px")
        elif b["x"] < -0.5 or b["x"] + b["w"] > g["clientW"] + 0.5:
            problems.append(f"{key}: x {b['x']:.0f}–{b['x'] + b['w']:.0f} outside 0–{g['clientW']}")
        elif b["covered"]:
            problems.append(f"{key}: covered by {b['covered']}")
    names = [k for k, b in boxes.items() if b and b["w"] >= 1 and b["h"] >= 1]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            p, q = boxes[a], boxes[b]
            ox = min(p["x"] + p["w"], q["x"] + q["w"]) - max(p["x"], q["x"])
            oy = min(p["y"] + p["h"], q["y"] + q["h"]) - max(p["y"], q["y"])
            if ox > 0.5 and oy > 0.5:
                problems.append(f"{a} and {b} overlap by {ox:.0f}×{oy:.0f} px")
    assert not problems, f"{where}: " + "; ".join(problems)
    return boxes


def stroke(page, test_id, points, kind):
    """Draw one stroke on a pad: real touch events through CDP (kind 'touch'), or pen pointer events."""
    loc = page.get_by_test_id(test_id)
    loc.scroll_into_view_if_needed()
    box = loc.bounding_box()
    pts = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        for i in range(6):
            t = i / 6
            pts.append((box["x"] + (x0 + (x1 - x0) * t) * box["width"], box["y"] + (y0 + (y1 - y0) * t) * box["height"]))
    pts.append((box["x"] + points[-1][0] * box["width"], box["y"] + points[-1][1] * box["height"]))
    before = page.evaluate("[scrollX, scrollY]")
    if kind == "touch":
        cdp = page.context.new_cdp_session(page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": pts[0][0], "y": pts[0][1], "id": 1}]})
        for x, y in pts[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()
    else:
        page.evaluate(
            """([id, pts]) => {
                const el = document.querySelector(`[data-testid="${id}"]`);
                const send = (type, [x, y], buttons) => el.dispatchEvent(new PointerEvent(type, {
                  bubbles: true, cancelable: true, composed: true, pointerId: 7, pointerType: 'pen', isPrimary: true,
                  clientX: x - scrollX, clientY: y - scrollY, button: type === 'pointermove' ? -1 : 0, buttons, pressure: buttons ? 0.6 : 0}));
                send('pointerdown', pts[0], 1);
                for (const p of pts.slice(1)) send('pointermove', p, 1);
                send('pointerup', pts[pts.length - 1], 0);
            }""",
            [test_id, [[x, y] for x, y in pts]],
        )
    after = page.evaluate("[scrollX, scrollY]")
    assert after == before, f"the page scrolled while drawing on {test_id}: {before} → {after}"
    # the stroke's first point, in the pad's top-right corner, reached the canvas
    corner = page.evaluate(
        """([id, fx, fy]) => {
            const c = document.querySelector(`[data-testid="${id}"]`);
            const x = Math.floor(fx * c.width), y = Math.floor(fy * c.height);
            return c.getContext('2d').getImageData(x, y, 1, 1).data[0];
        }""",
        [test_id, points[0][0], points[0][1]],
    )
    assert corner > 200, f"the stroke that starts in {test_id}'s top-right corner left no ink there"


@pytest.fixture(scope="module")
def server(chromium_path):
    srv = LiveServer(extra_args=["--no-autosave", "--checkpoint-dir", ARTIFACTS / "screens-ckpt"]).start()
    yield srv
    srv.stop()


def new_tab(browser, server, size, path="", scale=1):
    width, height, touch = SIZES[size] if isinstance(size, str) else size
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch, device_scale_factor=scale)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.goto(server.url + path)
    wait_connected(page)
    return context, page


def enter_walkthrough(page):
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("document.querySelector('[data-testid=wt-stepno]').textContent.startsWith('step 1 of')")


def settled(page):
    """The walkthrough's step is drawn, its mini-batch (if any) loaded."""
    page.wait_for_function("!document.querySelector('#wt-body .wt-loading') && document.querySelector('#wt-body').children.length > 0")


@pytest.mark.parametrize("size", list(SIZES))
def test_every_screen(browser, server, size):
    touch = SIZES[size][2]
    every_rule = None if size in ("phone", "laptop") else ["color-contrast"]  # the whole of axe at two sizes
    context, page = new_tab(browser, server, size)
    try:
        ensure_paused(page, server)
        page.wait_for_function("window.__lab.networkView.layout !== null")
        check_layout(page, LIVE_KEYS, f"{size}, live")
        shot(page, f"screens-{size}-live")
        # draw pads of a usable size
        pad = page.get_by_test_id("draw-pad").bounding_box()
        assert min(pad["width"], pad["height"]) >= 200, f"{size}: the draw pad is {pad['width']:.0f}×{pad['height']:.0f} px"
        stroke(page, "draw-pad", SEVEN, "touch" if touch else "pen")
        page.wait_for_function("document.querySelector('[data-testid=prediction]').textContent.trim() !== ''")
        # the 28×28 preview and the probability rows do not overlap (tablet: it covered rows 2–6)
        check_layout(page, ("input-preview", "probabilities", "draw-pad"), f"{size}, draw a digit")
        issues = axe(page, f"{size}, live", every_rule)

        enter_walkthrough(page)
        n = int(page.get_by_test_id("wt-stepno").inner_text().split(" of ")[1])
        for i in range(1, n + 1):
            page.wait_for_function(f"document.querySelector('[data-testid=wt-stepno]').textContent === 'step {i} of {n}'")
            settled(page)
            check_layout(page, WT_KEYS, f"{size}, walkthrough step {i}")
            kind = page.get_by_test_id("wt-detail").get_attribute("data-kind")
            if kind in ("forward", "batch", "step") or i == 1:
                shot(page, f"screens-{size}-wt-{i:02d}-{kind}")
            if kind in ("cost", "batch"):
                issues += axe(page, f"{size}, walkthrough step {i}", ["color-contrast"])
            if i < n:
                page.get_by_test_id("wt-next").click()
        pad = page.get_by_test_id("wt-pad").bounding_box()
        assert min(pad["width"], pad["height"]) >= 200, f"{size}: the teach pad is {pad['width']:.0f}×{pad['height']:.0f} px"
        stroke(page, "wt-pad", SEVEN, "touch" if touch else "pen")
        page.wait_for_function("document.querySelector('[data-testid=wt-teach-status]').textContent.includes('thinks it is')")
        issues += axe(page, f"{size}, walkthrough", every_rule)
        (ARTIFACTS / f"screens-{size}-axe.json").write_text(json.dumps(issues, indent=1, ensure_ascii=False))
        assert not page.problems, page.problems
    finally:
        context.close()


BOX = "(sel) => { const e = document.querySelector(sel); if (!e) return null; const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height, bottom: r.bottom, right: r.right}; }"


def box(page, selector):
    return page.evaluate(BOX, selector)


def test_laptop_1280x720_first_screen_no_jumps(browser, server):
    """The laptop's problems: what fits the first screen, and what must not move or squash."""
    context, page = new_tab(browser, server, "laptop")
    try:
        ensure_paused(page, server)
        page.wait_for_function("window.__lab.networkView.layout !== null")
        # controls, the network view and the top of the descent curve in the first screen
        for key in ("play-pause", "step", "learning-rate", "network-view"):
            b = box(page, f"[data-testid={key}]")
            assert b["bottom"] <= 720, f"{key} ends at y = {b['bottom']:.0f}, below the first screen"
        chart = box(page, "[data-testid=cost-chart]")
        assert chart["y"] <= 720 - 60, f"the descent curve starts at y = {chart['y']:.0f}: its top is not in the first screen"
        assert page.evaluate("document.documentElement.scrollHeight") <= 720

        # Play → Pause changes the label, not the layout
        keys = ("[data-testid=play-pause]", "[data-testid=step]", "[data-testid=iteration]", "#epoch", "[data-testid=learning-rate]")
        before = [box(page, k) for k in keys]
        page.get_by_test_id("play-pause").click()
        page.wait_for_function("document.querySelector('[data-testid=play-pause] .label').textContent === 'Pause'")
        assert [box(page, k) for k in keys] == before, "the layout moved when Play became Pause"
        page.get_by_test_id("play-pause").click()
        page.wait_for_function("document.querySelector('[data-testid=play-pause] .label').textContent === 'Play'")
        ensure_paused(page, server)

        # the network editor opens inside the controls column: the network view keeps its size
        view = box(page, "[data-testid=network-view]")
        page.locator("#editor > summary").click()
        page.wait_for_function("document.getElementById('editor').open")
        assert box(page, "[data-testid=network-view]") == view, "opening the network editor resized the network view"
        assert page.evaluate("document.documentElement.scrollHeight") <= 720
        page.locator("#editor > summary").click()

        # pinning a neuron keeps the columns apart (the inspector used to squash them together)
        L = page.evaluate("window.__lab.store.sizes.length - 1")
        columns_before = page.evaluate(f"[...Array({L}).keys()].map(l => window.__lab.networkView.positionOf(l + 1, 0).x)")
        pos = page.evaluate(f"window.__lab.networkView.positionOf({L}, 3)")
        page.mouse.click(view["x"] + pos["x"], view["y"] + pos["y"])
        page.wait_for_selector("#inspector:not([hidden])")
        page.wait_for_function("document.querySelectorAll('#inspector .contrib li').length >= 2")
        columns = page.evaluate(f"[...Array({L}).keys()].map(l => window.__lab.networkView.positionOf(l + 1, 0).x)")
        gaps = [b - a for a, b in zip(columns, columns[1:])]
        assert min(gaps) >= 60, f"pinned: the layer columns are {gaps} px apart"
        assert columns == columns_before, f"pinning a neuron moved the columns: {columns_before} → {columns}"
        inspector = box(page, "#inspector")
        out = page.evaluate(f"window.__lab.networkView.positionOf({L}, 3)")
        assert inspector["right"] < view["x"] + out["x"] - out["r"], "the inspector covers the output column"
        shot(page, "screens-laptop-pinned")
        page.keyboard.press("Escape")

        # the walkthrough: η, Undo and Resume in the first screen; the mini-batch table's Average in view
        enter_walkthrough(page)
        for sel in ("[data-testid=wt-lr]", "[data-testid=wt-undo]", "#wt-leave", "[data-testid=wt-next]", "[data-testid=wt-back]"):
            b = box(page, sel)
            assert b["w"] > 0 and b["bottom"] <= 720, f"{sel} ends at y = {b['bottom']:.0f}, below the first screen"
        page.locator(".phase").nth(4).click()
        page.wait_for_selector("[data-testid=wt-batch-table] thead th.avg")
        avg = box(page, "[data-testid=wt-batch-table] thead th.avg")
        body = box(page, "#wt-body")
        assert body["x"] - 0.5 <= avg["x"] and avg["right"] <= body["right"] + 0.5, f"the Average column is cut: {avg} in {body}"
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        assert not page.problems, page.problems
    finally:
        context.close()


def visible_text_sizes(page, root):
    """(effective font size, text) of every visible text inside `root`, CSS zoom included, smallest first."""
    return page.evaluate(
        """(root) => {
            const out = [];
            const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
              const text = n.textContent.trim();
              const e = n.parentElement;
              if (!text || !e || e.closest('[hidden], .sr-only')) continue;
              const r = e.getBoundingClientRect();
              if (!r.width || !r.height || !e.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
              if (e.closest('.wt-side, .controls, .draw, .wt-tools, .wt-detail, .network, .chart') === null) continue;
              const size = parseFloat(getComputedStyle(e).fontSize) * (e.currentCSSZoom || 1);
              out.push([Math.round(size * 10) / 10, text.slice(0, 40), e.className || e.tagName]);
            }
            return out.sort((a, b) => a[0] - b[0]);
        }""",
        root,
    )


def test_presentation_mode(browser, server):
    """?present=1: text ≥ 18 px, the canvases ×1.65, side panels fold; the button turns it off."""
    context, page = new_tab(browser, server, "projector", "?present=1")
    try:
        ensure_paused(page, server)
        assert page.evaluate("document.body.classList.contains('present')")
        assert page.get_by_test_id("present-toggle").get_attribute("aria-pressed") == "true"
        page.wait_for_function("window.__lab.networkView.zoom >= 1.5 && window.__lab.chart.zoom >= 1.5")
        check_layout(page, ("play-pause", "step", "learning-rate", "network-view", "cost-chart"), "presentation, live")
        small = [t for t in visible_text_sizes(page, ".app") if t[0] < 18]
        assert not small, f"presentation mode, live: text under 18 px: {small[:10]}"
        # the drawing tools start folded away; the network takes the screen
        assert page.get_by_test_id("draw-pad").is_hidden()
        view = box(page, "[data-testid=network-view]")
        assert view["w"] >= 0.6 * 1920, f"the network view is only {view['w']:.0f} px wide"
        shot(page, "screens-present-live")
        # folding the controls keeps play/pause and step, and widens the network
        page.get_by_test_id("fold-controls").click()
        page.wait_for_function("document.body.classList.contains('fold-left')")
        page.wait_for_function(f"document.querySelector('[data-testid=network-view]').getBoundingClientRect().width > {view['w'] + 200}")
        check_layout(page, ("play-pause", "step", "network-view", "cost-chart"), "presentation, controls folded")
        shot(page, "screens-present-folded")
        page.get_by_test_id("fold-controls").click()
        page.get_by_test_id("fold-draw").click()
        check_layout(page, LIVE_KEYS, "presentation, draw pad unfolded")
        small = [t for t in visible_text_sizes(page, ".app") if t[0] < 18]
        assert not small, f"presentation mode, draw pad unfolded: text under 18 px: {small[:10]}"
        page.get_by_test_id("fold-draw").click()

        enter_walkthrough(page)
        settled(page)
        check_layout(page, ("network-view", "wt-next", "wt-back", "wt-lr", "wt-detail"), "presentation, walkthrough")
        area = sum(b["w"] * b["h"] for b in (box(page, ".network"), box(page, "[data-testid=wt-detail]")))
        assert area >= 0.55 * 1920 * 1080, f"the network and the formulas cover only {area / (1920 * 1080):.0%} of the screen"
        n = int(page.get_by_test_id("wt-stepno").inner_text().split(" of ")[1])
        for i in range(1, n + 1):
            page.wait_for_function(f"document.querySelector('[data-testid=wt-stepno]').textContent === 'step {i} of {n}'")
            settled(page)
            small = [t for t in visible_text_sizes(page, ".app") if t[0] < 18]
            assert not small, f"presentation mode, walkthrough step {i}: text under 18 px: {small[:10]}"
            if i == 5:
                shot(page, "screens-present-walkthrough")
            if i < n:
                page.get_by_test_id("wt-next").click()
        page.get_by_test_id("fold-wt-tools").click()
        page.wait_for_function("!document.body.classList.contains('fold-right')")
        check_layout(page, WT_KEYS, "presentation, walkthrough with teach and check unfolded")
        small = [t for t in visible_text_sizes(page, ".app") if t[0] < 18]
        assert not small, f"presentation mode, teach and check unfolded: text under 18 px: {small[:10]}"
        issues = axe(page, "presentation, walkthrough", ["color-contrast"])
        assert not issues

        # the button turns it off (and the address follows); #present turns it on
        page.get_by_test_id("present-toggle").click()
        page.wait_for_function("!document.body.classList.contains('present') && window.__lab.networkView.zoom === 1")
        assert "present" not in page.url
        page.goto(server.url + "#present")
        wait_connected(page)
        assert page.evaluate("document.body.classList.contains('present')")
        assert not page.problems, page.problems
    finally:
        context.close()


def test_high_dpi_canvases_and_rotation(browser, server):
    """A phone at devicePixelRatio 3: every canvas is drawn at 3 device pixels per CSS pixel, and again
    after the phone is turned (the drawing on the pad survives)."""
    context, page = new_tab(browser, server, "phone", scale=3)
    try:
        ensure_paused(page, server)
        sharp = """() => ['network-view', 'cost-chart', 'draw-pad'].map(id => {
            const c = document.querySelector(`[data-testid=${id}]`);
            const r = c.getBoundingClientRect();
            return [id, c.width, Math.round(c.clientWidth * 3), c.height, Math.round(c.clientHeight * 3)];
        })"""
        page.wait_for_function(f"({sharp})().every(([, w, cw, h, ch]) => Math.abs(w - cw) <= 3 && Math.abs(h - ch) <= 3)")
        stroke(page, "draw-pad", SEVEN, "touch")
        page.wait_for_function("document.querySelector('[data-testid=prediction]').textContent.trim() !== ''")
        page.set_viewport_size({"width": 844, "height": 390})
        page.wait_for_function(f"({sharp})().every(([, w, cw, h, ch]) => Math.abs(w - cw) <= 3 && Math.abs(h - ch) <= 3)")
        page.wait_for_function("window.__lab.networkView.layout.width === document.querySelector('[data-testid=network-view]').clientWidth / window.__lab.networkView.zoom"
                               " || Math.abs(window.__lab.networkView.layout.width - document.querySelector('[data-testid=network-view]').clientWidth) < 1")
        check_layout(page, LIVE_KEYS, "phone turned to landscape")
        ink = page.evaluate("""() => { const c = document.querySelector('[data-testid=draw-pad]');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 120) n++; return n / (c.width * c.height); }""")
        assert ink > 0.03, f"the drawing did not survive the rotation ({ink:.1%} of the pad inked)"
        shot(page, "screens-phone-landscape")
        assert not page.problems, page.problems
    finally:
        context.close()
