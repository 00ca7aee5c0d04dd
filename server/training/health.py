"""Is the network still learning? The checks that catch a network that died without a NaN.

A learning rate that is too large does not always overflow: a ReLU network at η = 10 typically kills
every neuron of a layer within 50 mini-batches and then sits at chance level for ever, with finite
weights. The session runs these checks at each of its accuracy evaluations (about twice a second while
training) and tells every tab when one fires:

- ``dead_layer``: every ReLU of a hidden layer outputs 0 on every image of a fixed probe set. No
  gradient reaches the layers below it again; the network cannot recover.
- ``accuracy_at_chance``: test accuracy back at chance level, held for ``SUSTAIN`` mini-batches, after
  having been clearly better.
- ``cost_at_chance``: the mean cost of the last ``WINDOW`` mini-batches at or above the cost of the best
  constant guess (the class frequencies), held for ``SUSTAIN`` mini-batches, after having been clearly
  below it.
- ``never_learning``: after ``GRACE`` mini-batches, the cost far above that constant guess and the
  accuracy still at chance.

Chance levels come from the dataset's labels and class count. A training set of one class (a trivial
custom set) has nothing to fall back to: only the dead-layer check applies.

The thresholds leave a wide margin on healthy runs of the README's configurations (tests/test_health.py
trains them and checks that nothing fires) and fire within about a second on the broken ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW = 200  # mini-batches in the moving-average cost
SUSTAIN = 200  # mini-batches a bad state must last before it is reported
GRACE = 500  # mini-batches before "never learning" may be reported
BETTER_ACCURACY = 0.2  # "clearly better" = chance accuracy + this
AT_CHANCE_ACCURACY = 0.05  # "at chance" = chance accuracy + at most this
BETTER_COST = 0.7  # "clearly below": the moving cost under this fraction of the constant guess's
AT_CHANCE_COST = 0.97  # "at or above": the moving cost over this fraction of it
FAR_ABOVE_COST = 1.5  # never learning: the moving cost over this multiple of it


def chance_levels(labels: np.ndarray, n_classes: int, cost_fn) -> tuple[float, float]:
    """(accuracy, cost) of the best constant guess: always the most frequent class, and outputs equal to
    the class frequencies (the constant that minimises quadratic and cross-entropy costs alike)."""
    freq = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes).astype(np.float64)
    freq /= max(freq.sum(), 1.0)
    targets = np.eye(n_classes)
    outputs = np.repeat(freq[None, :], n_classes, axis=0)
    per_class = cost_fn.per_example(outputs, targets)  # the cost of the constant guess for each true class
    return float(freq.max()), float(per_class @ freq)


@dataclass
class Alarm:
    kind: str  # dead_layer | accuracy_at_chance | cost_at_chance | never_learning
    message: str


class HealthCheck:
    """The state the checks need, for one network: reset when the network is replaced or restored."""

    def __init__(self, chance_accuracy: float, chance_cost: float, relu_layers: list[int]):
        self.chance_accuracy = chance_accuracy
        self.chance_cost = chance_cost
        self.relu_layers = relu_layers  # indices (1-based, as in activations) of hidden ReLU layers
        self.rearm()

    def rearm(self) -> None:
        self.armed = True
        self.best_accuracy = 0.0
        self.best_cost = float("inf")
        self.bad_since: dict[str, int] = {}  # kind → iteration where the bad state began

    def __repr__(self) -> str:
        return (f"HealthCheck(chance accuracy {self.chance_accuracy:.3f}, chance cost {self.chance_cost:.3f}, "
                f"{'armed' if self.armed else 'fired'})")

    def _held(self, kind: str, bad: bool, iteration: int) -> bool:
        """Whether a bad state has lasted SUSTAIN mini-batches (and remember when it began)."""
        if not bad:
            self.bad_since.pop(kind, None)
            return False
        start = self.bad_since.setdefault(kind, iteration)
        return iteration - start >= SUSTAIN

    def check(self, iteration: int, accuracy: float, recent_costs: np.ndarray, probe_activations) -> Alarm | None:
        """Look at one evaluation: ``accuracy`` on the test subset, the costs of the last mini-batches and
        the hidden activations on the probe set (a list indexed like ``Trace.activations``)."""
        if not self.armed:
            return None
        cost = float(np.mean(recent_costs)) if len(recent_costs) else float("nan")
        full_window = len(recent_costs) >= WINDOW
        for l in self.relu_layers:
            if not np.any(probe_activations[l] > 0):
                return self._fire("dead_layer", (
                    f"Every ReLU of hidden layer {l} outputs 0 for every probe image: the layer is dead, no "
                    "gradient passes through it, and the network can no longer learn (a learning rate that "
                    "is too large pushed the biases and weights too far). Restore the last good weights "
                    "and lower the learning rate, or reset."))
        if self.chance_accuracy >= 1.0 or self.chance_cost <= 0.0:
            return None  # one class only (a trivial custom set): always right, nothing to fall back to
        chance_acc = self.chance_accuracy + AT_CHANCE_ACCURACY
        was_better = self.best_accuracy >= self.chance_accuracy + BETTER_ACCURACY
        if was_better and self._held("accuracy_at_chance", accuracy <= chance_acc, iteration):
            return self._fire("accuracy_at_chance", (
                f"Test accuracy fell to {accuracy:.1%}, chance level, after reaching {self.best_accuracy:.1%}: "
                "the network stopped learning (the learning rate is probably too large). Restore the last "
                "good weights and lower the learning rate."))
        if full_window:
            cost_was_better = self.best_cost <= BETTER_COST * self.chance_cost
            if cost_was_better and self._held("cost_at_chance", cost >= AT_CHANCE_COST * self.chance_cost, iteration):
                return self._fire("cost_at_chance", (
                    f"The cost rose to {cost:.3g}, no better than always guessing the class frequencies "
                    f"({self.chance_cost:.3g}), after reaching {self.best_cost:.3g}: the network stopped "
                    "learning. Restore the last good weights and lower the learning rate."))
            never = (iteration >= GRACE and cost >= FAR_ABOVE_COST * self.chance_cost and accuracy <= chance_acc)
            if self._held("never_learning", never, iteration):
                return self._fire("never_learning", (
                    f"After {iteration:,} mini-batches the cost is {cost:.3g}, worse than always guessing the "
                    f"class frequencies ({self.chance_cost:.3g}), and test accuracy is at chance "
                    f"({accuracy:.1%}): the network is not learning. Lower the learning rate and reset."))
            self.best_cost = min(self.best_cost, cost)
        self.best_accuracy = max(self.best_accuracy, accuracy)
        return None

    def _fire(self, kind: str, message: str) -> Alarm:
        self.armed = False  # once per network: a user who presses play again has chosen to go on
        return Alarm(kind, message)
