"""Changes a lesson makes to the live network by hand: a walkthrough step, teach, and their undo.

Each function runs on the session's worker (``TrainingSession.walk_step`` etc. queue it), in order with
every other command, so it never races a reset, a load or a training step. The undo history belongs to
one network: replacing the network (reset, load, upload, resume) clears it, and an undo that no longer
applies is refused with the reason and changes nothing.
"""

from __future__ import annotations

import numpy as np

from ..engine import walkthrough as wt
from ..engine.network import one_hot

UNDO_DEPTH = 20


class UndoHistory:
    """The parameters before each hand-made step of one network, newest last."""

    def __init__(self, depth: int = UNDO_DEPTH):
        self.depth = depth
        self._entries: list = []
        self._why_empty = "nothing to undo yet"

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"UndoHistory({len(self._entries)} of {self.depth})"

    def push(self, net) -> None:
        self._entries.append(net.parameters())
        del self._entries[: -self.depth]

    def pop(self):
        if not self._entries:
            raise LookupError(self._why_empty)
        params = self._entries.pop()
        if not self._entries:
            self._why_empty = "nothing more to undo"
        return params

    def clear(self, reason: str) -> None:
        """Forget every entry (the network they belong to is gone); ``reason`` explains a later undo."""
        if self._entries:
            self._why_empty = f"nothing to undo: {reason} since the last step"
        self._entries.clear()


def training_batch(data, indices) -> tuple[np.ndarray, np.ndarray]:
    """The network inputs and labels of these training examples of ``data``."""
    n = data.train_size
    if any(i >= n for i in indices):
        raise ValueError(f"indices: the training set has {n} examples, so each must be below {n}")
    indices = np.asarray(indices, dtype=np.int64)
    return data.inputs(data.train_inputs[indices]), data.train_labels[indices]


def chosen_parameters(net, params) -> list[dict]:
    """The parameters a table shows: those asked for (checked against the network), else a default few."""
    if not params:
        return wt.default_parameters(net)
    return [wt.check_parameter(net, dict(p)) for p in params]


def descend(session, x, y, learning_rate: float) -> tuple[float, float]:
    """One undoable step W ← W − η ∇C of the live network on (x, y); the batch's cost before and after."""
    net = session.net
    session.undo.push(net)
    grads = net.backprop(x, y, input_gradient=False)
    net.apply_gradients(grads.nabla_w, grads.nabla_b, learning_rate)
    session.version += 1
    return grads.cost, net.cost(x, y)


def walk_step(session, indices, params, learning_rate: float | None) -> dict:
    """The walkthrough's step: ``w ← w − η · average`` over that mini-batch, applied to the live network."""
    net = session.net
    x, labels = training_batch(session.data, indices)
    lr = learning_rate or session.learning_rate
    params = chosen_parameters(net, params)
    before = [wt.parameter_value(net, p) for p in params]
    table = wt.batch_table(net, x, labels, params)
    _, cost_after = descend(session, x, one_hot(labels, net.sizes[-1], net.dtype), lr)
    after = [wt.parameter_value(net, p) for p in params]
    return {
        "learning_rate": lr,
        "params": params,
        "average": [r["average"] for r in table["rows"]],
        "before": before,
        "after": after,
        "step": [a - b for a, b in zip(after, before)],
        "cost_before": table["cost"],
        "cost_after": cost_after,
        "undo_depth": len(session.undo),
    }


def teach(session, x: np.ndarray, label: int, learning_rate: float | None) -> dict:
    """One step on a single example with the label the user gives."""
    net = session.net
    lr = learning_rate or session.learning_rate
    y = one_hot([label], net.sizes[-1], net.dtype)
    before = net.feedforward(x[None, :])[0]
    cost_before, cost_after = descend(session, x[None, :], y, lr)
    after = net.feedforward(x[None, :])[0]
    return {
        "label": label,
        "learning_rate": lr,
        "before": {"digit": int(np.argmax(before)), "probabilities": net.probabilities(before)},
        "after": {"digit": int(np.argmax(after)), "probabilities": net.probabilities(after)},
        "cost_before": cost_before,
        "cost_after": cost_after,
        "undo_depth": len(session.undo),
    }


def undo(session) -> dict:
    """Restore the weights from before the last step or teach of this network, or say why not."""
    try:
        weights, biases = session.undo.pop()
    except LookupError as e:
        return {"undone": False, "undo_depth": 0, "reason": str(e)}
    session.net.set_parameters(weights, biases)
    session.version += 1
    return {"undone": True, "undo_depth": len(session.undo)}
