"""Checkpoints round-trip exactly and refuse anything that is not a plain, consistent set of arrays."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from server.engine import checkpoint
from server.engine.checkpoint import CheckpointError
from server.network import Network, one_hot


@pytest.fixture(params=["float32", "float64"])
def trained(request):
    net = Network([12, 7, 5, 3], "tanh", "softmax", "cross_entropy", seed=11, dtype=request.param)
    rng = np.random.default_rng(0)
    for _ in range(5):  # so that the biases are no longer zero
        net.sgd_step(rng.random((8, 12)), one_hot(rng.integers(0, 3, 8), 3), 0.5)
    return net


def assert_same_network(a: Network, b: Network):
    assert a.config == b.config
    assert len(a.weights) == len(b.weights)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y)  # bit for bit


def test_round_trip_through_a_file(tmp_path, trained):
    path = tmp_path / "net.npz"
    checkpoint.save(path, trained, extra={"test_accuracy": 0.9123, "epoch": 3})
    net, extra = checkpoint.load(path)
    assert_same_network(net, trained)
    assert extra == {"test_accuracy": 0.9123, "epoch": 3}
    x = np.random.default_rng(1).random((4, 12))
    assert np.array_equal(net.feedforward(x), trained.feedforward(x))
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]  # no temporary file left behind


def test_round_trip_through_bytes(trained):
    net, extra = checkpoint.from_bytes(checkpoint.to_bytes(trained))
    assert_same_network(net, trained)
    assert extra == {}
    # the restored network trains on exactly like the original
    x, y = np.random.default_rng(2).random((6, 12)), one_hot([0, 1, 2, 0, 1, 2], 3)
    assert net.sgd_step(x, y, 0.1) == trained.sgd_step(x, y, 0.1)
    assert_same_network(net, trained)


def members(net: Network) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(checkpoint.to_bytes(net))) as npz:
        return {k: npz[k] for k in npz.files}


def npz_bytes(arrays: dict) -> bytes:
    """An .npz as numpy writes it (object arrays get pickled, which a checkpoint must never load)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def meta(config: dict, fmt: str = checkpoint.FORMAT) -> np.ndarray:
    return np.frombuffer(json.dumps({"format": fmt, "config": config, "extra": {}}).encode(), dtype=np.uint8)


@pytest.fixture
def net():
    return Network([6, 4, 3], "relu", "softmax", "cross_entropy", seed=0, dtype="float64")


def refuse(data: bytes, match: str):
    with pytest.raises(CheckpointError, match=match):
        checkpoint.from_bytes(data, name="ckpt.npz")


def test_refuses_pickled_object_arrays(net):
    arrays = members(net)
    arrays["W0"] = np.array([{"evil": "payload"}] * 24, dtype=object).reshape(4, 6)
    refuse(npz_bytes(arrays), r"ckpt\.npz: not a plain-array checkpoint")


def test_refuses_wrong_shapes(net):
    arrays = members(net)
    arrays["W0"] = arrays["W0"].T.copy()
    refuse(npz_bytes(arrays), r"layer 0: weights \(6, 4\) and biases \(4,\) do not match \(4, 6\)")


def test_refuses_missing_members(net):
    arrays = members(net)
    del arrays["b1"]
    refuse(npz_bytes(arrays), r"missing \['b1'\]")


def test_refuses_unexpected_members(net):
    arrays = members(net)
    arrays["W2"] = np.zeros((3, 3))
    refuse(npz_bytes(arrays), r"unexpected \['W2'\]")


def test_refuses_a_missing_configuration(net):
    arrays = members(net)
    del arrays["meta"]
    refuse(npz_bytes(arrays), r"its 'meta' array\) is missing")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_refuses_non_finite_weights(net, bad):
    arrays = members(net)
    arrays["W1"] = arrays["W1"].copy()
    arrays["W1"][1, 2] = bad
    refuse(npz_bytes(arrays), r"layer 1: weights or biases contain NaN or infinity")


def test_refuses_integer_weights(net):
    arrays = members(net)
    arrays["b0"] = np.zeros(4, dtype=np.int64)
    refuse(npz_bytes(arrays), r"b0 must hold floats")


@pytest.mark.parametrize("change,match", [
    (dict(sizes=[6, 0, 3]), r"bad configuration \(every layer size"),
    (dict(activation="softmax"), r"bad configuration \(unknown activation 'softmax'"),
    (dict(output_activation="relu"), r"bad configuration \(cross_entropy needs a softmax or sigmoid"),
    (dict(sizes=[6, 5, 3]), r"weights \(4, 6\) .* do not match \(5, 6\)"),
])
def test_refuses_a_bad_configuration(net, change, match):
    arrays = members(net)
    arrays["meta"] = meta({**net.config, **change})
    refuse(npz_bytes(arrays), match)


def test_refuses_an_unknown_format(net):
    arrays = members(net)
    arrays["meta"] = meta(net.config, fmt="someone-else/7")
    refuse(npz_bytes(arrays), r"unknown format 'someone-else/7'")


def test_refuses_a_meta_that_is_not_json(net):
    arrays = members(net)
    arrays["meta"] = np.frombuffer(b"\xff\xfe not json", dtype=np.uint8)
    refuse(npz_bytes(arrays), r"bad configuration")


def test_refuses_garbage_bytes():
    refuse(bytes(range(256)) * 8, r"ckpt\.npz: not a readable \.npz file")
    refuse(b"", r"not a readable \.npz file")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_refuses_truncated_files(tmp_path, net, keep):
    data = checkpoint.to_bytes(net)
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=r"cut\.npz: not a readable \.npz file"):
        checkpoint.load(path)


def test_refuses_a_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        checkpoint.load(tmp_path / "absent.npz")
