"""Shared fixtures: the bundled MNIST (loaded once per session) and tiny hand-written IDX datasets.

Also the ``perf`` marker: a test that asserts how fast something is (and so fails on a busy machine
for reasons that are not bugs) runs only when asked, with ``--perf`` or ``BACKPROP_PERF=1``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from server.engine.data import FILES, load_dataset


@pytest.fixture(scope="session", autouse=True)
def private_data_home(tmp_path_factory):
    """The per-user data folder (checkpoints, autosaves) of every server the tests start, in process or
    as a subprocess, is a temporary one: a test run never writes into the real user's folder."""
    home = tmp_path_factory.mktemp("xdg-data")
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


def pytest_addoption(parser):
    parser.addoption("--perf", action="store_true", default=False,
                     help="also run the timing tests (@pytest.mark.perf); BACKPROP_PERF=1 does the same")


def perf_enabled(config) -> bool:
    return bool(config.getoption("--perf") or os.environ.get("BACKPROP_PERF", "") not in ("", "0"))


def pytest_collection_modifyitems(config, items):
    if perf_enabled(config):
        return
    skip = pytest.mark.skip(reason="timing test: run with --perf or BACKPROP_PERF=1 (on an otherwise idle machine)")
    for item in items:
        if "perf" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def step_spies(monkeypatch):
    """Counts calls to the fused training step (as network.py and the session call it) and to
    ``Network.backprop``."""
    import server.engine.network as network_module
    import server.training.session as session_module

    calls = {"fused": 0, "backprop": 0}
    fused, backprop = network_module.fused_sgd_step, network_module.Network.backprop

    def fused_spy(*args, **kwargs):
        calls["fused"] += 1
        return fused(*args, **kwargs)

    def backprop_spy(self, *args, **kwargs):
        calls["backprop"] += 1
        return backprop(self, *args, **kwargs)

    monkeypatch.setattr(network_module, "fused_sgd_step", fused_spy)
    monkeypatch.setattr(session_module, "fused_sgd_step", fused_spy)  # the session calls it directly too
    monkeypatch.setattr(network_module.Network, "backprop", backprop_spy)
    return calls


@pytest.fixture(scope="session")
def mnist():
    """The bundled MNIST, verified by MD5 (about half a second to load)."""
    return load_dataset()


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    """An IDX file: 0x00 0x00, the element type, the number of dimensions, big-endian sizes, the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, magic_type, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write_idx_dataset(folder: Path, arrays: dict[str, np.ndarray], compress=True, md5sums=False) -> Path:
    """Write train/test images/labels (keys as in server.data.FILES) as IDX files, optionally with MD5SUMS."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = []
    for key, name in FILES.items():
        raw = idx_bytes(arrays[key])
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
        sums.append(f"{hashlib.md5(raw).hexdigest()}  {name}\n")
    if md5sums:
        (folder / "MD5SUMS").write_text("".join(sums))
    return folder


def tiny_arrays(seed: int = 0, n_train: int = 40, n_test: int = 12) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }


@pytest.fixture
def tiny_dataset(tmp_path):
    """A synthetic dataset in the MNIST layout (gzip IDX files + MD5SUMS): (folder, arrays)."""
    arrays = tiny_arrays()
    return write_idx_dataset(tmp_path / "tiny", arrays, md5sums=True), arrays
