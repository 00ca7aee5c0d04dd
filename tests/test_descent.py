"""The Descent view's routes (issue 14): the line, the surface with its path, GD against SGD, the limits,
and a newer request from the same tab replacing an older one."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from server.engine import checkpoint
from server.engine import landscape as ls
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


def path_nets(c, path, now):
    """The network at each path point: the recorded snapshots (GET /api/model?iteration=K), then now."""
    nets = {}
    for p in path:
        if p[3] == now:
            nets[p[3]] = current(c)
        else:
            nets[p[3]], extra = checkpoint.from_bytes(c.get(f"/api/model?iteration={p[3]}").content)
            assert extra["iteration"] == p[3]
    return nets


def bilinear(body, a, b):
    """The grid's value at (α, β), read off the heat map by bilinear interpolation."""
    al, be, g = np.array(body["alphas"]), np.array(body["betas"]), np.array(body["costs"], float)
    i = min(len(al) - 2, int(np.searchsorted(al, a) - 1))
    j = min(len(be) - 2, int(np.searchsorted(be, b) - 1))
    u, v = (a - al[i]) / (al[i + 1] - al[i]), (b - be[j]) / (be[j + 1] - be[j])
    return (1 - u) * (1 - v) * g[j, i] + u * (1 - v) * g[j, i + 1] + (1 - u) * v * g[j + 1, i] + u * v * g[j + 1, i + 1]


def test_the_pca_slice_is_fitted_to_the_path_and_each_point_carries_its_own_and_the_slices_cost(test_client, server_data):
    """The PCA plane through the current weights holds the recorded path: the grid is a square that
    contains every projected point with a margin; each point carries the cost its weights really have and
    the slice's cost at its projection, and the reported explained share is that of these very points."""
    with test_client() as c:
        c.app.state.session.run_steps(200)
        body = c.post("/api/descent/surface", json={"plane": "pca", "resolution": 41, "examples": 300}).json()
        net = current(c)
        snaps = path_nets(c, body["path"], 200)
    x, y = eval_set(server_data, 300)
    assert body["center_cost"] == pytest.approx(net.cost(x, y), rel=1e-5)
    assert 0 < sum(body["explained"]) <= 1 + 1e-9 and body["exact_path"] is False and len(body["gradient"]) == 2
    path = np.array(body["path"], float)  # [α, β, own cost, iteration, slice cost, distance off the plane]
    assert path[0, 3] == 0 and path[-1, 3] == 200  # from the first snapshot to the current weights
    np.testing.assert_allclose(path[-1, [0, 1, 5]], 0, atol=1e-9)
    assert path[-1, 2] == pytest.approx(body["center_cost"], rel=1e-5) and path[-1, 4] == pytest.approx(body["center_cost"], rel=1e-5)
    # the whole path is inside the drawn slice, with a margin, on equal axes
    al, be = np.array(body["alphas"]), np.array(body["betas"])
    side = al[-1] - al[0]
    assert be[-1] - be[0] == pytest.approx(side) and len(be) == len(al) == len(body["costs"]) == 41
    assert al[0] <= path[:, 0].min() - 0.05 * side and path[:, 0].max() + 0.05 * side <= al[-1]
    assert be[0] <= path[:, 1].min() - 0.05 * side and path[:, 1].max() + 0.05 * side <= be[-1]
    assert np.ptp(path[:, 0]) >= 0.5 * side  # and it fills it: the path is not a dot in the middle
    theta = ls.flatten(net.weights, net.biases)
    deltas = np.stack([ls.flatten(snaps[int(i)].weights, snaps[int(i)].biases) for i in path[:, 3]]) - theta
    for (a, b, own, it, on_slice, distance), d in zip(path, deltas):
        assert own == pytest.approx(snaps[int(it)].cost(x, y), rel=1e-5)  # the cost its weights really have
        # α, β along orthonormal directions and the distance off the plane: Pythagoras
        assert a * a + b * b + distance * distance == pytest.approx(d @ d, rel=1e-4, abs=1e-6)
        assert on_slice == pytest.approx(bilinear(body, a, b), rel=0.03)  # the heat map's value under the point
    # the explained share is that of this path about the current point
    assert (path[:, 0] ** 2 + path[:, 1] ** 2).sum() / (deltas ** 2).sum() == pytest.approx(sum(body["explained"]), rel=1e-4)
    # the path leaves the plane, so the slice is only an approximation away from the current point
    assert path[:-1, 5].max() > 0 and np.abs(path[:-1, 2] - path[:-1, 4]).max() > 1e-3


def test_a_span_asked_for_is_covered_and_widened_to_hold_the_path(test_client):
    with test_client() as c:
        c.app.state.session.run_steps(60)
        small = c.post("/api/descent/surface", json={"plane": "pca", "resolution": 5, "span": 0.01, "examples": 100}).json()
        big = c.post("/api/descent/surface", json={"plane": "pca", "resolution": 5, "span": 90, "examples": 100}).json()
    path = np.array(small["path"], float)
    assert small["alphas"][0] < path[:, 0].min() and small["betas"][0] < path[:, 1].min()
    assert big["alphas"] == pytest.approx(np.linspace(-90, 90, 5).tolist()) and big["betas"] == big["alphas"]
    assert big["costs"][2][2] == pytest.approx(big["center_cost"], rel=1e-5)  # α = β = 0 is the current point


def test_without_a_span_the_weights_plane_fits_its_path_and_a_random_plane_covers_plus_minus_one(test_client):
    params = [{"layer": 0, "j": 0, "k": 400}, {"layer": 2, "j": 3, "k": None}]
    with test_client() as c:
        c.app.state.session.run_steps(300)
        weights = c.post("/api/descent/surface", json={"plane": "weights", "weights": params, "resolution": 5, "examples": 50}).json()
        rand = c.post("/api/descent/surface", json={"plane": "random", "resolution": 5, "examples": 50}).json()
    path = np.array(weights["path"], float)
    reach = max(np.ptp(path[:, 0]), np.ptp(path[:, 1]))
    assert weights["alphas"][-1] - weights["alphas"][0] == pytest.approx(1.2 * reach)  # the path's extent, 10% each side
    assert rand["alphas"] == pytest.approx([-1, -0.5, 0, 0.5, 1]) and rand["betas"] == rand["alphas"]


def test_the_weights_plane_holds_those_two_weights_exactly(test_client, server_data):
    with test_client() as c:
        c.app.state.session.run_steps(50)
        params = [{"layer": 2, "j": 1, "k": 3}, {"layer": 0, "j": 4, "k": None}]
        body = c.post("/api/descent/surface", json={"plane": "weights", "weights": params, "resolution": 3,
                                                    "span": 1.0, "examples": 200}).json()
        net = current(c)
        snaps = path_nets(c, body["path"], 50)
    x, y = eval_set(server_data, 200)
    assert body["exact_path"] is True
    for a, b, own, it, on_slice, distance in body["path"]:
        snap = snaps[it]  # its coordinates are its own two weights (relative to now), exactly
        assert a == pytest.approx(float(snap.weights[2][1, 3] - net.weights[2][1, 3]), abs=1e-6)
        assert b == pytest.approx(float(snap.biases[0][4] - net.biases[0][4]), abs=1e-6)
        assert own == pytest.approx(snap.cost(x, y), rel=1e-5)
        probe = Network.from_parameters(net.config, net.weights, net.biases)  # every other weight frozen at now
        probe.weights[2][1, 3] += a
        probe.biases[0][4] += b
        assert on_slice == pytest.approx(probe.cost(x, y), rel=1e-5)
    al = np.array(body["alphas"])
    if al[0] == -1 and al[-1] == 1:  # the path stayed within ±1: the grid is ±span
        net.weights[2][1, 3] += 1.0  # α = +1 (last column), β = −1 (first row)
        net.biases[0][4] -= 1.0
        assert body["costs"][0][2] == pytest.approx(net.cost(x, y), rel=1e-5)


def test_gradient_descent_never_rises_at_a_small_eta_and_every_runner_starts_together(test_client):
    with test_client() as c:
        body = c.post("/api/descent/runners", json={"steps": 20, "learning_rate": 0.5, "examples": 200,
                                                    "batch_sizes": [1, 10]}).json()
    gd, *sgd = body["runners"]
    assert gd["name"] == "gradient descent" and [r["batch_size"] for r in sgd] == [1, 10] and body["examples"] == 200
    costs = np.array(gd["costs"])
    assert np.all(np.diff(costs) <= 1e-9) and all(r["costs"][0] == gd["costs"][0] for r in sgd)
    assert gd["examples"][-1] == 20 * 200 and sgd[0]["examples"][-1] == 20
    assert np.allclose(gd["path"][0], sgd[0]["path"][0])


@pytest.mark.parametrize("path, body, words", [
    ("/api/descent/surface", {"resolution": 200}, "The resolution must be at most 81, not 200"),
    ("/api/descent/surface", {"span": -1}, "The span must be above 0, not -1"),
    ("/api/descent/surface", {"plane": "pizza"}, "The plane must be 'pca', 'random' or 'weights', not \"pizza\""),
    ("/api/descent/surface", {"plane": "weights"}, "the 'weights' plane needs exactly two parameters"),
    ("/api/descent/surface", {"plane": "pca"}, "the PCA plane needs the recorded path"),
    ("/api/descent/surface", {"plane": "weights", "weights": [{"layer": 9, "j": 0, "k": 0}] * 2}, "layer 9 does not exist"),
    ("/api/descent/line", {"examples": 0}, "The number of examples must be at least 1, not 0"),
    ("/api/descent/line", {"points": 100000}, "The points must be at most 201, not 100,000"),
    ("/api/descent/runners", {"steps": 10**6}, "The number of steps must be at most 500, not 1,000,000"),
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


def test_the_surface_streams_the_plane_then_coarse_then_rows_then_the_whole(test_client):
    with test_client() as c:
        r = c.post("/api/descent/surface", json={"plane": "random", "resolution": 21, "examples": 100, "stream": True})
        lines = [json.loads(line) for line in r.text.splitlines()]
        c.app.state.session.run_steps(100)
        r = c.post("/api/descent/surface", json={"plane": "pca", "resolution": 21, "examples": 100, "stream": True})
        pca = [json.loads(line) for line in r.text.splitlines()]
    assert lines[0]["type"] == "plane" and len(lines[0]["alphas"]) == 21 and "path" in lines[0]
    assert lines[1]["type"] == "coarse" and len(lines[1]["costs"]) == 11
    rows = [line for line in lines if line["type"] == "rows"]
    assert sum(len(line["costs"]) for line in rows) == 21
    assert lines[-1]["type"] == "done" and len(lines[-1]["costs"]) == 21
    assert lines[-1]["costs"][10][10] == pytest.approx(lines[-1]["center_cost"], rel=1e-5)
    # the PCA slice is fitted to the path from the first line on: the coarse grid and the rows share its extent
    plane, coarse, done = pca[0], pca[1], pca[-1]
    assert plane["alphas"] == done["alphas"] and plane["path"] == done["path"] and len(plane["path"]) > 2
    assert coarse["alphas"][0] == plane["alphas"][0] and coarse["alphas"][-1] == plane["alphas"][-1]
    assert coarse["betas"][0] == plane["betas"][0] and coarse["betas"][-1] == plane["betas"][-1]
    path = np.array(plane["path"], float)
    assert plane["alphas"][0] < path[:, 0].min() and path[:, 0].max() < plane["alphas"][-1]


def test_streamed_surfaces_count_against_the_concurrency_limit(test_client, monkeypatch):
    """At most CONCURRENT computations run at once, streamed or not: a third waits for a slot."""
    inside, most, lock = [0], [0], threading.Lock()
    gate = threading.Event()
    real = descent.ls.surface

    def counted(*args, **kw):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            gate.wait(0.5)  # hold the slot a while, so the requests overlap
            return real(*args, **kw)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(descent.ls, "surface", counted)
    with test_client() as c:
        results = []
        threads = [threading.Thread(target=lambda t=t: results.append(c.post("/api/descent/surface", json={
            "plane": "random", "resolution": 3, "examples": 20, "stream": True, "tab": f"tab{t}"}))) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert [r.status_code for r in results] == [200] * 4
    assert all(json.loads(r.text.splitlines()[-1])["type"] == "done" for r in results)
    assert most[0] <= descent.CONCURRENT


def test_work_never_queues_without_bound(test_client, monkeypatch):
    monkeypatch.setattr(descent, "MAX_WAITING", 0)  # as if the line were already full
    with test_client() as c:
        for stream in (False, True):
            r = c.post("/api/descent/surface", json={"plane": "random", "resolution": 3, "examples": 20, "stream": stream})
            assert r.status_code == 503 and r.json()["detail"].startswith("busy: "), r.text


def test_momentum_is_one_more_runner_beyond_the_lecture(test_client):
    with test_client() as c:
        body = c.post("/api/descent/runners", json={"steps": 30, "learning_rate": 0.5, "examples": 200,
                                                    "batch_sizes": [10], "momentum": 0.5}).json()
        plain = c.post("/api/descent/runners", json={"steps": 3, "examples": 50, "batch_sizes": [10]}).json()
        bad = c.post("/api/descent/runners", json={"momentum": 1.0})
    gd, sgd, heavy = body["runners"]
    assert heavy["name"] == "gradient descent + momentum 0.5" and heavy["momentum"] == 0.5 and heavy["batch_size"] is None
    assert gd["momentum"] is None and len(plain["runners"]) == 2  # only when asked for
    assert heavy["costs"][0] == gd["costs"][0] and heavy["costs"][1] == pytest.approx(gd["costs"][1], rel=1e-5)  # v starts at 0
    assert heavy["costs"][5] < gd["costs"][5] and heavy["costs"][-1] < gd["costs"][-1]  # it gathers speed on a gentle slope
    assert bad.status_code == 422 and "The momentum must be below 1, not 1" in bad.json()["detail"]
