"""The session and the protocol follow the dataset (issue 15, the server's side).

`reset` picks the dataset and its options, `GET /api/datasets` lists what is offered, `hello` describes the
current dataset (and carries a plane dataset's points), `set_points` edits a custom set while it trains,
checkpoints record the dataset, and every route that takes or gives an example works on the plane as on
images. Refusals name the field and change nothing.
"""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
import pytest

from server.engine import checkpoint
from server.engine.datasets import registry
from server.engine.maps import nearest_labels, plane_grid
from server.engine.network import Network
from server.training.session import TrainingSession
from server.web.stream import wire

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")
from conftest_server import poll, ws_connect  # noqa: E402

TOY = {"activation": "tanh", "output_activation": "softmax", "cost": "cross_entropy", "learning_rate": 0.3}


def settle(session) -> None:
    """Wait until the worker has applied every command sent so far."""
    session.read(lambda: None).result(10)


def reset_msg(dataset: str | None, hidden=(8,), options: dict | None = None, **extra) -> dict:
    msg = {"type": "reset", "hidden": list(hidden), **TOY, **extra}
    if dataset is not None:
        msg["dataset"] = dataset
    if options is not None:
        msg["dataset_options"] = options
    return msg


def next_hello(conn, pred=lambda h: True) -> dict:
    return conn.next(lambda m: m["type"] == "hello" and pred(m))


def model_of(c) -> tuple:
    net, extra = checkpoint.from_bytes(c.get("/api/model").content)
    return net, extra


# ----- what is offered -------------------------------------------------------------------------------
def test_the_datasets_route_lists_every_dataset_with_its_options_and_availability(test_client, tmp_path):
    with test_client(fashion_dir=str(tmp_path / "no-fashion-here")) as c:
        body = c.get("/api/datasets").json()
    assert body["current"] == "mnist"
    by_name = {d["name"]: d for d in body["datasets"]}
    assert list(by_name) == ["mnist", "fashion-mnist", "circle", "xor", "gauss", "spiral", "checkerboard", "custom",
                            "simple"]
    mnist = by_name["mnist"]
    assert (mnist["kind"], mnist["shape"], mnist["input_size"], mnist["classes"]) == ("image", [28, 28], 784,
                                                                                       list("0123456789"))
    assert mnist["available"] is True and mnist["train_size"] == 60000 and mnist["options"] == []
    fashion = by_name["fashion-mnist"]
    assert fashion["available"] is False and "no-fashion-here" in fashion["reason"]
    assert fashion["classes"][0] == "T-shirt/top" and fashion["input_size"] == 784
    spiral = by_name["spiral"]
    assert (spiral["kind"], spiral["input_size"], spiral["shape"], spiral["extent"]) == ("plane", 2, [2], 1.0)
    assert spiral["input_names"] == ["x₁", "x₂"] and "input_names" not in mnist
    assert spiral["class_count"] == [2, 5] and spiral["train_size"] == 800 and spiral["test_size"] == 200
    options = {o["name"]: o for o in spiral["options"]}
    assert set(options) == {"noise", "points", "test_fraction", "classes", "seed"}
    assert options["classes"] == {"name": "classes", "type": "int", "default": 2, "min": 2, "max": 5,
                                  "help": options["classes"]["help"]}
    assert by_name["circle"]["class_count"] == [2, 2] and "classes" not in {o["name"] for o in by_name["circle"]["options"]}
    assert {o["name"] for o in by_name["custom"]["options"]} == {"classes", "points"}
    assert all(d["available"] for n, d in by_name.items() if n != "fashion-mnist")


# ----- reset follows the dataset ---------------------------------------------------------------------
@pytest.mark.parametrize("dataset, options, sizes", [
    ("circle", None, [2, 8, 2]), ("gauss", {"classes": 4, "points": 200}, [2, 8, 4]),
    ("spiral", {"classes": 3, "noise": 0.0, "seed": 5}, [2, 8, 3]), ("checkerboard", {"classes": 5}, [2, 8, 5]),
    ("custom", {"classes": 3, "points": [[0.1, 0.2, 0], [-0.3, 0.4, 2]]}, [2, 8, 3]),
])
def test_a_reset_builds_the_network_the_dataset_needs_and_hello_describes_it(live_server, dataset, options, sizes):
    srv = live_server()
    with ws_connect(srv) as c:
        c.recv()
        assert c.command(reset_msg(dataset, options=options)) == {"type": "ack", "request": "reset"}
        hello = next_hello(c, lambda h: h["dataset"]["name"] == dataset)
    data = registry.make(dataset, options)
    assert hello["config"]["sizes"] == sizes
    d = hello["dataset"]
    assert (d["kind"], d["input_size"], d["classes"], d["trivial"]) == ("plane", 2, list(data.class_names), False)
    assert (d["train_size"], d["test_size"]) == (data.train_size, data.test_size)
    assert d["values"] == registry.option_values(data) and "points" not in (d["values"] if dataset == "custom" else {})
    arrays = hello["_arrays"]
    assert arrays["points_x"].dtype == np.float32 and arrays["points_y"].dtype == np.uint8
    np.testing.assert_array_equal(arrays["points_x"], data.train_inputs)
    np.testing.assert_array_equal(arrays["points_y"], data.train_labels)
    np.testing.assert_array_equal(arrays["test_x"], data.test_inputs)
    np.testing.assert_array_equal(arrays["test_y"], data.test_labels)
    assert hello["state"]["dataset"] == dataset and hello["limits"]["custom_points"] == [1, 500]
    state = httpx.get(srv.url + "/api/state").json()
    assert state["dataset"] == dataset and state["sizes"] == sizes
    assert state["dataset_options"] == registry.option_values(data)


def test_a_reset_without_a_dataset_is_mnist_as_before(live_server):
    srv = live_server()
    with ws_connect(srv) as c:
        hello = c.recv()
        assert hello["dataset"]["name"] == "mnist" and "points_x" not in hello["_arrays"]
        assert hello["dataset"]["classes"] == list("0123456789")
        c.command(reset_msg("circle"))
        next_hello(c, lambda h: h["dataset"]["name"] == "circle")
        c.command({"type": "reset", "hidden": [30]})  # an existing client's reset
        hello = next_hello(c, lambda h: h["dataset"]["name"] == "mnist")
    assert hello["config"]["sizes"] == [784, 30, 10] and "points_x" not in hello["_arrays"]


@pytest.mark.parametrize("change, field", [
    ({"dataset": "moons"}, "dataset: unknown dataset 'moons'"),
    ({"dataset": "gauss", "dataset_options": {"classes": 9}}, "dataset_options.classes: must be from 2 to 5, got 9"),
    ({"dataset": "xor", "dataset_options": {"classes": 3}}, "dataset_options.classes: xor always has classes = 2"),
    ({"dataset": "circle", "dataset_options": {"noise": -1}}, "dataset_options.noise: must be from 0 to 1, got -1"),
    ({"dataset": "custom", "dataset_options": {"points": [[0, 0, 0]] * 501}},
     "dataset_options.points: at most 500 points, got 501"),
    ({"dataset": "spiral", "dataset_options": {"arms": 3}}, "dataset_options.arms: spiral has no option 'arms'"),
    ({"dataset": "circle", "dataset_options": [1, 2]}, "The dataset's options must be an object, not [1, 2]"),
    ({"dataset": 3}, "The dataset must be text, not 3"),
])
def test_a_bad_dataset_in_a_reset_is_refused_naming_the_field_and_changes_nothing(live_server, change, field):
    srv = live_server()
    session = srv.session
    with ws_connect(srv) as c:
        c.recv()
        c.command(reset_msg("circle"))
        next_hello(c, lambda h: h["dataset"]["name"] == "circle")
        settle(session)
        before = (session.structure_version, session.data, [w.copy() for w in session.net.weights])
        reply = c.command({"type": "reset", "hidden": [4], **change})
        assert reply["type"] == "error" and reply["request"] == "reset", reply
        assert field in reply["message"], reply["message"]
        settle(session)
        assert session.structure_version == before[0] and session.data is before[1]
        for w, w0 in zip(session.net.weights, before[2]):
            np.testing.assert_array_equal(w, w0)


def test_an_unavailable_dataset_is_refused_with_the_reason(live_server, tmp_path):
    srv = live_server(fashion_dir=str(tmp_path / "missing"))
    with ws_connect(srv) as c:
        c.recv()
        reply = c.command(reset_msg("fashion-mnist", hidden=[16]))
    assert reply["type"] == "error" and reply["message"].startswith("dataset: fashion-mnist is not available here: ")
    assert "does not exist" in reply["message"] and srv.session.data.name == "mnist"


# ----- the custom set, edited while it trains ---------------------------------------------------------
def test_set_points_replaces_the_custom_set_without_resetting_and_every_tab_sees_it(live_server):
    srv = live_server()
    session = srv.session
    with ws_connect(srv) as a, ws_connect(srv) as b:
        a.recv(), b.recv()
        a.command(reset_msg("custom", options={"classes": 3, "points": [[0.5, 0.5, 0], [-0.5, 0.5, 1]]}))
        for conn in (a, b):
            next_hello(conn, lambda h: h["dataset"]["name"] == "custom")
        a.command({"type": "step"})
        poll(lambda: session.iteration == 1, what="one step")
        settle(session)
        weights = [w.copy() for w in session.net.weights]
        version = session.structure_version
        points = [[0.5, 0.5, 0], [-0.5, 0.5, 1], [0.0, -0.6, 2], [0.2, -0.1, 2]]
        assert a.command({"type": "set_points", "points": points}) == {"type": "ack", "request": "set_points"}
        for conn in (a, b):  # every tab: an event, then a new hello with the new points
            event = conn.next(type="event", kind="points")
            assert event["points"] == 4 and event["trivial"] is False
            hello = next_hello(conn, lambda h: h["dataset"]["train_size"] == 4)
            np.testing.assert_array_equal(hello["_arrays"]["points_x"], np.array(points, np.float32)[:, :2])
            np.testing.assert_array_equal(hello["_arrays"]["points_y"], [0, 1, 2, 2])
            assert hello["state"]["iteration"] == 1  # the history goes on
        settle(session)
        assert session.structure_version == version + 1 and session.iteration == 1
        for w, w0 in zip(session.net.weights, weights):  # the network was not reset
            np.testing.assert_array_equal(w, w0)
        assert httpx.get(srv.url + "/api/train-example", params={"index": 3}).json()["input"] == [0.2, -0.1]
        # it trains on the new points
        a.command({"type": "play"})
        poll(lambda: session.iteration > 200, what="training on the edited set")
        a.command({"type": "pause"})


@pytest.mark.parametrize("points, text", [
    ([[0, 0, 0]] * 501, "points: at most 500 points, got 501"),
    ([[0, 0, 3]], "points[0]: the class must be a whole number from 0 to 1 (2 classes), got 3"),
    ([[0, 2, 0]], "points[0]: y must be a number from -1 to 1, got 2"),
    ([], "points: a custom set needs at least 1 point"),
    ("many", "The points must be a list, not \"many\""),
])
def test_bad_points_are_refused_naming_the_field(live_server, points, text):
    srv = live_server()
    with ws_connect(srv) as c:
        c.recv()
        reply = c.command({"type": "set_points", "points": [[0, 0, 0]]})
        assert reply["type"] == "error" and "the current dataset is mnist" in reply["message"]
        c.command(reset_msg("custom", options={}))
        next_hello(c, lambda h: h["dataset"]["name"] == "custom")
        settle(srv.session)
        data = srv.session.data
        reply = c.command({"type": "set_points", "points": points})
        assert reply["type"] == "error" and reply["request"] == "set_points" and text in reply["message"], reply
        settle(srv.session)
        assert srv.session.data is data


def test_a_single_class_custom_set_trains_and_says_it_is_trivial(test_client, small_data):
    """Before the health checks knew of one-class sets, 'never learning' fired after 700 mini-batches."""
    session = TrainingSession(small_data)
    session.start()
    try:
        session.reset([4], "tanh", "softmax", "cross_entropy", 0, 0.3, 4, "custom",
                      {"points": [[0.1, 0.2, 1], [-0.4, 0.3, 1], [0.5, -0.5, 1]]})
        settle(session)
        assert session.data.trivial
        trivial = next(e for e in session.events if e["kind"] == "trivial")
        assert "class 2" in trivial["message"] and "nothing to tell apart" in trivial["message"]
        session.play()  # until the checks have looked several times, well past their grace period
        stalled = lambda: [e for e in session.events if e["kind"] == "stalled"]  # noqa: E731
        poll(lambda: stalled() or (session.iteration > 3000 and len(session.accuracy_history) >= 5), timeout=30,
             what="3000 mini-batches and 5 evaluations")
        session.pause()
        settle(session)
    finally:
        session.stop()
    assert stalled() == [] and session.health.armed
    assert session.accuracy() == 1.0
    with test_client() as c:
        assert c.get("/api/datasets").status_code == 200


def test_a_custom_reset_without_points_keeps_the_points(test_client):
    with test_client() as c:
        session = c.app.state.session
        points = [[0.1, 0.1, 0], [0.3, -0.2, 1], [-0.6, 0.0, 1]]
        session.reset([3], "tanh", "softmax", "cross_entropy", 0, None, None, "custom", {"points": points})
        settle(session)
        session.reset([5, 5], "relu", "softmax", "cross_entropy", 1, None, None, "custom", {})
        settle(session)
        assert session.net.sizes == [2, 5, 5, 2] and session.data.options["points"] == points
        session.reset([5], "relu", "softmax", "cross_entropy", 1, None, None, "custom", {"classes": 3})
        settle(session)
        assert session.data.train_size == 8  # another class count: the starter set


# ----- the same routes on two datasets ----------------------------------------------------------------
def example_request(kind: str, data) -> dict:
    x = data.inputs(data.test_inputs[0])
    return {"input": x.tolist()} if kind == "plane" else {"pixels": x.tolist()}


@pytest.mark.parametrize("dataset", ["mnist", "circle"])
def test_every_example_route_works_on_images_and_on_the_plane(test_client, dataset):
    with test_client() as c:
        session = c.app.state.session
        if dataset != "mnist":
            session.reset([3], "tanh", "softmax", "cross_entropy", 0, 0.3, 10, dataset, None)
            settle(session)
        data = session.data
        n_classes = data.n_classes
        session.run_steps(20)
        ex = example_request(data.kind, data)
        p = c.post("/api/predict", json=ex).json()
        assert len(p["probabilities"]) == n_classes and p["class_name"] == data.class_names[p["digit"]]
        assert len(p["input"]) == data.input_size and len(p["activations"][0]) == data.input_size
        b = c.post("/api/backprop", json={**ex, "label": n_classes - 1}).json()
        assert len(b["input_dC_da"]) == data.input_size and len(b["target"]) == n_classes
        assert b["label_name"] == data.class_names[-1]
        t = c.get("/api/test-example", params={"index": 0}).json()
        assert t["label"] == int(data.test_labels[0]) and len(t["input"]) == data.input_size
        assert ("pixels" in t) == (data.kind == "image")
        tr = c.get("/api/train-example", params={"index": data.train_size - 1}).json()
        assert tr["class_name"] == data.class_names[tr["label"]]
        assert c.get("/api/test-example", params={"index": data.test_size}).status_code == 422
        m = c.get("/api/mistake")
        assert m.status_code == 200 and m.json()["predicted"] != m.json()["label"]
        batch = c.post("/api/walkthrough/batch", json={"size": 5, "seed": 1}).json()
        assert len(batch["inputs"]) == 5 and len(batch["inputs"][0]) == data.input_size
        assert batch["class_names"] == list(data.class_names)
        step = c.post("/api/walkthrough/step", json={"indices": batch["indices"]}).json()
        assert step["undo_depth"] == 1
        teach = c.post("/api/teach", json={**ex, "label": 1}).json()
        assert teach["after"]["probabilities"][1] > teach["before"]["probabilities"][1]
        assert c.post("/api/undo").json()["undone"] and c.post("/api/undo").json()["undone"]
        g = c.post("/api/gradcheck", json={**ex, "label": 0, "param": {"layer": 0, "j": 0, "k": 1}}).json()
        assert g["relative_error"] < 1e-5
        session.select_example("test", data.test_size - 1)
        with pytest.raises(ValueError, match=f"index: the test set has {data.test_size} examples"):
            session.select_example("test", data.test_size)


@pytest.mark.parametrize("body, text", [
    ({"input": [0.1, 0.2, 0.3]}, "input: the circle dataset takes 'input': a point [x, y] (2 numbers), got 3"),
    ({"input": [0.1]}, "got 1 numbers"),
    ({"pixels": [0.5] * 784}, "pixels: the circle dataset takes 'input'"),
    ({"image": {"width": 1, "height": 1, "pixels": [1.0]}}, "image: the circle dataset takes 'input'"),
    ({"input": [0.1, 50.0]}, "input: a point of the plane must lie within ±10"),
    ({"input": [0.1, 0.2], "pixels": [0.1]}, "exactly one, not both"),
])
def test_a_plane_input_of_the_wrong_kind_or_length_is_refused(test_client, body, text):
    with test_client() as c:
        session = c.app.state.session
        session.reset([3], "tanh", "softmax", "cross_entropy", 0, None, None, "circle", None)
        settle(session)
        r = c.post("/api/predict", json=body)
        assert r.status_code == 422 and text in r.json()["detail"], r.json()
        label = c.post("/api/backprop", json={"input": [0.1, 0.2], "label": 2})
        assert label.status_code == 422
        assert label.json()["detail"] == "label: the circle dataset has 2 classes, so it must be from 0 to 1, got 2"
        mnist_style = c.post("/api/teach", json={"pixels": [0.1] * 784, "label": 0})
        assert mnist_style.status_code == 422 and "takes 'input'" in mnist_style.json()["detail"]


def test_over_the_websocket_a_wrong_input_is_an_error_for_that_request(live_server):
    srv = live_server()
    with ws_connect(srv) as c:
        c.recv()
        c.command(reset_msg("xor"))
        next_hello(c, lambda h: h["dataset"]["name"] == "xor")
        c.send({"type": "predict", "id": 7, "input": [0.5, -0.5]})
        p = c.next(type="prediction")
        assert p["id"] == 7 and len(p["probabilities"]) == 2 and p["class_name"] in ("x·y > 0", "x·y < 0")
        reply = c.command({"type": "predict", "pixels": [0.0] * 784})
        assert reply["type"] == "error" and reply["request"] == "predict" and "takes 'input'" in reply["message"]
        c.send({"type": "backprop", "input": [0.5, -0.5], "label": 5})
        reply = c.next(lambda m: m["type"] in ("backprop", "error"))
        assert reply["type"] == "error" and reply["message"].startswith("label: the xor dataset has 2 classes")


# ----- the walkthrough on a [2,3,2] network equals an independent backprop ----------------------------
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_the_walkthrough_numbers_on_a_2_3_2_network_equal_an_independent_backprop(test_client):
    with test_client() as c:
        session = c.app.state.session
        session.reset([3], "sigmoid", "sigmoid", "quadratic", 4, 1.0, 4, "gauss", {"points": 60})
        settle(session)
        session.run_steps(30)
        net, _ = model_of(c)
        assert net.sizes == [2, 3, 2]
        W = [w.astype(np.float64) for w in net.weights]
        B = [b.astype(np.float64) for b in net.biases]
        x, label = np.array([0.35, -0.6]), 1
        x32 = np.float32(x).astype(np.float64)  # the server computes in float32 from these inputs
        body = c.post("/api/backprop", json={"input": x.tolist(), "label": label}).json()
        # forward and backward written out, in float64, from the downloaded weights
        y = np.array([0.0, 1.0])
        z1 = W[0] @ x32 + B[0]
        a1 = sigmoid(z1)
        z2 = W[1] @ a1 + B[1]
        a2 = sigmoid(z2)
        dC_da2 = 2 * (a2 - y)
        d2 = a2 * (1 - a2) * dC_da2
        dC_da1 = W[1].T @ d2
        d1 = a1 * (1 - a1) * dC_da1
        expected = [
            {"z": z1, "a": a1, "sigma_prime": a1 * (1 - a1), "dC_da": dC_da1, "delta": d1,
             "nabla_w": np.outer(d1, x32), "nabla_b": d1},
            {"z": z2, "a": a2, "sigma_prime": a2 * (1 - a2), "dC_da": dC_da2, "delta": d2,
             "nabla_w": np.outer(d2, a1), "nabla_b": d2},
        ]
        for layer, want in zip(body["layers"], expected):
            for key, value in want.items():
                np.testing.assert_allclose(np.array(layer[key]), value, rtol=1e-4, atol=1e-6, err_msg=key)
        np.testing.assert_allclose(body["input_dC_da"], W[0].T @ d1, rtol=1e-4, atol=1e-6)
        assert body["cost"] == pytest.approx(float(np.sum((a2 - y) ** 2)), rel=1e-5)
        np.testing.assert_allclose(body["cost_terms"], (a2 - y) ** 2, rtol=1e-4, atol=1e-7)
        assert body["prediction"] == int(np.argmax(a2))
        # the mini-batch table shows every one of the 17 parameters, and the step applies −η · average
        params = [{"layer": l, "j": j, "k": k} for l, w in enumerate(W) for j in range(w.shape[0])
                  for k in [*range(w.shape[1]), None]]
        assert len(params) == 17
        table = c.post("/api/walkthrough/batch", json={"size": 4, "seed": 2, "params": params}).json()
        data = session.data
        for row in table["rows"]:
            per = []
            for i in table["indices"]:
                xi = data.train_inputs[i].astype(np.float64)
                yi = np.eye(2)[data.train_labels[i]]
                h = sigmoid(W[0] @ xi + B[0])
                o = sigmoid(W[1] @ h + B[1])
                e2 = o * (1 - o) * 2 * (o - yi)
                e1 = h * (1 - h) * (W[1].T @ e2)
                p = row["param"]
                delta, a_in = (e1, xi) if p["layer"] == 0 else (e2, h)
                per.append(delta[p["j"]] * (1.0 if p["k"] is None else a_in[p["k"]]))
            np.testing.assert_allclose(row["per_example"], per, rtol=1e-4, atol=1e-6)
            assert row["average"] == pytest.approx(np.mean(per), rel=1e-4, abs=1e-6)
        step = c.post("/api/walkthrough/step", json={"indices": table["indices"], "params": params,
                                                     "learning_rate": 0.5}).json()
        np.testing.assert_allclose(step["step"], -0.5 * np.array(step["average"]), rtol=1e-4, atol=1e-6)


# ----- per-neuron maps --------------------------------------------------------------------------------
def test_the_maps_route_equals_a_forward_pass_of_the_downloaded_model(test_client):
    with test_client() as c:
        r = c.post("/api/maps", json={})
        assert r.status_code == 422 and r.json()["detail"].startswith("maps: the current dataset (mnist)")
        session = c.app.state.session
        session.reset([8, 8, 8], "relu", "softmax", "cross_entropy", 2, 0.1, 10, "spiral", {"classes": 3})
        settle(session)
        session.run_steps(300)
        header, arrays = wire.decode(c.post("/api/maps", json={"size": 64}).content)
        net, _ = model_of(c)
    assert header["type"] == "maps" and header["size"] == 64 and header["sizes"] == [2, 8, 8, 8, 3]
    assert [arrays[f"map{l}"].shape for l in (1, 2, 3, 4)] == [(8, 64, 64), (8, 64, 64), (8, 64, 64), (3, 64, 64)]
    grid = plane_grid(64).astype(np.float64)
    rng = np.random.default_rng(0)
    for r_, c_ in [(0, 0), (63, 63), *rng.integers(0, 64, (6, 2)).tolist()]:
        a = grid[r_ * 64 + c_]
        for l, (w, b) in enumerate(zip(net.weights, net.biases)):
            z = w.astype(np.float64) @ a + b
            a = np.maximum(z, 0) if l < 3 else np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            layer = header["layers"][l]
            lo, hi = np.array(layer["lo"]), np.array(layer["hi"])
            value = lo + (hi - lo) * arrays[f"map{l + 1}"][:, r_, c_] / 255.0
            np.testing.assert_allclose(value, a, atol=(hi - lo).max() / 255 + 1e-5)


def test_the_cost_gradient_maps_route_equals_the_walkthrough_at_grid_points(test_client):
    with test_client() as c:
        session = c.app.state.session
        session.reset([6, 6], "tanh", "softmax", "cross_entropy", 2, 0.1, 10, "spiral", {"classes": 3})
        settle(session)
        session.run_steps(200)
        for values in ("dC_da", "delta"):
            for label in (None, 1):
                body = {"size": 32, "values": values, **({} if label is None else {"label": label})}
                header, arrays = wire.decode(c.post("/api/maps", json=body).content)
                assert header["values"] == values and header["label"] == ("nearest" if label is None else label)
                assert [arrays[f"map{l}"].shape for l in (1, 2, 3)] == [(6, 32, 32), (6, 32, 32), (3, 32, 32)]
                grid = plane_grid(32)
                data = session.data
                labels = nearest_labels(grid, data.train_inputs, data.train_labels) if label is None else [label] * len(grid)
                for p in (0, 32 * 7 + 20, 1023):
                    bd = c.post("/api/backprop", json={"input": grid[p].tolist(), "label": int(labels[p])}).json()
                    for l, layer in enumerate(header["layers"]):
                        lo, hi = np.array(layer["lo"]), np.array(layer["hi"])
                        value = lo + (hi - lo) * arrays[f"map{l + 1}"][:, p // 32, p % 32] / 255.0
                        np.testing.assert_allclose(value, bd["layers"][l][values], atol=(hi - lo).max() / 255 + 1e-6)
        # refusals: a label out of range, a label for activation maps; nothing else changes
        it = session.iteration
        r = c.post("/api/maps", json={"values": "dC_da", "label": 3})
        assert r.status_code == 422 and r.json()["detail"] == "label: the spiral dataset has 3 classes, so it must be from 0 to 2, got 3"
        r = c.post("/api/maps", json={"values": "a", "label": 0})
        assert r.status_code == 422 and "label: only the cost's gradient maps" in r.json()["detail"]
        r = c.post("/api/maps", json={"values": "grad"})
        assert r.status_code == 422 and "values" in r.json()["detail"]
        assert session.iteration == it


# ----- checkpoints record the dataset -----------------------------------------------------------------
def test_a_checkpoint_records_its_dataset_and_loading_restores_it(test_client):
    points = [[0.1, 0.1, 0], [0.3, -0.2, 1], [-0.6, 0.0, 2], [0.9, 0.9, 1]]
    with test_client() as c:
        session = c.app.state.session
        session.reset([4], "tanh", "softmax", "cross_entropy", 0, 0.3, 10, "spiral",
                      {"classes": 3, "noise": 0.1, "seed": 9})
        settle(session)
        session.run_steps(50)
        assert c.post("/api/checkpoints", json={"name": "spiral3"}).json()["dataset"] == "spiral"
        _, extra = model_of(c)
        assert extra["dataset"] == {"name": "spiral", "options": {"noise": 0.1, "points": 1000, "test_fraction": 0.2,
                                                                   "classes": 3, "seed": 9}}
        session.reset([4], "tanh", "softmax", "cross_entropy", 0, 0.3, 10, "custom", {"classes": 3, "points": points})
        settle(session)
        c.post("/api/checkpoints", json={"name": "mine"})
        session.reset([16], "sigmoid", "sigmoid", "quadratic", 0, None, None, None, None)
        settle(session)
        assert session.data.name == "mnist"
        loaded = c.post("/api/checkpoints/spiral3/load").json()
        assert loaded["dataset"] == "spiral" and loaded["restored"].startswith("dataset spiral")
        state = c.get("/api/state").json()
        assert state["dataset"] == "spiral" and state["dataset_options"]["noise"] == 0.1
        assert state["sizes"] == [2, 4, 3] and state["iteration"] == 50
        np.testing.assert_array_equal(session.data.train_inputs, registry.make(
            "spiral", {"classes": 3, "noise": 0.1, "seed": 9}).train_inputs)
        assert c.post("/api/checkpoints/mine/load").json()["dataset"] == "custom"
        assert session.data.options["points"] == points
        listed = {e["name"]: e["dataset"] for e in c.get("/api/checkpoints").json()["checkpoints"]}
        assert listed == {"spiral3": "spiral", "mine": "custom"}


def test_an_older_checkpoint_without_a_dataset_is_mnist(test_client, trained_checkpoint):
    path, net, _ = trained_checkpoint
    with test_client() as c:
        session = c.app.state.session
        session.reset([4], "tanh", "softmax", "cross_entropy", 0, None, None, "xor", None)
        settle(session)
        r = c.post("/api/checkpoints/upload", content=path.read_bytes())
        assert r.status_code == 200 and r.json()["dataset"] == "mnist"
        assert c.get("/api/state").json()["dataset"] == "mnist" and session.net.sizes == net.sizes


def test_a_checkpoint_whose_dataset_is_not_here_is_refused_and_changes_nothing(test_client, tmp_path):
    data = checkpoint.to_bytes(Network([784, 8, 10], seed=0), {"dataset": {"name": "fashion-mnist", "options": {}}})
    mismatch = checkpoint.to_bytes(Network([2, 8, 3], seed=0), {"dataset": {"name": "circle", "options": {}}})
    with test_client(fashion_dir=str(tmp_path / "none")) as c:
        before = c.get("/api/state").json()
        r = c.post("/api/checkpoints/upload", content=data)
        assert r.status_code == 422 and "fashion-mnist is not available here" in r.json()["detail"]
        r = c.post("/api/checkpoints/upload", content=mismatch)
        assert r.status_code == 422 and "does not fit the circle dataset: it needs 2 inputs and 2 outputs" in \
            r.json()["detail"], r.json()
        assert c.get("/api/state").json() == before


# ----- a small dataset ends many epochs a second: they are reported, not flooded ----------------------
def test_a_toy_dataset_training_flat_out_reports_epochs_at_most_twice_a_second(live_server):
    """Before: one `epoch` event (and a whole-test-set evaluation) per epoch, hundreds a second here."""
    srv = live_server()
    with ws_connect(srv) as c:
        c.recv()
        c.command(reset_msg("gauss", options={"points": 40, "test_fraction": 0.5}, batch_size=10))
        next_hello(c, lambda h: h["dataset"]["name"] == "gauss")
        start = time.monotonic()
        c.command({"type": "play"})
        reported = lambda: [e for e in srv.session.events if e["kind"] == "epoch"]  # noqa: E731
        poll(lambda: len(reported()) >= 3, timeout=30, what="three epoch reports")
        c.command({"type": "pause"})
        settle(srv.session)
        seconds = time.monotonic() - start
    events = reported()
    epochs = srv.session.stream.epoch
    assert len(events) <= 2 * seconds + 2 and len(events) < epochs / 10, (len(events), epochs, seconds)
    assert sum(e["epochs"] for e in events) <= epochs and all(e["epochs"] >= 1 for e in events)
    assert all(e["message"].startswith("epochs ") and e["epochs"] > 1 for e in events[1:]), events


@pytest.mark.parametrize("hidden, classes", [([], 2), ([1], 2), ([3], 5), ([8, 8, 8], 3)])
def test_the_walkthrough_default_picks_work_with_2_inputs_and_2_to_5_outputs(test_client, hidden, classes):
    with test_client() as c:
        session = c.app.state.session
        session.reset(hidden, "tanh", "softmax", "cross_entropy", 0, 0.3, 10, "gauss", {"classes": classes})
        settle(session)
        table = c.post("/api/walkthrough/batch", json={"size": 6, "seed": 0}).json()
        params = [r["param"] for r in table["rows"]]
        assert params and all(0 <= p["layer"] <= len(hidden) for p in params)
        assert len({json.dumps(p, sort_keys=True) for p in params}) == len(params)  # no parameter twice
        step = c.post("/api/walkthrough/step", json={"indices": table["indices"]}).json()
        assert len(step["params"]) == len(params) and step["undo_depth"] == 1
        assert c.post("/api/undo").json()["undone"]
