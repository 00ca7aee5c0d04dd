"""The lecture notes' simple example (issue 11): a network of one neuron per layer, [1, 1, 1, 1], on the
`simple` dataset (one training example x with target y = 1), and what the walkthrough shows of it:

- the chain for the last layer, ∂C0/∂w⁽ᴸ⁾ = ∂z/∂w · ∂a/∂z · ∂C0/∂a = a⁽ᴸ⁻¹⁾ · σ'(z⁽ᴸ⁾) · 2(a⁽ᴸ⁾ − y), and the same
  for b⁽ᴸ⁾ and a⁽ᴸ⁻¹⁾: the factors `/api/backprop` publishes multiply to the engine's own gradient;
- the curve C0(w) of `POST /api/walkthrough/curve`: the engine's cost at each w, and its slope at the
  current w (a finite difference of the curve) is backprop's ∂C0/∂w;
- the slider's sets (`merge_undo`): one drag is one undo step.
Bad input (a w out of range, NaN, low ≥ high, a parameter the network lacks) is refused in one line and
changes nothing.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from server.engine import checkpoint
from server.engine import walkthrough as wt
from server.engine.datasets import registry
from server.engine.network import Network
from server.training.session import TrainingSession

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")
from conftest_server import poll, ws_connect  # noqa: E402

PRESET = {"type": "reset", "hidden": [1, 1], "activation": "sigmoid", "output_activation": "sigmoid",
          "cost": "quadratic", "seed": 9, "dataset": "simple"}
EXAMPLE = {"input": [1.0], "label": 0}
W_L = {"layer": 2, "j": 0, "k": 0}  # w⁽ᴸ⁾: the last weight matrix, its one weight


def settle(session) -> None:
    session.read(lambda: None).result(10)


@pytest.fixture
def simple(test_client):
    """A TestClient whose session is the notes' network, [1, 1, 1, 1] on the simple example."""
    with test_client() as c:
        session = c.app.state.session
        session.reset(PRESET["hidden"], "sigmoid", "sigmoid", "quadratic", seed=9, dataset="simple")
        settle(session)
        yield c


def model(c) -> bytes:
    return c.get("/api/model").content


# ----- the dataset ----------------------------------------------------------------------------------------
def test_the_simple_dataset_is_one_example_x_with_target_one():
    data = registry.make("simple", None)
    assert (data.kind, data.shape, data.input_size, data.class_names) == ("scalar", (1,), 1, ("y = 1",))
    assert data.train_size == data.test_size == 1 and data.train_inputs.tolist() == [[1.0]]
    assert data.train_labels.tolist() == [0] and not data.trivial  # one class by design, not by accident
    assert registry.make("simple", {"x": -0.25}).train_inputs.tolist() == [[-0.25]]
    entry = registry.describe("simple")
    assert (entry["kind"], entry["class_count"], entry["train_size"]) == ("scalar", [1, 1], 1)
    for options, text in [({"x": 2}, "dataset_options.x: must be from -1 to 1, got 2"),
                          ({"x": "1"}, "dataset_options.x: must be a finite number"),
                          ({"y": 0}, "dataset_options.y: simple has no option 'y'")]:
        with pytest.raises(ValueError, match=text):
            registry.make("simple", options)


def test_the_preset_reset_builds_the_notes_network_and_hello_describes_it(live_server):
    srv = live_server()
    with ws_connect(srv) as c:
        c.recv()
        assert c.command(PRESET) == {"type": "ack", "request": "reset"}
        hello = c.next(lambda m: m["type"] == "hello" and m["dataset"]["name"] == "simple")
    assert hello["config"]["sizes"] == [1, 1, 1, 1]
    d = hello["dataset"]
    assert (d["kind"], d["input_size"], d["classes"], d["trivial"], d["values"]) == ("scalar", 1, ["y = 1"], False,
                                                                                      {"x": 1.0})
    assert "points_x" not in hello["_arrays"]
    assert not [e for e in srv.session.events if e["kind"] == "trivial"]


def test_an_input_of_the_wrong_kind_is_refused_naming_what_it_takes(simple):
    for body, text in [({"pixels": [1.0], "label": 0}, "pixels: the simple dataset takes 'input': one number [x]"),
                       ({"input": [1.0, 2.0], "label": 0}, "input: the simple dataset takes 'input': one number [x], got 2"),
                       ({"input": [11.0], "label": 0}, "input: x must lie within ±10"),
                       ({"input": [1.0], "label": 1}, "label: the simple dataset has 1 classes, so it must be from 0 to 0")]:
        r = simple.post("/api/backprop", json=body)
        assert r.status_code == 422 and text in r.json()["detail"], r.text


# ----- the chain ------------------------------------------------------------------------------------------
def test_the_factors_of_the_chain_multiply_to_the_engines_gradient(simple):
    bd = simple.post("/api/backprop", json=EXAMPLE).json()
    net, _ = checkpoint.from_bytes(model(simple))
    assert net.sizes == [1, 1, 1, 1] and bd["target"] == [1.0]
    last, prev = bd["layers"][-1], bd["layers"][-2]
    a_prev, z, a = prev["a"][0], last["z"][0], last["a"][0]
    w, b, y = last["w"][0][0], last["b"][0], bd["target"][0]
    sigma_prime, dC_da = last["sigma_prime"][0], last["dC_da"][0]
    # the forward chain: w⁽ᴸ⁾, a⁽ᴸ⁻¹⁾, b⁽ᴸ⁾ → z⁽ᴸ⁾ → a⁽ᴸ⁾ → C0
    assert z == pytest.approx(w * a_prev + b, rel=1e-6)
    assert a == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-6)
    assert bd["cost"] == pytest.approx((a - y) ** 2, rel=1e-6)
    # each factor is what the notes say it is
    assert sigma_prime == pytest.approx(a * (1 - a), rel=1e-6) and dC_da == pytest.approx(2 * (a - y), rel=1e-6)
    # and their products are the engine's own gradients (backprop, float32)
    x = np.array([[1.0]], np.float32)
    g = net.backprop(x, np.array([[1.0]], np.float32))
    assert a_prev * sigma_prime * dC_da == pytest.approx(float(g.nabla_w[2][0, 0]), rel=1e-6)
    assert last["nabla_w"][0][0] == float(g.nabla_w[2][0, 0])
    assert 1 * sigma_prime * dC_da == pytest.approx(float(g.nabla_b[2][0]), rel=1e-6)
    assert w * sigma_prime * dC_da == pytest.approx(float(g.dC_da[2][0, 0]), rel=1e-6)
    assert prev["dC_da"][0] == float(g.dC_da[2][0, 0])


# ----- the curve C0(w) and its tangent ------------------------------------------------------------------
def test_the_curve_is_the_engines_cost_and_its_slope_at_w_is_backprops(simple):
    bd = simple.post("/api/backprop", json=EXAMPLE).json()
    w, slope = bd["layers"][-1]["w"][0][0], bd["layers"][-1]["nabla_w"][0][0]
    r = simple.post("/api/walkthrough/curve", json={**EXAMPLE, "param": W_L, "low": -6, "high": 6, "points": 121})
    assert r.status_code == 200, r.text
    curve = r.json()
    assert len(curve["values"]) == len(curve["costs"]) == 121 and curve["values"][0] == -6 and curve["values"][-1] == 6
    assert curve["value"] == w and curve["cost"] == pytest.approx(bd["cost"], rel=1e-6)
    assert curve["slope"] == pytest.approx(slope, rel=1e-5)
    # C0 falls as w grows here (a⁽ᴸ⁻¹⁾ > 0 and y = 1 above every a⁽ᴸ⁾): the curve says so
    assert all(c1 < c0 for c0, c1 in zip(curve["costs"], curve["costs"][1:]))
    # the tangent's slope is a finite difference of the engine's C0(w)
    h = 1e-4
    near = simple.post("/api/walkthrough/curve", json={**EXAMPLE, "param": W_L, "low": w - h, "high": w + h,
                                                       "points": 3}).json()
    fd = (near["costs"][2] - near["costs"][0]) / (2 * h)
    assert fd == pytest.approx(slope, rel=1e-5) and near["costs"][1] == pytest.approx(bd["cost"], rel=1e-6)
    # a point of the curve is the cost the live network has when w is set there (the engine, in float32)
    before = model(simple)
    i = 30
    assert simple.post("/api/walkthrough/set", json={"param": W_L, "value": curve["values"][i]}).status_code == 200
    moved = simple.post("/api/backprop", json=EXAMPLE).json()
    assert moved["cost"] == pytest.approx(curve["costs"][i], rel=1e-5)
    assert simple.post("/api/undo").json()["undone"] is True and model(simple) == before


def test_the_curve_of_any_parameter_matches_setting_it():
    """Not only the simple network: any weight or bias of any network (here [5, 4, 3], ReLU, softmax)."""
    net = Network([5, 4, 3], "relu", "softmax", "cross_entropy", seed=1, dtype="float32")
    x = np.linspace(0, 1, 5, dtype=np.float32)
    for p in ({"layer": 0, "j": 2, "k": None}, {"layer": 1, "j": 1, "k": 3}, {"layer": 0, "j": 0, "k": 4}):
        values = np.linspace(-2, 2, 9)
        curve = wt.cost_curve(net, x, 1, p, values)
        for v, c in zip(values, curve["costs"]):
            copy = wt._float64(net)
            (copy.biases[p["layer"]] if p["k"] is None else copy.weights[p["layer"]])[
                (p["j"],) if p["k"] is None else (p["j"], p["k"])] = v
            assert c == pytest.approx(copy.cost(x[None].astype(np.float64), np.eye(3)[[1]]), rel=1e-12)


@pytest.mark.parametrize("change, status, text", [
    ({"low": -2000}, 422, "The lowest value must be at least -1000, not -2000"),
    ({"high": 1e6}, 422, "The highest value must be at most 1000, not 1,000,000"),
    ({"low": 3, "high": 3}, 422, "low must be below high, got low 3 and high 3"),
    ({"points": 1}, 422, "The points must be at least 2, not 1"),
    ({"points": 1000}, 422, "The points must be at most 401, not 1000"),
    ({"low": "-1"}, 422, "low"),
    ({"param": {"layer": 3, "j": 0, "k": 0}}, 422, "layer must be from 0 to 2"),
    ({"param": {"layer": 2, "j": 0, "k": 1}}, 422, "k must be from 0 to 0 in layer 2"),
    ({"input": [1.0, 1.0]}, 422, "input: the simple dataset takes 'input': one number [x], got 2 numbers"),
    ({"label": 3}, 422, "label: the simple dataset has 1 classes"),
])
def test_a_bad_curve_request_is_refused_in_one_line_and_changes_nothing(simple, change, status, text):
    before = model(simple)
    body = {**EXAMPLE, "param": W_L, "low": -6, "high": 6, "points": 11, **change}
    r = simple.post("/api/walkthrough/curve", json=body)
    assert r.status_code == status and text in r.json()["detail"], r.text
    assert "\n" not in r.json()["detail"] and model(simple) == before


def test_nan_for_the_curve_or_the_slider_is_refused(simple):
    before = model(simple)
    for path, body in [("/api/walkthrough/curve", b'{"input": [1], "label": 0, "param": {"layer": 2, "j": 0, "k": 0},'
                                                  b' "low": NaN, "high": 1}'),
                       ("/api/walkthrough/set", b'{"param": {"layer": 2, "j": 0, "k": 0}, "value": NaN,'
                                                b' "merge_undo": true}')]:
        r = simple.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400 and "NaN" in r.json()["detail"], r.text
    r = simple.post("/api/walkthrough/set", json={"param": W_L, "value": 1001, "merge_undo": True})
    assert r.status_code == 422 and "The value must be at most 1000, not 1001" in r.json()["detail"]
    assert model(simple) == before and len(simple.app.state.session.undo) == 0


# ----- the slider: one drag is one undo step ------------------------------------------------------------
def test_a_sliders_run_of_sets_is_one_undo_step(simple):
    session = simple.app.state.session
    before = model(simple)
    for v in (0.5, 1.0, 1.5, 2.0):
        r = simple.post("/api/walkthrough/set", json={"param": W_L, "value": v, "merge_undo": True}).json()
        assert r["undo_depth"] == 1 and r["after"] == v
    assert simple.post("/api/undo").json() == {"undone": True, "undo_depth": 0}
    assert model(simple) == before
    # without merge_undo each set is a step, as before; another parameter or a training step starts a new one
    for v in (0.5, 1.0):
        simple.post("/api/walkthrough/set", json={"param": W_L, "value": v})
    assert len(session.undo) == 2
    simple.post("/api/walkthrough/set", json={"param": {"layer": 2, "j": 0, "k": None}, "value": 0.3, "merge_undo": True})
    assert len(session.undo) == 3
    simple.post("/api/walkthrough/set", json={"param": W_L, "value": 3.0, "merge_undo": True})
    assert len(session.undo) == 4
    session.run_steps(1)
    simple.post("/api/walkthrough/set", json={"param": W_L, "value": 3.5, "merge_undo": True})
    assert len(session.undo) == 5


def test_training_on_the_simple_example_drives_its_cost_down():
    session = TrainingSession(registry.make("simple", None))
    session.reset([1, 1], "sigmoid", "sigmoid", "quadratic", seed=9, dataset="simple")
    session.start()
    try:
        settle(session)
        first = session.net.cost(np.array([[1.0]], np.float32), np.array([[1.0]], np.float32))
        session.run_steps(200)
        settle(session)
        last = session.net.cost(np.array([[1.0]], np.float32), np.array([[1.0]], np.float32))
    finally:
        session.stop()
    assert first == pytest.approx(0.4935, abs=1e-3) and last < first / 10
    assert session.accuracy() == 1.0


def test_training_one_example_flat_out_keeps_a_bounded_number_of_snapshots():
    """An epoch of the simple example is one mini-batch: a snapshot at every epoch end was one per
    iteration (5,000 a second, the process growing by about 5 MB/s). Epoch ends are recorded when they are
    reported, at most two a second while training runs; the log-spaced ones stay."""
    session = TrainingSession(registry.make("simple", None))
    session.reset([1, 1], "sigmoid", "sigmoid", "quadratic", seed=9, dataset="simple")
    session.start()
    try:
        settle(session)
        start = time.perf_counter()
        session.play()
        poll(lambda: session.iteration >= 5000, timeout=60, what="5,000 mini-batches")
        session.pause()
        settle(session)
        seconds = time.perf_counter() - start
        kept = session.read(lambda: [s["iteration"] for s in session.recorder.snapshots.summaries()]).result(10)
    finally:
        session.stop()
    log_spaced = int(np.log2(session.iteration)) + 2  # 0, 1, 2, 4, …
    assert len(kept) <= log_spaced + 2 * seconds + 3, (len(kept), session.iteration, seconds)
    assert {0, 1, 2, 4, 1024, 4096} <= set(kept)
