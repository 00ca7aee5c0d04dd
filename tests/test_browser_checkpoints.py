"""The "Checkpoints" section of the page in a real browser: save, list, load, download, upload, delete.

One server (with its own temporary checkpoint folder and no autosave) shared by the tests, which run in
file order. Screenshots go to test-artifacts/checkpoints-*.png.
"""

from __future__ import annotations

import io
import json
import urllib.request

import numpy as np
import pytest

from server.engine.network import Network
from server.training.store import CheckpointStore

from browser_helpers import (  # noqa: F401 (chromium_path, browser: fixtures)
    browser,
    chromium_path,
    open_tab,
    LiveServer,
    ensure_paused,
    iteration,
    settle_page,
    shot,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture(scope="module")
def server(chromium_path, folder):
    srv = LiveServer(extra_args=["--checkpoint-dir", folder, "--no-autosave"]).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser, server):
    context, pg = open_tab(browser, server.url)
    ensure_paused(pg, server)
    yield pg
    context.close()


def api(server, path, method="GET", body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method, data=body)
    if server.token:
        request.add_header("X-Backprop-Token", server.token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def names(server):
    return [c["name"] for c in json.loads(api(server, "/api/checkpoints"))["checkpoints"]]


def model_arrays(server):
    """The current weights, from GET /api/model (the .npz's members, metadata aside)."""
    with np.load(io.BytesIO(api(server, "/api/model")), allow_pickle=False) as z:
        return {k: z[k].copy() for k in z.files if k != "meta"}


def open_section(page):
    page.locator("#checkpoints > summary").click()
    page.wait_for_selector("#ckpt-name", state="visible")
    page.wait_for_function("document.querySelector('#ckpt-list').children.length > 0")


def step_to(page, server, target):
    while server.state()["iteration"] < target:
        n = server.state()["iteration"]
        page.get_by_test_id("step").click()
        wait_until(lambda: server.state()["iteration"] > n, 10, message="one more step")
    wait_until(lambda: iteration(page) == target, 10, message=f"the counter to show {target}")


def test_saving_refuses_a_bad_name_and_lists_a_good_one(page, server, folder):
    # collapsed by default: one summary line in the controls column
    assert page.locator("#checkpoints").get_attribute("open") is None
    assert page.locator("#ckpt-summary").inner_text() == "none saved"
    open_section(page)
    assert page.locator("#ckpt-list .ckpt-empty").count() == 1

    page.get_by_test_id("ckpt-name").fill("../x")
    page.get_by_test_id("ckpt-save").click()
    error = page.get_by_test_id("err-ckpt-save")
    error.wait_for(state="visible")
    assert "not a valid name" in error.inner_text()
    assert names(server) == [] and list(folder.iterdir()) == []
    shot(page, "checkpoints-bad-name")

    step_to(page, server, 3)
    page.get_by_test_id("ckpt-name").fill("first-run")
    page.get_by_test_id("ckpt-name").press("Enter")  # the form submits with Enter too
    item = page.locator('#ckpt-list li[data-name="first-run"]')
    item.wait_for()
    assert error.is_hidden()
    assert "Saved “first-run” at iteration 3" in page.locator("#ok-ckpt-save").inner_text()
    assert "it 3" in item.locator(".ckpt-info").inner_text() and "784–" in item.locator(".ckpt-info").inner_text()
    assert item.locator(".ckpt-time").inner_text() == "just now"
    assert names(server) == ["first-run"] and (folder / "first-run.npz").is_file()

    step_to(page, server, 5)
    page.get_by_test_id("ckpt-name").fill("second")
    page.get_by_test_id("ckpt-save").click()
    page.locator('#ckpt-list li[data-name="second"]').wait_for()
    # newest first, and the summary counts them
    assert page.locator("#ckpt-list li").evaluate_all("els => els.map(e => e.dataset.name)") == ["second", "first-run"]
    assert page.locator("#ckpt-summary").inner_text().startswith("2 saved")
    # typing a taken name turns "Save" into "Replace"
    page.get_by_test_id("ckpt-name").fill("second")
    assert page.get_by_test_id("ckpt-save").inner_text() == "Replace"
    page.get_by_test_id("ckpt-name").fill("")
    page.mouse.move(5, 890)
    shot(page, "checkpoints-saved")
    assert page.problems == []


def test_loading_brings_back_the_saved_iteration_and_the_links_point_at_the_files(page, server):
    open_section(page)
    step_to(page, server, 8)
    helloes = page.evaluate("window.__lab.store.helloCount")
    page.locator('#ckpt-list li[data-name="first-run"] [data-action="load"]').click()
    wait_until(lambda: server.state()["iteration"] == 3, 10, message="the server to load first-run")
    page.wait_for_function(f"window.__lab.store.helloCount > {helloes}")  # a new hello redrew the page
    wait_until(lambda: iteration(page) == 3, 10, message="the counter to show the saved iteration")
    page.wait_for_function("document.querySelector('#ckpt-list li[data-name=\"first-run\"] .field-ok')?.hidden === false")
    assert "iteration 3" in page.locator('#ckpt-list li[data-name="first-run"] .field-ok').inner_text()
    page.wait_for_selector(".toast strong:text('Checkpoint loaded')")

    link = page.locator('#ckpt-list li[data-name="first-run"] [data-action="download"]')
    assert link.get_attribute("href") == "/api/checkpoints/first-run"
    assert link.get_attribute("download") == "first-run.npz"
    assert page.get_by_test_id("ckpt-download-model").get_attribute("href") == "/api/model"
    # the link downloads the stored file itself
    with page.expect_download() as info:
        link.click()
    saved = info.value.path()
    with open(saved, "rb") as f:
        assert f.read() == api(server, "/api/checkpoints/first-run")
    settle_page(page)
    shot(page, "checkpoints-loaded")
    assert page.problems == []


def test_saving_over_a_taken_name_asks_first_and_loading_says_what_came_back(page, server, folder):
    """Issue 10: saving under an existing name replaces it only after a confirm; a load names η, batch size
    and iteration; the server's autosaves are marked in the list."""
    open_section(page)
    first = (folder / "first-run.npz").read_bytes()
    step_to(page, server, 6)
    dialogs = []

    def answer(accept):
        def handle(dialog):
            dialogs.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        return handle

    page.once("dialog", answer(False))
    page.get_by_test_id("ckpt-name").fill("first-run")
    page.get_by_test_id("ckpt-save").click()
    ok = page.locator("#ok-ckpt-save")
    ok.wait_for(state="visible")
    assert len(dialogs) == 1 and "“first-run” exists" in dialogs[0] and "Replace" in dialogs[0], dialogs
    assert "Not saved" in ok.inner_text() and "kept as it was" in ok.inner_text()
    assert (folder / "first-run.npz").read_bytes() == first  # cancelled: untouched

    page.once("dialog", answer(True))
    page.get_by_test_id("ckpt-save").click()
    page.wait_for_function("document.querySelector('#ok-ckpt-save').textContent.startsWith('Replaced')")
    assert len(dialogs) == 2
    assert "Replaced “first-run” at iteration 6" in ok.inner_text()
    assert (folder / "first-run.npz").read_bytes() != first
    page.locator('#ckpt-list li[data-name="first-run"] .ckpt-info:text("it 6")').wait_for()

    # loading says what came back: η, batch size, iteration
    step_to(page, server, 7)
    item = page.locator('#ckpt-list li[data-name="first-run"]')
    item.locator('[data-action="load"]').click()
    page.wait_for_function("document.querySelector('#ckpt-list li[data-name=\"first-run\"] .field-ok')?.hidden === false")
    note = item.locator(".field-ok").inner_text()
    state = server.state()
    assert f"η {state['learning_rate']:g}, batch {state['batch_size']}, iteration 6" in note, note

    # an autosave written by the server shows as one
    CheckpointStore(folder).autosave(Network([784, 16, 16, 10], seed=2), {"iteration": 0})
    page.locator("#checkpoints > summary").click()  # close and open: the list is fetched again
    open_section(page)
    auto = page.locator('#ckpt-list li.autosave')
    auto.wait_for()
    assert auto.count() == 1 and auto.locator(".ckpt-info").inner_text().startswith("autosave")
    auto.scroll_into_view_if_needed()
    shot(page, "checkpoints-autosave")
    assert page.problems == []


def test_a_garbage_upload_is_refused_beside_the_upload_and_a_good_one_loads(page, server):
    open_section(page)
    before = model_arrays(server)
    listed = names(server)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("ckpt-upload").click()
    chooser.value.set_files(files=[{"name": "garbage.npz", "mimeType": "application/octet-stream", "buffer": b"not a zip file" * 40}])
    error = page.get_by_test_id("err-ckpt-upload")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert text.startswith("“garbage.npz” was refused:") and "zip" in text.lower(), text
    after = model_arrays(server)
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)
    assert names(server) == listed
    page.mouse.move(5, 890)
    error.scroll_into_view_if_needed()
    shot(page, "checkpoints-upload-refused")

    # the current model, downloaded and uploaded back: loaded and kept under the file's name
    model = api(server, "/api/model")
    page.get_by_test_id("ckpt-file").set_input_files(files=[{"name": "my model.npz", "mimeType": "application/octet-stream", "buffer": model}])
    page.locator('#ckpt-list li[data-name="my-model"]').wait_for()
    assert error.is_hidden()
    assert "kept as “my-model”" in page.locator("#ok-ckpt-upload").inner_text()
    assert "my-model" in names(server)
    # the refused request is the only thing the console reports
    assert [p for p in page.problems if "status of 422" not in p] == []


def test_delete_asks_first_then_removes_the_checkpoint(page, server, folder):
    open_section(page)
    item = page.locator('#ckpt-list li[data-name="second"]')
    remove = item.locator('[data-action="delete"]')
    remove.click()
    assert remove.inner_text() == "Delete?"
    assert "second" in names(server)
    item.scroll_into_view_if_needed()
    settle_page(page)
    shot(page, "checkpoints-confirm-delete")
    remove.click()
    item.wait_for(state="detached")
    assert "second" not in names(server) and not (folder / "second.npz").exists()
    # a network failure is reported beside the control that met it
    page.route("**/api/checkpoints", lambda route: route.abort())
    page.get_by_test_id("ckpt-name").fill("offline")
    page.get_by_test_id("ckpt-save").click()
    page.get_by_test_id("err-ckpt-save").wait_for(state="visible")
    assert "network error" in page.get_by_test_id("err-ckpt-save").inner_text()
    page.unroute("**/api/checkpoints")
    assert "offline" not in names(server)
    # keyboard: the section's controls are reachable with Tab from the name field
    page.get_by_test_id("ckpt-name").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ckpt-save"
    assert [p for p in page.problems if "net::ERR_FAILED" not in p] == []


def test_with_a_token_the_links_carry_it(browser, folder):
    """Bound beyond loopback the API wants a token: links (which cannot send headers) carry ?token=."""
    srv = LiveServer(host="0.0.0.0", extra_args=["--checkpoint-dir", folder, "--no-autosave"]).start()
    try:
        assert srv.token
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        pg = context.new_page()
        pg.goto(srv.url)
        wait_connected(pg)
        open_section(pg)
        href = pg.locator('#ckpt-list li[data-name="first-run"] [data-action="download"]').get_attribute("href")
        assert href == f"/api/checkpoints/first-run?token={srv.token}"
        assert pg.get_by_test_id("ckpt-download-model").get_attribute("href") == f"/api/model?token={srv.token}"
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{href}", timeout=10) as response:
            assert response.read()[:2] == b"PK"
        context.close()
    finally:
        srv.stop()
