"""The engine's calculus against finite differences, its numerical safety, and how it trains."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from server.engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, get_activation
from server.engine.data import to_float
from server.network import Network, one_hot

SIZES = [5, 4, 3, 4]
EPS = 1e-6  # central differences: truncation ~EPS², rounding ~1e-16/EPS
REL_TOL = 1e-6
KINK_MARGIN = 0.05  # every z at least this far from 0, so ReLU's kink is never crossed by ±EPS


def combinations():
    for hidden in HIDDEN_ACTIVATIONS:
        for output in OUTPUT_ACTIVATIONS:
            yield hidden, output, "quadratic"
            if output in ("softmax", "sigmoid"):
                yield hidden, output, "cross_entropy"


COMBINATIONS = list(combinations())


def test_the_configurations_under_test():
    assert set(HIDDEN_ACTIVATIONS) == {"sigmoid", "relu", "tanh", "leaky_relu"}
    assert set(OUTPUT_ACTIVATIONS) == set(HIDDEN_ACTIVATIONS) | {"softmax"}
    assert len(COMBINATIONS) == 4 * 5 + 4 * 2


def case(hidden, output, cost, dtype="float64"):
    """A small network with random biases and a batch whose every z stays clear of 0."""
    for seed in range(200):
        net = Network(SIZES, hidden, output, cost, seed=seed, dtype=dtype)
        rng = np.random.default_rng(seed)
        net.set_parameters([w * 1.5 for w in net.weights], [rng.normal(0, 0.5, b.shape) for b in net.biases])
        x = rng.normal(size=(3, SIZES[0]))
        y = rng.dirichlet(np.ones(SIZES[-1]), size=3)  # targets in (0, 1) summing to 1 (fits every cost)
        if min(np.abs(z).min() for z in net.forward(x).zs) > KINK_MARGIN:
            return net, x, y
    raise AssertionError("no seed keeps every z away from 0")


def numeric_gradient(f, arr: np.ndarray) -> np.ndarray:
    """Central differences of f() (a scalar or a vector) for every entry of arr, which is nudged in place."""
    out = []
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + EPS
        plus = np.array(f(), dtype=np.float64)
        arr[idx] = old - EPS
        minus = np.array(f(), dtype=np.float64)
        arr[idx] = old
        out.append((plus - minus) / (2 * EPS))
    return np.array(out).reshape(arr.shape + np.shape(out[0]))


def assert_close(analytic, numeric, what):
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    assert analytic.shape == numeric.shape, what
    err = np.linalg.norm(analytic - numeric)
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    # relative error below REL_TOL (or an absolute one below 1e-9 when the gradient itself is ~0)
    assert err <= REL_TOL * max(scale, 1e-3), f"{what}: relative error {err / max(scale, 1e-300):.2e}"


@pytest.mark.parametrize("hidden,output,cost", COMBINATIONS)
def test_backprop_matches_finite_differences(hidden, output, cost):
    net, x, y = case(hidden, output, cost)
    g = net.backprop(x, y)
    L = len(net.weights)

    def per_example():
        return net.cost_fn.per_example(net.feedforward(x), y)

    assert np.allclose(g.costs, per_example()) and g.cost == pytest.approx(net.cost(x, y))
    assert sum(np.linalg.norm(w) for w in g.nabla_w) > 1e-3  # not a vacuous comparison of zeros
    for l in range(L):
        # ∂C/∂w and ∂C/∂b of the batch-mean cost
        assert_close(g.nabla_w[l], numeric_gradient(lambda: net.cost(x, y), net.weights[l]), f"nabla_w[{l}]")
        assert_close(g.nabla_b[l], numeric_gradient(lambda: net.cost(x, y), net.biases[l]), f"nabla_b[{l}]")
        # δ = ∂C0/∂z of each example: z_j moves one-for-one with b_j, so it is ∂C0/∂b_j per example
        per_bias = numeric_gradient(per_example, net.biases[l])  # (neurons, batch)
        assert g.deltas[l].shape == (len(x), SIZES[l + 1])
        assert_close(g.deltas[l], per_bias.T, f"deltas[{l}]")
        assert_close(g.nabla_b[l], g.deltas[l].mean(axis=0), f"nabla_b[{l}] = mean of δ")
        # ∂C0/∂a of layer l passes δ back through the weights: Σ_j w_jk δ_j
        assert_close(g.dC_da[l], g.deltas[l] @ net.weights[l], f"dC_da[{l}] = δ W")

    # ∂C0/∂a of the input layer: nudge the pixels (each example's cost depends on its own x only)
    numeric_x = numeric_gradient(per_example, x)  # (batch, inputs, batch)
    assert_close(g.dC_da[0], np.einsum("iki->ik", numeric_x), "dC_da[0] (input)")
    own = np.einsum("iki->ik", numeric_x)[:, :, None] * np.eye(len(x))[:, None, :]
    assert np.allclose(numeric_x, own, rtol=0, atol=1e-9)  # and no example's cost depends on another's x

    # ∂C0/∂a of each hidden layer: the rest of the network as a network of its own, fed those activations
    trace = net.forward(x)
    for l in range(1, L):
        rest = Network(SIZES[l:], hidden, output, cost, dtype="float64")
        rest.set_parameters(net.weights[l:], net.biases[l:])
        a = trace.activations[l].copy()
        assert np.allclose(rest.feedforward(a), trace.activations[-1])
        numeric_a = numeric_gradient(lambda: rest.cost_fn.per_example(rest.feedforward(a), y), a)
        assert_close(g.dC_da[l], np.einsum("iki->ik", numeric_a), f"dC_da[{l}]")

    # ∂C0/∂a of the output layer: nudge the output activations in the cost itself
    a_out = trace.activations[-1].copy()
    numeric_out = numeric_gradient(lambda: net.cost_fn.per_example(a_out, y), a_out)
    assert_close(g.dC_da[L], np.einsum("iki->ik", numeric_out), "dC_da[L] (output)")


@pytest.mark.parametrize("hidden,output,cost", COMBINATIONS)
def test_sgd_step_is_backprop_then_the_update(hidden, output, cost):
    """sgd_step (the fused training path) makes exactly the update that backprop's gradients prescribe."""
    fused, x, y = case(hidden, output, cost)
    reference, _, _ = case(hidden, output, cost)
    rng = np.random.default_rng(5)
    for step in range(3):
        xb, yb = x + 0.01 * step * rng.normal(size=x.shape), y
        g = reference.backprop(xb, yb, input_gradient=False)
        expected = [w - 0.3 * nw for w, nw in zip(reference.weights, g.nabla_w)]
        expected_b = [b - 0.3 * nb for b, nb in zip(reference.biases, g.nabla_b)]
        reference.apply_gradients(g.nabla_w, g.nabla_b, 0.3)
        cost_value = fused.sgd_step(xb, yb, 0.3)
        assert cost_value == pytest.approx(g.cost, rel=1e-12)
        pairs = zip(fused.weights + fused.biases, reference.weights + reference.biases, expected + expected_b)
        for mine, ref, manual in pairs:
            assert np.allclose(mine, ref, rtol=0, atol=1e-13)
            assert np.allclose(ref, manual, rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden,output,cost", COMBINATIONS)
def test_sgd_step_takes_the_fused_path_for_every_configuration(hidden, output, cost, dtype, step_spies):
    """The fused step is what trains: were it never used, every test above would still pass (they
    compare it with backprop), and only the speed would be lost. So: every activation, output and cost
    the network accepts has fused kernels, and sgd_step runs them, never the backprop fallback."""
    for sizes in ([5, 3], [5, 4, 3, 4]):  # no hidden layer, and two
        net = Network(sizes, hidden, output, cost, seed=0, dtype=dtype)
        assert net._kernels is not None, (hidden, output, cost)
        assert len(net._kernels) == len(net.weights)
        rng = np.random.default_rng(0)
        before = step_spies["fused"]
        for n in (3, 1, 3):
            x, y = rng.normal(size=(n, sizes[0])), one_hot(rng.integers(0, sizes[-1], n), sizes[-1], dtype)
            assert np.isfinite(net.sgd_step(x, y, 0.1))
        assert step_spies["fused"] - before == 3
    assert step_spies["backprop"] == 0


def test_sgd_step_handles_batch_sizes_changing():
    """The step keeps buffers per batch size: a short last batch must not disturb the next full one."""
    a = Network([6, 5, 3], "relu", "softmax", "cross_entropy", seed=1, dtype="float64")
    b = Network([6, 5, 3], "relu", "softmax", "cross_entropy", seed=1, dtype="float64")
    rng = np.random.default_rng(0)
    for n in (4, 4, 1, 4, 3, 4, 2, 5, 6, 7):
        x, y = rng.normal(size=(n, 6)), one_hot(rng.integers(0, 3, n), 3, "float64")
        a.sgd_step(x, y, 0.1)
        g = b.backprop(x, y, input_gradient=False)
        b.apply_gradients(g.nabla_w, g.nabla_b, 0.1)
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        assert np.allclose(wa, wb, rtol=0, atol=1e-13)


# ----- numerical safety ---------------------------------------------------------------------------
# Underflow (e^−1000 → 0) is the right answer, not an error, so only it is allowed.
STRICT = dict(all="raise", under="ignore")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_and_softmax_at_plus_minus_1000(dtype):
    z = np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        s = get_activation("sigmoid")(z)
        sm = get_activation("softmax", output=True)(z)
    assert s.dtype == np.dtype(dtype) and sm.dtype == np.dtype(dtype)
    assert np.array_equal(s, np.array([[0.0, 0.5, 1.0], [1.0, 1.0, 0.0]], dtype=dtype))
    assert np.allclose(sm, [[0, 0, 1], [0.5, 0.5, 0]], rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output,cost", [("sigmoid", "quadratic"), ("sigmoid", "cross_entropy"),
                                         ("softmax", "quadratic"), ("softmax", "cross_entropy")])
def test_saturated_network_trains_without_overflow(output, cost, dtype):
    """z = ±1000 at the output (confidently wrong on purpose): forward, backprop and a step stay finite."""
    net = Network([2, 3], "sigmoid", output, cost, seed=0, dtype=dtype)
    net.set_parameters([np.array([[1000.0, 0.0], [-1000.0, 0.0], [0.0, 1000.0]])], [np.zeros(3)])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0]], dtype=float)
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        g = net.backprop(x, y)
        cost_value = net.sgd_step(x, y, 0.1)
        after = net.forward(x)
    assert np.isfinite(g.cost) and np.isfinite(cost_value) and cost_value == pytest.approx(g.cost, rel=1e-5)
    assert g.cost > 0.5  # the network is confidently wrong: a large, finite cost
    for arrays in (g.nabla_w, g.nabla_b, g.deltas, g.dC_da, after.activations):
        assert all(np.all(np.isfinite(a)) for a in arrays)
    assert net.is_finite()


# ----- training behaviour -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def batches(mnist):
    """Ten fixed mini-batches of 20 MNIST images (float64 pixels, one-hot targets)."""
    rng = np.random.default_rng(0)
    idx = rng.choice(len(mnist.train_images), size=(10, 20), replace=False)
    return [(to_float(mnist.train_images[i], np.float64), one_hot(mnist.train_labels[i], 10, "float64")) for i in idx]


def train(net, batches, lr, repeats=1):
    costs = [net.sgd_step(x, y, lr) for _ in range(repeats) for x, y in batches]
    return costs


@pytest.mark.parametrize("config,lr", [(("sigmoid", "sigmoid", "quadratic"), 1.5),
                                       (("relu", "softmax", "cross_entropy"), 0.2),
                                       (("tanh", "sigmoid", "cross_entropy"), 0.2)])
def test_a_few_steps_lower_the_cost(batches, config, lr):
    net = Network([784, 30, 10], *config, seed=0)
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    before = net.cost(x, y)
    train(net, batches, lr, repeats=2)
    after = net.cost(x, y)
    assert after < 0.8 * before, (before, after)


def test_same_seed_same_network_and_results(batches):
    a = Network([784, 20, 10], "relu", "softmax", "cross_entropy", seed=42)
    b = Network([784, 20, 10], "relu", "softmax", "cross_entropy", seed=42)
    assert all(np.array_equal(wa, wb) for wa, wb in zip(a.weights, b.weights))
    assert train(a, batches, 0.1) == train(b, batches, 0.1)
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        assert np.array_equal(wa, wb)
    x = batches[0][0]
    assert np.array_equal(a.feedforward(x), b.feedforward(x))


def test_different_seed_different_network_and_results(batches):
    a = Network([784, 20, 10], "relu", "softmax", "cross_entropy", seed=1)
    b = Network([784, 20, 10], "relu", "softmax", "cross_entropy", seed=2)
    assert not np.allclose(a.weights[0], b.weights[0])
    assert train(a, batches, 0.1) != train(b, batches, 0.1)
    assert not np.allclose(a.feedforward(batches[0][0]), b.feedforward(batches[0][0]))


@pytest.mark.parametrize("config,lr", [(("sigmoid", "sigmoid", "quadratic"), 1.5),
                                       (("relu", "softmax", "cross_entropy"), 0.2)])
def test_float32_training_follows_float64(batches, config, lr):
    n32 = Network([784, 30, 10], *config, seed=3, dtype="float32")
    n64 = Network([784, 30, 10], *config, seed=3, dtype="float64")
    assert all(w.dtype == np.float32 for w in n32.weights + n32.biases)
    assert all(np.allclose(w32, w64, rtol=1e-6, atol=1e-8) for w32, w64 in zip(n32.weights, n64.weights))
    c32 = train(n32, batches, lr, repeats=4)  # 40 steps
    c64 = train(n64, batches, lr, repeats=4)
    assert np.allclose(c32, c64, rtol=1e-3, atol=1e-5)
    assert c64[-1] < c64[0]
    for w32, w64 in zip(n32.weights + n32.biases, n64.weights + n64.biases):
        assert w32.dtype == np.float32
        assert np.allclose(w32, w64, rtol=1e-3, atol=1e-4), np.abs(w32 - w64).max()


@pytest.mark.parametrize("kwargs,message", [
    (dict(sizes=[784, 0, 10]), r"layer size must be a whole number from 1 to \d+, got 0"),
    (dict(sizes=[784]), r"at least an input and an output layer"),
    (dict(sizes=[784, 30, 10], activation="foo"), r"unknown activation 'foo'; choose one of: sigmoid, relu"),
    (dict(sizes=[784, 30, 10], activation="softmax"), r"unknown activation 'softmax'"),
    (dict(sizes=[784, 30, 10], output_activation="relu", cost="cross_entropy"),
     r"cross_entropy needs a softmax or sigmoid output layer, not 'relu'"),
    (dict(sizes=[784, 30, 10], output_activation="tanh", cost="cross_entropy"), r"not 'tanh'"),
    (dict(sizes=[784, 30, 10], cost="hinge"), r"unknown cost 'hinge'"),
    (dict(sizes=[784, 30, 10], dtype="float16"), r"dtype must be one of float32, float64"),
])
def test_invalid_configurations_are_refused_plainly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Network(**kwargs)


def test_wrong_input_shapes_are_refused():
    net = Network([5, 3, 2], seed=0)
    with pytest.raises(ValueError, match=r"input must have shape \(batch, 5\)"):
        net.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"targets must have shape \(2, 2\)"):
        net.sgd_step(np.zeros((2, 5)), np.zeros((2, 3)), 0.1)
