"""Issue 10 (items 3, 4, 6, 7): nothing a user does loses their work or silently wrecks the network.

- a failed start (port taken) is one line and never touches the autosaves; an autosave is written only
  when the session was trained, and the last few are kept, named by time;
- a checkpoint carries the training hyper-parameters (η, batch size, counters, history) and loading
  restores them, saying what it restored;
- a tiny file claiming a huge network is refused before anything is allocated for it;
- `train --save` checks its path first; `/api/model` round-trips counters; saving never silently
  replaces a checkpoint.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from server.engine import checkpoint
from server.engine.checkpoint import CheckpointError
from server.engine.network import Network, one_hot
from server.training.store import CheckpointStore, export

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")

from conftest_server import TIMEOUT, poll  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def server_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def legacy_autosave(folder: Path, iteration: int = 211_885) -> dict[str, bytes]:
    """An ``autosave.npz`` as the previous version wrote it (one file, replaced at every shutdown)."""
    folder.mkdir(parents=True, exist_ok=True)
    net = Network([784, 16, 16, 10], seed=5)
    checkpoint.save(folder / "autosave.npz", net, {"iteration": iteration})
    return folder_state(folder)


def wait_iteration(c, n: int) -> dict:
    return poll(lambda: (s := c.get("/api/state").json())["iteration"] >= n and not s["running"] and s,
                what=f"iteration {n}")


# ----- item 3: a failed start, and autosaves ----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_taken_port_is_one_line_exit_2_and_the_autosave_survives(tmp_path):
    folder = tmp_path / "cp"
    before = legacy_autosave(folder)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        r = server_cli("--port", str(port), "--checkpoint-dir", str(folder), timeout=60)
    finally:
        taken.close()
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    m = re.fullmatch(rf"error: port {port} is in use; try --port (\d+)", lines[0])
    assert m, lines[0]
    suggested = int(m.group(1))
    assert suggested != port
    with socket.socket() as s:  # the suggestion is a port that is really free
        s.bind(("127.0.0.1", suggested))
    assert r.stdout == ""
    assert folder_state(folder) == before


def test_an_untrained_session_writes_no_autosave(test_client, tmp_path):
    folder = tmp_path / "cp"
    before = legacy_autosave(folder)
    with test_client(checkpoint_dir=folder, autosave=True) as c:
        assert c.get("/api/state").json()["iteration"] == 0
    assert folder_state(folder) == before
    # reset to another network, never trained: nothing worth keeping either
    with test_client(checkpoint_dir=folder, autosave=True) as c:
        c.app.state.session.reset([30], "relu", "softmax", "cross_entropy", seed=3)
        poll(lambda: c.get("/api/state").json()["sizes"] == [784, 30, 10], what="the reset")
    assert folder_state(folder) == before


def test_autosaves_are_named_by_time_and_a_resumed_session_not_trained_further_writes_none(test_client, tmp_path):
    folder = tmp_path / "cp"
    before = legacy_autosave(folder)
    with test_client(checkpoint_dir=folder, autosave=True) as c:
        c.app.state.session.step()
        wait_iteration(c, 1)
    after = folder_state(folder)
    new = sorted(set(after) - set(before))
    assert len(new) == 1 and re.fullmatch(r"autosave-\d{8}-\d{6}(-\d+)?\.npz", new[0]), new
    assert after["autosave.npz"] == before["autosave.npz"]  # the previous session is still there
    store = CheckpointStore(folder)
    assert store.newest_autosave() == new[0][:-4]
    assert store.info(new[0][:-4])["iteration"] == 1

    # resumed (as --resume does: the newest autosave), not trained further: no new autosave
    with test_client(checkpoint_dir=folder, autosave=True, load=str(folder / new[0]), resume=True) as c:
        assert wait_iteration(c, 1)["iteration"] == 1
    assert folder_state(folder) == after


def test_the_last_five_autosaves_are_kept_and_resume_takes_the_newest(tmp_path):
    folder = tmp_path / "cp"
    legacy = legacy_autosave(folder)
    store = CheckpointStore(folder)
    assert store.newest_autosave() == "autosave"  # the old name still resumes
    mine = Network([784, 10], seed=1)
    store.save("autosave-mine", mine)  # a user's own name: never rotated away
    names = []
    for i in range(7):
        net = Network([784, 10], seed=i)
        names.append(store.autosave(net, {"iteration": i}, now=datetime(2026, 12, 1, 17, 30, 10 + i // 2)))
    assert names[0] == "autosave-20261201-173010" and names[1] == "autosave-20261201-173010-2"
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == sorted(["autosave.npz", "autosave-mine.npz", *[f"{n}.npz" for n in names[2:]]])
    assert (folder / "autosave.npz").read_bytes() == legacy["autosave.npz"]
    assert store.newest_autosave() == names[-1]
    listing = {e["name"]: e for e in store.list()}
    assert listing[names[-1]]["autosave"] is True and listing["autosave"]["autosave"] is True
    assert listing["autosave-mine"]["autosave"] is False


def test_resume_on_the_command_line_takes_the_newest_autosave(tmp_path):
    folder = tmp_path / "cp"
    legacy_autosave(folder)
    store = CheckpointStore(folder)
    net = Network([784, 16, 16, 10], seed=9)
    name = store.autosave(net, {"iteration": 0})
    from server.cli.serve import resume_path

    assert resume_path(store) == store.path(name)
    (folder / f"{name}.npz").unlink()
    assert resume_path(store) == store.path("autosave")


# ----- item 4: a checkpoint carries its hyper-parameters ---------------------------------------------
def test_train_save_writes_its_hyper_parameters_and_serve_load_restores_them(tmp_path, test_client):
    path = tmp_path / "m.npz"
    r = server_cli("train", "--train-limit", "2000", "--epochs", "2", "--sizes", "784,20,10", "--activation", "relu",
                   "--output-activation", "softmax", "--cost", "cross_entropy", "--lr", "0.2", "--batch-size", "32",
                   "--seed", "3", "--save", str(path))
    assert r.returncode == 0, r.stderr
    net, extra = checkpoint.load(path)
    iterations = 2 * -(-2000 // 32)
    assert extra["params"] == {"learning_rate": 0.2, "batch_size": 32}
    assert extra["iteration"] == iterations and extra["epochs"] == 2
    assert extra["test_accuracy"] > 0.5
    history = extra["history"]
    assert history["iteration"] == iterations and history["costs_length"] == iterations
    assert history["epoch"] == 2 and history["examples_seen"] == 2 * 2000
    assert [p[2] for p in history["accuracy_history"]] == [True, True]

    with test_client(load=str(path)) as c:
        state = c.get("/api/state").json()
        assert (state["learning_rate"], state["batch_size"], state["iteration"]) == (0.2, 32, iterations)
        session = c.app.state.session
        loaded = [e for e in session.events if e["kind"] == "loaded"]
        assert loaded and f"η 0.2, batch 32, iteration {iterations:,}" in loaded[-1]["message"], loaded


def test_a_checkpoint_without_history_still_restores_its_learning_rate_and_batch_size(test_client):
    net = Network([784, 30, 10], "relu", "softmax", "cross_entropy", seed=4)
    data = checkpoint.to_bytes(net, {"params": {"learning_rate": 0.05, "batch_size": 64}})
    with test_client() as c:
        r = c.post("/api/checkpoints/upload", content=data)
        assert r.status_code == 200, r.text
        state = poll(lambda: (s := c.get("/api/state").json())["sizes"] == [784, 30, 10] and s, what="the upload")
        assert (state["learning_rate"], state["batch_size"], state["iteration"]) == (0.05, 64, 0)
        message = [e for e in c.app.state.session.events if e["kind"] == "loaded"][-1]["message"]
        assert "η 0.05, batch 64" in message, message
        # an old checkpoint (no params) still loads, and keeps the session's η
        c.app.state.session.set_params(learning_rate=0.7)
        poll(lambda: c.get("/api/state").json()["learning_rate"] == 0.7, what="η 0.7")
        r = c.post("/api/checkpoints/upload", content=checkpoint.to_bytes(Network([784, 16, 10], seed=1)))
        assert r.status_code == 200, r.text
        state = poll(lambda: (s := c.get("/api/state").json())["sizes"] == [784, 16, 10] and s, what="the old file")
        assert state["learning_rate"] == 0.7


def test_bad_hyper_parameters_in_a_checkpoint_are_refused_and_change_nothing(test_client):
    net = Network([784, 30, 10], seed=4)
    with test_client() as c:
        before = c.get("/api/state").json()
        for params, words in [({"learning_rate": "fast"}, "learning rate"), ({"batch_size": 2.5}, "batch size"),
                              ([0.1], "params")]:
            r = c.post("/api/checkpoints/upload", content=checkpoint.to_bytes(net, {"params": params}))
            assert r.status_code == 422 and words in r.json()["detail"], (params, r.text)
        assert c.get("/api/state").json() == before


# ----- item 6: a tiny file claiming a huge network ---------------------------------------------------
def huge_claim(sizes) -> bytes:
    """A few hundred bytes: a configuration claiming ``sizes``, and no arrays at all."""
    meta = {"format": checkpoint.FORMAT, "config": {"sizes": sizes, "activation": "sigmoid",
            "output_activation": "sigmoid", "cost": "quadratic", "seed": 0}, "extra": {}}
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    return buf.getvalue()


def peak_allocation(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_tiny_upload_claiming_a_huge_network_is_refused_before_allocating_it(test_client):
    data = huge_claim([784, 4096, 4096, 4096, 10])  # about 270 MB of float64 if it were built
    assert len(data) < 1000
    with test_client() as c:
        before = c.get("/api/state").json()
        r, peak = peak_allocation(lambda: c.post("/api/checkpoints/upload", content=data))
        assert r.status_code == 422
        assert "outside the live session's limits" in r.json()["detail"], r.text
        assert peak < 8 * 2**20, f"peak allocation {peak / 2**20:.1f} MiB"
        assert c.get("/api/state").json() == before


def test_the_engine_allocates_only_what_the_file_holds(tmp_path):
    data = huge_claim([784, 4096, 4096, 4096, 10])
    (tmp_path / "claim.npz").write_bytes(data)

    def load():
        with pytest.raises(CheckpointError, match=r"its arrays do not match the network it describes \(missing \['W0'"):
            checkpoint.load(tmp_path / "claim.npz")  # the CLI's path: no live limits, still no allocation

    _, peak = peak_allocation(load)
    assert peak < 8 * 2**20, f"peak allocation {peak / 2**20:.1f} MiB"

    # members whose headers claim more than the configuration says are refused before they are read
    net = Network([784, 16, 10], seed=0)
    arrays = {"W0": np.zeros((16, 784), np.float32), "b0": np.zeros(16, np.float32),
              "W1": np.zeros((10, 16), np.float32), "b1": np.zeros(10, np.float32),
              "meta": np.frombuffer(json.dumps({"format": checkpoint.FORMAT, "config": net.config}).encode(), np.uint8)}
    arrays["W0"] = np.zeros((4096, 4096), np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    assert len(buf.getvalue()) < 200_000

    def load_big():
        with pytest.raises(CheckpointError, match=r"layer 0: weights \(4096, 4096\)"):
            checkpoint.from_bytes(buf.getvalue())

    _, peak = peak_allocation(load_big)
    assert peak < 8 * 2**20, f"peak allocation {peak / 2**20:.1f} MiB"


def test_from_parameters_builds_the_network_without_random_initialisation(monkeypatch):
    source = Network([12, 7, 3], "tanh", "softmax", "cross_entropy", seed=11, dtype="float64")
    rng = np.random.default_rng(0)
    source.sgd_step(rng.random((8, 12)), one_hot(rng.integers(0, 3, 8), 3), 0.5)

    def no_random(*a, **k):
        raise AssertionError("random initialisation")

    monkeypatch.setattr(Network, "_initial_parameters", no_random)
    net = Network.from_parameters(source.config, source.weights, source.biases)
    assert net.config == source.config
    for a, b in zip(net.weights + net.biases, source.weights + source.biases):
        assert a.dtype == b.dtype and np.array_equal(a, b) and a is not b
    assert net.weights[0].flags.f_contiguous
    x = rng.random((4, 12))
    assert np.array_equal(net.feedforward(x), source.feedforward(x))
    with pytest.raises(ValueError, match="layer 1: weights"):
        Network.from_parameters(source.config, [source.weights[0], source.weights[1].T], source.biases)
    with pytest.raises(ValueError, match="NaN or infinity"):
        Network.from_parameters(source.config, [np.full((7, 12), np.nan), source.weights[1]], source.biases)
    net, _ = checkpoint.from_bytes(checkpoint.to_bytes(source))  # checkpoints load without it too
    assert np.array_equal(net.weights[1], source.weights[1])


# ----- item 7: smaller losses -----------------------------------------------------------------------
def test_train_save_to_a_missing_folder_fails_before_training(tmp_path):
    target = tmp_path / "missing_dir" / "x.npz"
    t0 = time.monotonic()
    r = server_cli("train", "--epochs", "30", "--save", str(target))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --save"), r.stderr
    assert str(tmp_path / "missing_dir") in lines[0] and "does not exist" in lines[0]
    assert ".tmp" not in r.stderr and "Traceback" not in r.stderr
    assert "epoch" not in r.stdout  # nothing was trained
    assert time.monotonic() - t0 < 60
    (tmp_path / "a_file").write_text("")
    r = server_cli("train", "--epochs", "1", "--save", str(tmp_path / "a_file" / "x.npz"))
    assert r.returncode == 2 and "is not a folder" in r.stderr and "epoch" not in r.stdout, r.stderr


def test_the_downloaded_model_carries_counters_params_and_history_back(test_client):
    with test_client() as c:
        session = c.app.state.session
        session.set_params(learning_rate=0.9, batch_size=16)
        for _ in range(3):
            session.step()
        wait_iteration(c, 3)
        model = c.get("/api/model").content
        _, extra = checkpoint.from_bytes(model)
        assert extra["iteration"] == 3 and extra["params"]["learning_rate"] == 0.9
        assert extra["history"]["iteration"] == 3
        session.reset([30], "sigmoid", "sigmoid", "quadratic", seed=1, learning_rate=3.0, batch_size=10)
        poll(lambda: c.get("/api/state").json()["sizes"] == [784, 30, 10], what="the reset")
        r = c.post("/api/checkpoints/upload", content=model)
        assert r.status_code == 200 and r.json()["iteration"] == 3, r.text
        state = poll(lambda: (s := c.get("/api/state").json())["sizes"] == [784, 16, 16, 10] and s, what="the upload")
        assert (state["iteration"], state["learning_rate"], state["batch_size"]) == (3, 0.9, 16)
        assert len(session.cost_history) == 3


def test_saving_over_an_existing_name_needs_overwrite(test_client, tmp_path):
    folder = tmp_path / "cp"
    with test_client(checkpoint_dir=folder) as c:
        assert c.post("/api/checkpoints", json={"name": "x"}).status_code == 200
        first = (folder / "x.npz").read_bytes()
        c.app.state.session.step()
        wait_iteration(c, 1)
        r = c.post("/api/checkpoints", json={"name": "x"})
        assert r.status_code == 409
        assert r.json() == {"detail": "a checkpoint named 'x' exists; send overwrite: true to replace it"}
        assert (folder / "x.npz").read_bytes() == first
        assert c.post("/api/checkpoints", json={"name": "x", "overwrite": "yes"}).status_code == 422
        r = c.post("/api/checkpoints", json={"name": "x", "overwrite": True})
        assert r.status_code == 200 and r.json()["iteration"] == 1
        assert c.post("/api/checkpoints", json={"name": "y", "overwrite": False}).status_code == 200
        # the server's autosave names are not for hand-made checkpoints (rotation would delete them)
        r = c.post("/api/checkpoints", json={"name": "autosave-20261201-173012", "overwrite": True})
        assert r.status_code == 422 and "autosaves" in r.json()["detail"]
        # an upload kept under a taken name asks the same, and loads nothing
        before = c.get("/api/state").json()
        r = c.post("/api/checkpoints/upload?name=x", content=checkpoint.to_bytes(Network([784, 30, 10])))
        assert r.status_code == 409 and "overwrite" in r.json()["detail"]
        assert c.get("/api/state").json() == before
        r = c.post("/api/checkpoints/upload?name=x&overwrite=true", content=checkpoint.to_bytes(Network([784, 30, 10])))
        assert r.status_code == 200, r.text
        assert CheckpointStore(folder).load("x")[0].sizes == [784, 30, 10]
