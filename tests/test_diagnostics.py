"""Issue 13's building blocks: the snapshot log (log-spaced, within a budget, thinned evenly) and the
per-layer diagnostics and confusion matrix, against independent computations."""

from __future__ import annotations

import re

import numpy as np
import pytest

from server.engine import diagnostics as dg
from server.engine.batches import BatchStream, evaluate
from server.engine.data import to_float
from server.network import Network, one_hot
from server.training.snapshots import SnapshotLog, is_scheduled


def params(value: float, size: int = 100):
    return [np.full((size,), value, np.float32)], [np.zeros(1, np.float32)]


def test_the_schedule_is_log_spaced_plus_epochs_and_markers():
    assert [i for i in range(70) if is_scheduled(i)] == [0, 1, 2, 4, 8, 16, 32, 64]
    log = SnapshotLog()
    assert log.wants(6000, epoch_end=True) and log.wants(777, marker=True) and not log.wants(777)


def test_snapshots_are_copies_and_the_nearest_at_or_before_is_found():
    log = SnapshotLog()
    w, b = params(1.0)
    log.record(0, 0, None, w, b)
    w[0][:] = 2.0  # training goes on in place: the snapshot must not change
    log.record(4, 0, 0.5, w, b)
    assert log.at_or_before(3).iteration == 0 and log.at_or_before(3).weights[0][0] == 1.0
    assert log.at_or_before(4).weights[0][0] == 2.0 and log.at_or_before(10**9).iteration == 4
    with pytest.raises(ValueError):
        log.at_or_before(-1)


def test_over_budget_the_log_thins_evenly_and_keeps_recording():
    one = params(0.0)
    size = sum(a.nbytes for a in (*one[0], *one[1]))
    log = SnapshotLog(budget_bytes=20 * size)
    marker_at = 3000
    for it in range(0, 200_001):
        if log.wants(it, epoch_end=it % 6000 == 0, marker=it == marker_at):
            log.record(it, it // 6000, 1.0, *params(float(it)), marker=it == marker_at)
    kept = [s["iteration"] for s in log.summaries()]
    assert log.nbytes <= 20 * size and len(kept) == 20
    assert kept[0] == 0 and kept[-1] == 198_000  # the first and the latest stay
    assert marker_at in kept  # markers are kept before ordinary snapshots
    gaps = np.diff(np.log1p(kept))
    assert gaps.max() <= 4 * np.median(gaps)  # evenly spread on a log axis, no hole


def test_truncating_for_a_branch_keeps_the_past():
    log = SnapshotLog()
    for it in (0, 1, 2, 4, 8):
        log.record(it, 0, 1.0, *params(it))
    removed = log.truncate_after(4)
    assert [s.iteration for s in removed] == [8] and [s["iteration"] for s in log.summaries()] == [0, 1, 2, 4]


@pytest.fixture(scope="module")
def probe(mnist):
    return to_float(mnist.train_images[:300]), one_hot(mnist.train_labels[:300], 10, "float32")


def test_measurements_match_an_independent_computation(probe):
    x, y = probe
    net = Network([784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic", seed=0)
    rows = dg.measure(net, x, y, learning_rate=3.0)
    g = net.backprop(x, y, input_gradient=False)
    for l, row in enumerate(rows):
        assert row["grad_norm"] == pytest.approx(np.linalg.norm(g.nabla_w[l]), rel=1e-6)
        assert row["update_ratio"] == pytest.approx(3.0 * row["grad_norm"] / np.linalg.norm(net.weights[l]), rel=1e-6)
        a = g.trace.activations[l + 1]
        assert row["saturated"] == pytest.approx(np.mean(a * (1 - a) < 0.01))
        assert row["weights"][2] == pytest.approx(np.median(net.weights[l]), abs=1e-6)
    relu = Network([784, 16, 10], "relu", "softmax", "cross_entropy", seed=0)
    relu.biases[0][:8] = -1000  # half the first layer can never fire
    assert dg.measure(relu, x, y, 0.1)[0]["dead"] == pytest.approx(0.5)


def test_a_deep_sigmoid_network_shows_the_vanishing_gradient(probe):
    """The notes: "the further back we go, the less we affect the cost"; on a deep sigmoid network the
    first layer's gradient is far smaller than the last's, and the note says so."""
    x, y = probe
    deep = Network([784, 30, 30, 30, 30, 10], "sigmoid", "sigmoid", "quadratic", seed=0)
    deep.set_parameters([w * 0.2 for w in deep.weights], deep.biases)  # small weights: each layer back × σ′ ≤ ¼
    rows = dg.measure(deep, x, y, 1.0)
    assert rows[-1]["grad_norm"] / rows[0]["grad_norm"] >= dg.VANISHING
    found = dg.notes(rows)
    # named as the network view and the walkthrough name them: W⁽¹⁾ feeds hidden 1, W⁽⁵⁾ the output
    assert any(n["kind"] == "vanishing" and n["text"].startswith("W⁽¹⁾ (into hidden 1) learns")
               and "than W⁽⁵⁾ (into the output)" in n["text"] for n in found), found
    assert not any(re.search(r"layer \d", n["text"]) for n in found), found
    shallow = Network([784, 30, 10], "relu", "softmax", "cross_entropy", seed=0)
    assert not any(n["kind"] == "vanishing" for n in dg.notes(dg.measure(shallow, x, y, 0.1)))


def test_the_confusion_diagonal_agrees_with_accuracy(mnist):
    net = Network([784, 16, 10], "sigmoid", "sigmoid", "quadratic", seed=0)
    stream = BatchStream(mnist.train_images[:5000], mnist.train_labels[:5000], 10, net.dtype, seed=0)
    for _ in range(500):
        xb, yb, _, _ = stream.next()
        net.sgd_step(xb, yb, 3.0)
    x = to_float(mnist.test_images)
    matrix = dg.confusion(net, x, mnist.test_labels, 10)
    assert matrix.sum() == 10_000
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(mnist.test_labels, minlength=10))
    assert np.trace(matrix) / 10_000 == evaluate(net, mnist.test_images, mnist.test_labels)
    # an independent float64 computation of every cell
    net64 = Network.from_parameters({**net.config, "dtype": "float64"}, net.weights, net.biases)
    predicted = np.argmax(net64.feedforward(x.astype(np.float64)), axis=1)
    independent = np.zeros((10, 10), int)
    for t, p in zip(mnist.test_labels, predicted):
        independent[t, p] += 1
    np.testing.assert_array_equal(matrix, independent)
