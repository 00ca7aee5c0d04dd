"""The opt-in ``summary`` stream (issue 17): what the view draws, within a byte budget per viewer.

A real uvicorn on 127.0.0.1 (port 0), driven by the ``websockets`` client and by a reader that paces its
own socket to 200 KB/s (tests/paced_reader.py). Timing figures (frame age, frame rate, bytes per
second) are measured by bench/budget_bench.py, not asserted here.
"""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
import pytest

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")

from conftest_server import poll, ws_connect  # noqa: E402
from paced_reader import PacedReader  # noqa: E402

from server.engine import checkpoint  # noqa: E402
from server.web.stream import wire  # noqa: E402

SUMMARY = "?detail=summary"


def api_state(srv) -> dict:
    return httpx.get(srv.url + "/api/state", timeout=5).json()


def reset(c, hidden, **extra) -> dict:
    assert c.command({"type": "reset", "hidden": hidden, "seed": 1, **extra})["type"] == "ack"
    return c.next(lambda m: m["type"] == "hello" and m["config"]["sizes"][1:-1] == hidden)


def frames_of(conn) -> list[dict]:
    return [m for m in conn.log if m["type"] == "frame"]


class Weights:
    """A client's copy of the matrices, written by the frames' parts as docs/protocol.md says."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.W = [np.full((sizes[l + 1], sizes[l]), np.nan, np.float32) for l in range(len(sizes) - 1)]
        self.b = [np.full(sizes[l + 1], np.nan, np.float32) for l in range(len(sizes) - 1)]

    def apply(self, frame: dict) -> list[int]:
        arrays, got = frame["_arrays"], []
        for l in range(len(self.W)):
            if f"W{l}" not in arrays:
                continue
            rows = arrays.get(f"rows{l}", np.arange(self.sizes[l + 1]))
            cols = arrays.get(f"cols{l}", np.arange(self.sizes[l]))
            self.W[l][np.ix_(rows, cols)] = arrays[f"W{l}"]
            self.b[l][rows] = arrays[f"b{l}"]
            got.append(l)
        return got


def test_the_default_stream_is_unchanged_and_summary_is_opt_in(live_server):
    srv = live_server()
    with ws_connect(srv) as full, ws_connect(srv.ws_url + SUMMARY) as summary:
        hello_full, hello_summary = full.recv(), summary.recv()
        assert "stream" not in hello_full and hello_full["_arrays"]["W0"].shape == (16, 784)
        assert hello_summary["stream"] == {"detail": "summary", "budget": 1_000_000, "max_budget": 4_000_000,
                                           "neurons": 64}
        assert not any(k.startswith("W") for k in hello_summary["_arrays"])  # the frames bring them
        np.testing.assert_array_equal(hello_summary["_arrays"]["b0"], srv.session.net.biases[0])
        full.command({"type": "step"})
        f = full.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == 1)
        s = summary.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == 1)
    assert "detail" not in f and f["has_first_layer"]
    assert wire.decode  # the full frame: every weight as float32, as before
    np.testing.assert_array_equal(f["_arrays"]["W1"], srv.session.net.weights[1])
    assert s["detail"] == "summary" and "has_first_layer" not in s
    assert [g["w"] > 0 for g in s["grad_norms"]] == [True, True, True]


def test_summary_weights_are_within_their_stated_precision(live_server, small_data):
    """Every part written into whole matrices gives the network's weights: u1 ones within
    max|row|/254 of the float32 values, small blocks (and biases, activations) exactly."""
    srv = live_server(dataset=small_data)
    with ws_connect(srv.ws_url + SUMMARY + "&neurons=128") as c:  # (no layer is big: every weight is sent)
        c.recv()
        reset(c, [100, 12])
        c.command({"type": "step"})
        c.command({"type": "step"})
        net = srv.session.net
        weights = Weights(net.sizes)
        seen = 0
        while any(np.isnan(w).any() for w in weights.W):  # every part, over the frames (parts take turns)
            if seen == len(frames_of(c)):
                c.next(type="frame")
            for f in frames_of(c)[seen:]:
                if f.get("weights_iteration") == 2:  # (parts of an earlier snapshot may still come first)
                    weights.apply(f)
            seen = len(frames_of(c))
        frames = [f for f in frames_of(c) if f["state"]["iteration"] == 2]
    for l, (w, got) in enumerate(zip(net.weights, weights.W)):
        tolerance = np.abs(w).max(axis=1, keepdims=True) / 254 * (1 + 1e-6)
        assert (np.abs(got - w) <= tolerance).all(), l
        np.testing.assert_array_equal(weights.b[l], net.biases[l])
    np.testing.assert_array_equal(weights.W[2], net.weights[2])  # 10 × 12: a small block, float32
    f = frames[-1]
    np.testing.assert_array_equal(f["_arrays"]["a0"], srv.session.snapshot().activations[0])  # lossless u1
    for l in (1, 2, 3):
        np.testing.assert_array_equal(f["_arrays"][f"a{l}"], srv.session.snapshot().activations[l])


def test_a_big_layer_sends_the_neurons_a_view_shows(live_server, small_data):
    """A layer of more neurons than the view shows: only the strongest ``neurons`` (by Σ_j |w_jk| of their
    outgoing weights), their connections among themselves, and every neuron's activation (f2)."""
    srv = live_server(dataset=small_data)
    with ws_connect(srv.ws_url + "?detail=summary&neurons=16") as c:
        c.recv()
        reset(c, [40, 30])
        c.command({"type": "step"})
        f = c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == 1 and "W1" in m["_arrays"])
    net = srv.session.net
    arrays = f["_arrays"]
    for l in (1, 2):
        score = np.abs(net.weights[l]).sum(axis=0, dtype=np.float64)
        expected = np.lexsort((np.arange(len(score)), -score))[:16]
        np.testing.assert_array_equal(arrays[f"shown{l}"], expected)
        assert f"z{l}" not in arrays and f"delta{l}" not in arrays  # exact ones: GET /api/neuron
        a = srv.session.snapshot().activations[l]
        assert np.abs(arrays[f"a{l}"] - a).max() <= np.abs(a).max() * 2**-11 + 1e-7
    np.testing.assert_array_equal(arrays["rows1"], arrays["shown2"])
    np.testing.assert_array_equal(arrays["cols1"], arrays["shown1"])
    w = net.weights[1][np.ix_(arrays["rows1"], arrays["cols1"])]
    assert arrays["W1"].shape == (16, 16)
    np.testing.assert_allclose(arrays["W1"], w, atol=float(np.abs(w).max()) / 254 * 1.000001, rtol=0)
    assert "z3" in arrays and arrays["a3"].shape == (10,)  # the output layer is sent whole


def test_the_inspectors_numbers_are_exact(live_server, small_data):
    srv = live_server(dataset=small_data)
    with ws_connect(srv.ws_url + "?detail=summary&neurons=8") as c:
        c.recv()
        reset(c, [40, 30])
        c.command({"type": "step"})
        c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == 1)
    model = np.load(__import__("io").BytesIO(httpx.get(srv.url + "/api/model", timeout=10).content))
    r = httpx.get(srv.url + "/api/neuron", params={"layer": 2, "index": 7}, timeout=10).json()
    assert r["iteration"] == 1 and r["layer"] == 2 and r["index"] == 7
    np.testing.assert_array_equal(np.array(r["w"], np.float32), model["W1"][7])
    assert np.float32(r["b"]) == model["b1"][7]
    snap = srv.session.snapshot()
    assert np.float32(r["z"]) == snap.zs[1][7] and np.float32(r["a"]) == snap.activations[2][7]
    assert np.float32(r["delta"]) == snap.deltas[1][7] and np.float32(r["grad_b"]) == snap.nabla_b[1][7]
    np.testing.assert_array_equal(np.array(r["a_prev"], np.float32), snap.activations[1])
    for params, words in (({"layer": 4, "index": 0}, "layers 1 to 3"), ({"layer": 2, "index": 30}, "below that"),
                          ({"layer": 0, "index": 0}, "layer"), ({"layer": 1, "index": -1}, "index"),
                          ({"layer": "x", "index": 0}, "layer")):
        bad = httpx.get(srv.url + "/api/neuron", params=params, timeout=10)
        assert bad.status_code == 422 and words in str(bad.json()["detail"]), (params, bad.text)


BAD_STREAMS = [
    ('{"type": "stream"}', "needs detail, budget or neurons"),
    ('{"type": "stream", "detail": "everything"}', "detail"),
    ('{"type": "stream", "detail": null}', "detail"),
    ('{"type": "stream", "budget": 5000000}', "at most 4000000 bytes per second on this server"),
    ('{"type": "stream", "budget": 100}', "budget must be at least 20,000"),
    ('{"type": "stream", "budget": 300000.5}', "budget"),
    ('{"type": "stream", "budget": "300000"}', "budget"),
    ('{"type": "stream", "neurons": 4}', "at least 8, not 4"),
    ('{"type": "stream", "neurons": 513}', "at most 512, not 513"),
    ('{"type": "stream", "detail": "summary", "quality": 3}', "quality"),
]


def test_bad_stream_requests_get_an_error_and_keep_the_stream(live_server):
    srv = live_server(max_viewer_bytes=4_000_000)
    with ws_connect(srv.ws_url + "?detail=summary&budget=300000") as c:
        hello = c.recv()
        assert hello["stream"]["budget"] == 300_000
        for text, words in BAD_STREAMS:
            reply = c.command(text)
            assert reply["type"] == "error" and reply["request"] == "stream", text
            assert words in reply["message"], (text, reply["message"])
        viewer = next(iter(srv.broadcaster.viewers))
        assert viewer.settings.detail == "summary" and viewer.settings.budget == 300_000
        c.command({"type": "step"})
        assert c.next(type="frame")["detail"] == "summary"  # the same stream as before
        # a good one: applied from the next frame (a budget), or with a new hello (a detail level)
        assert c.command({"type": "stream", "budget": 4_000_000})["type"] == "ack"
        assert viewer.settings.budget == 4_000_000
        assert c.command({"type": "stream", "detail": "full"})["type"] == "ack"
        hello = c.next(type="hello")
        assert "stream" not in hello and hello["_arrays"]["W0"].shape == (16, 784)
        c.command({"type": "step"})
        assert "detail" not in c.next(type="frame")


@pytest.mark.parametrize("query, words", [
    ("?detail=everything", "detail"), ("?detail=summary&budget=99999999", "at most 4000000"),
    ("?detail=summary&budget=lots", "budget: must be a whole number"), ("?detail=summary&neurons=2", "neurons"),
])
def test_a_bad_stream_in_the_url_gets_an_error_and_the_default_stream(live_server, query, words):
    srv = live_server()
    with ws_connect(srv.ws_url + query) as c:
        error = c.recv()
        assert error["type"] == "error" and error["request"] == "stream" and words in error["message"], error
        hello = c.recv()
        assert hello["type"] == "hello" and "stream" not in hello and "W0" in hello["_arrays"]


def test_the_server_default_and_limit_are_configurable(live_server):
    srv = live_server(viewer_bytes=200_000, max_viewer_bytes=500_000)
    with ws_connect(srv.ws_url + SUMMARY) as c:
        assert c.recv()["stream"]["budget"] == 200_000
        assert "at most 500000" in c.command({"type": "stream", "budget": 600_000})["message"]
        assert c.command({"type": "stream", "budget": 500_000})["type"] == "ack"


def test_paused_a_slow_viewer_still_gets_every_weight(live_server, small_data):
    """At a low budget the parts of a wide first layer take many frames: while training is paused (nothing
    changes, so nothing new would be sent) snapshots are taken anyway until they are all out, each frame
    newer than the one before."""
    srv = live_server(dataset=small_data)
    with ws_connect(srv) as control:
        control.recv()
        reset(control, [100])
        control.command({"type": "step"})
    with ws_connect(srv.ws_url + "?detail=summary&budget=100000&neurons=128") as c:
        c.recv()
        weights = Weights(srv.session.net.sizes)
        while any(np.isnan(w).any() for w in weights.W):
            f = c.next(type="frame", timeout=30)  # (nothing else is asked: no frame is read elsewhere)
            assert f.get("weights_iteration", 1) == 1
            weights.apply(f)
            # it says when it has every weight of the state it shows: exactly when the last part came
            assert f["weights_complete"] == (not any(np.isnan(w).any() for w in weights.W))
    frames = frames_of(c)
    times = [f["time"] for f in frames]
    assert len(frames) >= 4 and all(a < b for a, b in zip(times, times[1:])), times
    assert all(f["state"]["iteration"] == 1 for f in frames)
    w = srv.session.net.weights[0]
    assert (np.abs(weights.W[0] - w) <= np.abs(w).max(axis=1, keepdims=True) / 254 * 1.000001).all()


def test_a_slow_reader_gets_fresh_frames_skipped_not_queued(live_server, small_data):
    """A viewer whose link carries 200 KB/s, while training runs flat out: each frame it reads is newer
    than the one before; the frames it had no time for were skipped (never sent), so what waits on the
    server for it stays small; no mini-batch cost is lost; training goes on."""
    srv = live_server(dataset=small_data)
    with ws_connect(srv) as control:
        control.recv()
        reset(control, [512, 512], activation="relu", output_activation="softmax", cost="cross_entropy",
              learning_rate=0.05)
        control.command({"type": "play"})
        control.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] > 5)
        reader = PacedReader(srv.ws_url + SUMMARY, rate=200_000)
        try:
            poll(lambda: len(srv.broadcaster.viewers) == 2, what="the slow viewer to join")
            viewer = next(v for v in srv.broadcaster.viewers if v.summary)
            queued, stop = [], threading.Event()

            def watch():  # what is waiting on the server for the slow viewer, ten times a second
                while not stop.is_set():
                    if viewer.probe is not None and (q := viewer.probe.queued()) is not None:
                        queued.append(q)
                    stop.wait(0.1)  # a sampling period, ended at once by stop

            watcher = threading.Thread(target=watch, daemon=True)
            iteration, prepared = srv.session.iteration, srv.broadcaster.frames_prepared
            watcher.start()
            reader.read_for(4.0)
            stop.set()
            watcher.join()
            trained, prepared = srv.session.iteration - iteration, srv.broadcaster.frames_prepared - prepared
        finally:
            reader.close()
            control.command({"type": "pause"})
    frames = reader.frames()
    assert len(frames) >= 5, len(frames)
    times = [f.header["time"] for f in frames]
    seqs = [f.header["seq"] for f in frames]
    assert all(a < b for a, b in zip(times, times[1:])) and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    # skipped, not queued: far fewer frames were sent than prepared, and what waited for the viewer on the
    # server never grew past a small bound (a queue would have filled the socket's megabytes)
    assert viewer.seq < 0.8 * prepared, (viewer.seq, prepared)
    assert viewer.probe is not None and queued and max(queued) < 192 * 1024, max(queued)
    # every mini-batch's cost reached it exactly once, in order, however many frames were skipped
    starts = [f.header["costs_start"] for f in frames]
    counts = [len(f.arrays["costs"]) for f in frames]
    assert all(s + n == t for s, n, t in zip(starts, counts, starts[1:]))
    assert trained >= 30, trained  # training went on


# ----- the pacer alone (budget.py): a fake clock and a fake link --------------------------------------------
class FakePart:
    def __init__(self, layer, chunk, nbytes):
        self.layer, self.chunk, self.nbytes = layer, chunk, nbytes

    @property
    def key(self):
        return (self.layer, self.chunk)


def test_the_pacer_follows_a_slow_link_and_climbs_back():
    from server.web.stream.budget import Pacer

    p = Pacer(1_000_000, now=0.0)
    assert p.rate == 250_000  # starts below the budget, so a slow link is not flooded first
    t, queued, link = 0.0, 0, 200_000  # the link delivers 200 KB/s; each frame is 20 KB
    sent, skipped, most = [], 0, 0
    for tick in range(30 * 20):  # 20 s of 30 ticks a second
        t += 1 / 30
        queued = max(0, queued - link / 30)
        p.refill(t, 20_000, 0)
        if p.backed_up(t, int(queued)):
            skipped += 1
            continue
        if p.can_send(20_000):
            p.spent(20_000, [], 0)
            queued += 20_000
            sent.append(t)
        if tick > 30 * 5:
            most = max(most, queued)
    late = [x for x in sent if x > 10]
    assert skipped > 0
    assert 0.6 * link <= len(late) * 20_000 / 10 <= 1.05 * link  # about what the link carries
    assert most <= 60_000  # what waits stays under a third of a second of the link
    link = 10_000_000  # the link got fast: the rate climbs back to the budget
    for _ in range(30 * 10):
        t += 1 / 30
        queued = 0
        p.refill(t, 20_000, 0)
        assert not p.backed_up(t, 0)
    assert p.rate == 1_000_000


def test_the_pacer_sends_the_stalest_parts_one_per_matrix_within_its_tokens():
    from server.web.stream.budget import Pacer

    parts = [FakePart(0, 0, 30_000), FakePart(0, 1, 30_000), FakePart(1, 0, 5_000), FakePart(2, 0, 1_000)]
    p = Pacer(1_000_000, now=0.0)
    p.part_tokens = 100_000
    first = p.choose(parts, version=1)
    assert [q.key for q in first] == [(0, 0), (1, 0), (2, 0)]  # one part of matrix 0, not both
    p.spent(36_000 + 500, first, 1)
    assert p.pending(parts, 1)
    second = p.choose(parts, version=1)
    assert [q.key for q in second] == [(0, 1)]  # what it has of this version is not sent again
    p.spent(30_000, second, 1)
    assert not p.pending(parts, 1) and p.choose(parts, 1) == []
    p.part_tokens = 20_000  # a new version: the stalest first, and a big part is not passed over by small ones
    assert p.choose(parts, version=2) == []


@pytest.mark.parametrize("args, words", [
    (["--viewer-bytes", "100"], "argument --viewer-bytes: must be at least 20,000 bytes per second, got 100"),
    (["--max-viewer-bytes", "lots"], "argument --max-viewer-bytes: 'lots' is not a whole number of bytes per second"),
    (["--viewer-bytes", "3000000", "--max-viewer-bytes", "2000000"],
     "--viewer-bytes (3,000,000) is above --max-viewer-bytes (2,000,000)"),
])
def test_bad_budget_flags_are_one_line_and_start_nothing(tmp_path, args, words):
    import subprocess
    import sys
    from pathlib import Path

    run = subprocess.run([sys.executable, "-m", "server", "--port", "0", "--no-autosave", "--checkpoint-dir",
                          str(tmp_path / "cp"), *args], cwd=Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, timeout=60)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0] == f"error: {words}", lines[0]
    assert not (tmp_path / "cp").exists()


def test_a_paused_viewer_that_asks_for_other_neurons_gets_all_their_weights(live_server):
    """A page's first URL asks for as many neurons as its first layout guessed, then a ``stream`` message
    corrects it once laid out. On a paused session the new neurons' weights must still all arrive (they
    did not when the correction came after every part of the first set was sent: no snapshot was taken
    for the new set, so the tab waited for ever with ``weights_complete`` false)."""
    srv = live_server()
    with ws_connect(srv.ws_url) as c:
        c.next(type="hello")
        assert c.command({"type": "reset", "hidden": [128], "activation": "sigmoid", "output_activation": "sigmoid",
                          "cost": "quadratic", "seed": 3})["type"] == "ack"
        assert c.command({"type": "step"})["type"] == "ack"
    with ws_connect(srv.ws_url + "?detail=summary&neurons=118") as c:
        c.next(type="hello")
        c.next(lambda m: m.get("weights_complete") is True, type="frame")
        assert c.command({"type": "stream", "neurons": 42})["type"] == "ack"
        frame = c.next(lambda m: m.get("weights_complete") is True, type="frame")
        assert len(frame["_arrays"]["shown1"]) == 42
