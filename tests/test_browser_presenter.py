"""The classroom's presenter in Chromium (issue 16, part 2): a presenter and two students. One student
follows and sees the presenter's iteration; the other copies the presenter's network; the presenter sees
"1 following", locks the class, and both students' pages follow, locked. The classroom bar is checked with
axe-core and photographed at a phone's and a laptop's size (test-artifacts/presenter-*.png)."""

from __future__ import annotations

import pytest

from browser_helpers import (  # noqa: F401  (fixtures)
    browser, chromium_path, iteration, open_tab, shot, wait_connected,
)
from test_browser_classroom import ClassroomServer
from test_browser_screens import axe

KEY = "the-teachers-key-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("presenter")
    srv = ClassroomServer(extra_args=["--classroom", "--max-sessions", "3", "--checkpoint-dir", folder,
                                      "--flat-out", "--presenter-key", KEY]).start()
    yield srv
    srv.stop()


def status(page) -> str:
    return page.get_by_test_id("cr-status").inner_text()


def test_a_presenter_and_two_students_follow_copy_and_lock(browser, server):
    t_context, t = open_tab(browser, f"{server.url}?presenter={KEY}", 1280, 720)
    a_context, a = open_tab(browser, server.url, 390, 844)
    b_context, b = open_tab(browser, server.url, 1280, 720)
    try:
        t.wait_for_function("document.querySelector('[data-testid=cr-status]').textContent.includes('presenter')")
        assert "presenter=" not in t.url  # the key left the address bar
        for _ in range(3):
            t.get_by_test_id("step").click()
        t.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 3")

        a.get_by_test_id("cr-follow").click()
        a.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 3")
        assert "Following the presenter" in status(a)
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
        assert "Your own network" in status(b)
        assert not t.problems and not b.problems, t.problems + b.problems
    finally:
        for context in (t_context, a_context, b_context):
            context.close()
