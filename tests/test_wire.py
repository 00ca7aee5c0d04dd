"""The binary envelope and the frame/hello encoders (no server needed)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from server.web.stream import frames
from server.web.stream import wire
from server.training.session import TrainingSession

pytest_plugins = ["conftest_server"]


def test_roundtrip_alignment_and_dtypes():
    arrays = {
        "a": np.arange(5, dtype=np.float32),  # 20 bytes
        "b": np.arange(3, dtype=np.uint8),  # 3 bytes, then padding
        "c": np.arange(6, dtype=np.int32).reshape(2, 3),
        "d": np.linspace(0, 1, 7),  # float64 travels as float32
        "e": np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)),  # sent in C order
        "empty": np.empty((0,), np.float32),
    }
    data = wire.encode({"type": "x", "n": 1}, arrays)
    (n,) = struct.unpack_from("<I", data)
    assert (4 + n) % 4 == 0
    header = json.loads(data[4 : 4 + n])
    assert header["type"] == "x" and header["n"] == 1
    assert all(spec["offset"] % 4 == 0 for spec in header["arrays"].values())
    assert header["arrays"]["d"]["dtype"] == "f4" and header["arrays"]["c"]["shape"] == [2, 3]
    h, out = wire.decode(data)
    for name, a in arrays.items():
        np.testing.assert_allclose(out[name], a.astype(out[name].dtype), rtol=1e-7)
        assert out[name].shape == a.shape
    assert out["b"].dtype == np.uint8 and out["c"].dtype == np.int32 and out["d"].dtype == np.float32


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_never_encoded(bad):
    with pytest.raises(ValueError):
        wire.encode({"type": "x"}, {"w": np.array([1.0, bad], np.float32)})
    with pytest.raises(ValueError):
        wire.dumps({"cost": bad})


def test_frame_shares_arrays_and_appends_each_viewers_costs(small_data):
    s = TrainingSession(small_data)
    s.run_steps(30)
    prep = frames.prepare(s.snapshot(costs_from=5, with_first_layer=True))
    a = frames.frame(prep, 1, 5, 0, 0)
    b = frames.frame(prep, 7, 21, 0, 0)
    ha, xa = wire.decode(a)
    hb, xb = wire.decode(b)
    assert (ha["costs_start"], hb["costs_start"]) == (5, 21)
    values = s.cost_history.values()
    np.testing.assert_array_equal(xa["costs"], values[4:30])
    np.testing.assert_array_equal(xb["costs"], values[20:30])
    for name in xa:
        if name != "costs":
            np.testing.assert_array_equal(xa[name], xb[name])
    np.testing.assert_array_equal(xa["W0"], s.net.weights[0])
    assert ha["has_first_layer"] and hb["seq"] == 7
    assert [g["w"] > 0 for g in ha["grad_norms"]] == [True, True, True]
    without = wire.decode(frames.frame(frames.prepare(s.snapshot(31, False)), 2, 31, 0, 0))
    assert "W0" not in without[1] and "nabla_w0" not in without[1] and "W1" in without[1]
    assert without[0]["grad_norms"][0]["w"] is None and not without[0]["has_first_layer"]


def test_prepare_never_raises_on_non_finite_values(small_data):
    s = TrainingSession(small_data)
    s.run_steps(2)
    snap = s.snapshot()
    snap.weights[1][0, 0] = np.nan
    snap.activations[2][0] = np.inf
    snap.nabla_w[2][0, 0] = np.inf
    data = frames.frame(frames.prepare(snap), 1, 1, 0, 0)  # logged, zeroed, sent
    header, arrays = wire.decode(data)
    assert all(np.isfinite(a).all() for a in arrays.values())
    json.dumps(header, allow_nan=False)


def test_hello_holds_decimated_history(small_data):
    s = TrainingSession(small_data)
    for v in np.linspace(2.0, 0.1, 2500, dtype=np.float32):  # as if 2500 mini-batches had run
        s.cost_history.append(v)
    s.iteration = 2500
    data, info = frames.hello(s)
    header, arrays = wire.decode(data)
    assert header["type"] == "hello" and info.iteration == 2500
    assert len(arrays["cost_values"]) == 2000 and arrays["cost_iterations"][-1] == 2500
    assert np.all(np.diff(arrays["cost_iterations"]) > 0)
    np.testing.assert_allclose(arrays["cost_values"].mean(), s.cost_history.values().mean(), rtol=0.02)  # buckets of 1 or 2


def test_scaled_and_float16_arrays_roundtrip_within_their_precision():
    """docs/protocol.md: a scaled array's value is (q − zero) × scale, one scale or one per row; f2 is
    float16. Each quantiser keeps the precision the protocol states for it."""
    from server.web.stream import quantise

    rng = np.random.default_rng(0)
    w = (rng.standard_normal((6, 50)) * np.array([[1e-3], [1], [30], [0], [1e-6], [5]])).astype(np.float32)
    a = np.abs(rng.standard_normal(300)).astype(np.float32) * 7
    pixels = np.arange(256, dtype=np.uint8) * np.float32(1 / 255)  # as image datasets make them
    data = wire.encode({"type": "x"}, {"w": quantise.u1_rows(w), "a": quantise.f2(a), "u": quantise.u1(a),
                                        "p": quantise.pixels(pixels)})
    header, raw = wire.decode(data, raw=True)
    specs = header["arrays"]
    assert specs["w"]["dtype"] == "u1" and specs["w"]["zero"] == 128 and len(specs["w"]["scale"]) == 6
    assert specs["a"]["dtype"] == "f2" and isinstance(specs["a"]["scale"], float) and raw["a"].dtype == np.float16
    assert specs["p"]["dtype"] == "u1" and "zero" not in specs["p"]
    _, out = wire.decode(data)
    row_max = np.abs(w).max(axis=1, keepdims=True)
    assert (np.abs(out["w"] - w) <= row_max / 254 * (1 + 1e-6)).all()  # 0.4 % of each row's largest
    assert (out["w"][3] == 0).all() and np.abs(out["w"][4]).max() > 0  # a zero row, a tiny one kept
    assert (np.abs(out["a"] - a) <= np.maximum(np.abs(a) * 2**-11, a.max() * 2**-25)).all()
    assert (np.abs(out["u"] - a) <= a.max() / 254 * (1 + 1e-6)).all()
    np.testing.assert_array_equal(out["p"], pixels)  # lossless
    assert quantise.pixels(np.array([0.5, 0.3], np.float32)) is None  # not k/255: stays float32


def test_summary_frames_share_the_core_and_add_each_viewers_parts(small_data):
    from server.training.snapshot import Detail

    s = TrainingSession(small_data, config={"sizes": [784, 40, 30, 10], "activation": "relu",
                                            "output_activation": "softmax", "cost": "cross_entropy", "seed": 0})
    s.run_steps(3)
    prep = frames.prepare(s.snapshot(2, detail=Detail(full=False, neurons=16, blocks=True)), full=False, summary=True)
    assert prep.table is None and prep.summary is not None
    parts = prep.summary.parts
    assert [p.layer for p in parts] == [0, 1, 2] and all(p.nbytes < 40_000 for p in parts)
    a = wire.decode(frames.summary_frame(prep, 1, 2, 0, 0))
    b = wire.decode(frames.summary_frame(prep, 2, 3, 0, 0, [parts[0], parts[2]], prep))
    assert "W0" not in a[1] and "weights_iteration" not in a[0]
    assert b[0]["weights_iteration"] == 3 and set(b[1]) >= {"W0", "rows0", "b0", "nabla_w0", "W2", "cols2"}
    assert a[0]["costs_start"] == 2 and b[0]["costs_start"] == 3 and len(b[1]["costs"]) == 1
    for name in ("a0", "a1", "a2", "a3", "shown1", "shown2", "z3"):
        np.testing.assert_array_equal(a[1][name], b[1][name])
    np.testing.assert_array_equal(b[1]["rows0"], b[1]["shown1"])
    assert b[1]["W0"].shape == (16, 784) and b[1]["W2"].shape == (10, 16)
    np.testing.assert_array_equal(b[1]["W2"], s.net.weights[2][:, b[1]["cols2"]])  # small block: float32
