"""The training session on its own: commands, the worker, readers, divergence and resuming."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from server.training.session import BACKUP_EVERY_STEPS, TrainingSession

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")

from conftest_server import poll  # noqa: E402

DIVERGING = {"sizes": [784, 64, 64, 64, 10], "activation": "relu", "output_activation": "softmax",
             "cost": "cross_entropy", "seed": 0}


@pytest.fixture
def session(small_data):
    s = TrainingSession(small_data)
    s.start()
    yield s
    s.stop()


def settle(s: TrainingSession):
    """Wait until the worker has applied every command sent so far."""
    s.read(lambda: None).result(5)


def test_step_is_exactly_one_mini_batch_and_pause_stops(session):
    session.step()
    settle(session)
    poll(lambda: session.iteration == 1 and not session.state()["running"], what="one step")
    assert session.examples_seen == 10 and len(session.cost_history) == 1
    session.step("example")
    poll(lambda: session.iteration == 2, what="one example")
    assert session.examples_seen == 11
    session.play()
    poll(lambda: session.iteration > 50, what="training")
    session.pause()
    settle(session)
    it = session.iteration
    # Paused means nothing moves however long one waits: the sleep is the behaviour under test
    # (it cannot fail a correct session; its length only decides how surely a wrong one is caught).
    time.sleep(0.1)
    assert session.iteration == it and not session.state()["running"]
    assert len(session.cost_history) == it  # one cost per mini-batch, none lost


@pytest.mark.parametrize("config", [
    None,  # the default: sigmoid, sigmoid output, quadratic cost
    {"sizes": [784, 30, 10], "activation": "relu", "output_activation": "softmax", "cost": "cross_entropy"},
    {"sizes": [784, 10], "activation": "tanh", "output_activation": "tanh", "cost": "quadratic"},
])
def test_unwatched_mini_batches_take_the_fused_step(small_data, step_spies, config):
    """Only the mini-batch a frame will show runs through backprop (its gradients are kept); every other
    one runs through the fused step, which keeps nothing (protocol.md, ``frame.example``)."""
    s = TrainingSession(small_data, config=config, record=False)  # (its diagnostics run backprop on a probe)
    calls = step_spies
    s.run_steps(20)  # nobody looked since the first: one kept, 19 fused
    assert (calls["backprop"], calls["fused"]) == (1, 19)
    s.snapshot()  # a frame was taken (it may run backprop for the shown example): the next mini-batch is kept
    calls.update(backprop=0, fused=0)
    s.run_steps(10)
    assert (calls["backprop"], calls["fused"]) == (1, 9)
    assert s.iteration == 30 and len(s.cost_history) == 30 and np.isfinite(s.cost_history.values()).all()


def test_step_epoch_and_full_evaluation(session):
    session.step("epoch")  # 1000 images, batches of 10
    poll(lambda: session.stream.epoch == 1 and not session.state()["running"], what="an epoch")
    assert session.iteration == 100 and session.accuracy_history[-1][2] is True
    assert [e["kind"] for e in session.events] == ["epoch"]


def test_commands_apply_in_order_and_invalid_ones_change_nothing(session):
    with pytest.raises(ValueError):
        session.set_params(learning_rate=0)
    with pytest.raises(ValueError):
        session.set_params(learning_rate=float("nan"))
    with pytest.raises(ValueError):
        session.set_params(batch_size=0)
    with pytest.raises(ValueError):
        session.reset([0], "sigmoid", "sigmoid", "quadratic")
    with pytest.raises(ValueError):
        session.reset([16] * 5, "sigmoid", "sigmoid", "quadratic")
    with pytest.raises(ValueError):
        session.reset([16], "sigmoid", "relu", "cross_entropy")
    with pytest.raises(ValueError):
        session.select_example("test", 10**9)
    settle(session)
    assert session.params() == {"learning_rate": 3.0, "batch_size": 10, "steps_per_second": None}
    session.set_params(learning_rate=1.0)
    session.set_params(learning_rate=2.0, batch_size=20)
    session.step()
    settle(session)
    assert session.learning_rate == 2.0 and session.batch_size == 20
    poll(lambda: session.examples_seen == 20, what="a batch of 20")
    assert [m["text"] for m in session.markers] == ["η = 1", "η = 2, batch 20"]


def test_reset_replaces_the_network_and_history(session):
    session.step()
    settle(session)
    version = session.structure_version
    session.reset([30], "tanh", "softmax", "cross_entropy", seed=5, learning_rate=0.5)
    settle(session)
    assert session.net.sizes == [784, 30, 10] and session.structure_version == version + 1
    assert session.iteration == 0 and len(session.cost_history) == 0 and session.learning_rate == 0.5


def test_readers_run_between_mini_batches_and_never_hang(session):
    session.play()
    poll(lambda: session.iteration > 10, what="training")
    seen = []

    def reader():
        seen.append(threading.current_thread().name)
        return session.iteration

    a = session.read(reader).result(5)
    b = session.read(reader).result(5)
    assert b >= a and seen == ["training", "training"]
    with pytest.raises(ZeroDivisionError):
        session.read(lambda: 1 / 0).result(5)
    assert session.read(lambda: 42).result(5) == 42  # the worker carries on
    session.stop()
    assert session.read(reader).result(1) >= b  # without a worker: at once, under the lock
    assert seen[-1] == threading.current_thread().name


def test_worker_survives_a_failing_command(session):
    session._submit(lambda: 1 / 0)
    settle(session)
    assert session.events[-1]["kind"] == "error"
    session.step()
    poll(lambda: session.iteration == 1, what="a step after the fault")


def test_divergence_pauses_restores_finite_weights_and_tells(server_data):
    s = TrainingSession(server_data, config=DIVERGING, learning_rate=10.0)
    start = [w.copy() for w in s.net.weights]
    s.start()
    try:
        s.play()
        poll(lambda: any(e["kind"] == "diverged" for e in s.events), what="divergence")
        settle(s)
        assert not s.state()["running"]
        assert s.net.is_finite()
        assert s.iteration < BACKUP_EVERY_STEPS  # so the restored weights are the initial ones
        for w, w0 in zip(s.net.weights, start):
            np.testing.assert_array_equal(w, w0)
        event = [e for e in s.events if e["kind"] == "diverged"][-1]
        assert "learning rate" in event["message"] and "lower" in event["message"]
        assert np.isfinite(s.cost_history.values()).all()
        snap = s.snapshot()
        assert all(np.isfinite(a).all() for a in snap.weights + snap.biases + snap.activations)
    finally:
        s.stop()


def test_snapshot_of_overflowing_weights_restores_instead_of_sending_them(small_data):
    s = TrainingSession(small_data, config=DIVERGING, learning_rate=0.01)
    s.run_steps(3)
    s.running = True
    with s.lock:
        s.net.weights[1][:] = 3e38  # finite, but the next layer overflows
    snap = s.snapshot()
    assert all(np.isfinite(a).all() for a in snap.weights + snap.biases + snap.activations + snap.zs)
    assert s.events[-1]["kind"] == "diverged" and not s.running


def test_history_state_round_trip_resumes_counters_and_history(small_data):
    a = TrainingSession(small_data, learning_rate=2.0, batch_size=7)
    a.run_steps(40)
    a.markers.append({"iteration": 40, "text": "η = 2"})
    a.accuracy_history.append([40, 0.5, False])
    history = a.history_state()
    b = TrainingSession(small_data)
    b.load_network(a.net, history, message="resumed")
    b.start()
    try:
        settle(b)
        assert (b.iteration, b.examples_seen, b.learning_rate, b.batch_size) == (40, 280, 2.0, 7)
        np.testing.assert_array_equal(b.cost_history.values(), a.cost_history.values())
        assert b.markers == a.markers and b.accuracy_history == a.accuracy_history
        assert b.events[-1]["kind"] == "loaded" and b.events[-1]["message"] == "resumed: η 2, batch 7, iteration 40"
        b.step()
        poll(lambda: b.iteration == 41, what="a step after resuming")
        assert len(b.cost_history) == 41
    finally:
        b.stop()


def test_long_histories_are_saved_as_bucket_means(small_data, monkeypatch):
    import json

    import server.training.saved_history as session_module

    s = TrainingSession(small_data)
    costs = np.random.default_rng(0).random(5000).astype(np.float32)
    for v in costs:
        s.cost_history.append(v)
    s.iteration = 5000
    exact = session_module.check_history(json.loads(json.dumps(s.history_state())))
    np.testing.assert_array_equal(exact["costs"].astype(np.float32), costs)
    monkeypatch.setattr(session_module, "MAX_SAVED_COSTS", 1000)
    saved = json.loads(json.dumps(s.history_state()))
    restored = session_module.check_history(saved)["costs"]
    assert len(restored) == 5000  # one cost per mini-batch still
    np.testing.assert_allclose(restored.reshape(1000, 5).mean(axis=1), costs.reshape(1000, 5).mean(axis=1), rtol=1e-6)


@pytest.mark.parametrize("bad", [
    {"iteration": 3, "costs": [0.1, 0.2]},
    {"iteration": -1},
    {"iteration": 1, "costs": [float("nan")]},
    {"accuracy_history": [[1, "x", True]]},
    {"markers": ["η = 2"]},
    {"params": {"learning_rate": 100}},
    {"iteration": 2, "costs_f32": "not base64!"},
    {"iteration": 2, "costs_f32": "AAAA"},  # 3 bytes: not whole float32s
    {"iteration": 1, "costs_f32": "AADAfw=="},  # NaN
])
def test_load_network_refuses_a_bad_history(small_data, bad):
    s = TrainingSession(small_data)
    with pytest.raises(ValueError):
        s.load_network(s.net, bad)


def test_classify_sums_to_one_and_refuses_overflow(small_data):
    s = TrainingSession(small_data)
    out = s.classify(small_data.test_images[0] / 255)
    assert abs(sum(out["probabilities"]) - 1) < 1e-9 and len(out["activations"]) == 4
    s = TrainingSession(small_data, config=DIVERGING)
    s.net.weights[0][:] = 3e38  # ReLU passes the overflow on
    with pytest.raises(ValueError, match="overflow"):
        s.classify(small_data.test_images[0] / 255)
