"""Helpers for the browser tests: find Chromium, run the real server as a subprocess, drive the page.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``) through Playwright for Python against
``python -m server`` on a free port of 127.0.0.1. They are mandatory when ``CI`` is set; elsewhere
they skip with a message when Chromium or Playwright is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
AXE = REPO / "tests" / "vendor" / "axe.min.js"  # axe-core, vendored: the accessibility checks run offline
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 40.0


def find_chromium() -> str | None:
    """Debian's Chromium (or $BACKPROP_CHROMIUM), or None."""
    for candidate in (os.environ.get("BACKPROP_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_browser() -> str:
    """The Chromium path; a missing browser fails the run under CI and skips it elsewhere."""
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "Playwright for Python is not installed (pip install -e '.[test]')"
    chromium = find_chromium()
    if chromium is None and problem is None:
        problem = "no Chromium found at /usr/bin/chromium (apt-get install -y chromium)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests are mandatory in CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    return chromium


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # a server that is still starting, a page mid-navigation, ...
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}" + (f" (last error: {last_error})" if last_error else ""))


class LiveServer:
    """``python -m server --port PORT`` in a subprocess, restartable on the same port.

    ``host`` other than loopback makes the server require a token, read from the URL it prints;
    ``extra_args`` are appended to the command line (e.g. ``["--checkpoint-dir", DIR, "--no-autosave"]``).
    """

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", extra_args=()):
        self.port = port or free_port()
        self.host = host
        self.extra_args = [str(a) for a in extra_args]
        self.token = ""
        self.proc: subprocess.Popen | None = None
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/" + (f"?token={self.token}" if self.token else "")

    def start(self) -> "LiveServer":
        self.log_path.write_bytes(b"")
        log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--host", self.host, "--port", str(self.port), *self.extra_args],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        log.close()
        wait_until(self._ready, SERVER_START_TIMEOUT, 0.1, f"the server on port {self.port} to answer")
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
        printed = re.search(r"running at (\S+)", self.log_path.read_text(errors="replace"))
        if not printed:
            return False
        found = re.search(r"[?&]token=([^&\s]+)", printed.group(1))
        self.token = found.group(1) if found else ""
        return self.state() is not None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def state(self) -> dict | None:
        """GET /api/state, or None when the server does not answer."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/state")
        if self.token:
            request.add_header("X-Backprop-Token", self.token)
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError, OSError):
            return None


# ----- page helpers ---------------------------------------------------------------------------------
def shot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


ANIMATION_FRAMES = """(n) => new Promise((done) => {
    let left = n;
    const next = () => (--left <= 0 ? done() : requestAnimationFrame(next));
    requestAnimationFrame(next);
})"""


def animation_frames(page, n: int = 2) -> None:
    """Wait until the page has run ``n`` more animation frames (so it has drawn what it holds now)."""
    page.evaluate(ANIMATION_FRAMES, n)


def settle_page(page, timeout: float = 10.0) -> None:
    """Wait until the page shows its current state at rest: it has drawn it, and no CSS transition or
    finite animation (a bar's move, a toast's entrance, a counter's flash) is still running.
    Not while training runs: the progress meter moves with every frame."""
    animation_frames(page, 2)
    page.wait_for_function(
        "document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().iterations === Infinity)",
        timeout=timeout * 1000,
    )


def iteration(page) -> int:
    return int(page.get_by_test_id("iteration").inner_text().replace(",", ""))


def wait_connected(page, timeout: float = 15.0) -> None:
    page.wait_for_function(
        "document.querySelector('[data-testid=connection]').textContent === 'connected'"
        " && window.__lab && window.__lab.store.ready",
        timeout=timeout * 1000,
    )


def open_tab(browser, url: str, width: int = 1440, height: int = 900):
    """A new context with one tab on ``url``, connected; ``page.problems`` collects console and page errors.

    Returns (context, page): close the context when done.
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))
    pg.goto(url)
    wait_connected(pg)
    return context, pg


def ensure_paused(page, server: LiveServer) -> None:
    if server.state()["running"]:
        page.get_by_test_id("play-pause").click()
    wait_until(lambda: not server.state()["running"], 10, message="training to pause")
    # the page follows the server's state (and, streaming the summary, has every weight of it)
    page.wait_for_function("window.__lab.store.state && window.__lab.store.state.running === false"
                           " && window.__lab.store.weightsComplete !== false")


def draw_strokes(page, test_id: str, strokes, steps: int = 12) -> None:
    """Draw with the mouse; strokes are lists of (x, y) in 0..1 of the element's box."""
    box = page.get_by_test_id(test_id).bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for i in range(1, steps + 1):
                t = i / steps
                page.mouse.move(box["x"] + (x0 + (x1 - x0) * t) * box["width"],
                                box["y"] + (y0 + (y1 - y0) * t) * box["height"])
                time.sleep(0.008)  # a hand's pace: the page asks for (throttled) predictions mid-stroke, as for a user
        page.mouse.up()


def canvas_ink(page, element_id: str) -> int:
    """How many pixels of a canvas are brighter than near-black (is something drawn there?)."""
    return page.evaluate(
        """(id) => {
            const c = document.getElementById(id);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 120) n++;
            return n;
        }""",
        element_id,
    )


def axe(page, where, rules=None):
    """Run axe-core; assert no colour-contrast violation; return the other serious/critical ones."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "rule", "values": rules}} if rules else {"resultTypes": ["violations"]}
    result = page.evaluate("(o) => axe.run(document, o).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => [n.target.join(' '), n.failureSummary])})))", options)
    contrast = [v for v in result if v["id"] == "color-contrast"]
    assert not contrast, f"{where}: text contrast below WCAG AA: " + json.dumps(contrast[0]["nodes"][:12], ensure_ascii=False)
    return [v for v in result if v["impact"] in ("serious", "critical")]


# Fixtures for the browser test modules (they import these names, which registers them).
@pytest.fixture(scope="module")
def chromium_path():
    """Debian's Chromium: mandatory under CI, else the module is skipped with a message."""
    return require_browser()


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One headless Chromium for the module, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()
