"""Classroom mode (issue 16): a session per visitor, each in a worker process of its own.

Two visitors are two cookie jars. What is checked: a cookie is minted only by a page load and sessions are
made only by page loads, so a flood cannot fill the room; one visitor can neither read nor change another's
session or checkpoints; the cap and its "room is full" page; an idle session is saved, put away and resumed
(from the save, history included); a worker killed with SIGKILL takes only its own session, whose visitor
is told and gets it back from its last save; rate limits per visitor. The sessions train on the first 1000
MNIST images (the workers map them; nothing is copied per process).
"""

from __future__ import annotations

import json
import os
import signal
import time

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from server.engine import checkpoint
from server.network import Network
from server.web.app import ClassroomOptions
from server.web.classroom import COOKIE, CLOSE_LOST, Cookies

pytest_plugins = ["conftest_server"]
from conftest_server import TIMEOUT, poll, ws_connect  # noqa: E402


@pytest.fixture
def classroom(live_server, small_data):
    """A factory: a live server in classroom mode (options as keyword arguments)."""

    def make(**options):
        options = {"save_every": 0.3, **options}
        return live_server(dataset=small_data, classroom=ClassroomOptions(**options),
                           session_kwargs={"warmup": False})

    return make


class Visitor:
    """A browser's cookie jar: ``open()`` loads the page (following the cookie's redirect)."""

    def __init__(self, srv):
        self.srv = srv
        self.http = httpx.Client(base_url=srv.url, follow_redirects=True, timeout=TIMEOUT)

    def open(self) -> httpx.Response:
        return self.http.get("/")

    @property
    def cookie(self) -> str | None:
        return self.http.cookies.get(COOKIE)

    def ws(self):
        return ws_connect(self.srv, additional_headers={"Cookie": f"{COOKIE}={self.cookie}"})

    def state(self) -> dict:
        r = self.http.get("/api/state")
        assert r.status_code == 200, r.text
        return r.json()

    def close(self):
        self.http.close()


@pytest.fixture
def visitors():
    made = []

    def make(srv):
        v = Visitor(srv)
        made.append(v)
        return v

    yield make
    for v in made:
        v.close()


def room(srv):
    return srv.app.state.classroom.room


def seat_of(srv, visitor):
    key = srv.app.state.classroom.cookies.key(visitor.cookie)
    return room(srv).get(key)


def step(conn, n: int) -> dict:
    """Train ``n`` mini-batches one at a time (acknowledged), and wait until a frame shows them."""
    for _ in range(n):
        assert conn.command({"type": "step"})["type"] == "ack"
    return conn.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] >= n, timeout=TIMEOUT)


# ----- who is who ---------------------------------------------------------------------------------
def test_a_cookie_is_made_only_by_a_page_load_and_only_its_signed_ids_count(classroom, visitors):
    srv = classroom()
    v = visitors(srv)
    assert v.http.get("/api/state").status_code == 401  # no page load yet: no session, no cookie
    assert v.cookie is None
    first = v.http.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].endswith("cookies=1")
    set_cookie = first.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    assert room(srv).live == 0  # the cookie alone makes no session
    page = v.http.get(first.headers["location"])
    assert page.status_code == 200 and "<canvas" in page.text
    ident, _ = v.cookie.split(".")
    assert len(ident) >= 32  # 24 random bytes, base64: 192 bits
    assert v.state()["iteration"] == 0 and room(srv).live == 1
    # a cookie the room did not sign is nobody's: a made-up id, or a real id with a forged signature
    for forged in ("x" * 32 + "." + "0" * 32, ident + "." + "0" * 32, "nonsense", ""):
        r = httpx.get(f"{srv.url}/api/state", cookies={COOKIE: forged})
        assert r.status_code == 401 and "open the page first" in r.json()["detail"]
    assert room(srv).live == 1


def test_cookies_turned_off_get_a_page_that_says_so_not_a_redirect_loop(classroom, visitors):
    srv = classroom()
    r = httpx.get(f"{srv.url}/?cookies=1")  # the second load, and still no cookie came back
    assert r.status_code == 400 and "needs a cookie" in r.text


def test_two_visitors_never_see_or_change_each_others_session(classroom, visitors):
    srv = classroom()
    a, b = visitors(srv), visitors(srv)
    a.open(), b.open()
    assert a.cookie != b.cookie
    with a.ws() as wa, b.ws() as wb:
        wa.next(type="hello"), wb.next(type="hello")
        assert wa.command({"type": "set_params", "learning_rate": 0.7})["type"] == "ack"
        step(wa, 3)
        assert wa.command({"type": "reset", "hidden": [5], "activation": "relu", "output_activation": "softmax",
                           "cost": "cross_entropy", "seed": 2})["type"] == "ack"
        hello = wa.next(type="hello")
        assert hello["config"]["sizes"] == [784, 5, 10]
        state_a, state_b = a.state(), b.state()
        assert state_a["learning_rate"] == 0.7 and state_a["sizes"] == [784, 5, 10]
        assert state_b["learning_rate"] != 0.7 and state_b["iteration"] == 0 and state_b["sizes"] == [784, 16, 16, 10]
        # B's model is B's network, not A's
        net_b, _ = checkpoint.from_bytes(b.http.get("/api/model").content)
        assert net_b.sizes == [784, 16, 16, 10]
        # B's stream never carried A's reset
        assert not any(m["type"] == "hello" and m["config"]["sizes"] == [784, 5, 10] for m in wb.log)
    assert seat_of(srv, a).session.pid != seat_of(srv, b).session.pid  # two processes


def test_checkpoints_are_the_visitors_own_and_the_presenters_shared_ones(classroom, visitors):
    srv = classroom()
    a, b = visitors(srv), visitors(srv)
    a.open(), b.open()
    assert a.http.post("/api/checkpoints", json={"name": "mine"}).status_code == 200
    assert b.http.post("/api/checkpoints", json={"name": "theirs"}).status_code == 200
    shared = room(srv).shared_folder
    shared.mkdir(parents=True, exist_ok=True)
    checkpoint.save(shared / "demo.npz", Network([784, 4, 10], seed=1), {"iteration": 7})

    names = {e["name"]: e for e in a.http.get("/api/checkpoints").json()["checkpoints"]}
    assert "mine" in names and "theirs" not in names and names["demo"].get("shared") is True
    assert not names["mine"].get("shared")
    for path in ("/api/checkpoints/theirs", "/api/checkpoints/theirs/load"):  # B's, by name: not there for A
        r = a.http.post(path) if path.endswith("load") else a.http.get(path)
        assert r.status_code == 404, (path, r.text)
    assert a.http.delete("/api/checkpoints/theirs").status_code == 404
    assert b.http.get("/api/checkpoints/theirs").status_code == 200  # still B's
    # the shared one: listed, downloaded and loaded by anyone; deleted by none
    assert a.http.get("/api/checkpoints/demo").status_code == 200
    assert a.http.post("/api/checkpoints/demo/load").json()["sizes"] == [784, 4, 10]
    r = a.http.delete("/api/checkpoints/demo")
    assert r.status_code == 422 and "shared by the presenter" in r.json()["detail"]
    assert (shared / "demo.npz").exists()
    assert b.state()["sizes"] == [784, 16, 16, 10]  # A's load changed only A's session
    r = a.http.post("/api/checkpoints", json={"name": "autosave", "overwrite": True})
    assert r.status_code == 422 and "your session's own save" in r.json()["detail"]


# ----- the cap ------------------------------------------------------------------------------------
def test_the_cap_holds_with_a_room_full_page_and_a_flood_of_requests_makes_no_sessions(classroom, visitors):
    srv = classroom(max_sessions=2)
    a, b, c = visitors(srv), visitors(srv), visitors(srv)
    assert a.open().status_code == 200 and b.open().status_code == 200
    full = c.open()
    assert full.status_code == 503 and "The room is full" in full.text and full.headers["retry-after"] == "60"
    r = c.http.get("/api/state")  # C has a cookie, but no session
    assert r.status_code == 409 and "reload the page" in r.json()["detail"]
    # a flood: page loads without following the redirect, API calls and sockets with made-up cookies
    for i in range(40):
        assert httpx.get(f"{srv.url}/", follow_redirects=False).status_code == 303
        assert httpx.get(f"{srv.url}/api/state", cookies={COOKIE: f"{i:032d}.{i:032d}"}).status_code == 401
    with ws_connect(srv, additional_headers={"Cookie": f"{COOKIE}=forged.cookie"}) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(TIMEOUT)
        assert closed.value.rcvd.code == 4001
    assert room(srv).live == 2
    assert a.state()["iteration"] == 0 and b.state()["iteration"] == 0  # the room still works for those in it


# ----- idle sessions are saved, put away and resumed ------------------------------------------------
def test_an_idle_session_is_saved_put_away_and_resumed_with_its_history(classroom, visitors):
    srv = classroom(idle_minutes=10)
    a = visitors(srv)
    a.open()
    with a.ws() as wa:
        wa.next(type="hello")
        assert wa.command({"type": "set_params", "learning_rate": 0.9})["type"] == "ack"
        step(wa, 6)
    seat = seat_of(srv, a)
    pid = seat.session.pid
    poll(lambda: seat.connections == 0 and not srv.app.state.classroom.streams[seat.key].viewers,
         what="the socket to close")
    seat.last_seen -= 11 * 60  # ten minutes away
    srv.call(srv.app.state.classroom.tidy)
    assert room(srv).get(seat.key) is None and room(srv).live == 0
    assert poll(lambda: not _alive(pid), what="the worker to end")
    assert (seat.folder / "autosave.npz").is_file()
    # the visitor comes back: its session resumes from the save, on a new process
    state = a.state()
    assert state["iteration"] == 6 and state["learning_rate"] == 0.9
    assert seat_of(srv, a).session.pid != pid
    costs = a.http.get("/api/history.csv").text.strip().splitlines()
    assert len(costs) == 1 + 6  # header and every mini-batch's cost


def test_a_page_whose_socket_never_connects_frees_its_seat(classroom, visitors):
    from server.training import room as room_module

    srv = classroom()
    a = visitors(srv)
    a.open()
    seat = seat_of(srv, a)
    seat.made -= room_module.FIRST_CONNECT_SECONDS + 1
    srv.call(srv.app.state.classroom.tidy)
    assert room(srv).live == 0 and not (seat.folder / "autosave.npz").exists()  # nothing to keep
    assert a.http.get("/api/state").status_code == 409  # reload the page for a new one
    assert a.open().status_code == 200 and a.state()["iteration"] == 0


# ----- a crash takes only its own session ------------------------------------------------------------
def test_a_killed_worker_takes_only_its_session_and_its_visitor_gets_it_back_from_the_save(classroom, visitors):
    srv = classroom()
    a, b = visitors(srv), visitors(srv)
    a.open(), b.open()
    with a.ws() as wa, b.ws() as wb:
        wa.next(type="hello"), wb.next(type="hello")
        step(wa, 4)
        seat = seat_of(srv, a)
        save = seat.folder / "autosave.npz"
        poll(lambda: save.is_file() and checkpoint.load(save)[1]["history"]["iteration"] == 4,
             what="the periodic save")
        step(wb, 2)
        os.kill(seat.session.pid, signal.SIGKILL)
        told = wa.next(lambda m: m["type"] == "event" and m["kind"] == "error")
        assert "stopped unexpectedly" in told["message"] and "SIGKILL" in told["message"]
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                wa.recv(TIMEOUT)
        assert closed.value.rcvd.code == CLOSE_LOST
        # the other visitor did not notice
        assert wb.command({"type": "step"})["type"] == "ack"
        wb.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == 3)
        assert b.state()["iteration"] == 3
    # the crashed visitor reconnects: its session is back from the save, and it is told so
    with a.ws() as wa:
        hello = wa.next(type="hello")
        assert hello["state"]["iteration"] == 4
        notice = wa.next(lambda m: m["type"] == "event")
        assert "restored from its last save" in notice["message"]
    assert a.state()["iteration"] == 4


def test_a_request_to_a_session_whose_worker_died_gets_a_clear_503(classroom, visitors):
    srv = classroom()
    a = visitors(srv)
    a.open()
    seat = seat_of(srv, a)
    session = seat.session
    os.kill(session.pid, signal.SIGKILL)
    poll(lambda: not session.alive, what="the loss to be noticed")
    r = a.http.get("/api/state")  # the next request restores it (nothing saved: a new one)
    assert r.status_code == 200 and r.json()["iteration"] == 0
    with pytest.raises(Exception) as e:
        session.read(len, [1]).result(TIMEOUT)
    assert "SIGKILL" in str(e.value)


# ----- rate limits per visitor ---------------------------------------------------------------------
def test_the_rate_limit_counts_all_of_a_visitors_sockets_together(classroom, visitors):
    srv = classroom()
    a = visitors(srv)
    a.open()
    with a.ws() as w1, a.ws() as w2:
        w1.next(type="hello"), w2.next(type="hello")
        for _ in range(60):  # each socket stays within its own burst (100); together they exceed the visitor's
            w1.send({"type": "select_example", "source": "follow"})
            w2.send({"type": "select_example", "source": "follow"})
        replies = [w.next(lambda m: m["type"] in ("ack", "error")) for w in (w1, w2) for _ in range(60)]
    refused = [r for r in replies if r["type"] == "error"]
    assert refused and all("too many messages" in r["message"] for r in refused)


def test_the_http_api_is_rate_limited_per_visitor(classroom, visitors):
    srv = classroom()
    a, b = visitors(srv), visitors(srv)
    a.open(), b.open()
    codes = [a.http.get("/api/datasets").status_code for _ in range(150)]
    assert 429 in codes and codes[0] == 200
    assert b.http.get("/api/datasets").status_code == 200  # another visitor is not slowed down


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ----- every route works on a session in a worker process ------------------------------------------------
def test_every_route_works_on_a_session_in_a_worker(classroom, visitors, small_data):
    """Whatever crosses to the worker (functions, arguments, results, errors) must be picklable: each route
    once, with the answers a local session gives."""
    srv = classroom()
    a = visitors(srv)
    a.open()
    h = a.http

    def ok(r, code=200):
        assert r.status_code == code, (r.request.url, r.status_code, r.text[:300])
        return r

    with a.ws() as wa:
        wa.next(type="hello")
        step(wa, 12)
        wa.send({"type": "predict", "id": 1, "pixels": [0.0] * 784})
        assert len(wa.next(type="prediction")["probabilities"]) == 10
    pixels = small_data.inputs(small_data.test_inputs[0]).tolist()
    assert len(ok(h.post("/api/predict", json={"pixels": pixels})).json()["probabilities"]) == 10
    assert ok(h.post("/api/predict", json={"pixels": [0.5] * 3}), 422).json()["detail"].startswith("pixels")
    ok(h.post("/api/backprop", json={"pixels": pixels, "label": 7}))
    ok(h.get("/api/test-example", params={"index": 3}))
    assert "index" in ok(h.get("/api/train-example", params={"index": 10_000}), 422).json()["detail"]
    assert ok(h.get("/api/mistake")).status_code == 200
    ok(h.get("/api/model"))
    ok(h.get("/api/model", params={"iteration": 4}))
    assert "after now" in ok(h.get("/api/model", params={"iteration": 10_000}), 422).json()["detail"]
    assert ok(h.get("/api/datasets")).json()["current"] == "mnist"
    ok(h.get("/api/snapshots")), ok(h.get("/api/diagnostics")), ok(h.get("/api/confusion"))
    ok(h.get("/api/confusion/cell", params={"true": 1, "predicted": 2}))
    assert ok(h.get("/api/confusion/cell", params={"true": 11, "predicted": 2}), 422)
    assert ok(h.get("/api/history.csv")).text.startswith("iteration,cost")
    ok(h.get("/api/diagnostics.csv"))
    hold = ok(h.post("/api/walkthrough/open")).json()["hold"]
    batch = ok(h.post("/api/walkthrough/batch", json={"size": 4, "seed": 1})).json()
    ok(h.post("/api/walkthrough/step", json={"indices": batch["indices"]}))
    ok(h.post("/api/walkthrough/set", json={"param": {"layer": 0, "j": 0, "k": 0}, "value": 0.5}))
    ok(h.post("/api/undo")), ok(h.post("/api/undo"))
    ok(h.post("/api/teach", json={"pixels": pixels, "label": 3}))
    ok(h.get("/api/walkthrough/example", params={"kind": "hard", "seed": 2}))
    ok(h.post("/api/gradcheck", json={"pixels": pixels, "label": 3, "param": {"layer": 1, "j": 0, "k": 1}}))
    ok(h.post("/api/walkthrough/curve", json={"pixels": pixels, "label": 3, "param": {"layer": 1, "j": 0, "k": 1},
                                              "low": -1, "high": 1, "points": 5}))
    ok(h.post("/api/walkthrough/set", json={"param": {"layer": 0, "j": 0, "k": 1}, "value": 0.1, "merge_undo": True}))
    link = ok(h.post("/api/link", json={"link": "v=1&dataset=circle&hidden=4"})).json()
    assert link["shared"] is False and link["confirm"] is False  # a visitor's own session: no one else to ask
    ok(h.post("/api/walkthrough/close", json={"hold": hold}))
    ok(h.post("/api/descent/line", json={"examples": 100, "max_step": 1.0, "points": 5}))
    surface = {"plane": "random", "resolution": 5, "examples": 50}
    ok(h.post("/api/descent/surface", json=surface))
    lines = [json.loads(x) for x in ok(h.post("/api/descent/surface", json={**surface, "stream": True})).text.splitlines()]
    assert [line["type"] for line in lines][:2] == ["plane", "coarse"] and lines[-1]["type"] == "done"
    ok(h.post("/api/descent/runners", json={"steps": 5, "examples": 50, "batch_sizes": [10]}))
    ok(h.post("/api/branch", json={"iteration": 4}))
    model = ok(h.get("/api/model")).content
    assert ok(h.post("/api/checkpoints/upload", content=model,
                     headers={"content-type": "application/octet-stream"})).json()["iteration"] == 4
    assert "not of the plane" in ok(h.post("/api/maps", json={}), 422).json()["detail"]
    with a.ws() as wa:
        wa.next(type="hello")
        assert wa.command({"type": "reset", "hidden": [4], "activation": "tanh", "output_activation": "softmax",
                           "cost": "cross_entropy", "dataset": "circle"})["type"] == "ack"
        wa.next(lambda m: m["type"] == "hello" and m["dataset"]["name"] == "circle")
        assert wa.command({"type": "reset", "hidden": [4], "activation": "nope", "output_activation": "softmax",
                           "cost": "cross_entropy"})["type"] == "error"
    assert ok(h.post("/api/maps", json={"size": 8})).content[:1]
    ok(h.post("/api/predict", json={"input": [0.1, 0.2]}))


def test_the_presenter_hooks_copy_one_session_into_another(classroom, visitors):
    """What part 2 (a presenter's "copy") builds on: one visitor's network and history loaded into another's."""
    from server.web.classroom import copy_session

    srv = classroom()
    a, b = visitors(srv), visitors(srv)
    a.open(), b.open()
    with a.ws() as wa:
        wa.next(type="hello")
        assert wa.command({"type": "set_params", "learning_rate": 0.4})["type"] == "ack"
        step(wa, 5)
    source, target = seat_of(srv, a).session, seat_of(srv, b).session
    restored = srv.call(lambda: copy_session(source, target))
    assert "iteration 5" in restored and "η 0.4" in restored
    state = b.state()
    assert state["iteration"] == 5 and state["learning_rate"] == 0.4
    assert a.http.get("/api/model").content[:4] == b.http.get("/api/model").content[:4]
    np.testing.assert_array_equal(checkpoint.from_bytes(a.http.get("/api/model").content)[0].weights[0],
                                  checkpoint.from_bytes(b.http.get("/api/model").content)[0].weights[0])


def test_a_save_written_by_another_replica_meanwhile_is_never_overwritten(classroom, visitors):
    srv = classroom(save_every=3600)
    a = visitors(srv)
    a.open()
    seat = seat_of(srv, a)
    with a.ws() as wa:
        wa.next(type="hello")
        step(wa, 3)
    # meanwhile another replica resumed this visitor and saved its own state
    other = Network([784, 7, 10], seed=5)
    checkpoint.save(seat.folder / "autosave.npz", other, {"iteration": 99})
    before = (seat.folder / "autosave.npz").read_bytes()
    seat.last_seen -= 3600
    srv.call(srv.app.state.classroom.tidy)  # put away: its save must not replace the other one
    assert (seat.folder / "autosave.npz").read_bytes() == before
    kept = list(seat.folder.glob("conflict-*.npz"))
    assert len(kept) == 1 and checkpoint.load(kept[0])[1]["history"]["iteration"] == 3
    assert kept[0].stem in [e["name"] for e in a.http.get("/api/checkpoints").json()["checkpoints"]]


def test_a_runaway_worker_is_ended_and_its_session_restored_while_others_go_on(classroom, visitors, monkeypatch):
    from server.training import room as room_module

    srv = classroom()
    a, b = visitors(srv), visitors(srv)
    a.open(), b.open()
    seat = seat_of(srv, a)
    runaway = seat.session
    stuck = runaway.compute(time.sleep, 3600)  # a computation that never ends
    monkeypatch.setattr(room_module, "HUNG_SECONDS", 0.3)
    poll(lambda: runaway.oldest_request_age() > 0.3, what="the request to be overdue")
    srv.call(srv.app.state.classroom.tidy)
    with pytest.raises(Exception) as e:
        stuck.result(TIMEOUT)
    assert "SIGKILL" in str(e.value)
    assert b.state()["iteration"] == 0 and seat_of(srv, b).session.alive
    assert a.state()["iteration"] == 0 and seat_of(srv, a).session is not runaway  # restored


def test_a_full_room_makes_way_for_a_newcomer_by_putting_away_the_seat_unused_longest(classroom, visitors):
    from server.training import room as room_module

    srv = classroom(max_sessions=2)
    a, b, c = visitors(srv), visitors(srv), visitors(srv)
    a.open(), b.open()
    with a.ws() as wa:
        wa.next(type="hello")
        step(wa, 2)
    seat_a, seat_b = seat_of(srv, a), seat_of(srv, b)
    poll(lambda: seat_a.connections == 0 and not srv.app.state.classroom.streams[seat_a.key].viewers,
         what="A's socket to close")
    seat_b.ever_connected = True
    seat_a.last_seen -= room_module.MAKE_ROOM_AFTER + 20  # A left longest ago
    seat_b.last_seen -= room_module.MAKE_ROOM_AFTER + 10
    assert c.open().status_code == 200  # A's seat was put away (and saved) for C
    assert room(srv).get(seat_a.key) is None and room(srv).get(seat_b.key) is seat_b
    assert (seat_a.folder / "autosave.npz").is_file()
    seat_b.last_seen = time.monotonic()
    # A comes back: every seat is in use now (B and C just seen), so A waits, its session saved
    r = a.open()
    assert r.status_code == 503 and "The room is full" in r.text


def test_the_classroom_slow_start_settles_at_the_classroom_pace(small_data):
    from server.training import pace
    from server.training.session import TrainingSession

    session = TrainingSession(small_data, warmup=True, warmup_until=50, max_blas_threads=1)
    assert session.steps_per_second == pace.START and session.warmup
    session.run_steps(pace.length())
    assert session.steps_per_second == 50 and not session.warmup  # not flat out
    assert session.params()["steps_per_second"] == 50
