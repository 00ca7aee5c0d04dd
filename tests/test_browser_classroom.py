"""Classroom mode in Chromium (issue 16): two browser profiles are two visitors with sessions of their own;
a third, over the cap, gets "the room is full" (checked with axe-core, at a phone's and a laptop's size).
Screenshots go to test-artifacts/classroom-*.png."""

from __future__ import annotations

import re

import pytest

from browser_helpers import (  # noqa: F401  (fixtures)
    LiveServer, browser, chromium_path, iteration, open_tab, shot, wait_connected, wait_until,
)
from test_browser_screens import axe


class ClassroomServer(LiveServer):
    """``python -m server --classroom``: ready once it prints its address (the API wants a visitor)."""

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
        return "running at" in self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classroom")
    srv = ClassroomServer(extra_args=["--classroom", "--max-sessions", "2", "--checkpoint-dir", folder,
                                      "--flat-out"]).start()
    yield srv
    srv.stop()


def test_two_visitors_train_their_own_networks_and_a_third_finds_the_room_full(browser, server):
    a_context, a = open_tab(browser, server.url, 1280, 720)
    b_context, b = open_tab(browser, server.url, 390, 844)
    try:
        assert "cookies=" not in a.url  # the cookie's one redirect, whose marker the page takes out
        for _ in range(3):
            a.get_by_test_id("step").click()
        a.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 3")
        assert iteration(b) == 0  # B's session did not move
        b.get_by_test_id("step").click()
        b.wait_for_function("Number(document.querySelector('[data-testid=iteration]').textContent) === 1")
        assert iteration(a) == 3
        shot(a, "classroom-visitor-a-1280x720")
        shot(b, "classroom-visitor-b-390x844")
        assert not a.problems and not b.problems, a.problems + b.problems

        for size, (w, h) in {"phone": (390, 844), "laptop": (1280, 720)}.items():
            c_context = browser.new_context(viewport={"width": w, "height": h})
            try:
                c = c_context.new_page()
                response = c.goto(server.url)
                assert response.status == 503
                assert c.get_by_role("heading").inner_text() == "The room is full"
                assert re.search(r"All 2 sessions", c.inner_text("body"))
                shot(c, f"classroom-room-full-{size}")
                assert axe(c, f"room full, {size}") == []
            finally:
                c_context.close()
    finally:
        a_context.close()
        b_context.close()
