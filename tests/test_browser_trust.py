"""Issue 10 in a real browser: the walkthrough never overrides a choice, the page follows what training
does, a dead network gets a banner with a way back, and an epoch step runs flat out with its progress."""

from __future__ import annotations

import json
import struct

import pytest
from websockets.sync.client import connect

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    LiveServer, browser, chromium_path, ensure_paused, open_tab, shot, wait_until,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(chromium_path):
    srv = LiveServer(extra_args=["--no-autosave"]).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(browser, server):
    context, pg = open_tab(browser, server.url, 1440, 900)
    yield pg
    context.close()


def command(server, message: dict) -> dict:
    """Send one command as another tab would, and return the server's answer (ack or error)."""
    with connect(f"ws://127.0.0.1:{server.port}/ws", max_size=None) as ws:
        ws.send(json.dumps(message))
        while True:
            reply = ws.recv(timeout=10)
            if isinstance(reply, str) and json.loads(reply)["type"] in ("ack", "error"):
                return json.loads(reply)


def open_walkthrough(page):
    page.get_by_test_id("mode-walkthrough").click()
    page.wait_for_function("window.__lab.walkthrough.ready", timeout=15000)


def leave_walkthrough(page):
    """Leave, and wait until the server has answered the walkthrough's close."""
    with page.expect_response("**/api/walkthrough/close"):
        page.locator("#wt-leave").click()
    page.wait_for_function("document.body.dataset.mode === 'live'")


def test_leaving_the_walkthrough_keeps_a_paused_network_paused(page, server):
    ensure_paused(page, server)
    open_walkthrough(page)
    leave_walkthrough(page)
    assert server.state()["running"] is False


def test_the_caption_follows_another_tab_that_resumes_training(page, server):
    ensure_paused(page, server)
    command(server, {"type": "set_params", "steps_per_second": 20})
    open_walkthrough(page)
    assert "training paused" in page.locator("#wt-caption").inner_text()
    assert command(server, {"type": "play"})["type"] == "ack"
    page.wait_for_function("document.getElementById('wt-caption').textContent.includes('training is running')")
    assert command(server, {"type": "pause"})["type"] == "ack"
    page.wait_for_function("document.getElementById('wt-caption').textContent.includes('training paused')")
    leave_walkthrough(page)
    wait_until(lambda: not server.state()["running"], 10, message="training to stay paused (the pause was a choice)")
    command(server, {"type": "set_params", "steps_per_second": None})


def test_the_training_button_gives_a_training_image_after_a_pinned_test_image(page, server):
    ensure_paused(page, server)
    page.locator("#random-test").click()
    page.wait_for_function("window.__lab.store.example && window.__lab.store.example.meta.source === 'test'")
    open_walkthrough(page)
    page.locator("[data-source=training]").click()
    # (the walkthrough opens on a hard training image: wait for the one this button gives)
    page.wait_for_function("window.__lab.walkthrough.example.source === 'training'"
                           " && document.querySelector('[data-testid=wt-example-title]').textContent.startsWith('Training #')")
    leave_walkthrough(page)
    assert page.problems == []


def test_an_epoch_step_runs_flat_out_and_shows_its_progress(page, server):
    ensure_paused(page, server)
    command(server, {"type": "reset", "hidden": [16], "seed": 1})
    command(server, {"type": "set_params", "steps_per_second": 0.5})  # one epoch would take 100 minutes
    page.locator("#step-unit").select_option("epoch")
    page.get_by_test_id("step").click()
    page.wait_for_function("document.getElementById('sps').textContent.startsWith('epoch step')", timeout=10000)
    shot(page, "trust-epoch-step")
    wait_until(lambda: server.state()["epoch"] == 1, 60, message="the epoch step to finish")
    page.wait_for_function("document.getElementById('sps').textContent === 'paused'")
    assert server.state()["iteration"] == 6000
    page.locator("#step-unit").select_option("batch")
    command(server, {"type": "set_params", "steps_per_second": None})


def test_a_network_that_dies_gets_a_banner_and_its_best_weights_back(page, server):
    ensure_paused(page, server)
    assert command(server, {"type": "reset", "hidden": [16, 16], "activation": "relu", "output_activation": "softmax",
                            "cost": "cross_entropy", "seed": 0, "learning_rate": 10})["type"] == "ack"
    page.get_by_test_id("play-pause").click()
    restore = page.get_by_test_id("restore-good")
    restore.wait_for(state="visible", timeout=30000)
    assert "stopped learning" in page.locator("#event-banner-title").inner_text()
    assert "dead" in page.locator("#event-banner-text").inner_text()
    wait_until(lambda: not server.state()["running"], 10, message="the server to pause the dead network")
    shot(page, "trust-stalled-banner")
    stalled_at = server.state()["iteration"]
    restore.click()
    page.locator("#event-banner").wait_for(state="hidden")
    # the network never got better, so the best weights are the first evaluated ones; training stays paused
    wait_until(lambda: any(m["text"].startswith("restored the weights") for m in markers(server)), 10,
               message="the restore marker")
    assert server.state()["running"] is False and server.state()["iteration"] == stalled_at
    assert page.problems == []


def markers(server) -> list:
    """The session's markers, from a fresh hello."""
    with connect(f"ws://127.0.0.1:{server.port}/ws", max_size=None) as ws:
        data = ws.recv(timeout=10)
    (n,) = struct.unpack_from("<I", data, 0)
    return json.loads(data[4:4 + n])["markers"]
