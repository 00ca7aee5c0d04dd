"""Time travel and diagnostics over HTTP (issue 13): snapshots, the model at an iteration, the confusion
matrix, branching, the CSV exports, and precise refusals."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from server.engine import checkpoint
from server.engine.batches import BatchStream
from server.engine.data import to_float
from server.network import Network
from server.training.session import TrainingSession

pytest_plugins = ["conftest_server"]
from conftest_server import poll  # noqa: E402

DEFAULT = ([784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic")


def settle(session) -> None:
    session.read(lambda: None).result(10)


def model(c, **query):
    r = c.get("/api/model", params=query)
    assert r.status_code == 200, r.text
    return checkpoint.from_bytes(r.content)


def test_the_snapshot_at_iteration_0_is_the_network_right_after_its_reset(test_client):
    with test_client() as c:
        session = c.app.state.session
        session.reset([16, 16], "sigmoid", "sigmoid", "quadratic", seed=7)
        settle(session)
        session.run_steps(40)
        net, extra = model(c, iteration=0)
        fresh = Network(*DEFAULT, seed=7)
        assert extra["iteration"] == 0
        for got, want in zip(net.weights + net.biases, fresh.weights + fresh.biases):
            np.testing.assert_array_equal(got, want)
        listed = c.get("/api/snapshots").json()["snapshots"]
        assert [s["iteration"] for s in listed] == [0, 1, 2, 4, 8, 16, 32]
        assert listed[0]["marker"] and all({"iteration", "epoch", "cost"} <= set(s) for s in listed)


def test_the_snapshot_at_k_is_the_network_after_k_mini_batches_from_the_same_seed(server_data, test_client):
    with test_client() as c:
        c.app.state.session.run_steps(100)
        net, extra = model(c, iteration=70)  # the nearest at or before: 64
        assert extra["iteration"] == 64
    again = TrainingSession(server_data)  # the same seed, the same 64 steps, another session
    again.run_steps(64)
    for got, want in zip(net.weights + net.biases, again.net.weights + again.net.biases):
        np.testing.assert_array_equal(got, want)
    # and an independent loop over the engine agrees to float32 precision
    plain = Network(*DEFAULT, seed=0)
    stream = BatchStream(server_data.train_images, server_data.train_labels, 10, plain.dtype, seed=0)
    for _ in range(64):
        x, y, _, _ = stream.next()
        plain.sgd_step(x, y, 3.0)
    for got, want in zip(net.weights, plain.weights):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("query, words", [
    ("iteration=-1", "The iteration must be at least 0, not -1"),
    ("iteration=99999", "iteration: 99,999 is after now (iteration 5)"),
    ("iteration=ten", "The iteration must be a whole number, not ten"),
    ("iteration=1.5", "The iteration must be a whole number, not 1.5"),
])
def test_a_bad_iteration_gets_a_precise_422(test_client, query, words):
    with test_client() as c:
        c.app.state.session.run_steps(5)
        r = c.get(f"/api/model?{query}")
        assert r.status_code == 422 and words in r.json()["detail"], r.text


def test_scrubbing_while_training_never_changes_the_weights_in_training(test_client):
    with test_client(session_kwargs={"steps_per_second": 200}) as c:
        session = c.app.state.session
        session.play()
        poll(lambda: session.iteration > 20, what="training")
        for _ in range(5):
            model(c, iteration=0)
        session.pause()
        settle(session)
        now, _ = model(c)
        start = Network(*DEFAULT, seed=0)
        assert not np.array_equal(now.weights[0], start.weights[0])
        assert c.get("/api/state").json()["iteration"] > 20


def test_the_confusion_matrix_is_an_independent_float64_computation_and_its_diagonal_the_accuracy(test_client, server_data):
    with test_client() as c:
        session = c.app.state.session
        session.step("epoch")
        poll(lambda: c.get("/api/state").json()["epoch"] == 1, timeout=30, what="an epoch")
        body = c.get("/api/confusion").json()
        state = c.get("/api/state").json()
        net, _ = model(c)
    matrix = np.array(body["matrix"])
    assert body["iteration"] == state["iteration"] == 6000
    assert np.trace(matrix) / 10_000 == state["accuracy"] == body["accuracy"]
    net64 = Network.from_parameters({**net.config, "dtype": "float64"}, net.weights, net.biases)
    predicted = np.argmax(net64.feedforward(to_float(server_data.test_images, np.float64)), axis=1)
    independent = np.zeros((10, 10), int)
    np.add.at(independent, (server_data.test_labels.astype(int), predicted), 1)
    np.testing.assert_array_equal(matrix, independent)


def test_a_cell_of_the_confusion_matrix_lists_its_images(test_client, server_data):
    with test_client() as c:
        c.app.state.session.run_steps(200)
        matrix = np.array(c.get("/api/confusion").json()["matrix"])
        t, p = np.unravel_index(np.argmax(matrix - np.diag(np.diag(matrix))), matrix.shape)  # the worst confusion
        cell = c.get(f"/api/confusion/cell?true={t}&predicted={p}&limit=5").json()
        assert len(cell["indices"]) == min(5, matrix[t, p]) and len(cell["images"][0]) == 784
        assert all(server_data.test_labels[i] == t for i in cell["indices"])
        assert c.get("/api/confusion/cell?true=10&predicted=0").status_code == 422


def test_branching_continues_from_a_snapshot_with_new_settings(test_client):
    with test_client() as c:
        session = c.app.state.session
        session.run_steps(300)
        r = c.post("/api/branch", json={"iteration": 100, "learning_rate": 0.5})
        assert r.status_code == 200, r.text
        assert r.json()["iteration"] == 64 and c.get("/api/state").json()["learning_rate"] == 0.5
        assert [s["iteration"] for s in c.get("/api/snapshots").json()["snapshots"]][-1] == 64
        assert session.markers[-1]["text"].startswith("branched here from iteration 300")
        assert len(session.cost_history) == 64
        session.run_steps(10)
        assert session.iteration == 74
        assert c.post("/api/branch", json={"iteration": 999}).status_code == 422
        assert c.post("/api/branch", json={"iteration": -3}).status_code == 422


def test_the_history_and_the_diagnostics_export_as_csv(test_client):
    with test_client() as c:
        c.app.state.session.run_steps(30)
        rows = list(csv.reader(io.StringIO(c.get("/api/history.csv").text)))
        assert rows[0] == ["iteration", "cost", "test_accuracy", "evaluated_on"] and len(rows) == 31
        assert float(rows[1][1]) > 0 and rows[30][3] == "subset"
        diag = list(csv.reader(io.StringIO(c.get("/api/diagnostics.csv").text)))
        assert diag[0][:3] == ["iteration", "layer", "grad_norm"] and len(diag) == 1 + 30 * 3
        measurements = c.get("/api/diagnostics").json()["measurements"]
        assert len(measurements) == 30 and len(measurements[-1]["layers"]) == 3
