"""The cost landscape engine (issue 14): the stacked grid computation equals the plain one, the line
along −∇C starts at the current cost and reaches the full-batch step's cost at t = η, PCA directions are
orthonormal, the weights plane is exact, and gradient descent never rises at a small η."""

from __future__ import annotations

import numpy as np
import pytest

from server.engine import landscape as ls
from server.engine.data import to_float
from server.network import Network, one_hot

CONFIGS = [
    ([784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic"),
    ([784, 12, 10], "relu", "softmax", "cross_entropy"),
    ([784, 8, 8, 10], "tanh", "sigmoid", "cross_entropy"),
]


@pytest.fixture(scope="module")
def batch(mnist):
    x = to_float(mnist.train_images[:200])
    return x, one_hot(mnist.train_labels[:200], 10, "float32")


def trained(config, batch, steps=60, lr=0.5, seed=0) -> Network:
    net = Network(*config, seed=seed)
    x, y = batch
    for i in range(steps):
        net.sgd_step(x[(i * 10) % 200 : (i * 10) % 200 + 10], y[(i * 10) % 200 : (i * 10) % 200 + 10], lr)
    return net


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[1]}-{c[2]}")
def test_the_stacked_grid_equals_one_network_at_a_time(config, batch):
    net = trained(config, batch)
    x, y = batch
    dirs = ls.random_directions(net, seed=3)
    coefficients = np.array([[0, 0], [0.3, -0.2], [-1.0, 0.5], [0.05, 1.5], [2.0, 2.0]])
    fast = ls.costs_at(net, x, y, (net.weights, net.biases), dirs, coefficients)
    slow = ls.cost_one_by_one(net, x, y, (net.weights, net.biases), dirs, coefficients)
    np.testing.assert_allclose(fast, slow, rtol=2e-4)
    assert fast[0] == pytest.approx(net.cost(x, y), rel=1e-5)


def test_the_line_starts_at_the_current_cost_and_reaches_the_full_batch_step_at_eta(batch):
    """costs[0] is C at the current weights; the cost at t = η equals the cost after one full-batch
    gradient step of size η on those examples, computed independently in float64."""
    net = trained(CONFIGS[0], batch)
    x, y = batch
    eta = 3.0
    result = ls.line(net, x, y, max_step=2 * eta, points=41)  # t = 0, 0.15, …, η (index 20), …, 2η
    assert result.steps[0] == 0 and result.steps[20] == pytest.approx(eta)
    assert result.costs[0] == pytest.approx(net.cost(x, y), rel=1e-5)
    net64 = Network.from_parameters({**net.config, "dtype": "float64"}, net.weights, net.biases)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    g = net64.backprop(x64, y64, input_gradient=False)
    norm = np.sqrt(sum(np.sum(a ** 2) for a in (*g.nabla_w, *g.nabla_b)))  # before the step scales g by η
    net64.apply_gradients(g.nabla_w, g.nabla_b, eta)
    assert result.costs[20] == pytest.approx(net64.cost(x64, y64), rel=1e-4)
    assert result.gradient_norm == pytest.approx(norm, rel=1e-4)
    assert result.costs[result.steps.tolist().index(result.best_step)] == result.costs.min()


def test_pca_directions_are_orthonormal_and_explain_the_path(batch):
    net = Network(*CONFIGS[0], seed=1)
    run = ls.descend(net, *batch, steps=30, learning_rate=3.0, batch_size=10)
    path = np.array(run.params)
    dirs, explained = ls.pca_directions(path, path[-1], net.sizes)
    v = np.stack([ls.flatten(*d) for d in dirs])
    np.testing.assert_allclose(v @ v.T, np.eye(2), atol=1e-10)
    assert explained[0] >= explained[1] > 0 and explained.sum() <= 1 + 1e-12
    coords = ls.project(path, path[-1], dirs)
    assert np.allclose(coords[-1], 0)
    # the plane holds most of a short descent's motion
    residual = (path - path[-1]) - coords @ v
    assert np.linalg.norm(residual) ** 2 <= (1 - explained.sum() + 1e-9) * np.linalg.norm(path - path[-1]) ** 2 + 1e-9


def test_random_directions_are_filter_normalised(batch):
    net = trained(CONFIGS[1], batch)
    for weights, biases in ls.random_directions(net, seed=7):
        for w, d in zip(net.weights, weights):
            np.testing.assert_allclose(np.linalg.norm(d, axis=1), np.linalg.norm(w, axis=1), rtol=1e-6)
        assert all(not b.any() for b in biases)


def test_the_weights_plane_is_exactly_the_cost_with_those_two_weights_set(batch):
    net = trained(CONFIGS[0], batch)
    x, y = batch
    params = [{"layer": 1, "j": 3, "k": 5}, {"layer": 2, "j": 0, "k": None}]
    dirs = ls.weight_directions(net, params)
    alphas, betas = np.linspace(-2, 2, 5), np.linspace(-1, 1, 3)
    grid = ls.surface(net, x, y, dirs, alphas, betas)
    w0, b0 = float(net.weights[1][3, 5]), float(net.biases[2][0])
    for r, beta in enumerate(betas):
        for c, alpha in enumerate(alphas):
            probe = Network.from_parameters(net.config, net.weights, net.biases)
            probe.weights[1][3, 5] = w0 + alpha
            probe.biases[2][0] = b0 + beta
            assert grid[r, c] == pytest.approx(probe.cost(x, y), rel=1e-5)
    # a path's coordinates in this plane are its own two weights, exactly
    theta = ls.flatten(net.weights, net.biases)
    moved = theta.copy()
    moved[ls.parameter_index(net.sizes, params[0])] += 0.25
    moved[ls.parameter_index(net.sizes, params[1])] -= 0.5
    np.testing.assert_allclose(ls.project(moved, theta, dirs)[0], [0.25, -0.5])


def test_gradient_descent_never_rises_at_a_small_eta_and_sgd_sees_more_for_less(batch):
    net = Network(*CONFIGS[0], seed=2)
    gd = ls.descend(net, *batch, steps=40, learning_rate=0.5, batch_size=None)
    assert gd.diverged_at is None and np.all(np.diff(gd.costs) <= 1e-9)
    sgd = ls.descend(net, *batch, steps=40, learning_rate=0.5, batch_size=10)
    assert gd.examples[-1] == 40 * 200 and sgd.examples[-1] == 40 * 10
    assert gd.costs[0] == sgd.costs[0]  # one start
    np.testing.assert_array_equal(net.weights[0], Network(*CONFIGS[0], seed=2).weights[0])  # the copy moved, not net


def test_a_diverging_runner_stops_and_says_when(batch):
    net = Network([784, 16, 10], "relu", "relu", "quadratic", seed=0)
    run = ls.descend(net, *batch, steps=200, learning_rate=1e12, batch_size=None)
    assert run.diverged_at is not None and run.diverged_at <= 200
    assert len(run.costs) == run.diverged_at  # the start and every finite step, nothing after


# ----- the PCA plane fitted to the path, and each path point's cost on and off the slice ------------
def _orthonormal(n, d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, n)))
    return q.T  # n orthonormal rows of length d


def test_a_path_lying_in_a_known_plane_is_fitted_exactly_and_its_slice_costs_are_its_own(batch):
    """The path θ_i = θ_now + a_i u + b_i v: the fitted plane holds it exactly (all its variance), and
    the slice's cost at each projected point is the engine's cost of that very parameter vector."""
    net = trained(CONFIGS[0], batch)
    x, y = batch
    origin = ls.flatten(net.weights, net.biases)
    u, v = _orthonormal(2, len(origin), seed=4)
    t = np.linspace(0, 1, 9)
    ab = np.stack([-3 * (1 - t) ** 1.5, 0.8 * np.sin(3 * t) * (1 - t)], axis=1)  # a curved walk ending at θ_now
    path = origin + ab @ np.stack([u, v])
    dirs, explained = ls.pca_directions(path, origin, net.sizes)
    assert explained.sum() == pytest.approx(1.0, abs=1e-9)
    on = ls.path_on_plane(net, x, y, path, origin, dirs)
    basis = np.stack([ls.flatten(*d) for d in dirs])
    np.testing.assert_allclose(origin + on.coords @ basis, path, atol=1e-9)  # the plane reproduces the path
    np.testing.assert_allclose(on.distances, 0, atol=1e-9)
    own = [Network.from_parameters(net.config, *ls.unflatten(p, net.sizes)).cost(x, y) for p in path]
    np.testing.assert_allclose(on.recorded, own, rtol=1e-6)
    np.testing.assert_allclose(on.slice, own, rtol=2e-5)  # on the plane, the slice is the cost itself
    # the path's start is on the left: it runs rightwards to the current point at (0, 0)
    assert on.coords[0, 0] < 0 and np.allclose(on.coords[-1], 0)


def test_the_explained_variance_of_a_constructed_path_and_each_points_distance_from_the_plane(batch):
    """Deltas a_i e1 + b_i e2 + c_i e3 with orthogonal columns a, b, c of norms 3, 2, 1: the plane is
    (e1, e2), it explains 9/14 and 4/14 of the path's spread about the current point, and point i lies
    |c_i| off it. The slice at its projection is the cost with the e3 part removed."""
    net = trained(CONFIGS[1], batch)
    x, y = batch
    origin = ls.flatten(net.weights, net.biases)
    e = _orthonormal(3, len(origin), seed=5) * 0.5  # directions of length 0.5 …
    columns = _orthonormal(3, 6, seed=6).T * np.array([3.0, 2.0, 1.0]) / 0.5  # … so the columns' norms are 3, 2, 1
    path = origin + columns @ e
    dirs, explained = ls.pca_directions(path, origin, net.sizes)
    np.testing.assert_allclose(explained, [9 / 14, 4 / 14], rtol=1e-9)
    on = ls.path_on_plane(net, x, y, path, origin, dirs)
    np.testing.assert_allclose(on.distances, np.abs(columns[:, 2]) * 0.5, rtol=1e-9)
    in_plane = origin + columns[:, :2] @ e[:2]
    direct = ls.cost_one_by_one(net, x, y, ls.unflatten(origin, net.sizes), [ls.unflatten(d, net.sizes) for d in e[:2]],
                                columns[:, :2])  # coefficients along e1, e2 themselves
    np.testing.assert_allclose(on.slice, direct, rtol=2e-5)
    np.testing.assert_allclose(on.slice, [Network.from_parameters(net.config, *ls.unflatten(p, net.sizes)).cost(x, y)
                                          for p in in_plane], rtol=2e-5)


def test_the_extent_holds_the_whole_path_with_a_margin_on_equal_axes():
    coords = np.array([[-7.0, -0.5], [-3.0, 0.8], [-1.0, 0.2], [0.0, 0.0]])
    alphas, betas = ls.fit_extent(coords, span=None, resolution=41)
    assert len(alphas) == len(betas) == 41
    assert np.ptp(alphas) == pytest.approx(np.ptp(betas))  # α and β in the same units, drawn square
    side = np.ptp(alphas)
    for lo, hi, c in ((alphas[0], alphas[-1], coords[:, 0]), (betas[0], betas[-1], coords[:, 1])):
        assert lo <= c.min() - 0.05 * side and c.max() + 0.05 * side <= hi
    assert side <= 1.4 * 7  # … and no emptier than it needs to be
    # a span asked for is always covered, and widened only where the path goes beyond it
    alphas, betas = ls.fit_extent(coords, span=10.0, resolution=5)
    np.testing.assert_allclose(alphas, np.linspace(-10, 10, 5))
    np.testing.assert_allclose(betas, np.linspace(-10, 10, 5))
    alphas, betas = ls.fit_extent(coords, span=1.0, resolution=5)
    assert alphas[0] < -7 and alphas[-1] >= 1 and betas[0] <= -1 and betas[-1] >= 1
    # no path (or a path sitting at the current point): ±span, or ±1
    np.testing.assert_allclose(ls.fit_extent(np.zeros((1, 2)), span=None, resolution=3)[0], [-1, 0, 1])
    np.testing.assert_allclose(ls.fit_extent(np.zeros((0, 2)), span=2.0, resolution=3)[1], [-2, 0, 2])


def test_momentum_starts_as_a_gradient_step_then_carries_its_velocity(batch):
    """v ← μ v − η ∇C, θ ← θ + v (full batch), checked against an independent float64 computation;
    μ = 0 is gradient descent itself."""
    net = Network(*CONFIGS[0], seed=3)
    x, y = batch
    eta, mu = 0.5, 0.9
    run = ls.descend(net, x, y, steps=3, learning_rate=eta, batch_size=None, momentum=mu)
    assert "momentum" in run.name and run.momentum == mu
    net64 = Network.from_parameters({**net.config, "dtype": "float64"}, net.weights, net.biases)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    theta = ls.flatten(net64.weights, net64.biases)
    velocity = np.zeros_like(theta)
    for k in range(1, 4):
        net64.set_parameters(*ls.unflatten(theta, net.sizes))
        g = net64.backprop(x64, y64, input_gradient=False)
        velocity = mu * velocity - eta * ls.flatten(g.nabla_w, g.nabla_b)
        theta = theta + velocity
        np.testing.assert_allclose(run.params[k], theta, atol=2e-5)
    plain = ls.descend(net, x, y, steps=3, learning_rate=eta, batch_size=None)
    zero = ls.descend(net, x, y, steps=3, learning_rate=eta, batch_size=None, momentum=0.0)
    np.testing.assert_allclose(zero.params[-1], plain.params[-1], atol=1e-6)
