"""Teaching with Backprop Lab in a real browser (issue 16, parts 3 and 4): a tab whose token is refused
gets one clear message instead of reconnecting forever; links that carry a lesson (share → open in a
fresh page → the same network and view); a reset in the shared session asks first; other tabs are told.
Screenshots: test-artifacts/teaching-*.png.
"""

from __future__ import annotations

import re

import pytest

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    REPO,
    LiveServer,
    browser,
    chromium_path,
    free_port,
    settle_page,
    shot,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.browser

REFUSED = "This server restarted with a new address or token — open the new link from the teacher."
AXE = REPO / "tests" / "vendor" / "axe.min.js"


def axe_problems(page, selector):
    """axe-core on one part of the page (a dialog): its serious or critical violations, contrast included."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""(sel) => axe.run({include: [[sel]]}, {resultTypes: ['violations']}).then(r => r.violations
        .filter(v => ['serious', 'critical'].includes(v.impact) || v.id === 'color-contrast')
        .map(v => [v.id, v.nodes.map(n => n.target.join(' '))]))""", selector)


@pytest.mark.parametrize("size", [(390, 844), (1280, 720)], ids=["phone", "laptop"])
def test_a_tab_whose_token_is_refused_says_so_once_and_stops_reconnecting(browser, tmp_path, size):
    """The server restarts with another token: the open tab says what to do, once, and stops knocking."""
    width, height = size
    port = free_port()
    srv = LiveServer(port=port, host="0.0.0.0", extra_args=["--checkpoint-dir", tmp_path, "--no-autosave"])
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=width < 500)
    try:
        srv.start()
        page = context.new_page()
        page.goto(srv.url)
        wait_connected(page)
        # opened on this machine, the Share button writes an address the students can reach (if any)
        hosts = page.evaluate("document.querySelector('meta[name=backprop-share-hosts]').content").split()
        page.get_by_test_id("share-toggle").click()
        link = page.get_by_test_id("share-link").input_value()
        assert link.startswith(f"http://{hosts[0] if hosts else f'127.0.0.1:{port}'}/?token={srv.token}#v=1&")
        page.keyboard.press("Escape")
        srv.stop()
        srv.extra_args += ["--token", "a-new-token-for-today"]
        srv.start()
        page.wait_for_function("document.querySelector('[data-testid=connection]').dataset.state === 'refused'",
                               timeout=30000)
        assert page.locator("#conn-banner-text").inner_text() == REFUSED
        assert page.get_by_test_id("connection").inner_text() == "refused"
        # no retry is scheduled, and none happens: the connection stays down however long we look
        attempts = page.evaluate("window.__lab.connection.attempts")
        assert page.evaluate("window.__lab.connection.timer") is None
        page.wait_for_timeout(1500)  # several backoff periods: a retrying page would have tried again
        assert page.evaluate("window.__lab.connection.attempts") == attempts
        assert page.locator("#reconnect-now").is_hidden()  # "Retry now" would only be refused again
        settle_page(page)
        shot(page, f"teaching-refused-token-{width}x{height}")
        # the page itself, reloaded with the old token, says the same
        page.reload()
        assert REFUSED.split(" — ")[0] in page.locator("body").inner_text()
    finally:
        context.close()
        srv.stop()


# ----- links that carry a lesson --------------------------------------------------------------------------
LESSON_STATE = ("sizes", "activation", "output_activation", "cost", "seed", "learning_rate", "batch_size", "dataset",
                "dataset_options")


def fragment(url: str) -> str:
    return url.split("#", 1)[1]


def on(server, link: str) -> str:
    """The same lesson link, on another server (its own address and token)."""
    return server.url + "#" + fragment(link)


def new_tab(browser, url, size=(1280, 720)):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=size[0] < 500)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.goto(url)
    wait_connected(page)
    return context, page


def opened(page, count=1, timeout=30000):
    """Wait until the page has finished opening `count` links; the last outcome."""
    page.wait_for_function(f"window.__lab.linkOpener.opened >= {count}", timeout=timeout)
    return page.evaluate("window.__lab.linkOpener.last")


def walkthrough_phase(page, phase):
    page.wait_for_function(f"window.__lab.walkthrough.active && window.__lab.walkthrough.phase === {phase}", timeout=30000)


@pytest.fixture(scope="module")
def lesson_server(chromium_path):
    srv = LiveServer(extra_args=["--no-autosave"]).start()
    yield srv
    srv.stop()


def share_link(page, hide=()):
    """Open the Share dialog, tick `hide`, return the link it shows."""
    page.get_by_test_id("share-toggle").click()
    page.wait_for_selector("[data-testid=share-dialog]")
    for part in hide:
        page.get_by_test_id(f"share-hide-{part}").check()
    return page.get_by_test_id("share-link").input_value()


def test_share_then_open_in_a_fresh_page_gives_the_same_network_and_view(browser, lesson_server, tmp_path):
    """Round trip: a network and a walkthrough phase shared on one server open the same elsewhere — on a
    fresh server after asking (it replaces that server's network), and on the same server at once (the
    network matches, so only the view is applied and the trained network is kept)."""
    context, page = new_tab(browser, lesson_server.url)
    try:
        page.evaluate("""window.__lab.send({type: 'reset', dataset: 'circle', dataset_options: {noise: 0.1, points: 600,
            test_fraction: 0.25, seed: 4}, hidden: [8, 8], activation: 'tanh', output_activation: 'softmax',
            cost: 'cross_entropy', seed: 3, learning_rate: 0.3, batch_size: 16}, 'test')""")
        page.wait_for_function("window.__lab.store.dataset?.name === 'circle' && window.__lab.store.params.batch_size === 16")
        page.get_by_test_id("step").click()  # trained a little: a link that matches must keep it
        page.get_by_test_id("mode-walkthrough").click()
        page.wait_for_function("window.__lab.walkthrough.ready && window.__lab.walkthrough.phase === 1", timeout=30000)
        page.evaluate("window.__lab.walkthrough.goPhase(4)")
        walkthrough_phase(page, 4)
        link = share_link(page, hide=["editor", "checkpoints"])
        assert link.startswith(lesson_server.url + "#v=1&dataset=circle&noise=0.1&points=600&test_fraction=0.25&data_seed=4")
        assert fragment(link).endswith("&hidden=8,8&activation=tanh&output=softmax&cost=cross_entropy&seed=3&lr=0.3&batch=16"
                                       "&mode=walkthrough&phase=4&hide=editor,checkpoints")
        for width, height in ((390, 844), (1280, 720)):
            page.set_viewport_size({"width": width, "height": height})
            settle_page(page)
            shot(page, f"teaching-share-dialog-{width}x{height}")
        assert axe_problems(page, "[data-testid=share-dialog]") == []
        # Copy: with clipboard permission the link lands there; the button says so
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.get_by_test_id("share-copy").click()
        page.wait_for_function("document.querySelector('[data-testid=share-status]').textContent === 'Copied ✓'")
        assert page.evaluate("navigator.clipboard.readText()") == link
        page.keyboard.press("Escape")
        page.wait_for_selector("[data-testid=share-dialog]", state="detached")
        shared = {k: lesson_server.state()[k] for k in LESSON_STATE}
        trained = lesson_server.state()["iteration"]
        assert trained >= 1
    finally:
        context.close()

    # a fresh server (MNIST): the link asks first, then makes the same network and opens the same view
    fresh = LiveServer(extra_args=["--checkpoint-dir", tmp_path, "--no-autosave"]).start()
    try:
        context, page = new_tab(browser, on(fresh, link))
        page.wait_for_selector("[data-testid=link-confirm]")
        changes = page.get_by_test_id("link-confirm-changes").inner_text()
        assert "dataset: mnist → circle" in changes and "hidden σ: sigmoid → tanh" in changes and "η: 3 → 0.3" in changes
        assert fresh.state()["dataset"] == "mnist"  # nothing changed while it asks
        settle_page(page)
        shot(page, "teaching-link-confirm-1280x720")
        assert axe_problems(page, "[data-testid=link-confirm]") == []
        page.get_by_test_id("link-apply").click()
        assert opened(page)["outcome"] == "applied"
        assert {k: fresh.state()[k] for k in LESSON_STATE} == shared
        walkthrough_phase(page, 4)
        assert page.evaluate("document.body.dataset.mode") == "walkthrough"
        assert page.locator("[data-part=editor]").is_hidden() and page.locator("[data-part=checkpoints]").is_hidden()
        assert page.locator("[data-part=params]").count() == 1
        # the address keeps only the view: a reload does not ask again
        assert fragment(page.url) == "v=1&mode=walkthrough&phase=4&hide=editor,checkpoints"
        assert page.problems == []
        context.close()
    finally:
        fresh.stop()

    # the same server, a fresh page: the network matches, so only the view (no question, nothing reset)
    context, page = new_tab(browser, link)
    try:
        assert opened(page)["outcome"] == "view"
        walkthrough_phase(page, 4)
        assert page.locator("[data-testid=link-confirm]").count() == 0
        assert lesson_server.state()["iteration"] >= trained  # the trained network was kept
        assert page.locator("[data-part=editor]").is_hidden()
        assert page.problems == []
    finally:
        context.close()


@pytest.mark.parametrize("link,field", [
    ("v=1&dataset=circle&hidden=8&lr=50", "lr"),
    ("v=2&dataset=circle&hidden=8", "v"),  # a stale (or future) format
    ("v=1&dataset=circle&hidden=8&hide=editor,everything", "hide"),
    ("v=1&dataset=circle&noise=3", "noise"),
])
def test_a_bad_or_stale_link_names_the_field_and_changes_nothing(browser, lesson_server, link, field):
    before = lesson_server.state()
    context, page = new_tab(browser, lesson_server.url + "#" + link)
    try:
        last = opened(page)
        assert last["outcome"] == "refused" and last["detail"].startswith(f"{field}: ")
        toast = page.locator(".toast.error").last
        assert "This lesson link was not opened (nothing changed)" in toast.inner_text()
        assert last["detail"] in toast.inner_text()
        assert page.locator("[data-testid=link-confirm]").count() == 0
        assert page.evaluate("document.body.dataset.mode") == "live" and page.evaluate("document.body.dataset.hide") is None
        after = lesson_server.state()
        assert {k: after[k] for k in LESSON_STATE} == {k: before[k] for k in LESSON_STATE}
        # the browser logs the refused request itself (422); nothing else went wrong
        assert [p for p in page.problems if "status of 422" not in p] == []
    finally:
        context.close()


def test_a_link_that_would_reset_can_be_cancelled_or_opened_as_view_only(browser, lesson_server):
    before = {k: lesson_server.state()[k] for k in LESSON_STATE}
    link = "v=1&dataset=xor&hidden=4&activation=relu&seed=9&mode=descent&hide=draw"
    context, page = new_tab(browser, lesson_server.url + "#" + link, (390, 844))
    try:
        page.wait_for_selector("[data-testid=link-confirm]")
        settle_page(page)
        shot(page, "teaching-link-confirm-390x844")
        assert page.evaluate("document.activeElement.dataset.testid") == "link-cancel"  # the safe choice first
        page.get_by_test_id("link-cancel").click()
        assert opened(page)["outcome"] == "cancelled"
        assert {k: lesson_server.state()[k] for k in LESSON_STATE} == before
        assert page.evaluate("document.body.dataset.mode") == "live" and page.evaluate("document.body.dataset.hide") is None
        # the same link typed again into the address bar: only the view this time
        page.evaluate("location.hash = ''")
        page.evaluate(f"location.hash = '{link}'")
        page.wait_for_selector("[data-testid=link-confirm]")
        page.get_by_test_id("link-view-only").click()
        assert opened(page, 2)["outcome"] == "view"
        assert {k: lesson_server.state()[k] for k in LESSON_STATE} == before
        assert page.evaluate("document.body.dataset.mode") == "descent"
        assert page.locator("[data-part=draw]").is_hidden()
        # (the Descent view's PCA plane is refused with a 422 before any training: its own message)
        assert [p for p in page.problems if "status of 422" not in p] == []
    finally:
        context.close()


def test_the_share_dialog_offers_exactly_the_servers_hide_parts(browser, lesson_server):
    from server.web.links import HIDE_PARTS

    context, page = new_tab(browser, lesson_server.url)
    try:
        page.get_by_test_id("share-toggle").click()
        offered = page.eval_on_selector_all("[data-testid^=share-hide-]", "els => els.map(e => e.value)")
        assert offered == list(HIDE_PARTS)
        marked = page.eval_on_selector_all("[data-part]", "els => [...new Set(els.map(e => e.dataset.part))]")
        assert sorted(marked) == sorted(HIDE_PARTS)  # every part is an element of the page
        # a view-only link (no network) is shorter and opens on whatever network the server has
        page.get_by_test_id("share-network").uncheck()
        assert fragment(page.get_by_test_id("share-link").input_value()) == "v=1&mode=live"
        # without clipboard permission (a phone on http://): the link is left selected, to copy by hand
        page.get_by_test_id("share-copy").click()
        page.wait_for_function("document.querySelector('[data-testid=share-status]').textContent !== ''")
        status = page.get_by_test_id("share-status").inner_text()
        selected = page.evaluate("(() => { const t = document.getElementById('share-link'); return t.value.slice(t.selectionStart, t.selectionEnd); })()")
        assert status == "Copied ✓" or (status.startswith("Selected: copy it") and selected.endswith("#v=1&mode=live"))
    finally:
        context.close()


def test_reset_asks_first_in_the_shared_session_and_other_tabs_are_told(browser, lesson_server):
    """A reset from the editor replaces every tab's network: it asks, Cancel changes nothing; confirmed,
    the other tab says someone else did it."""
    context, page = new_tab(browser, lesson_server.url)
    other_context, other = new_tab(browser, lesson_server.url)
    try:
        before = lesson_server.state()["sizes"]
        iteration_before = lesson_server.state()["iteration"]
        page.evaluate("document.getElementById('editor').open = true")
        page.select_option("#hidden-count", "1")
        page.locator("#hidden-sizes input").first.fill("12")
        page.locator("#reset").click()
        page.wait_for_selector("[data-testid=reset-confirm]")
        assert "Every tab of this server shares one network" in page.get_by_test_id("reset-confirm").inner_text()
        assert axe_problems(page, "[data-testid=reset-confirm]") == []
        assert "hidden 12" in page.get_by_test_id("reset-confirm-changes").inner_text()
        page.keyboard.press("ArrowRight")  # the page's shortcuts (→ step) do not reach past the dialog
        page.keyboard.press("Escape")  # the same as Cancel
        page.wait_for_selector("[data-testid=reset-confirm]", state="detached")
        assert lesson_server.state()["sizes"] == before
        assert lesson_server.state()["iteration"] == iteration_before
        page.locator("#reset").click()
        page.get_by_test_id("reset-confirm-ok").click()
        wait_until(lambda: lesson_server.state()["sizes"][1:-1] == [12], 10, message="the reset")
        other.wait_for_selector(".toast:has-text('Someone else made a new network')")
        page.wait_for_selector(".toast:has-text('New network')")
        assert page.locator(".toast:has-text('Someone else')").count() == 0
        assert page.problems == [] and other.problems == []
    finally:
        context.close()
        other_context.close()


def test_a_link_with_this_network_and_another_rate_changes_only_the_rate_after_asking(browser, lesson_server):
    context, page = new_tab(browser, lesson_server.url)
    try:
        link = share_link(page)  # the network as it is, with its η
        page.keyboard.press("Escape")
        before = lesson_server.state()
        new = 0.125 if before["learning_rate"] != 0.125 else 0.25
        link = re.sub(r"&lr=[^&]*", f"&lr={new}", link)
        page.evaluate("(f) => { location.hash = f; }", fragment(link))
        page.wait_for_selector("[data-testid=link-confirm]")
        assert "change the training for everyone" in page.get_by_test_id("link-confirm").inner_text()
        assert page.get_by_test_id("link-confirm-changes").inner_text() == f"η: {before['learning_rate']:g} → {new:g}"
        page.get_by_test_id("link-apply").click()
        assert opened(page)["outcome"] == "applied"
        after = lesson_server.state()
        assert after["learning_rate"] == new
        assert {k: after[k] for k in LESSON_STATE if k != "learning_rate"} == \
            {k: before[k] for k in LESSON_STATE if k != "learning_rate"}
        assert after["iteration"] >= before["iteration"]  # the same network, kept
        assert page.problems == []
    finally:
        context.close()
