"""The recorded snapshots survive a restart (issue 13: "snapshots are saved with the autosave and with
checkpoints that ask for history"): the autosave and a checkpoint saved with ``"snapshots": true`` carry
them (format backprop-lab/2), a new server or a load restores them, a damaged snapshot part is dropped
with a clear message while the network loads, and old files still load."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np
import pytest

from server.engine import checkpoint
from server.engine.checkpoint import CheckpointError
from server.engine.saved_snapshots import SavedHistory, SavedSnapshot
from server.network import Network
from server.training.snapshots import SnapshotLog
from server.training.snapshots import thin_evenly
from server.training.store import SAVED_SNAPSHOT_BYTES, CheckpointStore

pytest_plugins = ["conftest_server"]
from conftest_server import poll  # noqa: E402


def settle(session) -> None:
    session.read(lambda: None).result(10)


def model(c, **query):
    r = c.get("/api/model", params=query)
    assert r.status_code == 200, r.text
    return checkpoint.from_bytes(r.content)


def snapshots(c) -> list[dict]:
    return c.get("/api/snapshots").json()["snapshots"]


def parameters(net) -> list[np.ndarray]:
    return [*net.weights, *net.biases]


def loaded_message(c) -> str:
    return [e for e in c.app.state.session.events if e["kind"] == "loaded"][-1]["message"]


# ----- the restart: train, autosave, a new server from the autosave ---------------------------------
def test_after_a_restart_from_the_autosave_every_old_snapshot_is_there_with_the_same_parameters(test_client, tmp_path):
    folder = tmp_path / "cp"
    with test_client(checkpoint_dir=folder, autosave=True) as c:
        session = c.app.state.session
        session.run_steps(150)
        session.set_params(learning_rate=1.5)  # a marker, and a snapshot there
        settle(session)
        session.run_steps(170)
        session.step("epoch")  # to the end of the epoch (6000): a snapshot at the epoch's end
        poll(lambda: c.get("/api/state").json()["epoch"] == 1, timeout=30, what="an epoch")
        session.run_steps(7)
        settle(session)
        before = snapshots(c)
        assert [s["iteration"] for s in before] == [0, 1, 2, 4, 8, 16, 32, 64, 128, 150, 256, 512, 1024, 2048,
                                                     4096, 6000]
        models = {s["iteration"]: model(c, iteration=s["iteration"])[0] for s in before}
        now = c.get("/api/state").json()["iteration"]
        measured = c.get("/api/diagnostics").json()["measurements"]
        assert len(measured) > 100
    name = CheckpointStore(folder).newest_autosave()
    assert name and name.startswith("autosave-")

    with test_client(checkpoint_dir=folder, autosave=True, load=str(folder / f"{name}.npz"), resume=True) as c:
        assert c.get("/api/state").json()["iteration"] == now
        after = snapshots(c)
        assert after[:-1] == before  # iteration, epoch, cost and marker of every one
        assert after[-1]["iteration"] == now and after[-1]["marker"]  # and where it resumed
        for s in before:
            net, extra = model(c, iteration=s["iteration"])
            assert extra["iteration"] == s["iteration"]
            for got, want in zip(parameters(net), parameters(models[s["iteration"]])):
                assert got.dtype == want.dtype and np.array_equal(got, want)  # bit for bit
        assert f"{len(before)} snapshots" in loaded_message(c)
        assert c.get("/api/diagnostics").json()["measurements"] == measured  # the charts over the same axis
        # and training goes on recording after them; a branch back into the old run works
        c.app.state.session.run_steps(2)
        c.app.state.session.set_params(learning_rate=0.5)
        settle(c.app.state.session)
        assert [s["iteration"] for s in snapshots(c)][-2:] == [now, now + 2]
        r = c.post("/api/branch", json={"iteration": 100})
        assert r.status_code == 200 and r.json()["iteration"] == 64, r.text
        net, _ = model(c)
        for got, want in zip(parameters(net), parameters(models[64])):
            assert np.array_equal(got, want)


# ----- the file format: backprop-lab/2 -----------------------------------------------------------------
def small_history(net: Network, iterations=(0, 1, 2, 4, 8)) -> SavedHistory:
    rng = np.random.default_rng(3)
    snaps = [SavedSnapshot(it, it // 4, None if it == 0 else float(rng.random()),
                           [rng.standard_normal(w.shape).astype(np.float32) for w in net.weights],
                           [rng.standard_normal(b.shape).astype(np.float32) for b in net.biases], marker=it == 0)
             for it in iterations]
    return SavedHistory(snaps, [])


@pytest.fixture
def net():
    return Network([6, 4, 3], "sigmoid", "sigmoid", "quadratic", seed=0)


def member_span(data: bytes, member: str) -> tuple[int, int]:
    """Where a member's bytes are in the file: (start, end)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(f"{member}.npy")
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    return start, start + info.compress_size


def test_snapshots_round_trip_bit_for_bit_in_format_2_and_a_file_without_them_stays_format_1(net):
    history = small_history(net)
    data = checkpoint.to_bytes(net, {"iteration": 8}, history)
    loaded = checkpoint.read(data)
    assert loaded.dropped is None and loaded.extra == {"iteration": 8}
    assert [s.iteration for s in loaded.history.snapshots] == [0, 1, 2, 4, 8]
    for got, want in zip(loaded.history.snapshots, history.snapshots):
        assert (got.epoch, got.cost, got.marker) == (want.epoch, want.cost, want.marker)
        for a, b in zip(got.weights + got.biases, want.weights + want.biases):
            assert a.dtype == np.float32 and np.array_equal(a, b)
    meta = checkpoint.read_meta(data)
    assert meta["format"] == "backprop-lab/2" and meta["snapshots"] == {"count": 5, "bytes": 5 * 4 * (28 + 15)}
    # the network alone reads as before (the CLI's train --load, older callers)
    alone, extra = checkpoint.from_bytes(data)
    assert np.array_equal(alone.weights[0], net.weights[0]) and extra == {"iteration": 8}
    # no snapshots: exactly the format of earlier versions
    plain = checkpoint.to_bytes(net, {"iteration": 8}, SavedHistory())
    assert plain == checkpoint.to_bytes(net, {"iteration": 8})
    assert checkpoint.read_meta(plain)["format"] == "backprop-lab/1" and "snapshots" not in checkpoint.read_meta(plain)
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        assert sorted(zf.namelist()) == ["W0.npy", "W1.npy", "b0.npy", "b1.npy", "meta.npy"]


def test_a_snapshot_part_cut_short_or_damaged_is_dropped_and_the_network_still_loads(net):
    data = checkpoint.to_bytes(net, {"iteration": 8}, small_history(net))
    start, end = member_span(data, "snapshots_W1")
    damaged = bytearray(data)
    damaged[(start + end) // 2] ^= 0xFF
    cases = {
        "a flipped byte": (bytes(damaged), "snapshots_W1 is damaged (Bad CRC-32"),
        "cut in the snapshots": (data[: (start + end) // 2], "the file is cut short (missing snapshots_W1, snapshots_b1)"),
        "cut after them": (data[:end + 10], "the file is cut short (missing snapshots_b1)"),
    }
    for what, (bad, reason) in cases.items():
        loaded = checkpoint.read(bad, name="m.npz")
        assert loaded.dropped and loaded.dropped.startswith(reason), (what, loaded.dropped)
        assert loaded.history.snapshots == []
        for a, b in zip(parameters(loaded.net), parameters(net)):
            assert np.array_equal(a, b), what
    # a cut inside the network itself still refuses the whole file, as for any checkpoint
    w1_start, _ = member_span(data, "W1")
    with pytest.raises(CheckpointError, match=r"m\.npz: not a readable \.npz file"):
        checkpoint.read(data[: w1_start + 10], name="m.npz")
    # and a format-1 file cut short is refused as before, even when only its directory is gone
    plain = checkpoint.to_bytes(net)
    with pytest.raises(CheckpointError, match="not a readable .npz file"):
        checkpoint.read(plain[: member_span(plain, "meta")[1]])


@pytest.mark.parametrize("change, reason", [
    (lambda ix: ix.update(iterations=[0, 2, 1, 4, 8]), "strictly increasing"),
    (lambda ix: ix.update(costs=[None, "x", 1, 1, 1]), "finite numbers or null"),
    (lambda ix: ix.update(markers=[1, 0, 0, 0, 0]), "true or false"),
    (lambda ix: ix.update(iterations=[0, 1, 2, 4]), "as long as each other"),
    (lambda ix: ix.update(version=9), "version 9"),
    (lambda ix: ix.update(diagnostics=[{"iteration": 1, "layers": []}]), "one row per weight matrix"),
])
def test_a_snapshot_index_that_does_not_fit_drops_the_snapshots_only(net, change, reason):
    data = checkpoint.to_bytes(net, {}, small_history(net))
    with np.load(io.BytesIO(data)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    index = json.loads(arrays["snapshots_index"].tobytes())
    change(index)
    arrays["snapshots_index"] = np.frombuffer(json.dumps(index).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    loaded = checkpoint.read(buf.getvalue())
    assert reason in loaded.dropped and loaded.history.snapshots == []
    assert np.array_equal(loaded.net.weights[1], net.weights[1])


def test_a_member_that_belongs_to_no_format_is_still_refused(net):
    with np.load(io.BytesIO(checkpoint.to_bytes(net, {}, small_history(net)))) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["snapshots_W7"] = np.zeros((5, 1, 1), np.float32)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(CheckpointError, match=r"unexpected \['snapshots_W7'\]"):
        checkpoint.read(buf.getvalue())
    del arrays["snapshots_W7"]
    meta = json.loads(arrays["meta"].tobytes())
    arrays["meta"] = np.frombuffer(json.dumps({**meta, "format": "backprop-lab/1"}).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(CheckpointError, match="unexpected"):  # format 1 has no snapshot members
        checkpoint.read(buf.getvalue())


# ----- the size: bytes per snapshot, and the cap -------------------------------------------------------
def test_each_snapshot_costs_4_bytes_per_parameter_and_the_saved_ones_stay_within_the_cap():
    net = Network([784, 16, 16, 10], seed=0)
    params = sum(a.size for a in parameters(net))
    assert params == 13_002
    base = len(checkpoint.to_bytes(net, {}, small_history(net, [0])))
    more = len(checkpoint.to_bytes(net, {}, small_history(net, range(101))))
    per = (more - base) / 100
    assert 4 * params <= per <= 4 * params + 64, per  # 52,008 bytes of parameters, about 40 of index
    # the cap: the autosave of a log holding more than it is thinned to SAVED_SNAPSHOT_BYTES
    log = SnapshotLog(budget_bytes=200 * 1024 * 1024)
    w, b = [np.zeros((16, 784), np.float32)], [np.zeros(16, np.float32)]  # 50,240 bytes each
    for it in range(240_001):  # 0, 1, 2, 4, … and every epoch of 60 mini-batches: 4,000 epochs
        marker = it in (1000, 100_000)
        if log.wants(it, epoch_end=it % 60 == 0, marker=marker):
            log.record(it, it // 60, 0.5, w, b, marker=marker)
    assert len(log) == 4021 and log.nbytes > SAVED_SNAPSHOT_BYTES
    kept = log.for_saving(SAVED_SNAPSHOT_BYTES, 10_000)
    assert sum(s.nbytes for s in kept) <= SAVED_SNAPSHOT_BYTES
    assert len(kept) == SAVED_SNAPSHOT_BYTES // 50_240 == 667
    its = [s.iteration for s in kept]
    assert its[:8] == [0, 1, 2, 4, 8, 16, 32, 60] and its[-1] == 240_000  # the start, the latest
    assert 1000 in its and 100_000 in its  # and the markers
    late = np.diff(np.log1p([i for i in its if i >= 6000]))
    assert late.max() <= 2.5 * np.median(late)  # evenly on a log axis where it had to thin
    assert len(log.for_saving(SAVED_SNAPSHOT_BYTES, 100)) == 100  # the count cap


def test_thinning_for_saving_keeps_what_the_logs_own_rule_keeps():
    """thin_evenly (a heap, fast enough for thousands of snapshots on the worker) keeps exactly what
    SnapshotLog's one-at-a-time rule (drop the closest on a log axis, markers last) keeps."""
    rng = np.random.default_rng(0)
    iterations = sorted(set(rng.integers(1, 100_000, 400).tolist()) | {0})
    markers = [bool(m) for m in rng.random(len(iterations)) < 0.05]
    one = [np.zeros(10, np.float32)], [np.zeros(0, np.float32)]
    for keep in (300, 60, 10, 2):
        log = SnapshotLog(budget_bytes=10**9)
        for it, m in zip(iterations, markers):
            log.record(it, 0, 1.0, *one, marker=m)
        while len(log) > keep:
            log._drop(log._thinnest())
        assert [iterations[i] for i in thin_evenly(iterations, markers, keep)] == [s["iteration"] for s in log.summaries()]


# ----- over HTTP: saving "with history", loading, uploading ------------------------------------------
def trained_session(c, steps: int = 40):
    session = c.app.state.session
    session.run_steps(steps)
    settle(session)
    return session


def test_a_checkpoint_saved_with_history_brings_its_snapshots_back_and_one_without_does_not(test_client):
    with test_client() as c:
        trained_session(c, 40)
        before = snapshots(c)
        zero, _ = model(c, iteration=0)
        r = c.post("/api/checkpoints", json={"name": "with", "snapshots": True})
        assert r.status_code == 200 and r.json()["snapshots"] == len(before) == 7, r.text
        r = c.post("/api/checkpoints", json={"name": "without"})
        assert r.status_code == 200 and r.json()["snapshots"] == 0, r.text
        listing = {e["name"]: e for e in c.get("/api/checkpoints").json()["checkpoints"]}
        assert (listing["with"]["snapshots"], listing["without"]["snapshots"]) == (7, 0)
        assert listing["with"]["size"] - listing["without"]["size"] > 7 * 52_008

        c.app.state.session.reset([30], "relu", "softmax", "cross_entropy", seed=2)
        settle(c.app.state.session)
        r = c.post("/api/checkpoints/with/load")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["snapshots"] == 7 and body["snapshots_dropped"] is None and "7 snapshots" in body["restored"]
        after = snapshots(c)
        assert after[:-1] == before and after[-1]["iteration"] == 40 and after[-1]["marker"]  # 40: where it was loaded
        net, extra = model(c, iteration=3)
        assert extra["iteration"] == 2
        again, _ = model(c, iteration=0)
        for a, b in zip(parameters(again), parameters(zero)):
            assert np.array_equal(a, b)

        r = c.post("/api/checkpoints/without/load")
        assert r.status_code == 200 and r.json()["snapshots"] == 0 and "snapshots" not in r.json()["restored"]
        assert [s["iteration"] for s in snapshots(c)] == [40]  # only where it was loaded, as before


def test_an_upload_with_a_damaged_snapshot_part_loads_the_network_and_says_the_snapshots_were_dropped(test_client):
    with test_client() as c:
        trained_session(c, 40)
        assert c.post("/api/checkpoints", json={"name": "m", "snapshots": True}).status_code == 200
        data = c.get("/api/checkpoints/m").content
        now, _ = model(c)
        start, end = member_span(data, "snapshots_b0")
        c.app.state.session.reset([30], "relu", "softmax", "cross_entropy", seed=2)
        for bad, reason in [(data[:start + 3], "the file is cut short (missing snapshots_W1, snapshots_W2, snapshots_b0"),
                            (data[:(start + end) // 2] + b"\0" + data[(start + end) // 2 + 1:], "snapshots_b0 is damaged")]:
            r = c.post("/api/checkpoints/upload?name=kept&overwrite=true", content=bad)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["iteration"] == 40 and body["snapshots"] == 0 and body["snapshots_dropped"].startswith(reason)
            assert "its snapshots were dropped: " + reason in body["restored"]
            assert "its snapshots were dropped" in loaded_message(c)
            net, _ = model(c)
            for a, b in zip(parameters(net), parameters(now)):
                assert np.array_equal(a, b)  # the network itself is whole
            assert [s["iteration"] for s in snapshots(c)] == [40]
            entry = [e for e in c.get("/api/checkpoints").json()["checkpoints"] if e["name"] == "kept"][0]
            assert entry["snapshots"] == 0 and "error" not in entry  # the copy kept is a sound file
        # a cut file sitting in the folder lists (marked) and loads the same way
        (CheckpointStore(c.app.state.checkpoints.folder).path("cut")).write_bytes(data[:start + 3])
        entry = [e for e in c.get("/api/checkpoints").json()["checkpoints"] if e["name"] == "cut"][0]
        assert entry["iteration"] == 40 and entry["cut_short"].startswith("not a readable .npz file")
        r = c.post("/api/checkpoints/cut/load")
        assert r.status_code == 200 and r.json()["snapshots_dropped"].startswith("the file is cut short"), r.text


def test_snapshots_after_the_checkpoints_own_iteration_are_dropped(test_client, net):
    big = Network([784, 16, 10], seed=1)
    history = small_history(big, [0, 4, 90])
    extra = {"history": {"iteration": 50, "costs": [1.0] * 50}}
    with test_client() as c:
        r = c.post("/api/checkpoints/upload", content=checkpoint.to_bytes(big, extra, history))
        assert r.status_code == 200, r.text
        assert r.json()["snapshots_dropped"] == "they go to iteration 90, after the network's 50"
        assert [s["iteration"] for s in snapshots(c)] == [50]
        r = c.post("/api/checkpoints/upload?name=kept", content=checkpoint.to_bytes(big, extra, history))
        assert r.status_code == 200 and r.json()["snapshots"] == 0
        assert c.get("/api/checkpoints").json()["checkpoints"][0]["snapshots"] == 0  # its copy: without them
        r = c.post("/api/checkpoints/upload", content=checkpoint.to_bytes(big, extra, small_history(big, [0, 4, 50])))
        assert r.json()["snapshots"] == 3 and r.json()["snapshots_dropped"] is None


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_the_snapshots_choice_must_be_true_or_false(test_client, value):
    with test_client() as c:
        r = c.post("/api/checkpoints", json={"name": "x", "snapshots": value})
        assert r.status_code == 422 and "snapshots" in r.json()["detail"], r.text
        assert c.get("/api/checkpoints").json()["checkpoints"] == []


def test_resuming_from_an_autosave_cut_in_its_snapshots_keeps_the_network_and_says_so(test_client, tmp_path, caplog):
    folder = tmp_path / "cp"
    with test_client(checkpoint_dir=folder, autosave=True) as c:
        trained_session(c, 40)
        now, _ = model(c)
    name = CheckpointStore(folder).newest_autosave()
    path = folder / f"{name}.npz"
    data = path.read_bytes()
    start, _ = member_span(data, "snapshots_W1")
    path.write_bytes(data[:start + 100])  # e.g. a copy that stopped short
    with caplog.at_level("WARNING", logger="backprop_lab"):
        with test_client(checkpoint_dir=folder, load=str(path), resume=True) as c:
            assert c.get("/api/state").json()["iteration"] == 40
            net, _ = model(c)
            for a, b in zip(parameters(net), parameters(now)):
                assert np.array_equal(a, b)
            assert "resumed: " in loaded_message(c) and "its snapshots were dropped: the file is cut short" in loaded_message(c)
            assert [s["iteration"] for s in snapshots(c)] == [40]
    assert any("its recorded snapshots were dropped (the file is cut short" in r.getMessage() for r in caplog.records)
