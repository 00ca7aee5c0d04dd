"""Nothing a user does loses their work or silently wrecks the network (issue 10, the session's side).

- leaving the walkthrough restores exactly the running state it interrupted, and never overrides a
  play/pause/step someone chose meanwhile;
- every change to the network goes through the session's one ordered queue, and the undo history
  belongs to one network;
- an epoch step runs flat out;
- a network that stops learning is reported to every tab, with a way back to the best weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from server.engine import checkpoint
from server.network import Network
from server.training.health import HealthCheck, chance_levels
from server.training.session import TrainingSession
from server.engine.costs import get_cost

pytest_plugins = ["conftest_server"]
from conftest_server import poll  # noqa: E402


def settle(session) -> None:
    """Wait until the worker has applied every command sent so far."""
    session.read(lambda: None).result(10)


def running(c) -> bool:
    return c.get("/api/state").json()["running"]


def weights_of(c) -> list[np.ndarray]:
    net, _ = checkpoint.from_bytes(c.get("/api/model").content)
    return net.weights + net.biases


# ----- 1. leaving the walkthrough -------------------------------------------------------------
def test_closing_the_walkthrough_keeps_a_paused_session_paused(test_client):
    with test_client() as c:
        assert not running(c)
        opened = c.post("/api/walkthrough/open").json()
        assert opened["was_running"] is False
        c.post("/api/walkthrough/close", json={"hold": opened.get("hold")})
        assert not running(c)
        c.post("/api/walkthrough/open")
        c.post("/api/walkthrough/close")  # an old client, without the hold: the same rule
        assert not running(c)


def test_closing_the_walkthrough_resumes_a_session_that_was_running(test_client):
    with test_client(session_kwargs={"steps_per_second": 50}) as c:
        c.app.state.session.play()
        poll(lambda: running(c), what="training started")
        opened = c.post("/api/walkthrough/open").json()
        assert opened["was_running"] is True and not running(c)
        assert c.post("/api/walkthrough/close", json={"hold": opened.get("hold")}).json()["running"] is True
        assert running(c)


@pytest.mark.parametrize("first, choice, expect", [(True, "pause", False), (False, "play", True)])
def test_a_choice_made_during_the_walkthrough_wins(test_client, first, choice, expect):
    with test_client(session_kwargs={"steps_per_second": 50}) as c:
        session = c.app.state.session
        if first:
            session.play()
            poll(lambda: running(c), what="training started")
        hold = c.post("/api/walkthrough/open").json().get("hold")
        with c.websocket_connect("/ws") as other:  # another tab presses a button meanwhile
            other.send_json({"type": choice})
            settle(session)
        c.post("/api/walkthrough/close", json={"hold": hold})
        settle(session)
        assert running(c) is expect


def test_training_resumes_only_when_the_last_walkthrough_closes(test_client):
    with test_client(session_kwargs={"steps_per_second": 50}) as c:
        c.app.state.session.play()
        poll(lambda: running(c), what="training started")
        a = c.post("/api/walkthrough/open").json()
        b = c.post("/api/walkthrough/open").json()
        assert a["was_running"] and not b["was_running"]
        assert c.post("/api/walkthrough/close", json={"hold": a["hold"]}).json()["running"] is False
        assert c.post("/api/walkthrough/close", json={"hold": b["hold"]}).json()["running"] is True


# ----- 2. undo belongs to one network, every change goes through the queue ----------------------
def step_body(c) -> dict:
    batch = c.post("/api/walkthrough/batch", json={"size": 4, "seed": 1}).json()
    return {"indices": batch["indices"], "learning_rate": 1.0}


@pytest.mark.parametrize("replace", ["reset", "load"])
def test_undo_never_puts_old_weights_into_a_new_network(test_client, tmp_path, replace):
    with test_client() as c:
        session = c.app.state.session
        assert c.post("/api/walkthrough/step", json=step_body(c)).json()["undo_depth"] == 1
        if replace == "reset":
            session.reset([16, 16], "tanh", "sigmoid", "quadratic", seed=5)
            fresh = Network([784, 16, 16, 10], "tanh", "sigmoid", "quadratic", seed=5)
        else:  # a checkpoint of the same shape
            fresh = Network([784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic", seed=9)
            checkpoint.save(tmp_path / "same.npz", fresh)
            assert c.post("/api/checkpoints/upload", content=(tmp_path / "same.npz").read_bytes()).status_code == 200
        settle(session)
        r = c.post("/api/undo").json()
        assert r["undone"] is False and "replaced" in r["reason"], r
        for got, want in zip(weights_of(c), fresh.weights + fresh.biases):
            np.testing.assert_array_equal(got, want)


def test_a_step_queued_after_a_reset_applies_to_the_new_network(test_client):
    """The reset is queued, not yet applied, when the step arrives: the step must wait its turn."""
    with test_client() as c:
        session = c.app.state.session
        body = step_body(c)
        session.worker.submit(lambda: __import__("time").sleep(0.3))  # the worker is busy for a moment
        session.reset([16, 16], "tanh", "sigmoid", "quadratic", seed=5)
        assert c.post("/api/walkthrough/step", json=body).json()["undo_depth"] == 1
        assert c.post("/api/undo").json()["undone"] is True
        fresh = Network([784, 16, 16, 10], "tanh", "sigmoid", "quadratic", seed=5)
        for got, want in zip(weights_of(c), fresh.weights + fresh.biases):
            np.testing.assert_array_equal(got, want)


def test_undo_restores_step_and_teach_in_reverse_order(test_client):
    with test_client() as c:
        w0 = weights_of(c)
        c.post("/api/walkthrough/step", json=step_body(c))
        w1 = weights_of(c)
        r = c.post("/api/teach", json={"pixels": [0.5] * 784, "label": 3, "learning_rate": 1.0}).json()
        assert r["undo_depth"] == 2
        assert c.post("/api/undo").json() == {"undone": True, "undo_depth": 1}
        for got, want in zip(weights_of(c), w1):
            np.testing.assert_array_equal(got, want)
        assert c.post("/api/undo").json() == {"undone": True, "undo_depth": 0}
        for got, want in zip(weights_of(c), w0):
            np.testing.assert_array_equal(got, want)
        r = c.post("/api/undo").json()
        assert r["undone"] is False and r["reason"] == "nothing more to undo"


# ----- 7. an epoch step runs flat out -----------------------------------------------------------
def test_an_epoch_step_ignores_the_slow_motion_speed(small_data):
    session = TrainingSession(small_data, steps_per_second=0.5)  # 100 mini-batches would take 200 s
    session.start()
    try:
        session.step("epoch")
        settle(session)
        poll(lambda: session.state()["epoch"] == 1, timeout=20, what="the epoch step to finish")
        state = session.state()
        assert state["iteration"] == 100 and not state["running"] and not state["epoch_step"]
        assert session.steps_per_second == 0.5  # the speed setting itself is kept
    finally:
        session.stop()


# ----- 5. a network that stops learning --------------------------------------------------------
def make_check(data, activation="relu", output="softmax", cost="cross_entropy", layers=(1, 2)) -> HealthCheck:
    acc, c = chance_levels(data.train_labels, 10, get_cost(cost, output))
    return HealthCheck(acc, c, list(layers) if activation == "relu" else [])


def test_chance_levels_are_those_of_the_best_constant_guess(server_data):
    freq = np.bincount(server_data.train_labels, minlength=10) / len(server_data.train_labels)
    acc, ce = chance_levels(server_data.train_labels, 10, get_cost("cross_entropy", "softmax"))
    assert acc == pytest.approx(freq.max()) and ce == pytest.approx(-(freq * np.log(freq)).sum())
    _, quad = chance_levels(server_data.train_labels, 10, get_cost("quadratic", "sigmoid"))
    assert quad == pytest.approx(1 - (freq ** 2).sum())  # ≈ 0.9


def test_health_check_fires_on_the_broken_and_never_on_the_healthy(server_data):
    alive = [np.ones((5, 16)), np.ones((5, 16)), np.ones((5, 16)), np.ones((5, 10))]
    dead = [alive[0], np.zeros((5, 16)), alive[2], alive[3]]
    check = make_check(server_data)
    assert check.check(10, 0.1, np.full(10, 3.0), dead).kind == "dead_layer"
    assert check.check(20, 0.1, np.full(10, 3.0), dead) is None  # once: going on is then the user's choice
    # tanh units are never "dead" at 0
    assert make_check(server_data, activation="tanh").check(10, 0.1, np.full(10, 3.0), dead) is None
    # accuracy back at chance after 90%, held for 200 mini-batches
    check = make_check(server_data)
    assert check.check(1000, 0.9, np.full(200, 0.3), alive) is None
    assert check.check(1100, 0.1, np.full(200, 0.3), alive) is None  # not held yet
    alarm = check.check(1300, 0.1, np.full(200, 0.3), alive)
    assert alarm.kind == "accuracy_at_chance" and "90.0%" in alarm.message
    # a noisy dip that recovers does not fire
    check = make_check(server_data)
    for it, acc in [(1000, 0.9), (1100, 0.12), (1200, 0.5), (1300, 0.12), (1450, 0.6)]:
        assert check.check(it, acc, np.full(200, 0.3), alive) is None
    # the cost back at the constant guess's after being far below it
    check = make_check(server_data)
    assert check.check(1000, 0.5, np.full(200, 0.3), alive) is None
    check.check(1100, 0.5, np.full(200, 2.5), alive)
    assert check.check(1300, 0.5, np.full(200, 2.5), alive).kind == "cost_at_chance"
    # never learning: far above the constant guess at chance accuracy, after the grace period
    check = make_check(server_data, output="sigmoid", cost="quadratic")
    assert check.check(100, 0.1, np.full(200, 1.8), alive) is None
    check.check(600, 0.1, np.full(200, 1.8), alive)
    assert check.check(800, 0.1, np.full(200, 1.8), alive).kind == "never_learning"
    # a fresh, slowly learning network near the constant guess is not reported
    check = make_check(server_data, output="sigmoid", cost="quadratic")
    for it in range(0, 3000, 100):
        assert check.check(it, 0.11, np.full(200, 0.95), alive) is None


def train_and_watch(data, config, lr, batch, steps_per_second=None, until=None, seconds=6.0):
    """Train a live session (on its worker, with its real evaluations) and return its stalled events."""
    session = TrainingSession(data, config=config, learning_rate=lr, batch_size=batch,
                              steps_per_second=steps_per_second)
    session.start()
    try:
        session.play()
        try:
            poll(lambda: (until or (lambda s: False))(session), timeout=seconds, what="training")
        except AssertionError:
            pass
        session.pause()
        settle(session)
        return session, [e for e in session.events if e["kind"] == "stalled"]
    finally:
        session.stop()


def config(activation, output, cost, hidden=(16, 16), seed=0):
    return {"sizes": [784, *hidden, 10], "activation": activation, "output_activation": output,
            "cost": cost, "seed": seed}


@pytest.mark.parametrize("cfg, lr, batch, speed", [
    (config("sigmoid", "sigmoid", "quadratic"), 3.0, 10, None),  # the page's default, flat out
    (config("sigmoid", "sigmoid", "quadratic"), 3.0, 10, 100),  # ... and its first slow minute
    (config("relu", "softmax", "cross_entropy", hidden=(100,)), 0.2, 32, None),  # the README's ReLU network
    (config("sigmoid", "sigmoid", "quadratic", hidden=(30,)), 1.5, 10, None),  # the lectures' network
])
def test_healthy_networks_are_never_reported(server_data, cfg, lr, batch, speed):
    """Every check runs at each evaluation (about two a second); eight of them, and none fires."""
    session, stalled = train_and_watch(server_data, cfg, lr, batch, steps_per_second=speed,
                                       until=lambda s: len(s.accuracy_history) >= 8, seconds=30)
    assert len(session.accuracy_history) >= 8
    assert stalled == [], stalled


@pytest.mark.parametrize("cfg, lr, kinds", [
    (config("relu", "softmax", "cross_entropy"), 10.0, {"dead_layer"}),
    (config("relu", "sigmoid", "quadratic"), 10.0, {"never_learning", "dead_layer"}),
])
def test_a_network_that_dies_is_reported_and_paused(server_data, cfg, lr, kinds):
    session, stalled = train_and_watch(server_data, cfg, lr, 10, until=lambda s: any(
        e["kind"] == "stalled" for e in s.events), seconds=30)
    assert len(stalled) == 1 and stalled[0]["reason"] in kinds, stalled
    assert not session.state()["running"]  # paused, so nobody trains a dead network unawares
    assert "learning rate" in stalled[0]["message"]


def test_after_a_network_dies_the_best_weights_come_back(server_data):
    """A trained network is wrecked by η = 10; restore_good brings back the weights of its best accuracy."""
    session = TrainingSession(server_data, config=config("relu", "softmax", "cross_entropy"), learning_rate=0.2,
                              batch_size=32)
    session.start()
    try:
        session.play()
        poll(lambda: session.accuracy() is not None and session.accuracy() > 0.85, timeout=30, what="training")
        session.set_params(learning_rate=10.0)
        poll(lambda: any(e["kind"] == "stalled" for e in session.events), timeout=30, what="the alarm")
        event = next(e for e in session.events if e["kind"] == "stalled")
        assert event["good_accuracy"] > 0.85
        session.restore_good()
        settle(session)
        best = [a for a in session.accuracy_history if a[0] == event["good_iteration"]]
        assert best and best[0][1] == event["good_accuracy"]
        from server.engine.batches import evaluate
        idx = np.arange(len(server_data.test_images)) if best[0][2] else session._eval_idx  # whole set or subset
        acc = evaluate(session.net, server_data.test_images[idx], server_data.test_labels[idx])
        assert acc == pytest.approx(event["good_accuracy"])
        assert session.events[-1]["kind"] == "restored" and not session.state()["running"]
        assert session.health.armed  # it watches again
    finally:
        session.stop()


def test_a_network_dead_from_the_start_gets_its_initial_weights_back(server_data):
    """A dead network is never kept as the "good" one, however it scores: here only iteration 0 qualifies."""
    session = TrainingSession(server_data, config=config("relu", "softmax", "cross_entropy"), learning_rate=10.0)
    session.start()
    try:
        session.play()
        poll(lambda: any(e["kind"] == "stalled" for e in session.events), timeout=30, what="the alarm")
        stalled = next(e for e in session.events if e["kind"] == "stalled")
        assert stalled["good_iteration"] == 0 and stalled["good_accuracy"] is None
        session.restore_good()
        settle(session)
        fresh = Network([784, 16, 16, 10], "relu", "softmax", "cross_entropy", seed=0)
        for got, want in zip(session.net.weights + session.net.biases, fresh.weights + fresh.biases):
            np.testing.assert_array_equal(got, want)
    finally:
        session.stop()


def test_after_an_alarm_a_new_learning_rate_watches_afresh(server_data):
    session = TrainingSession(server_data, config=config("relu", "softmax", "cross_entropy"), learning_rate=10.0)
    session.start()
    try:
        session.play()
        poll(lambda: any(e["kind"] == "stalled" for e in session.events), timeout=30, what="the alarm")
        assert not session.health.armed
        session.set_params(learning_rate=0.1)
        settle(session)
        assert session.health.armed
    finally:
        session.stop()
