"""Issue 6: divergence, checkpoints, shutdown and resume, bad input, abrupt and stalled viewers."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.engine import checkpoint
from server.engine.checkpoint import CheckpointError
from server.training.store import CheckpointStore
from server.network import Network

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")

from conftest_server import TIMEOUT, poll, ws_connect, ws_upgrade_request  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIVERGING_RESET = {"type": "reset", "hidden": [64, 64, 64], "activation": "relu", "output_activation": "softmax",
                   "cost": "cross_entropy", "seed": 0, "learning_rate": 10}


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"{name} reached the client")
    return json.loads(text, parse_constant=refuse)


def api(srv, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(method, srv.url + path, timeout=10, **kw)


def weights(srv) -> list[np.ndarray]:
    net, _ = checkpoint.from_bytes(api(srv, "GET", "/api/model").content)
    return net.weights + net.biases


# ----- (a) divergence ---------------------------------------------------------------------------
def test_divergence_end_to_end(live_server):
    srv = live_server()
    with ws_connect(srv) as a, ws_connect(srv) as b:
        a.recv(), b.recv()
        assert a.command(DIVERGING_RESET)["type"] == "ack"
        a.next(lambda m: m["type"] == "hello" and m["config"]["sizes"] == [784, 64, 64, 64, 10])
        b.next(lambda m: m["type"] == "hello" and m["config"]["sizes"] == [784, 64, 64, 64, 10])
        a.command({"type": "play"})
        for c in (a, b):
            event = c.next(type="event", kind="diverged", timeout=20)
            assert "learning rate" in event["message"] and "lower" in event["message"]
            frame = c.next(lambda m: m["type"] == "frame" and not m["state"]["running"])
            assert all(np.isfinite(x).all() for x in frame["_arrays"].values())
        assert not api(srv, "GET", "/api/state").json()["running"]
        assert all(np.isfinite(w).all() for w in weights(srv))
        # the page can carry on: a lower learning rate trains normally
        a.command({"type": "set_params", "learning_rate": 0.05})
        a.command({"type": "step"})
        a.next(lambda m: m["type"] == "frame" and m["params"]["learning_rate"] == 0.05)
    # no NaN/Infinity anywhere: every text message and every envelope header parses strictly
    raw = connect(srv.ws_url, max_size=None).__enter__()
    raw.recv(timeout=5)
    raw.close()
    for c in (a, b):
        for m in c.log:
            for v in m["_arrays"].values():
                assert np.isfinite(v).all()
            strict_json(json.dumps({k: v for k, v in m.items() if not k.startswith("_")}))


# ----- (b) checkpoints --------------------------------------------------------------------------
def make_npz(**members) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **members)
    return buf.getvalue()


def good_members(net: Network, extra=None) -> dict:
    data = checkpoint.to_bytes(net, extra)
    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in z.files}


def huge_claim(data: bytes) -> bytes:
    """The central directory says meta.npy is ~4 GB uncompressed."""
    i = data.rindex(b"PK\x01\x02")  # the last member's central directory entry
    return data[: i + 24] + struct.pack("<I", 0xFFFFFFF0) + data[i + 28 :]


def test_checkpoint_api_save_list_download_load_delete(live_server, tmp_path):
    srv = live_server(checkpoint_dir=tmp_path / "cp")
    with ws_connect(srv) as c:
        c.recv()
        c.command({"type": "set_params", "learning_rate": 0.9})
        for _ in range(3):
            c.command({"type": "step"})
        poll(lambda: api(srv, "GET", "/api/state").json()["iteration"] == 3, what="3 steps")
        r = api(srv, "POST", "/api/checkpoints", json={"name": "three-steps"})
        assert r.status_code == 200, r.text
        assert r.json()["iteration"] == 3 and r.json()["config"]["sizes"] == [784, 16, 16, 10]
        listing = api(srv, "GET", "/api/checkpoints").json()["checkpoints"]
        assert [e["name"] for e in listing] == ["three-steps"]
        assert listing[0]["size"] > 1000 and listing[0]["has_history"] and listing[0]["mtime"] > 0
        saved = weights(srv)
        data = api(srv, "GET", "/api/checkpoints/three-steps").content
        assert data == (tmp_path / "cp" / "three-steps.npz").read_bytes()
        net, extra = checkpoint.from_bytes(data)
        for x, y in zip(net.weights + net.biases, saved):
            np.testing.assert_array_equal(x, y)
        # change everything, then load it back: weights, counters and history return
        c.command({"type": "reset", "hidden": [30], "seed": 1})
        c.next(lambda m: m["type"] == "hello" and m["config"]["sizes"] == [784, 30, 10])
        r = api(srv, "POST", "/api/checkpoints/three-steps/load")
        assert r.status_code == 200 and r.json()["iteration"] == 3
        hello = c.next(lambda m: m["type"] == "hello" and m["config"]["sizes"] == [784, 16, 16, 10])
        assert hello["state"]["iteration"] == 3 and len(hello["_arrays"]["cost_values"]) == 3
        assert hello["params"]["learning_rate"] == 0.9
        assert any(m["type"] == "event" and m["kind"] == "loaded" for m in c.log)  # sent just before the hello
        for x, y in zip(weights(srv), saved):
            np.testing.assert_array_equal(x, y)
        assert api(srv, "DELETE", "/api/checkpoints/three-steps").status_code == 200
        assert api(srv, "GET", "/api/checkpoints").json()["checkpoints"] == []
        assert api(srv, "POST", "/api/checkpoints/three-steps/load").status_code == 404


@pytest.mark.parametrize("name", ["", "a" * 65, "a.b", "../x", "x y", "ü", "a\\b", "..", "null"])
def test_checkpoint_names_are_checked(live_server, tmp_path, name):
    srv = live_server(checkpoint_dir=tmp_path / "cp")
    r = api(srv, "POST", "/api/checkpoints", json={"name": name})
    if name == "null":
        assert r.status_code == 200  # a fine name
        return
    assert r.status_code == 422, r.text
    assert not (tmp_path / "cp").exists() or not any(p.name != "null.npz" for p in (tmp_path / "cp").iterdir())
    assert api(srv, "POST", "/api/checkpoints", json={"name": 5}).status_code == 422
    assert api(srv, "POST", "/api/checkpoints/..%2F..%2Fetc%2Fpasswd/load").status_code in (404, 422)


def test_symlinks_out_of_the_folder_are_refused(live_server, tmp_path):
    folder = tmp_path / "cp"
    folder.mkdir()
    outside = tmp_path / "outside.npz"
    checkpoint.save(outside, Network([784, 10]))
    (folder / "evil.npz").symlink_to(outside)
    srv = live_server(checkpoint_dir=folder)
    r = api(srv, "POST", "/api/checkpoints/evil/load")
    assert r.status_code == 422 and "symbolic link" in r.json()["detail"]
    assert api(srv, "GET", "/api/checkpoints/evil").status_code == 422
    assert api(srv, "GET", "/api/checkpoints").json()["checkpoints"] == []
    assert api(srv, "POST", "/api/checkpoints", json={"name": "evil"}).status_code == 422
    assert outside.read_bytes()[:2] == b"PK" and api(srv, "GET", "/api/state").json()["sizes"] == [784, 16, 16, 10]


def test_rejected_uploads_leave_the_model_untouched(live_server, tmp_path):
    srv = live_server(checkpoint_dir=tmp_path / "cp")
    before = weights(srv)
    net = Network([784, 30, 10], seed=4)
    good = good_members(net)
    nan_w = dict(good, W0=np.full((30, 784), np.nan, np.float32))
    wrong_shape = dict(good, W0=np.zeros((31, 784), np.float32))
    missing = {k: v for k, v in good.items() if k != "b1"}
    big = Network([784, 600, 10])  # outside the page's limits (≤ 512 neurons)
    bad_history = checkpoint.to_bytes(net, {"history": {"iteration": 5, "costs": [0.1]}})
    cases = {
        "not a zip": (b"hello, world", "not a readable .npz"),
        "truncated": (checkpoint.to_bytes(net)[:5000], "not a readable .npz"),
        "pickle": (make_npz(**dict(good, W0=np.array([{"a": 1}], dtype=object))), "plain-array"),
        "wrong shape": (make_npz(**wrong_shape), "do not match"),
        "missing key": (make_npz(**missing), "missing ['b1']"),
        "extra key": (make_npz(**dict(good, evil=np.zeros(3))), "unexpected ['evil']"),
        "nan": (make_npz(**nan_w), "NaN"),
        "huge claim": (huge_claim(checkpoint.to_bytes(net)), "claim"),
        "no meta": (make_npz(**{k: v for k, v in good.items() if k != "meta"}), "meta"),
        "too big a network": (checkpoint.to_bytes(big), "limits"),
        "bad history": (bad_history, "history.costs"),
    }
    for label, (data, words) in cases.items():
        r = api(srv, "POST", "/api/checkpoints/upload?name=up", content=data)
        assert r.status_code == 422, (label, r.status_code, r.text)
        assert words in r.json()["detail"], (label, r.json()["detail"])
    r = api(srv, "POST", "/api/checkpoints/upload", content=b"x" * (64 * 1024 * 1024 + 1))
    assert r.status_code == 413
    # (GET /api/model reads the session after every command queued before it: a load that a refused
    # upload had queued would show here)
    for x, y in zip(weights(srv), before):
        np.testing.assert_array_equal(x, y)
    assert not (tmp_path / "cp" / "up.npz").exists()
    # and a good one loads (and is kept under its name)
    r = api(srv, "POST", "/api/checkpoints/upload?name=up", content=checkpoint.to_bytes(net))
    assert r.status_code == 200 and r.json()["sizes"] == [784, 30, 10]
    poll(lambda: api(srv, "GET", "/api/state").json()["sizes"] == [784, 30, 10], what="the upload to load")
    np.testing.assert_array_equal(weights(srv)[0], net.weights[0])
    assert CheckpointStore(tmp_path / "cp").exists("up")


def test_atomic_save_keeps_the_previous_file_when_a_write_fails(tmp_path, monkeypatch):
    store = CheckpointStore(tmp_path)
    store.save("a", Network([784, 10], seed=1))
    first = (tmp_path / "a.npz").read_bytes()

    def crash(fd):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        store.save("a", Network([784, 10], seed=2))
    monkeypatch.undo()
    assert (tmp_path / "a.npz").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]  # no temporary file left
    net, _ = store.load("a")
    np.testing.assert_array_equal(net.weights[0], Network([784, 10], seed=1).weights[0])
    with pytest.raises(CheckpointError):
        store.path("../a")


# ----- (c) shutdown and resume ------------------------------------------------------------------
class ServerProcess:
    def __init__(self, *args, cwd=ROOT):
        self.proc = subprocess.Popen([sys.executable, "-m", "server", "--port", "0", *args], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, (line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        self.url = f"http://127.0.0.1:{m.group(1)}"
        self.ws_url = f"ws://127.0.0.1:{m.group(1)}/ws"

    def stop(self, sig) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return code, self.proc.stderr.read()


def test_sigterm_saves_the_session_and_resume_continues_it(tmp_path):
    folder = tmp_path / "cp"
    srv = ServerProcess("--checkpoint-dir", str(folder))
    try:
        with ws_connect(srv.ws_url) as c:
            c.recv()
            c.command({"type": "set_params", "learning_rate": 0.7, "steps_per_second": 500})
            c.command({"type": "play"})
            c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] >= 100)
            c.command({"type": "pause"})
            last = c.next(lambda m: m["type"] == "frame" and not m["state"]["running"])
            n = last["state"]["iteration"]
            with ws_connect(srv.ws_url) as c2:
                history = c2.recv()["_arrays"]["cost_values"]
            assert len(history) == n < 2000
            snapshots = httpx.get(f"{srv.url}/api/snapshots").json()["snapshots"]
            assert [s["iteration"] for s in snapshots][:8] == [0, 1, 2, 4, 8, 16, 32, 64]
            t0 = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as e:
                c.next(timeout=5)
            assert e.value.rcvd.code == 1012 and time.monotonic() - t0 < 5
        code, err = srv.stop(signal.SIGTERM)
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
    assert code in (0, -signal.SIGTERM), err
    assert "Traceback" not in err and "saved the session" in err, err
    first = CheckpointStore(folder).newest_autosave()
    assert first and first.startswith("autosave-") and (folder / f"{first}.npz").is_file()

    srv = ServerProcess("--checkpoint-dir", str(folder), "--resume")
    try:
        with ws_connect(srv.ws_url) as c:
            hello = c.recv()
            assert hello["state"]["iteration"] == n and hello["params"]["learning_rate"] == 0.7
            np.testing.assert_array_equal(hello["_arrays"]["cost_values"], history)
            # the recorded snapshots came back with it: the whole training can be scrubbed again
            resumed = httpx.get(f"{srv.url}/api/snapshots").json()["snapshots"]
            assert [s for s in resumed if s["iteration"] != n] == [s for s in snapshots if s["iteration"] != n]
            c.command({"type": "step"})
            c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] == n + 1)
        code, err = srv.stop(signal.SIGINT)
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
    assert "Traceback" not in err, err
    store = CheckpointStore(folder)
    assert store.autosaves()[1:] == [first]  # a new autosave; the one it resumed from is kept
    assert store.info(store.newest_autosave())["iteration"] == n + 1


# ----- (d) bad input ----------------------------------------------------------------------------
ISSUE6_BAD = [
    ("[" * 30000 + "]" * 30000, "nested too deeply"),
    ('{"type": "set_params", "learning_rate": null}', "must be a number"),
    ('{"type": "set_params", "batch_size": null}', "must be a whole number"),
    ('{"type": "set_params", "batch_size": "10"}', "must be a whole number"),
    ('{"type": "set_params", "learning_rate": false}', "must be a number"),
    ('{"type": "set_params", "learning_rate": -1}', "must be above 0"),
    ('{"type": "step", "unit": null}', "unit"),
    ('{"type": "reset", "hidden": null}', "hidden"),
    ('{"type": "reset", "hidden": "[16]"}', "hidden"),
    ('{"type": "reset", "hidden": [true]}', "Hidden layer 1 must be a whole number"),
    ('{"type": "reset", "hidden": [16.5]}', "Hidden layer 1 must be a whole number"),
    ('{"type": "reset", "hidden": [0]}', "must be at least 1"),
    ('{"type": "reset", "hidden": [100000]}', "must be at most 512"),
    ('{"type": "reset", "hidden": [' + ",".join(["8"] * 100) + "]}", "at most 4"),
    ('{"type": "reset", "hidden": [16], "seed": -1}', "seed"),
    ('{"type": "reset", "hidden": [16], "seed": 1e400}', "must be a whole number"),
    ('{"type": "set_params", "learning_rate": 1e400}', "finite number"),  # overflows to inf while parsing
    ('{"type": "reset", "hidden": [16], "activation": "softmax"}', "activation"),
    ('{"type": "reset"}', "hidden"),
    ('{"type": "predict", "pixels": [' + ",".join(["0.5"] * 783) + "]}", "784"),
    ('{"type": "predict", "pixels": [' + ",".join(["0.5"] * 785) + "]}", "784"),
    ('{"type": "predict", "pixels": [' + ",".join(["2"] * 784) + "]}", "must be at most 1"),
    ('{"type": "predict", "image": {"width": 4096, "height": 4096, "pixels": []}}', "1024"),
    ('{"type": "predict", "id": -1, "pixels": [' + ",".join(["0"] * 784) + "]}", "id"),
    ('{"type": "select_example", "source": "test", "index": "3"}', "index"),
    ('{"type": "play", "now": true}', "now"),
    ("null", "JSON object"),
    ('"play"', "JSON object"),
    ("", "invalid JSON"),
]


def test_issue6_bad_input_gets_clear_errors_and_changes_nothing(live_server):
    srv = live_server()
    before = api(srv, "GET", "/api/state").json()
    w_before = weights(srv)
    with ws_connect(srv) as c, ws_connect(srv) as other:
        c.recv(), other.recv()
        for text, words in ISSUE6_BAD:
            assert len(text.encode()) <= 64 * 1024
            reply = c.command(text)
            assert reply["type"] == "error", text[:80]
            assert words in reply["message"], (text[:80], reply["message"])
        assert other.command({"type": "pause"})["type"] == "ack"
        # an empty hidden list is a valid network (no hidden layer), as the limits say (0–4)
        assert c.command({"type": "reset", "hidden": []})["type"] == "ack"
        c.next(lambda m: m["type"] == "hello" and m["config"]["sizes"] == [784, 10])
    after = api(srv, "GET", "/api/state").json()
    assert after["learning_rate"] == before["learning_rate"] and after["iteration"] == 0
    assert len(w_before) == 6


def test_message_rate_is_bounded_per_connection(live_server):
    """At most 50 messages per second, with bursts of up to 100 (protocol.md): so of n messages sent
    at once, at least 100 are taken and at most 100 + 50 per second the server took to read them all."""
    srv = live_server()
    n = 200
    with ws_connect(srv) as other:
        other.recv()
        t0 = time.monotonic()  # before the connection (and its allowance) exists
        with ws_connect(srv) as c:
            c.recv()
            for _ in range(n):
                c.send({"type": "pause"})
            replies = [c.next(lambda m: m["type"] in ("ack", "error")) for _ in range(n)]
            seconds = time.monotonic() - t0  # after the last reply: longer than the server took
            refused = [r for r in replies if r["type"] == "error"]
            accepted = n - len(refused)
            assert 100 <= accepted <= 100 + 50 * seconds + 1, (accepted, seconds)
            assert refused or seconds >= (n - 100) / 50, seconds  # (a machine that slow refuses none)
            assert all("slow down" in r["message"] for r in refused)
        assert other.command({"type": "pause"})["type"] == "ack"  # the limit is per connection


def _server_tasks(srv) -> int:
    import asyncio

    async def count():
        return len([t for t in asyncio.all_tasks() if not t.done()])
    return srv.call(count)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_abrupt_disconnects_leave_no_tracebacks_tasks_or_fds(live_server, caplog):
    caplog.set_level(logging.INFO)
    srv = live_server()
    with ws_connect(srv) as c:
        c.recv()
        c.command({"type": "play"})
    baseline_tasks = _server_tasks(srv)
    baseline_fds = _fds()
    predict = ('{"type": "predict", "pixels": [' + ",".join(["0.1"] * 784) + "]}").encode()
    for i in range(100):
        # a raw socket (so only the server's descriptors are counted): handshake, maybe a message, RST
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
        sock.sendall(ws_upgrade_request(srv.host))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101"), head[:100]
        if i % 2:
            sock.recv(65536)  # part of the hello
        if i % 3 == 0:  # a masked client text frame
            mask = os.urandom(4)
            body = bytes(b ^ mask[j % 4] for j, b in enumerate(predict))
            sock.sendall(struct.pack("!BBH", 0x81, 0x80 | 126, len(body)) + mask + body)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # RST, no close frame
    poll(lambda: not srv.broadcaster.viewers, what="every viewer to be gone")
    poll(lambda: _server_tasks(srv) <= baseline_tasks, what="the server's tasks to end")
    poll(lambda: _fds() <= baseline_fds + 2, what="file descriptors to close")
    with ws_connect(srv) as c:  # still serving
        assert c.recv()["type"] == "hello"
        c.command({"type": "pause"})
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records if r.levelno >= logging.WARNING)
    assert "Traceback" not in text and not [r for r in caplog.records if r.exc_info], text


def _frames_until(conn, stop, timeout: float = 30.0) -> list[dict]:
    """Read (and so keep draining) ``conn`` until ``stop()`` is true; the frames read meanwhile."""
    out = []
    deadline = time.monotonic() + timeout
    while not stop():
        assert time.monotonic() < deadline, "timed out"
        try:
            m = conn.next(timeout=0.2)
        except TimeoutError:
            continue
        if m["type"] == "frame":
            out.append(m)
    return out


def _stalled_viewer_run(srv, measure_alone: bool = False) -> dict:
    """Train a wide network with one healthy viewer, then add a viewer that never reads until dropped.

    Returns the healthy viewer's frames while the stalled one was connected, the iterations trained
    meanwhile, and (``measure_alone``) the training rate with the healthy viewer alone for comparison.
    """
    out = {}
    with ws_connect(srv) as c:
        c.recv()
        # big frames (the 512-wide first layer is 1.6 MB) fill a stalled socket quickly
        c.command({"type": "reset", "hidden": [512, 64], "learning_rate": 0.5})
        c.next(lambda m: m["type"] == "hello" and m["config"]["sizes"] == [784, 512, 64, 10])
        c.command({"type": "play"})
        c.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] >= 20)  # under way
        if measure_alone:
            t0, it0 = time.monotonic(), srv.session.iteration
            _frames_until(c, lambda: time.monotonic() - t0 >= 1.0)  # a one-second measuring window
            out["alone"] = (srv.session.iteration - it0) / (time.monotonic() - t0)
        # a viewer that never reads, with a tiny receive buffer
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.port))
        stalled = connect(srv.ws_url, sock=sock, max_size=None, max_queue=1).__enter__()
        try:
            poll(lambda: len(srv.broadcaster.viewers) == 2, what="the stalled viewer to join")
            t0, it0 = time.monotonic(), srv.session.iteration
            # until the stall limit drops it, the healthy viewer keeps reading
            out["frames"] = _frames_until(c, lambda: len(srv.broadcaster.viewers) == 1)
            out["seconds"] = time.monotonic() - t0
            out["during"] = (srv.session.iteration - it0) / out["seconds"]
            out["trained"] = srv.session.iteration - it0
            c.command({"type": "pause"})
        finally:
            stalled.socket.close()
    return out


def test_a_stalled_viewer_is_dropped_and_blocks_neither_training_nor_the_others(live_server, caplog):
    caplog.set_level(logging.INFO, logger="backprop_lab")
    stall_limit = 1.5
    srv = live_server(stall_limit=stall_limit)
    run = _stalled_viewer_run(srv)
    assert any(f"blocked for {stall_limit:g} s" in r.getMessage() for r in caplog.records)  # dropped for it
    assert run["seconds"] >= stall_limit
    # While one viewer's sends were blocked (at least the stall limit), training went on and the other
    # viewer kept getting new frames: had either waited for the stalled send, they would have frozen.
    assert run["trained"] >= 20, run["trained"]
    frames = run["frames"]
    assert len(frames) >= 5, len(frames)
    iterations = [f["state"]["iteration"] for f in frames]
    assert iterations == sorted(iterations) and iterations[-1] > iterations[0]
    times = [f["time"] for f in frames]
    assert max(b - a for a, b in zip(times, times[1:])) < stall_limit


@pytest.mark.perf
def test_a_stalled_viewer_slows_neither_training_nor_the_others(live_server):
    """The same, measured: training keeps most of its speed and the healthy viewer most of its frames."""
    srv = live_server(stall_limit=1.5)
    run = _stalled_viewer_run(srv, measure_alone=True)
    during, alone = run["during"], run["alone"]
    print(f"\ntraining with a stalled viewer: {during:.0f} steps/s; alone: {alone:.0f} steps/s "
          f"(ratio {during / alone:.2f}); healthy viewer: {len(run['frames']) / run['seconds']:.1f} frames/s")
    assert during > 0.6 * alone, (during, alone)
    assert len(run["frames"]) / run["seconds"] >= 10, run  # ~30 per second for the healthy viewer


def test_pings_drop_a_dead_peer(live_server):
    srv = live_server(uvicorn_overrides={"ws_ping_interval": 0.3, "ws_ping_timeout": 0.5})
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    try:
        sock.sendall(ws_upgrade_request(srv.host))
        assert sock.recv(4096).startswith(b"HTTP/1.1 101")
        poll(lambda: len(srv.broadcaster.viewers) == 1, what="the viewer to join")
        # never answers a ping: the server gives up on it within interval + timeout
        poll(lambda: not srv.broadcaster.viewers, timeout=5, what="the dead peer to be dropped")
    finally:
        sock.close()


def test_cli_refuses_a_checkpoint_it_cannot_serve_in_one_line(tmp_path):
    big = tmp_path / "big.npz"
    checkpoint.save(big, Network([784, 600, 10]))
    r = subprocess.run([sys.executable, "-m", "server", "--port", "0", "--load", str(big), "--checkpoint-dir",
                        str(tmp_path / "cp")], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {big}: ") and "network [784, 600, 10] is outside" in last, last
