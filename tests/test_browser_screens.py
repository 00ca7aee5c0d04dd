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
    ARTIFACTS,
    REPO,
    LiveServer,
    browser,
    chromium_path,
    ensure_paused,
    shot,
    wait_connected,
)

pytestmark = pytest.mark.browser

AXE = REPO / "tests" / "vendor" / "axe.min.js"
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


def axe(page, where, rules=None):
    """Run axe-core; assert no colour-contrast violation; return the other serious/critical ones."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "rule", "values": rules}} if rules else {"resultTypes": ["violations"]}
    result = page.evaluate("(o) => axe.run(document, o).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => [n.target.join(' '), n.failureSummary])})))", options)
    contrast = [v for v in result if v["id"] == "color-contrast"]
    assert not contrast, f"{where}: text contrast below WCAG AA: " + json.dumps(contrast[0]["nodes"][:12], ensure_ascii=False)
    return [v for v in result if v["impact"] in ("serious", "critical")]


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
        issues = axe(page, f"{size}, live")

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
        issues += axe(page, f"{size}, walkthrough")
        (ARTIFACTS / f"screens-{size}-axe.json").write_text(json.dumps(issues, indent=1, ensure_ascii=False))
        assert not page.problems, page.problems
    finally:
        context.close()
