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
# (imports of the new modules come below, once they exist)
from server.network import Network
from server.training.snapshots import SnapshotLog
from server.training.store import CheckpointStore

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
