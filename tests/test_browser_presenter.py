"""The classroom's presenter in Chromium (issue 16, part 2): a presenter and two students. One student
follows and sees the presenter's iteration; the other copies the presenter's network; the presenter sees
"1 following", locks the class, and both students' pages follow, locked. The classroom bar is checked with
axe-core and photographed at a phone's and a laptop's size (test-artifacts/presenter-*.png)."""

from __future__ import annotations

import pytest

from browser_helpers import (  # noqa: F401  (fixtures)
    animation_frames, browser, chromium_path, iteration, open_tab, shot, wait_connected,
)
from test_browser_classroom import ClassroomServer
from test_browser_screens import axe

KEY = "the-teachers-key-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("presenter")
    srv = ClassroomServer(extra_args=["--classroom", "--max-sessions", "8", "--checkpoint-dir", folder,
                                      "--flat-out", "--presenter-key", KEY]).start()
    yield srv
    srv.stop()


def test_a_presenter_and_two_students_follow_copy_and_lock(browser, server):
    t_context, t = open_tab(browser, f"{server.url}?presenter={KEY}", 1280, 720)
    a_context, a = open_tab(browser, server.url, 390, 844)
    b_context, b = open_tab(browser, server.url, 1280, 720)
    try:
        t.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('presenter')")
        assert "presenter=" not in t.url  # the key left the address bar
        # so did the cookie's redirect marker: an address copied from the bar (or a shared link) opens the
        # page in a browser that has no cookie yet, not "This page needs a cookie"
        assert "cookies=" not in a.url and "cookies=" not in t.url
        fresh_context, fresh = open_tab(browser, a.url, 1280, 720)
        assert "needs a cookie" not in fresh.inner_text("body")
        fresh_context.close()
        for _ in range(3):
            t.get_by_test_id("step").click()
        t.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 3")

        a.get_by_test_id("cr-follow").click()
        a.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 3")
        # the hello (the iteration) and the classroom message (the status) are two messages: wait for both
        a.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('Following the presenter')")
        t.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('1 following')")
        a.get_by_test_id("step").click()  # refused: it is the presenter's session
        a.wait_for_function("document.body.innerText.includes('following the presenter')")
        assert iteration(t) == 3

        b.get_by_test_id("cr-copy").click()
        b.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 3")
        assert "Someone else" not in b.inner_text("body")  # its own copy, not a stranger's load
        b.get_by_test_id("step").click()  # its own copy trains on its own
        b.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 4")
        assert iteration(t) == 3

        t.get_by_test_id("cr-lock").click()
        b.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('locked')")
        b.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 3")
        t.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('2 following')")
        assert b.get_by_test_id("cr-own").is_disabled()
        shot(t, "presenter-teacher-1280x720")
        shot(a, "presenter-student-locked-390x844")
        shot(b, "presenter-student-locked-1280x720")
        for page, name in ((t, "presenter"), (a, "student, phone"), (b, "student, laptop")):
            assert axe(page, f"classroom bar, {name}") == []
        t.get_by_test_id("cr-lock").click()
        b.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 4")
        b.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('Your own network')")
        assert not t.problems and not a.problems and not b.problems, t.problems + a.problems + b.problems
    finally:
        for context in (t_context, a_context, b_context):
            context.close()


def wt(page, expr: str):
    return page.evaluate(f"(() => {{ const w = window.__lab.walkthrough; return {expr}; }})()")


def test_a_followers_page_lands_on_the_presenters_walkthrough_step(browser, server):
    """ClassroomBar.followWalkthrough: the presenter opens the walkthrough on a trained network and moves to
    phase 4; a following student's page shows the same phase, step and example, and leaves with them."""
    t_context, t = open_tab(browser, f"{server.url}?presenter={KEY}", 1280, 720)
    s_context, s = open_tab(browser, server.url, 390, 844)
    try:
        t.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('presenter')")
        t.get_by_test_id("play-pause").click()  # --flat-out: some hundreds of mini-batches in a moment
        t.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent.replace(/,/g, '')) >= 300",
                            timeout=90000)  # a worker at nice 10 yields to a busy machine
        s.get_by_test_id("cr-follow").click()
        s.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('Following')")
        t.get_by_test_id("mode-walkthrough").click()
        t.wait_for_function("window.__lab.walkthrough.bd !== null", timeout=15000)
        t.locator(".wt-phases .phase").nth(3).click()
        t.wait_for_function("window.__lab.walkthrough.phase === 4")
        want = wt(t, "({index: w.index, label: w.example.label, source: w.example.source, i: w.example.index})")
        s.wait_for_function("document.body.dataset.mode === 'walkthrough' && window.__lab.walkthrough.phase === 4",
                            timeout=15000)
        got = wt(s, "({index: w.index, label: w.example.label, source: w.example.source, i: w.example.index})")
        assert got == want
        # the same numbers: the follower's page walks the presenter's network
        assert wt(s, "w.bd.layers.at(-1).a") == wt(t, "w.bd.layers.at(-1).a")
        assert s.locator("#wt-step-title").inner_text() == t.locator("#wt-step-title").inner_text()
        shot(s, "presenter-follower-walkthrough-phase4-390x844")
        t.get_by_test_id("wt-next").click()  # one more step: the follower moves too
        s.wait_for_function(f"window.__lab.walkthrough.index === {want['index'] + 1}")
        # the last phase's "take a step" on the follower's page: refused by the page itself (it knows it
        # follows), not sent to be refused with a 409 that Chromium logs as a console error
        t.locator(".wt-phases .phase").nth(5).click()
        t.wait_for_function("window.__lab.walkthrough.phase === 6")
        t.wait_for_function("(() => { const w = window.__lab.walkthrough; w.goTo(w.steps.length - 1); "
                            "return document.querySelector('[data-testid=wt-take-step]'); })()", timeout=15000)
        s.wait_for_function("document.querySelector('[data-testid=wt-take-step]')", timeout=15000)
        refused = []
        s.on("request", lambda r: r.method != "GET" and "/api/walkthrough/step" in r.url and refused.append(r.url))
        s.get_by_test_id("wt-take-step").click()
        s.wait_for_function("document.body.innerText.includes('Could not take the step: you are following the presenter')")
        assert refused == []
        # a drawing walked by the presenter: as drawn (84×84 values) it is over the 32 KiB a published step
        # may carry; the page sends it as the network's inputs instead, once they are known, and every
        # publish fits (held: the presenter's backprop, so the drawing stays as drawn for a while)
        sent, held = [], []
        t.on("requestfinished", lambda r: "/api/classroom/walkthrough" in r.url and sent.append(
            (len(r.post_data or ""), r.response().status)))
        t.route("**/api/backprop", lambda route: held.append(route))
        t.evaluate("void window.__lab.walkthrough.setExample({source: 'drawing', label: 3, request: {image: "
                   "{width: 84, height: 84, pixels: Array.from({length: 7056}, (_, i) => (i % 97) / 100)}}})")
        animation_frames(t, 40)  # the page's publish loop has had its turns (at most one each 250 ms)
        for route in held:
            route.continue_()
        t.unroute("**/api/backprop")
        t.wait_for_function("window.__lab.walkthrough.example.request.pixels")
        drawn = wt(t, "w.bd.input")
        # the same drawing, exactly (float32), and the same numbers
        s.wait_for_function("(want) => { const w = window.__lab.walkthrough; return w.example?.source === 'drawing' && "
                            "w.bd && w.bd.input.every((v, i) => v === want[i]); }", arg=drawn, timeout=15000)
        assert wt(s, "w.bd.layers.at(-1).a") == wt(t, "w.bd.layers.at(-1).a")
        assert sent and all(size <= 32 * 1024 and status == 200 for size, status in sent), sent
        t.get_by_test_id("mode-live").click()  # the presenter leaves: so does the follower
        s.wait_for_function("document.body.dataset.mode === 'live'")
        assert not t.problems and not s.problems, t.problems + s.problems
    finally:
        for context in (t_context, s_context):
            context.close()
