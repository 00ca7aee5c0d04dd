"""The walkthrough's numbers are the engine's: per example, per mini-batch, and the applied step."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from server.engine import checkpoint
from server.engine import walkthrough as wt
from server.web.app import Settings, create_app
from server.engine.data import load_dataset, to_float
from server.network import Network, one_hot
from server.web.guard import Guard

pytest_plugins = ["conftest_server"]


@pytest.fixture(scope="module")
def client():
    settings = Settings(guard=Guard(extra_hosts=("testserver",)))
    with TestClient(create_app(settings)) as c:
        session = c.app.state.session
        session.run_steps(300)  # a little training so the numbers are not those of random weights
        yield c


@pytest.fixture(scope="module")
def data():
    return load_dataset()


def live_network(client) -> Network:
    net, _ = checkpoint.from_bytes(client.get("/api/model").content)
    return net


def test_backprop_api_equals_engine_and_changes_nothing(client, data):
    before = client.get("/api/model").content
    x = to_float(data.test_images[0])
    label = int(data.test_labels[0])
    r = client.post("/api/backprop", json={"pixels": x.tolist(), "label": label})
    assert r.status_code == 200, r.text
    body = r.json()
    assert client.get("/api/model").content == before  # weights untouched

    net = live_network(client)
    grads = net.backprop(x[None, :], one_hot([label], 10))
    assert len(body["layers"]) == len(net.weights)
    for l, layer in enumerate(body["layers"]):
        np.testing.assert_allclose(layer["z"], grads.trace.zs[l][0], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(layer["a"], grads.trace.activations[l + 1][0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(layer["delta"], grads.deltas[l][0], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(layer["dC_da"], grads.dC_da[l + 1][0], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(layer["nabla_w"], grads.nabla_w[l], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(layer["nabla_b"], grads.nabla_b[l], rtol=1e-5, atol=1e-8)
        assert np.shape(layer["nabla_w"]) == net.weights[l].shape
    assert body["cost"] == pytest.approx(net.cost(x[None, :], one_hot([label], 10)), rel=1e-5)
    # the lectures' cost table: C0 = Σ (a_j − y_j)²
    assert sum(body["cost_terms"]) == pytest.approx(body["cost"], rel=1e-5)
    assert sum(body["probabilities"]) == pytest.approx(1.0)


def backprop_of(client, data, index: int, label: int):
    """/api/backprop for a test image: the answer, the live network, and every layer's activations a(l−1)."""
    x = to_float(data.test_images[index])
    body = client.post("/api/backprop", json={"pixels": x.tolist(), "label": label}).json()
    prev = [x.astype(np.float64)] + [np.array(l["a"]) for l in body["layers"]]
    return body, live_network(client), prev


def test_backprop_rules_hold_in_the_numbers(client, data):
    """∂C0/∂w_jk = a_k δ_j, δ_j = σ'(z_j) ∂C0/∂a_j, ∂C0/∂a_k = Σ_j w_jk δ_j."""
    body, net, prev = backprop_of(client, data, 1, label=3)
    for l, layer in enumerate(body["layers"]):
        delta = np.array(layer["delta"])
        np.testing.assert_allclose(layer["nabla_w"], np.outer(delta, prev[l]), rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(delta, np.array(layer["sigma_prime"]) * layer["dC_da"], rtol=1e-4, atol=1e-9)
        below = body["layers"][l - 1]["dC_da"] if l > 0 else body["input_dC_da"]
        np.testing.assert_allclose(below, net.weights[l].T.astype(np.float64) @ delta, rtol=1e-4, atol=1e-7)


def test_backprop_carries_the_weights_it_used(client, data):
    """The page lists w_jk·a_k and w_jk·δ_j terms: the weights come with the numbers, from the same network."""
    body, net, prev = backprop_of(client, data, 5, label=2)
    for l, layer in enumerate(body["layers"]):
        np.testing.assert_array_equal(np.array(layer["w"], dtype=np.float32), net.weights[l])
        np.testing.assert_array_equal(np.array(layer["b"], dtype=np.float32), net.biases[l])
        # z_j = Σ_k w_jk a_k + b_j with exactly these numbers
        z = np.array(layer["w"]) @ prev[l] + np.array(layer["b"])
        np.testing.assert_allclose(z, layer["z"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("output, cost", [("sigmoid", "cross_entropy"), ("softmax", "cross_entropy"), ("sigmoid", "quadratic")])
def test_cost_terms_add_up_to_the_cost_even_when_saturated(output, cost):
    """The cost table's terms use the engine's own clamp, so their sum is C0 even for outputs of exactly 0 or 1."""
    net = Network([4, 3], "sigmoid", output, cost, seed=0)
    weights, biases = net.parameters()
    weights[0][:] = np.array([[400.0, 0, 0, 0], [-400.0, 0, 0, 0], [0, 0, 0, 0]])
    net.set_parameters(weights, biases)
    body = wt.example_breakdown(net, np.array([1.0, 0, 0, 0], np.float32), 1)
    assert sum(body["cost_terms"]) == pytest.approx(body["cost"], rel=1e-5)
    assert body["prediction"] == 0 and body["cost"] > 1  # confidently wrong


def test_backprop_accepts_a_drawing(client, data):
    img = data.test_images[2].reshape(28, 28).astype(np.float64) / 255
    big = np.kron(img, np.ones((5, 5)))
    r = client.post("/api/backprop", json={"image": {"width": 140, "height": 140, "pixels": big.ravel().tolist()},
                                           "label": int(data.test_labels[2])})
    assert r.status_code == 200
    assert len(r.json()["input"]) == 784 and "centered" in r.json()["stages"]


@pytest.mark.parametrize("body", [
    {"pixels": [0.0] * 784},  # no label
    {"pixels": [0.0] * 784, "label": 10},
    {"pixels": [0.0] * 783, "label": 1},
    {"pixels": [0.0] * 784, "label": "1"},
    {"pixels": [2.0] * 784, "label": 1},
])
def test_backprop_refuses_bad_input(client, body):
    assert client.post("/api/backprop", json=body).status_code == 422


def test_batch_table_average_is_the_batch_gradient_and_step_is_minus_eta_times_it(client):
    r = client.post("/api/walkthrough/batch", json={"size": 10, "seed": 7})
    assert r.status_code == 200, r.text
    table = r.json()
    assert len(table["indices"]) == 10 and len(table["rows"]) >= 3
    for row in table["rows"]:
        assert len(row["per_example"]) == 10
        # the average column is the mean of the per-example nudges (the lectures' table)...
        assert row["average"] == pytest.approx(np.mean(row["per_example"]), rel=1e-4, abs=1e-7)
    # ... and equals the engine's nabla of that batch
    net = live_network(client)
    data = client.app.state.session.data
    idx = np.array(table["indices"])
    grads = net.backprop(to_float(data.train_images[idx]), one_hot(data.train_labels[idx], 10))
    for row in table["rows"]:
        p = row["param"]
        expected = grads.nabla_b[p["layer"]][p["j"]] if p["k"] is None else grads.nabla_w[p["layer"]][p["j"], p["k"]]
        assert row["average"] == pytest.approx(float(expected), rel=1e-4, abs=1e-7)

    eta = 0.05
    step = client.post("/api/walkthrough/step", json={"indices": table["indices"], "learning_rate": eta}).json()
    for before, after, avg in zip(step["before"], step["after"], step["average"]):
        assert after - before == pytest.approx(-eta * avg, rel=1e-3, abs=1e-6)
    assert step["cost_after"] < step["cost_before"]  # a small step downhill lowers this batch's cost
    after_net = live_network(client)
    for l in range(len(net.weights)):
        np.testing.assert_allclose(after_net.weights[l], net.weights[l] - eta * grads.nabla_w[l], rtol=1e-4, atol=1e-6)
    # undo restores the weights exactly
    assert client.post("/api/undo").json()["undone"] is True
    restored = live_network(client)
    for w0, w1 in zip(net.weights, restored.weights):
        np.testing.assert_array_equal(w0, w1)


def test_teach_moves_the_prediction_toward_the_label_and_undo_restores(client, data):
    x = to_float(data.test_images[3])
    target = (int(data.test_labels[3]) + 1) % 10  # teach it a wrong label: its probability must rise
    before_model = client.get("/api/model").content
    r = client.post("/api/teach", json={"pixels": x.tolist(), "label": target, "learning_rate": 1.0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["after"]["probabilities"][target] > body["before"]["probabilities"][target]
    assert body["cost_after"] < body["cost_before"]
    assert client.get("/api/model").content != before_model
    client.post("/api/undo")
    assert client.get("/api/model").content == before_model


def test_teach_refuses_an_empty_drawing(client):
    r = client.post("/api/teach", json={"image": {"width": 10, "height": 10, "pixels": [0.0] * 100}, "label": 1})
    assert r.status_code == 422 and "empty" in r.json()["detail"]


def test_gradient_check_agrees_with_backprop(client, data):
    x = to_float(data.test_images[4])
    for param in ({"layer": 0, "j": 3, "k": 300}, {"layer": 2, "j": 5, "k": 1}, {"layer": 1, "j": 0}):
        r = client.post("/api/gradcheck", json={"pixels": x.tolist(), "label": 7, "param": param, "eps": 1e-5})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["relative_error"] < 1e-4, body
    r = client.post("/api/gradcheck", json={"pixels": x.tolist(), "label": 7, "param": {"layer": 9, "j": 0}})
    assert r.status_code == 422


def test_pure_batch_table_matches_engine():
    net = Network([6, 5, 3], "tanh", "softmax", "cross_entropy", seed=1, dtype="float64")
    rng = np.random.default_rng(0)
    x, labels = rng.random((4, 6)), np.array([0, 2, 1, 2])
    params = [{"layer": 0, "j": 1, "k": 2}, {"layer": 1, "j": 2, "k": None}]
    table = wt.batch_table(net, x, labels, params)
    g = net.backprop(x, one_hot(labels, 3, "float64"))
    assert table["rows"][0]["average"] == pytest.approx(g.nabla_w[0][1, 2])
    assert table["rows"][1]["average"] == pytest.approx(g.nabla_b[1][2])
    assert table["rows"][0]["average"] == pytest.approx(np.mean(table["rows"][0]["per_example"]))


# ----- issue 11: a lesson on a trained network ---------------------------------------------------------
def engine_grads(net, x, labels):
    return net.backprop(np.asarray(x, np.float32), one_hot(labels, 10))


def param_of(grads, p):
    return float(grads.nabla_b[p["layer"]][p["j"]] if p["k"] is None else grads.nabla_w[p["layer"]][p["j"], p["k"]])


def test_pick_an_easy_one_a_hard_one_and_a_mistake(client, data):
    net = live_network(client)
    for kind in ("easy", "hard", "mistake"):
        r = client.get(f"/api/walkthrough/example?kind={kind}&seed=4")
        assert r.status_code == 200, r.text
        e = r.json()
        x = to_float(data.train_images[e["index"]])
        assert e["label"] == int(data.train_labels[e["index"]]) and e["pixels"] == pytest.approx(x, abs=1e-4)
        cost = net.cost(x[None, :], one_hot([e["label"]], 10))
        assert e["cost"] == pytest.approx(cost, rel=1e-4)
        assert e["prediction"] == int(net.predict(x[None, :])[0])
        if kind == "hard":  # of its sample's mistakes, the one with the largest gradient
            assert e["sample"] == 500 and e["wrong"] > 0 and e["prediction"] != e["label"]
            assert e["gradient_norm"] == pytest.approx(gradient_norms(net, x[None, :], [e["label"]])[0], rel=1e-3)
            assert e["gradient_norm"] > e["median_gradient_norm"]
        if kind == "easy":
            assert e["prediction"] == e["label"] and e["rank"] >= e["sample"] - e["wrong"]
        if kind == "mistake":
            assert e["prediction"] != e["label"]
    # another seed, another sample: another example
    assert client.get("/api/walkthrough/example?kind=hard&seed=5").json()["index"] != \
        client.get("/api/walkthrough/example?kind=hard&seed=4").json()["index"]
    for bad in ("kind=worst", "seed=-1", "sample=0", "sample=5001"):
        assert client.get(f"/api/walkthrough/example?{bad}").status_code == 422, bad


def gradient_norms(net, x, labels) -> np.ndarray:
    """‖∇C0‖ of each example over every weight and bias, from one backprop per example."""
    out = []
    for i in range(len(x)):
        g = net.backprop(x[i : i + 1], one_hot([int(labels[i])], 10), input_gradient=False)
        out.append(np.sqrt(sum(float((w.astype(np.float64) ** 2).sum()) for w in g.nabla_w)
                           + sum(float((b.astype(np.float64) ** 2).sum()) for b in g.nabla_b)))
    return np.array(out)


def test_the_hard_one_learns_most_not_a_saturated_mistake(trained_checkpoint, data):
    """On a trained sigmoid/quadratic network the highest-cost example is a confident mistake whose output
    neuron is saturated (σ′ ≈ 0): its nudges are among the smallest. "Hard" is the mistake with the
    largest gradient ‖∇C0‖ instead — the one the weights learn most from."""
    _, net, _ = trained_checkpoint
    idx = np.sort(np.random.default_rng(3).choice(len(data.train_labels), 500, replace=False))
    x, labels = to_float(data.train_images[idx]), data.train_labels[idx]
    costs, predictions, norms = wt.rank_examples(net, x, labels)
    truth = gradient_norms(net, x, labels)
    np.testing.assert_allclose(norms, truth, rtol=1e-3, atol=1e-9)  # every example's own ‖∇C0‖, in one batch
    worst = int(np.argmax(costs))
    assert norms[worst] < np.percentile(norms, 90)  # the old pick: a big cost that barely moves the weights
    hard = wt.pick_example(costs, predictions, labels, "hard", np.random.default_rng(0), norms)
    wrong = predictions != labels
    assert wrong[hard] and norms[hard] == norms[wrong].max()
    assert norms[hard] > 10 * np.median(norms) and norms[hard] > 10 * norms[worst]
    # with nothing wrong, the largest gradient of all
    right = np.nonzero(~wrong)[0]
    pick = wt.pick_example(costs[right], labels[right], labels[right], "hard", np.random.default_rng(0), norms[right])
    assert norms[right][pick] == norms[right].max()


def test_the_walked_example_is_column_one_and_the_rows_are_the_ones_that_matter(client, data):
    hard = client.get("/api/walkthrough/example?kind=hard&seed=11").json()
    example = {"pixels": hard["pixels"], "label": hard["label"]}
    r = client.post("/api/walkthrough/batch", json={"size": 10, "seed": 3, "example": example})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["example_first"] is True and len(t["indices"]) == 9 and len(t["labels"]) == 10
    assert t["labels"][0] == hard["label"] and t["images"][0] == pytest.approx(hard["pixels"], abs=1e-3)
    assert t["costs"][0] == pytest.approx(hard["cost"], rel=1e-4)
    net = live_network(client)
    idx = np.array(t["indices"])
    x = np.concatenate([np.asarray(hard["pixels"], np.float32)[None, :], to_float(data.train_images[idx])])
    labels = [hard["label"], *data.train_labels[idx]]
    batch = engine_grads(net, x, labels)
    mine = engine_grads(net, x[:1], labels[:1])
    whys = [row.get("why") for row in t["rows"]]
    assert whys.count("example") == 1 and len(t["rows"]) == 5  # 784-16-16-10: out w, example's, out b, W1, W0
    last = len(net.weights) - 1
    for row in t["rows"]:
        p = row["param"]
        assert row["average"] == pytest.approx(param_of(batch, p), rel=1e-4, abs=1e-9)
        assert row["per_example"][0] == pytest.approx(param_of(mine, p), rel=1e-4, abs=1e-9)
        g = (batch if row["why"] == "batch" else mine)
        if p["k"] is None:
            assert abs(g.nabla_b[p["layer"]][p["j"]]) == pytest.approx(np.abs(g.nabla_b[p["layer"]]).max(), rel=1e-6)
        elif row["why"] == "example":
            assert p["layer"] == last and abs(param_of(mine, p)) >= np.sort(np.abs(mine.nabla_w[last]), axis=None)[-2] * (1 - 1e-6)
        else:
            assert abs(param_of(batch, p)) == pytest.approx(np.abs(batch.nabla_w[p["layer"]]).max(), rel=1e-6)
    assert {row["param"]["layer"] for row in t["rows"]} == set(range(len(net.weights)))


def test_the_step_with_the_walked_example_says_what_it_moved(client, data):
    hard = client.get("/api/walkthrough/example?kind=mistake&seed=2").json()
    example = {"pixels": hard["pixels"], "label": hard["label"]}
    t = client.post("/api/walkthrough/batch", json={"size": 10, "seed": 8, "example": example}).json()
    net = live_network(client)
    idx = np.array(t["indices"])
    x = np.concatenate([np.asarray(hard["pixels"], np.float32)[None, :], to_float(data.train_images[idx])])
    labels = np.array([hard["label"], *data.train_labels[idx]])
    eta = 0.5
    params = [row["param"] for row in t["rows"]]
    r = client.post("/api/walkthrough/step", json={"indices": t["indices"], "example": example, "params": params,
                                                     "learning_rate": eta})
    assert r.status_code == 200, r.text
    s = r.json()
    grads = engine_grads(net, x, labels)
    for p, before, after, step, avg in zip(s["params"], s["before"], s["after"], s["step"], s["average"]):
        assert avg == pytest.approx(param_of(grads, p), rel=1e-4, abs=1e-9)
        assert step == pytest.approx(after - before) and step == pytest.approx(-eta * avg, rel=1e-3, abs=1e-7)
    assert s["cost_after"] < s["cost_before"]  # a moderate step downhill lowers this batch's cost
    assert s["labels"] == labels.tolist() and len(s["costs_before"]) == len(s["outputs_after"]) == 10
    a_before = net.feedforward(x)
    assert s["outputs_before"] == pytest.approx([a_before[i, l] for i, l in enumerate(labels)], rel=1e-5)
    assert np.mean(s["costs_before"]) == pytest.approx(s["cost_before"], rel=1e-5)
    assert np.mean(s["costs_after"]) == pytest.approx(s["cost_after"], rel=1e-5)
    after = live_network(client)
    change = after.weights[0].astype(np.float64) - net.weights[0]
    fl = s["first_layer"]
    assert fl["j"] == int(np.argmax(np.linalg.norm(change, axis=1)))
    np.testing.assert_allclose(fl["change"], change[fl["j"]], atol=1e-9)
    np.testing.assert_allclose(fl["change"], -eta * grads.nabla_w[0][fl["j"]], rtol=1e-3, atol=1e-7)
    np.testing.assert_array_equal(np.float32(fl["before"]), net.weights[0][fl["j"]])
    assert client.post("/api/undo").json()["undone"] is True


@pytest.mark.parametrize("body, why", [
    ({"size": 10, "example": {"pixels": [0.5] * 783, "label": 1}}, "784 inputs"),
    ({"size": 10, "example": {"pixels": [0.5] * 784, "label": 10}}, "from 0 to 9"),
    ({"size": 1, "example": {"pixels": [0.5] * 784, "label": 1}}, "at least 2"),
    ({"size": 10, "example": {"pixels": [1.5] * 784, "label": 1}}, "less than or equal to 1"),
    ({"size": 10, "example": {"pixels": [0.5] * 784}}, "label"),
])
def test_a_bad_walked_example_is_refused(client, body, why):
    before = client.get("/api/model").content
    r = client.post("/api/walkthrough/batch", json=body)
    assert r.status_code == 422 and why in r.json()["detail"], r.text
    if body["size"] > 1:  # the same example is refused by the step
        r = client.post("/api/walkthrough/step", json={"indices": [1, 2], "example": body["example"]})
        assert r.status_code == 422 and why in r.json()["detail"], r.text
    assert client.get("/api/model").content == before


def test_set_one_weight_by_hand_moves_the_cost_by_the_slope_and_undo_restores(client, data):
    x = to_float(data.test_images[5])
    label = int(data.test_labels[5])
    before_model = client.get("/api/model").content
    first = client.post("/api/backprop", json={"pixels": x.tolist(), "label": label}).json()
    L = len(first["layers"])
    j, k = label, int(np.argmax(np.abs(first["layers"][-1]["nabla_w"][label])))
    w = first["layers"][-1]["w"][j][k]
    slope = first["layers"][-1]["nabla_w"][j][k]
    dw = -0.01 * np.sign(slope)  # a small move downhill
    r = client.post("/api/walkthrough/set", json={"param": {"layer": L - 1, "j": j, "k": k}, "value": w + dw})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["before"] == pytest.approx(w) and body["after"] == pytest.approx(w + dw, abs=1e-6)
    assert body["param"] == {"layer": L - 1, "j": j, "k": k} and body["undo_depth"] >= 1
    second = client.post("/api/backprop", json={"pixels": x.tolist(), "label": label}).json()
    # z_j moved by a_k · Δw, and C0 by about the slope times Δw: ∂C0/∂w is the slope
    a_k = first["layers"][-2]["a"][k]
    assert second["layers"][-1]["z"][j] - first["layers"][-1]["z"][j] == pytest.approx(a_k * dw, rel=1e-3, abs=1e-6)
    assert second["cost"] < first["cost"]
    assert second["cost"] - first["cost"] == pytest.approx(slope * dw, rel=0.05)
    # a bias too
    r = client.post("/api/walkthrough/set", json={"param": {"layer": 0, "j": 2, "k": None}, "value": -1.25})
    assert r.status_code == 200 and r.json()["after"] == -1.25
    assert live_network(client).biases[0][2] == np.float32(-1.25)
    for _ in range(2):
        assert client.post("/api/undo").json()["undone"] is True
    assert client.get("/api/model").content == before_model


@pytest.mark.parametrize("body, status, why", [
    ({"param": {"layer": 3, "j": 0, "k": 0}, "value": 1.0}, 422, "layer must be from 0 to 2"),
    ({"param": {"layer": 0, "j": 16, "k": 0}, "value": 1.0}, 422, "j must be from 0 to 15"),
    ({"param": {"layer": 0, "j": 0, "k": 784}, "value": 1.0}, 422, "k must be from 0 to 783"),
    ({"param": {"layer": 0, "j": 0, "k": 0}, "value": 1e6}, 422, "The value must be at most 1000, not 1,000,000"),
    ({"param": {"layer": 0, "j": 0, "k": 0}, "value": "1"}, 422, "value"),
    ({"param": {"layer": 0, "j": 0, "k": 0}}, 422, "value"),
    ({"param": {"layer": 0, "j": 0, "k": 0}, "value": 1.0, "why": 1}, 422, "why"),
])
def test_setting_a_parameter_refuses_bad_input_and_changes_nothing(client, body, status, why):
    before = client.get("/api/model").content
    depth = client.app.state.session.undo.__len__()
    r = client.post("/api/walkthrough/set", json=body)
    assert r.status_code == status and why in r.json()["detail"], r.text
    assert client.get("/api/model").content == before and len(client.app.state.session.undo) == depth


def test_setting_a_parameter_to_nan_is_refused(client):
    before = client.get("/api/model").content
    r = client.post("/api/walkthrough/set", content=b'{"param": {"layer": 0, "j": 0, "k": 0}, "value": NaN}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and "NaN" in r.json()["detail"]
    assert client.get("/api/model").content == before


def test_pure_batch_parameters_on_a_network_without_hidden_layers():
    net = Network([6, 3], "sigmoid", "softmax", "cross_entropy", seed=2, dtype="float64")
    rng = np.random.default_rng(1)
    x, labels = rng.random((5, 6)), np.array([0, 1, 2, 1, 0])
    table = wt.batch_table(net, x, labels, None, example_first=True)
    params = [(r["param"]["layer"], r["param"]["j"], r["param"]["k"]) for r in table["rows"]]
    assert len(params) == len(set(params)) == 4 and all(p[0] == 0 for p in params)
    assert [r["why"] for r in table["rows"]] == ["batch", "example", "batch", "batch"]
