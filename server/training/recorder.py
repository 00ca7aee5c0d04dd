"""What a session records for looking back: weight snapshots, per-layer diagnostics and the confusion matrix.

The session calls these hooks on its worker, between mini-batches (``start`` when a network is
installed, ``after_step`` after every mini-batch, ``mark`` at a marker, ``evaluated`` at each accuracy
evaluation, ``full_evaluation`` at the end of each epoch). Everything else reads through
``session.read``. Recording costs a snapshot copy at log-spaced iterations and one backprop of the probe
set per evaluation (about two a second): bench/recording_bench.py measures it against recording off.
"""

from __future__ import annotations

import time

import numpy as np

from ..engine import diagnostics
from ..engine.network import one_hot
from ..engine.saved_snapshots import SavedHistory
from .snapshots import DEFAULT_BUDGET_BYTES, SnapshotLog

MAX_DIAGNOSTICS = 2000  # measurements kept; beyond, every other one is dropped (evenly thinned)
DIAGNOSTICS_EVERY_SECONDS = 1.0  # while training runs (each one is a backprop of the probe set)
CONFUSION_CHUNK = 5000


class Recorder:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES, enabled: bool = True):
        self.enabled = enabled
        self.snapshots = SnapshotLog(budget_bytes)
        self.diagnostics: list[dict] = []  # {iteration, layers: [...], notes: [...]}
        self.confusion: dict | None = None  # {iteration, matrix, accuracy}
        self._probe_y = None
        self._measured_at = -float("inf")

    def __repr__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"Recorder({state}, {self.snapshots!r}, {len(self.diagnostics)} measurements)"

    # ----- hooks, on the session's worker ----------------------------------------------------------
    def start(self, session) -> None:
        """A new network (reset, load, branch): forget the old one's records, keep its starting point."""
        self.snapshots.clear()
        self.diagnostics.clear()
        self.confusion = None
        probe_labels = session.data.train_labels[: len(session._probe)]  # _probe: the first training inputs
        self._probe_y = one_hot(probe_labels, session.net.sizes[-1], session.net.dtype)
        if self.enabled:
            self._record(session, marker=True)

    def after_step(self, session, epoch_ended: bool) -> None:
        """``epoch_ended``: an epoch end the session reports (every one, or at most two a second when a tiny
        dataset ends many a second)."""
        if self.enabled and self.snapshots.wants(session.iteration, epoch_end=epoch_ended):
            self._record(session)

    def mark(self, session) -> None:
        if self.enabled:
            self._record(session, marker=True)

    def evaluated(self, session) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if session.running and now - self._measured_at < DIAGNOSTICS_EVERY_SECONDS:
            return
        self._measured_at = now
        # The probe's labels again: a set_points changes the training set under the same network.
        probe_labels = session.data.train_labels[: len(session._probe)]
        self._probe_y = one_hot(probe_labels, session.net.sizes[-1], session.net.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            layers = diagnostics.measure(session.net, session._probe, self._probe_y, session.learning_rate)
        self.diagnostics.append({"iteration": session.iteration, "layers": layers, "notes": diagnostics.notes(layers)})
        if len(self.diagnostics) > MAX_DIAGNOSTICS:
            del self.diagnostics[1:-1:2]

    def full_evaluation(self, session) -> float:
        """The confusion matrix on the whole test set; returns the accuracy it implies (its diagonal)."""
        data, net = session.data, session.net
        n = net.sizes[-1]
        predictions = np.empty(data.test_size, np.int64)
        for start in range(0, data.test_size, CONFUSION_CHUNK):
            x = data.inputs(data.test_inputs[start : start + CONFUSION_CHUNK], net.dtype)
            predictions[start : start + len(x)] = net.predict(x)
        labels = np.asarray(data.test_labels, np.int64)
        matrix = np.bincount(labels * n + predictions, minlength=n * n).reshape(n, n)
        accuracy = float(np.trace(matrix)) / max(len(labels), 1)
        self.confusion = {"iteration": session.iteration, "matrix": matrix, "accuracy": accuracy,
                          "predictions": predictions}
        return accuracy

    def _record(self, session, marker: bool = False) -> None:
        costs = session.cost_history.values()
        cost = float(costs[-1]) if len(costs) else None
        self.snapshots.record(session.iteration, session.stream.epoch, cost, session.net.weights, session.net.biases,
                              marker=marker)

    def restore(self, session, saved: SavedHistory) -> None:
        """After a load (``start`` has run): put a checkpoint's snapshots and diagnostics back, before
        what was recorded since. Its snapshots hold the network's dtype (float32 in the session)."""
        if not self.enabled:
            return
        dtype = session.net.dtype
        for s in saved.snapshots:
            s.weights = [np.asarray(w, dtype) for w in s.weights]
            s.biases = [np.asarray(b, dtype) for b in s.biases]
        self.snapshots.restore(saved.snapshots)
        self.diagnostics[:0] = [m for m in saved.diagnostics if m["iteration"] <= session.iteration]
        if len(self.diagnostics) > MAX_DIAGNOSTICS:
            keep = set(np.linspace(0, len(self.diagnostics) - 1, MAX_DIAGNOSTICS).round().astype(int).tolist())
            self.diagnostics = [m for i, m in enumerate(self.diagnostics) if i in keep]

    # ----- reads (through session.read) ------------------------------------------------------------
    def saved(self, budget_bytes: int, max_count: int) -> SavedHistory:
        """What a checkpoint with history carries: the snapshots (thinned to ``budget_bytes`` and
        ``max_count``: see ``SnapshotLog.for_saving``) and the diagnostics. The log's own arrays (never
        changed in place), so this is cheap on the worker; the file is written elsewhere."""
        return SavedHistory(self.snapshots.for_saving(budget_bytes, max_count), list(self.diagnostics))

    def cells(self, session, true: int, predicted: int, limit: int) -> list[int]:
        """Test images in one cell of the latest confusion matrix: the same evaluation as its counts."""
        if self.confusion is None:
            return []
        hits = np.nonzero((np.asarray(session.data.test_labels) == true) & (self.confusion["predictions"] == predicted))[0]
        return hits[:limit].tolist()
