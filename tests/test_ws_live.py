"""A real uvicorn on 127.0.0.1 (port 0) driven by the ``websockets`` client (issue 3)."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")

from conftest_server import poll, raw_http, ws_connect, ws_upgrade_request  # noqa: E402


def api_state(srv) -> dict:
    return httpx.get(srv.url + "/api/state", timeout=5).json()


def test_hello_has_the_full_state(live_server):
    srv = live_server()
    with ws_connect(srv) as c:
        hello = c.recv()
    assert hello["type"] == "hello"
    assert hello["config"] == {"sizes": [784, 16, 16, 10], "activation": "sigmoid", "output_activation": "sigmoid",
                               "cost": "quadratic", "seed": 0}
    assert hello["params"]["learning_rate"] == 3.0 and hello["params"]["batch_size"] == 10
    assert hello["state"]["iteration"] == 0 and hello["state"]["running"] is False
    assert hello["state"]["train_size"] == 60000
    arrays = hello["_arrays"]
    net = srv.session.net
    for l in range(3):
        np.testing.assert_array_equal(arrays[f"W{l}"], net.weights[l])
        np.testing.assert_array_equal(arrays[f"b{l}"], net.biases[l])
    assert len(arrays["cost_iterations"]) == len(arrays["cost_values"]) == 0


def test_pause_stops_and_step_advances_by_exactly_one(live_server):
    srv = live_server()
    with ws_connect(srv) as c:
        c.recv()
        assert c.command({"type": "play"})["type"] == "ack"
        c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] > 20)
        assert c.command({"type": "pause"})["type"] == "ack"
        poll(lambda: not api_state(srv)["running"], what="pause")
        it = api_state(srv)["iteration"]
        # Paused means nothing moves however long one waits: the sleep is the behaviour under test
        # (it cannot fail a correct server; its length only decides how surely a wrong one is caught).
        time.sleep(0.3)
        assert api_state(srv)["iteration"] == it
        for unit, examples in (("batch", 10), ("example", 1)):
            before = api_state(srv)
            assert c.command({"type": "step", "unit": unit}) == {"type": "ack", "request": "step"}
            frame = c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] > before["iteration"])
            assert frame["state"]["iteration"] == before["iteration"] + 1
            assert frame["state"]["examples_seen"] == before["examples_seen"] + examples
            after = api_state(srv)  # read after every command queued before it: the step is done
            assert after["iteration"] == before["iteration"] + 1 and not after["running"]


def test_step_epoch_runs_to_the_end_of_the_epoch(live_server, small_data):
    srv = live_server(dataset=small_data)  # 1000 training images: 100 mini-batches of 10
    with ws_connect(srv) as c:
        c.recv()
        c.command({"type": "step"})
        c.command({"type": "step", "unit": "epoch"})
        event = c.next(type="event", kind="epoch")
        assert event["iteration"] == 100 and 0 <= event["accuracy"] <= 1
        frame = c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == 100)
        assert frame["state"]["epoch"] == 1 and frame["state"]["examples_seen"] == 1000
        assert any(full for _, _, full in frame["accuracy_history_new"])
        assert api_state(srv)["iteration"] == 100 and not api_state(srv)["running"]


def test_set_params_is_seen_by_every_client_of_the_one_session(live_server):
    srv = live_server()
    with ws_connect(srv) as a, ws_connect(srv) as b:
        a.recv(), b.recv()
        assert a.command({"type": "set_params", "learning_rate": 0.5, "batch_size": 32})["type"] == "ack"
        for c in (a, b):
            event = c.next(type="event", kind="params")
            assert "0.5" in event["message"]
            frame = c.next(type="frame")
            assert frame["params"]["learning_rate"] == 0.5 and frame["params"]["batch_size"] == 32
            assert frame["markers_new"][-1]["text"] == "η = 0.5, batch 32"
        assert api_state(srv)["learning_rate"] == 0.5
        # B steers the session A sees
        b.command({"type": "step"})
        frame = a.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == 1)
        assert frame["state"]["examples_seen"] == 32
        # a page reload (a new connection) shows the same session
        with ws_connect(srv) as c:
            hello = c.recv()
        assert hello["state"]["iteration"] == 1 and hello["params"]["learning_rate"] == 0.5
        assert hello["markers"] == [{"iteration": 0, "text": "η = 0.5, batch 32"}]


def test_reset_to_a_new_architecture_sends_a_new_hello(live_server):
    srv = live_server()
    with ws_connect(srv) as a, ws_connect(srv) as b:
        a.recv(), b.recv()
        a.command({"type": "step"})
        reset = {"type": "reset", "hidden": [30, 20], "activation": "relu", "output_activation": "softmax",
                 "cost": "cross_entropy", "seed": 3, "learning_rate": 0.1}
        assert a.command(reset)["type"] == "ack"
        for c in (a, b):
            hello = c.next(lambda m: m["type"] == "hello")
            assert hello["config"] == {"sizes": [784, 30, 20, 10], "activation": "relu",
                                       "output_activation": "softmax", "cost": "cross_entropy", "seed": 3}
            assert hello["state"]["iteration"] == 0 and hello["params"]["learning_rate"] == 0.1
            assert hello["_arrays"]["W0"].shape == (30, 784) and hello["_arrays"]["W2"].shape == (10, 20)
        # exactly one new hello: the next message after it is not another hello
        a.command({"type": "step"})
        frame = a.next(lambda m: m["type"] in ("frame", "hello"))
        assert frame["type"] == "frame" and frame["state"]["iteration"] == 1
        assert [m["type"] for m in a.log].count("hello") == 2
        assert api_state(srv)["sizes"] == [784, 30, 20, 10]


BAD_MESSAGES = [
    ("{not json", "invalid JSON"),
    ("[]", "JSON object"),
    ('{"type": 5}', "string 'type'"),
    ('{"type": "jump"}', "unknown message type"),
    ('{"type": "set_params"}', "needs learning_rate"),
    ('{"type": "set_params", "learning_rate": 1, "momentum": 0.9}', "momentum"),
    ('{"type": "set_params", "learning_rate": NaN}', "NaN"),
    ('{"type": "set_params", "learning_rate": Infinity}', "Infinity"),
    ('{"type": "set_params", "learning_rate": "1"}', "The learning rate η must be a number"),
    ('{"type": "set_params", "learning_rate": true}', "The learning rate η must be a number"),
    ('{"type": "set_params", "learning_rate": 0}', "must be above 0"),
    ('{"type": "set_params", "learning_rate": 11}', "must be at most 10"),
    ('{"type": "set_params", "batch_size": 0}', "must be at least 1"),
    ('{"type": "set_params", "batch_size": 100000}', "must be at most 1024"),
    ('{"type": "set_params", "batch_size": 2.5}', "The mini-batch size must be a whole number"),
    ('{"type": "step", "unit": "year"}', "The step's unit must be"),
    ('{"type": "reset", "hidden": [0]}', "must be at least 1"),
    ('{"type": "reset", "hidden": [100000]}', "must be at most 512"),
    ('{"type": "reset", "hidden": [16, 16, 16, 16, 16]}', "at most 4"),
    ('{"type": "reset", "hidden": [16], "cost": "cross_entropy", "output_activation": "relu"}', "cross"),
    ('{"type": "select_example", "source": "test", "index": 99999999}', "index"),
    ('{"type": "predict", "pixels": [0.5]}', "784"),
]


def test_every_bad_message_gets_an_error_and_changes_nothing(live_server):
    srv = live_server()
    before = api_state(srv)
    with ws_connect(srv) as c, ws_connect(srv) as other:
        c.recv(), other.recv()
        for text, words in BAD_MESSAGES:
            reply = c.command(text)
            assert reply["type"] == "error", text
            assert words in reply["message"], (text, reply["message"])
        c.send(b"\x00\x01binary")
        reply = c.next(type="error")
        assert "binary" in reply["message"]
        # still serving, nothing changed
        assert c.command({"type": "pause"}) == {"type": "ack", "request": "pause"}
        assert other.command({"type": "pause"}) == {"type": "ack", "request": "pause"}
    after = api_state(srv)
    for key in ("iteration", "learning_rate", "batch_size", "sizes", "activation", "cost", "steps_per_second"):
        assert after[key] == before[key], key


def test_oversize_message_closes_1009_and_other_clients_keep_going(live_server):
    srv = live_server()
    with ws_connect(srv) as big, ws_connect(srv) as other:
        big.recv(), other.recv()
        big.send('{"type": "set_params", "learning_rate": 1, "pad": "' + "x" * (64 * 1024) + '"}')
        with pytest.raises(ConnectionClosed) as e:
            while True:  # frames already on their way may come first
                big.next(timeout=5)
        assert e.value.rcvd.code == 1009
        assert other.command({"type": "step"})["type"] == "ack"
        assert other.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] >= 1)["state"]["iteration"] == 1
    assert api_state(srv)["learning_rate"] == 3.0
    # exactly at the limit is still fine
    with ws_connect(srv) as c:
        c.recv()
        text = '{"type": "pause"' + " " * (64 * 1024 - 17) + "}"
        assert len(text) == 64 * 1024
        assert c.command(text)["type"] == "ack"


def test_cross_site_origin_and_foreign_host_are_refused(live_server):
    srv = live_server()
    for origin in ("http://evil.example", f"http://127.0.0.1:{srv.port + 1}", "null"):
        with pytest.raises(InvalidStatus) as e:
            ws_connect(srv, origin=origin)
        assert e.value.response.status_code == 403
    with ws_connect(srv, origin=srv.url) as c:  # the page itself
        assert c.recv()["type"] == "hello"
    with ws_connect(f"ws://localhost:{srv.port}/ws", origin=f"http://localhost:{srv.port}") as c:
        assert c.recv()["type"] == "hello"
    # DNS rebinding: the right socket, a foreign Host
    assert raw_http(srv.port, ws_upgrade_request("evil.example")).startswith(b"HTTP/1.1 403")
    assert raw_http(srv.port, ws_upgrade_request(f"evil.example:{srv.port}")).startswith(b"HTTP/1.1 403")
    two_origins = ws_upgrade_request(srv.host, srv.url, extra=f"Origin: {srv.url}")
    assert raw_http(srv.port, two_origins).split(b" ")[1] in (b"400", b"403")  # uvicorn refuses it first
    assert raw_http(srv.port, ws_upgrade_request(srv.host, srv.url)).startswith(b"HTTP/1.1 101")
    # and over HTTP
    r = httpx.get(srv.url + "/api/state", headers={"host": "evil.example"})
    assert r.status_code == 403
    r = httpx.post(srv.url + "/api/predict", json={"pixels": [0] * 784}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = httpx.post(srv.url + "/api/predict", json={"pixels": [0] * 784},
                   headers=[("origin", srv.url), ("origin", "http://evil.example")])
    assert r.status_code == 403


def frames_of(conn) -> list[dict]:
    """Every frame this client received, including those read while waiting for an ack."""
    return [m for m in conn.log if m["type"] == "frame"]


def test_frames_carry_every_cost_at_most_30_per_second(live_server):
    """What docs/protocol.md promises about ``frame``, and nothing the scheduling of a busy machine decides.

    Promised: ``seq`` increases; ``costs`` carries every mini-batch cost since the previous frame, in
    order, none twice, none lost; at most 30 frames per second; the first layer at a lower rate while
    training runs fast, but in every frame while paused, stepped or at ≤ 100 steps/s. Not promised:
    that the first frame a tab reads carries ``W0`` (a busy tab may skip it), consecutive ``seq``
    numbers, or any lower bound on the frame rate.
    """
    fast, slow = 500, 100  # steps/s: above and at the limit for the first layer in every frame
    srv = live_server()
    with ws_connect(srv) as c:
        hello = c.recv()
        assert hello["type"] == "hello"
        assert c.command({"type": "set_params", "steps_per_second": fast})["type"] == "ack"
        assert c.command({"type": "play"})["type"] == "ack"

        def running_frames(sps):
            return [f for f in frames_of(c) if f["state"]["running"] and f["params"]["steps_per_second"] == sps]

        # at least 20 frames of fast training (however long a busy machine takes to send them)
        c.next(lambda m: m["type"] == "frame" and len(running_frames(fast)) >= 20
               and m["state"]["iteration"] >= 200, timeout=60)
        # then at ≤ 100 steps/s: the first frame after the change, and 5 more
        assert c.command({"type": "set_params", "steps_per_second": slow})["type"] == "ack"
        c.next(lambda m: m["type"] == "frame" and len(running_frames(slow)) >= 6, timeout=30)
        assert c.command({"type": "pause"})["type"] == "ack"
        poll(lambda: not api_state(srv)["running"], what="pause")
        last = api_state(srv)["iteration"]
        c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == last and not m["state"]["running"])
        # a step while paused
        assert c.command({"type": "step"})["type"] == "ack"
        stepped = c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == last + 1)
        last += 1
    frames = frames_of(c)
    assert c.log[0] is hello and frames[-1] is stepped
    assert last < 2000  # the speed limit held (below): the whole history fits in a hello, unbucketed

    # seq: per connection, increasing (not necessarily consecutive)
    seqs = [f["seq"] for f in frames]
    assert seqs[0] >= 1 and all(a < b for a, b in zip(seqs, seqs[1:])), seqs

    # costs: from the hello onwards, every mini-batch exactly once and in order
    expected_start = hello["state"]["iteration"] + 1
    for f in frames:
        assert f["costs_start"] == expected_start, (f["seq"], f["costs_start"], expected_start)
        expected_start += len(f["_arrays"]["costs"])
        assert f["state"]["iteration"] == expected_start - 1
    costs = np.concatenate([f["_arrays"]["costs"] for f in frames])
    assert len(costs) == last
    np.testing.assert_array_equal(costs, srv.session.cost_history.values()[:last])
    # and a new tab's hello holds the same history
    with ws_connect(srv) as c2:
        hello2 = c2.recv()
    np.testing.assert_array_equal(hello2["_arrays"]["cost_values"], costs)
    np.testing.assert_array_equal(hello2["_arrays"]["cost_iterations"], np.arange(1, last + 1))

    # at most 30 per second, counted by the server's capture times (arrival times jitter): the frame
    # clock ticks at 1/30 s, so any window of one second holds at most 31 captures (both ends)
    times = np.array([f["time"] for f in frames])
    assert (np.diff(times) >= 0).all()
    assert all(np.count_nonzero((times >= t) & (times < t + 1.0)) <= 31 for t in times)
    assert times[-1] - times[0] >= (len(times) - 2) / 30 - 0.01

    # the speed limit: never faster than asked (the worker may catch up on at most 0.5 s it lost)
    for sps in (fast, slow):
        run = running_frames(sps)
        span = run[-1]["time"] - run[0]["time"]
        done = run[-1]["state"]["iteration"] - run[0]["state"]["iteration"]
        assert done <= sps * (span + 0.5) + 2, (sps, done, span)

    # the first layer: present exactly when has_first_layer says so
    for f in frames:
        arrays = f["_arrays"]
        assert f["has_first_layer"] == ("W0" in arrays), f["seq"]
        assert "nabla_w0" not in arrays or f["has_first_layer"], f["seq"]  # (no gradients before a step)
    # ... sent at a lower rate while training runs fast
    assert any(not f["has_first_layer"] for f in running_frames(fast))
    # ... in every frame at ≤ 100 steps/s, the first one after the change included (decided on the
    # worker, where the new speed is applied), and in every frame while paused
    assert all(f["has_first_layer"] for f in running_frames(slow))
    assert all(f["has_first_layer"] for f in frames if not f["state"]["running"])
    # ... and when stepped while paused
    assert stepped["has_first_layer"] and stepped["_arrays"]["W0"].shape == (16, 784)
    np.testing.assert_array_equal(stepped["_arrays"]["W0"], srv.session.net.weights[0])

    # every frame has the documented arrays
    for f in (stepped, running_frames(fast)[-1]):
        arrays = f["_arrays"]
        for name in ("a0", "a1", "a2", "a3", "z1", "z2", "z3", "W1", "W2", "b0", "b1", "b2",
                     "nabla_w1", "nabla_w2", "nabla_b0", "nabla_b1", "nabla_b2", "delta1", "delta2", "delta3"):
            assert name in arrays, name
        assert arrays["a0"].shape == (784,) and arrays["a3"].shape == (10,)
        assert len(f["grad_norms"]) == 3 and f["example"]["source"] == "train"


def test_hello_mid_training_and_predict_over_the_socket(live_server, trained_checkpoint, server_data):
    path, net, _ = trained_checkpoint
    srv = live_server(load=str(path))
    with ws_connect(srv) as a:
        a.recv()
        a.command({"type": "play"})
        a.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] > 50)
        with ws_connect(srv) as b:
            hello = b.recv()
            assert hello["type"] == "hello" and hello["state"]["iteration"] > 50 and hello["state"]["running"]
            assert len(hello["_arrays"]["cost_values"]) > 0
            right = 0
            for i in range(10):
                x = (server_data.test_images[i] / 255).round(4).tolist()
                b.send({"type": "predict", "id": i, "pixels": x})
                p = b.next(type="prediction")
                assert p["id"] == i and abs(sum(p["probabilities"]) - 1) < 1e-6
                right += p["digit"] == server_data.test_labels[i]
            assert right >= 8
        a.command({"type": "pause"})



def test_a_tab_opened_while_paused_gets_a_frame_after_hello(live_server):
    """The example's activations travel in frames: a paused session still sends one right after hello."""
    srv = live_server()
    with ws_connect(srv) as c:
        assert c.recv()["type"] == "hello"
        frame = c.next(type="frame")
    assert frame["seq"] == 1 and frame["state"]["running"] is False
    assert frame["_arrays"]["a0"].shape == (784,) and "W0" in frame["_arrays"]


def test_the_frame_after_a_pause_carries_the_first_layer(live_server):
    """protocol.md: W0 is in every frame while paused. The frame that first shows the pause must carry
    it: whether it does is decided on the worker, with the pause applied, not before (the event loop
    used to decide while the pause was still queued, and a paused tab could be left without W0)."""
    srv = live_server()
    session, broadcaster = srv.session, srv.broadcaster
    with ws_connect(srv) as c:
        c.next(type="frame")
        session.play()
        c.next(lambda m: m["type"] == "frame" and m["state"]["running"])
        gate, opened = __import__("threading").Event(), []
        session.worker.submit(lambda: opened.append(gate.wait(5)))  # the worker is busy: the pause below waits its turn
        session.pause()
        broadcaster._first_layer_tick = broadcaster._ticks + 10**6  # the regular cadence is not due
        # a tick begins while the pause is still queued (its snapshot then waits behind the pause). Each tick
        # waits for its snapshot, so the counter moves once while the worker is blocked: waiting for three
        # ticks waited for the gate's 5 s timeout
        ticks = broadcaster._ticks
        poll(lambda: broadcaster._ticks > ticks, what="a tick while blocked")
        gate.set()
        paused = c.next(lambda m: m["type"] == "frame" and not m["state"]["running"])
    assert opened == [True]  # the gate was opened, not timed out: that tick began while the pause was queued
    assert paused["has_first_layer"] and "W0" in paused["_arrays"]


@pytest.mark.parametrize("change", ["reset", "branch", "load"])
def test_after_a_new_network_every_tab_gets_its_costs_from_its_first_iteration(live_server, change):
    """Review: after Network → Reset the descent curve stayed empty until the new run passed the old run's
    last iteration. Each tab's position in the cost stream was still the old network's (the frame after
    the new hello came from a snapshot prepared for the old positions), so the new costs were never sent.
    The same for a checkpoint load (its history is shorter) and a branch (the history is cut)."""
    srv = live_server()
    with ws_connect(srv) as a, ws_connect(srv) as b:
        a.recv(), b.recv()
        if change == "load":
            assert httpx.post(srv.url + "/api/checkpoints", json={"name": "early"}, timeout=5).status_code == 200
        assert a.command({"type": "set_params", "steps_per_second": 1000})["type"] == "ack"
        a.command({"type": "play"})
        a.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] > 200, timeout=30)
        b.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] > 200, timeout=30)
        a.command({"type": "pause"})
        poll(lambda: not api_state(srv)["running"], what="pause")
        if change == "reset":
            reset = {"type": "reset", "hidden": [16, 16], "activation": "sigmoid", "output_activation": "sigmoid",
                     "cost": "quadratic", "seed": 1}
            assert a.command(reset)["type"] == "ack"
        elif change == "branch":
            assert httpx.post(srv.url + "/api/branch", json={"iteration": 2}, timeout=5).status_code == 200
        else:
            assert httpx.post(srv.url + "/api/checkpoints/early/load", timeout=5).status_code == 200
        hellos = [c.next(lambda m: m["type"] == "hello") for c in (a, b)]
        start = hellos[0]["state"]["iteration"]
        assert start < 100 and hellos[1]["state"]["iteration"] == start
        for _ in range(3):
            assert a.command({"type": "step"})["type"] == "ack"
        for c in (a, b):
            c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == start + 3)
            after = c.log[max(i for i, m in enumerate(c.log) if m["type"] == "hello") + 1:]
            got = {}
            for f in (m for m in after if m["type"] == "frame"):
                for i, v in enumerate(f["_arrays"]["costs"]):
                    got[f["costs_start"] + i] = float(v)
            assert sorted(got) == [start + 1, start + 2, start + 3], sorted(got)[:10]
            np.testing.assert_allclose([got[start + i] for i in (1, 2, 3)],
                                       srv.session.cost_history.values()[start:start + 3])


def _kill(conn) -> None:
    """End a client the way a crashed or killed tab does: the TCP connection just goes, no close frame."""
    import socket as _socket

    conn.ws.socket.shutdown(_socket.SHUT_RDWR)
    conn.ws.socket.close()


def test_a_walkthrough_hold_dies_with_the_tab_that_opened_it(live_server):
    """Review: a tab that vanished in the walkthrough without `pagehide` (crash, killed mobile tab) left
    its hold, and training stayed paused in every tab for ever. A hold opened with the tab's `connection`
    (from its hello) ends when that websocket closes (after a short grace for a reconnect)."""
    srv = live_server(session_kwargs={"steps_per_second": 50})
    srv.app.state.holds.grace = 0.2
    c = ws_connect(srv)
    hello = c.recv()
    connection = hello["connection"]
    assert isinstance(connection, str) and len(connection) >= 8
    srv.session.play()
    poll(lambda: api_state(srv)["running"], what="training to run")
    opened = httpx.post(srv.url + "/api/walkthrough/open", json={"connection": connection}, timeout=5).json()
    assert opened["was_running"] is True and opened["hold"]
    poll(lambda: not api_state(srv)["running"], what="the walkthrough to pause training")
    _kill(c)
    poll(lambda: api_state(srv)["running"], what="training to resume once the tab is gone")
    # the hold is gone: closing it later changes nothing and is no error
    assert httpx.post(srv.url + "/api/walkthrough/close", json={"hold": opened["hold"]}, timeout=5).json()["running"]


def test_a_reconnecting_tab_keeps_its_hold(live_server):
    """A network blip: the tab reconnects within the grace and claims its hold for the new connection."""
    srv = live_server(session_kwargs={"steps_per_second": 50})
    holds = srv.app.state.holds
    holds.grace = 60.0  # (what matters: the claim cancels the end the old socket's close scheduled)
    a = ws_connect(srv)
    first = a.recv()["connection"]
    srv.session.play()
    poll(lambda: api_state(srv)["running"], what="training to run")
    hold = httpx.post(srv.url + "/api/walkthrough/open", json={"connection": first}, timeout=5).json()["hold"]
    _kill(a)
    poll(lambda: hold in holds._timers, what="the old socket's close to schedule the hold's end")
    with ws_connect(srv) as b:
        second = b.recv()["connection"]
        assert second != first
        again = httpx.post(srv.url + "/api/walkthrough/open", json={"connection": second, "hold": hold}, timeout=5).json()
        assert again["hold"] == hold and again["was_running"] is True
        assert hold not in holds._timers and holds._owner[hold] == second  # it now ends with the new socket
        assert not api_state(srv)["running"]
        assert httpx.post(srv.url + "/api/walkthrough/close", json={"hold": hold}, timeout=5).json()["running"] is True


def test_a_hold_without_a_connection_is_a_lease(live_server):
    """A client without a websocket (a script) holds for a lease it renews by opening again with the hold;
    one that forgets cannot pause training for ever."""
    srv = live_server(session_kwargs={"steps_per_second": 50})
    srv.app.state.holds.lease = 3.0
    srv.session.play()
    poll(lambda: api_state(srv)["running"], what="training to run")
    opened = httpx.post(srv.url + "/api/walkthrough/open", timeout=5).json()
    assert opened["lease_seconds"] == 3.0
    renewed = httpx.post(srv.url + "/api/walkthrough/open", json={"hold": opened["hold"]}, timeout=5).json()
    assert renewed["hold"] == opened["hold"]
    assert not api_state(srv)["running"]
    poll(lambda: api_state(srv)["running"], what="the lease to run out")


@pytest.mark.parametrize("body, words", [
    ({"connection": "nobody"}, "connection"),
    ({"connection": ""}, "connection"),
    ({"hold": "x" * 65}, "hold"),
])
def test_walkthrough_open_refuses_an_unknown_connection(live_server, body, words):
    srv = live_server()
    r = httpx.post(srv.url + "/api/walkthrough/open", json=body, timeout=5)
    assert r.status_code == 422 and words in r.json()["detail"]
    assert not api_state(srv)["running"]
