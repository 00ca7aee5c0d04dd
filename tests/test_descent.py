"""The Descent view's routes (issue 14): the line, the surface with its path, GD against SGD, the limits,
and a newer request from the same tab replacing an older one."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from server.engine import checkpoint
from server.engine.data import to_float
from server.network import Network, one_hot
from server.web.routes import descent

pytest_plugins = ["conftest_server"]
from conftest_server import poll  # noqa: E402


def current(c):
    net, _ = checkpoint.from_bytes(c.get("/api/model").content)
    return net


def eval_set(data, n):
    return to_float(data.train_images[:n]), one_hot(data.train_labels[:n], 10, "float32")


def test_the_line_starts_at_the_current_cost_and_its_eta_point_is_one_full_batch_step(test_client, server_data):
    with test_client() as c:
        c.app.state.session.run_steps(100)
        eta = c.get("/api/state").json()["learning_rate"]
        body = c.post("/api/descent/line", json={"examples": 500, "max_step": 2 * eta, "points": 41}).json()
        net = current(c)
    x, y = eval_set(server_data, 500)
    assert body["steps"][0] == 0 and body["learning_rate"] == eta and body["examples"] == 500
    assert body["costs"][0] == pytest.approx(net.cost(x, y), rel=1e-5)
    net64 = Network.from_parameters({**net.config, "dtype": "float64"}, net.weights, net.biases)
    g = net64.backprop(x.astype(np.float64), y.astype(np.float64), input_gradient=False)
    net64.apply_gradients(g.nabla_w, g.nabla_b, eta)
    assert body["costs"][20] == pytest.approx(net64.cost(x.astype(np.float64), y.astype(np.float64)), rel=1e-4)


def test_the_surface_is_centred_on_the_current_cost_with_the_path_on_a_pca_plane(test_client, server_data):
    with test_client() as c:
        c.app.state.session.run_steps(200)
        body = c.post("/api/descent/surface", json={"plane": "pca", "resolution": 9, "span": 2.0, "examples": 300}).json()
        net = current(c)
    x, y = eval_set(server_data, 300)
    assert body["center_cost"] == pytest.approx(net.cost(x, y), rel=1e-5)
    assert body["costs"][4][4] == pytest.approx(body["center_cost"], rel=1e-5)  # α = β = 0 is the current point
    assert len(body["alphas"]) == 9 and len(body["costs"]) == 9 and len(body["costs"][0]) == 9
    assert 0 < sum(body["explained"]) <= 1 + 1e-9 and body["exact_path"] is False
    iterations = [p[3] for p in body["path"]]
    assert iterations[0] == 0 and iterations[-1] == 128 and len(body["gradient"]) == 2
    start = Network([784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic", seed=0)
    assert body["path"][0][2] == pytest.approx(start.cost(x, y), rel=1e-5)  # each path point's own cost


def test_the_weights_plane_holds_those_two_weights_exactly(test_client, server_data):
    with test_client() as c:
        c.app.state.session.run_steps(50)
        params = [{"layer": 2, "j": 1, "k": 3}, {"layer": 0, "j": 4, "k": None}]
        body = c.post("/api/descent/surface", json={"plane": "weights", "weights": params, "resolution": 3,
                                                    "span": 1.0, "examples": 200}).json()
        net = current(c)
    x, y = eval_set(server_data, 200)
    net.weights[2][1, 3] += 1.0  # α = +1 (last column), β = −1 (first row)
    net.biases[0][4] -= 1.0
    assert body["costs"][0][2] == pytest.approx(net.cost(x, y), rel=1e-5) and body["exact_path"] is True


def test_gradient_descent_never_rises_at_a_small_eta_and_every_runner_starts_together(test_client):
    with test_client() as c:
        body = c.post("/api/descent/runners", json={"steps": 20, "learning_rate": 0.5, "examples": 200,
                                                    "batch_sizes": [1, 10]}).json()
    gd, *sgd = body["runners"]
    assert gd["name"] == "gradient descent" and [r["batch_size"] for r in sgd] == [1, 10]
    costs = np.array(gd["costs"])
    assert np.all(np.diff(costs) <= 1e-9) and all(r["costs"][0] == gd["costs"][0] for r in sgd)
    assert gd["examples"][-1] == 20 * 200 and sgd[0]["examples"][-1] == 20
    assert np.allclose(gd["path"][0], sgd[0]["path"][0])


@pytest.mark.parametrize("path, body, words", [
    ("/api/descent/surface", {"resolution": 200}, "resolution: Input should be less than or equal to 81"),
    ("/api/descent/surface", {"span": -1}, "span: Input should be greater than 0"),
    ("/api/descent/surface", {"plane": "pizza"}, "plane: Input should be 'pca', 'random' or 'weights'"),
    ("/api/descent/surface", {"plane": "weights"}, "the 'weights' plane needs exactly two parameters"),
    ("/api/descent/surface", {"plane": "pca"}, "the PCA plane needs the recorded path"),
    ("/api/descent/surface", {"plane": "weights", "weights": [{"layer": 9, "j": 0, "k": 0}] * 2}, "layer 9 does not exist"),
    ("/api/descent/line", {"examples": 0}, "examples: Input should be greater than or equal to 1"),
    ("/api/descent/line", {"points": 100000}, "points: Input should be less than or equal to 201"),
    ("/api/descent/runners", {"steps": 10**6}, "steps: Input should be less than or equal to 500"),
])
def test_out_of_range_gets_a_precise_422(test_client, path, body, words):
    with test_client() as c:
        r = c.post(path, json=body)
        assert r.status_code == 422 and words in r.json()["detail"], r.text


def test_a_diverging_runner_stops_and_says_so(test_client):
    with test_client() as c:
        session = c.app.state.session
        session.reset([16, 16], "relu", "relu", "quadratic", seed=0)  # nothing bounds a ReLU output
        session.read(lambda: None).result(10)
        body = c.post("/api/descent/runners", json={"steps": 100, "learning_rate": 10, "examples": 100,
                                                    "batch_sizes": [1]}).json()
    gd, sgd = body["runners"]
    assert sgd["diverged_at"] is not None and "diverged at step" in sgd["note"]
    assert len(sgd["costs"]) <= sgd["diverged_at"]  # nothing after it


def test_a_newer_request_from_the_same_tab_replaces_the_older(test_client, monkeypatch):
    started, release = threading.Event(), threading.Event()
    real = descent.ls.surface

    def slow_surface(*args, **kw):  # hold the first computation until the second arrives
        if not started.is_set():
            started.set()
            release.wait(10)
        return real(*args, **kw)

    monkeypatch.setattr(descent.ls, "surface", slow_surface)
    with test_client() as c:
        results = {}
        first = threading.Thread(target=lambda: results.setdefault("first", c.post(
            "/api/descent/surface", json={"plane": "random", "resolution": 5, "examples": 50, "tab": "t1"})))
        first.start()
        assert started.wait(10)
        second = c.post("/api/descent/surface", json={"plane": "random", "resolution": 5, "examples": 50, "tab": "t1"})
        release.set()
        first.join(10)
        assert second.status_code == 200
        assert results["first"].status_code == 409 and "replaced" in results["first"].json()["detail"]
        # another tab is never cancelled by this one
        other = c.post("/api/descent/surface", json={"plane": "random", "resolution": 5, "examples": 50, "tab": "t2"})
        assert other.status_code == 200


def test_the_surface_streams_coarse_then_rows_then_the_whole(test_client):
    with test_client() as c:
        r = c.post("/api/descent/surface", json={"plane": "random", "resolution": 21, "examples": 100, "stream": True})
        lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines[0]["type"] == "coarse" and len(lines[0]["costs"]) == 11
    rows = [line for line in lines if line["type"] == "rows"]
    assert sum(len(line["costs"]) for line in rows) == 21
    assert lines[-1]["type"] == "done" and len(lines[-1]["costs"]) == 21
    assert lines[-1]["costs"][10][10] == pytest.approx(lines[-1]["center_cost"], rel=1e-5)
