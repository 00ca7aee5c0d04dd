"""Changes a lesson makes to the live network by hand: a walkthrough step, teach, one parameter set by
hand, and their undo.

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
    """The parameters before each hand-made step of one network, newest last, each with a tag saying what
    made it (``set_parameter`` uses it to merge a slider's run of sets into one step)."""

    def __init__(self, depth: int = UNDO_DEPTH):
        self.depth = depth
        self._entries: list = []  # (parameters, tag)
        self._why_empty = "nothing to undo yet"

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"UndoHistory({len(self._entries)} of {self.depth})"

    @property
    def last_tag(self):
        """The tag of the newest entry (None when empty or untagged)."""
        return self._entries[-1][1] if self._entries else None

    def push(self, net, tag=None) -> None:
        self._entries.append((net.parameters(), tag))
        del self._entries[: -self.depth]

    def pop(self):
        if not self._entries:
            raise LookupError(self._why_empty)
        params, _ = self._entries.pop()
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


def chosen_parameters(net, params) -> list[dict] | None:
    """The parameters a table shows: those asked for, checked against the network; None (not asked):
    the ones that matter for the batch (``walkthrough.batch_parameters``)."""
    if not params:
        return None
    return [wt.check_parameter(net, dict(p)) for p in params]


def walked_batch(net, data, indices, example: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """The mini-batch of the walkthrough: the walked example first (when given, checked against the
    network's input and output sizes), then the training images ``indices``."""
    x, labels = training_batch(data, indices) if len(indices) else (None, None)
    if example is None:
        if x is None:
            raise ValueError("the mini-batch is empty: give indices or an example")
        return x, labels
    pixels, label = example["pixels"], example["label"]
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if len(pixels) != n_in:
        raise ValueError(f"example.pixels: the network has {n_in} inputs, got {len(pixels)} values")
    if not 0 <= label < n_out:
        raise ValueError(f"example.label: the network has {n_out} outputs, so the label must be from 0 to {n_out - 1}")
    first = np.asarray(pixels, dtype=np.float32)[None, :]
    if data.kind == "image" and (first.min() < 0 or first.max() > 1):
        raise ValueError("example.pixels: an image's pixels must be greater than or equal to 0 and "
                         "less than or equal to 1")
    if x is None:
        return first, np.array([label])
    return np.concatenate([first, x.astype(np.float32)]), np.concatenate([[label], labels])


def descend(session, x, y, learning_rate: float) -> tuple[float, float]:
    """One undoable step W ← W − η ∇C of the live network on (x, y); the batch's cost before and after."""
    net = session.net
    session.undo.push(net)
    grads = net.backprop(x, y, input_gradient=False)
    net.apply_gradients(grads.nabla_w, grads.nabla_b, learning_rate)
    session.version += 1
    return grads.cost, net.cost(x, y)


def walk_step(session, indices, params, learning_rate: float | None, example: dict | None = None) -> dict:
    """The walkthrough's step: ``w ← w − η · average`` over that mini-batch (the walked example first, when
    given), applied to the live network; what it changed: the table's parameters, every example's cost and
    output for its label, the batch's cost, and the first-layer neuron whose incoming weights moved most."""
    net = session.net
    x, labels = walked_batch(net, session.data, indices, example)
    lr = learning_rate or session.learning_rate
    table = wt.batch_table(net, x, labels, chosen_parameters(net, params), example_first=example is not None)
    params = [r["param"] for r in table["rows"]]
    before = [wt.parameter_value(net, p) for p in params]
    outputs_before, costs_before = wt.label_outputs(net, x, labels)
    w0 = net.weights[0].copy()
    _, cost_after = descend(session, x, one_hot(labels, net.sizes[-1], net.dtype), lr)
    after = [wt.parameter_value(net, p) for p in params]
    outputs_after, costs_after = wt.label_outputs(net, x, labels)
    change = net.weights[0].astype(np.float64) - w0
    j = int(np.argmax(np.linalg.norm(change, axis=1)))
    return {
        "learning_rate": lr,
        "params": params,
        "average": [r["average"] for r in table["rows"]],
        "before": before,
        "after": after,
        "step": [a - b for a, b in zip(after, before)],
        "cost_before": table["cost"],
        "cost_after": cost_after,
        "labels": [int(v) for v in labels],
        "costs_before": costs_before,
        "costs_after": costs_after,
        "outputs_before": outputs_before,
        "outputs_after": outputs_after,
        "first_layer": {"j": j, "before": w0[j].astype(np.float64).tolist(), "change": change[j].tolist()},
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


PARAMETER_LIMIT = 1000.0  # |value| a weight or bias may be given by hand


def check_value(value) -> float:
    """A hand-made weight or bias: a finite number within ±PARAMETER_LIMIT (ValueError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"value must be a number, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and abs(value) <= PARAMETER_LIMIT):
        raise ValueError(f"value must be a finite number from {-PARAMETER_LIMIT:g} to {PARAMETER_LIMIT:g}, got {value!r}")
    return value


def set_parameter(session, param: dict, value: float, merge_undo: bool = False) -> dict:
    """Give one weight w_jk (or bias b_j when k is None) of the live network a value by hand, undoably: the
    experiment beside the gradient check (how C0 moves when w does). ``value`` as stored (float32).

    With ``merge_undo``, a set that follows a set of the same parameter, with no other undoable change and
    no training step between, joins its undo entry: one Undo takes a slider's whole drag back."""
    net = session.net
    p = wt.check_parameter(net, dict(param))
    value = check_value(value)
    before = wt.parameter_value(net, p)
    tag = ("set", p["layer"], p["j"], p["k"], session.iteration)
    if not (merge_undo and session.undo.last_tag == tag):
        session.undo.push(net, tag)
    if p["k"] is None:
        net.biases[p["layer"]][p["j"]] = value
    else:
        net.weights[p["layer"]][p["j"], p["k"]] = value
    session.version += 1
    return {"param": p, "before": before, "after": wt.parameter_value(net, p), "undo_depth": len(session.undo)}


def undo(session) -> dict:
    """Restore the weights from before the last step or teach of this network, or say why not."""
    try:
        weights, biases = session.undo.pop()
    except LookupError as e:
        return {"undone": False, "undo_depth": 0, "reason": str(e)}
    session.net.set_parameters(weights, biases)
    session.version += 1
    return {"undone": True, "undo_depth": len(session.undo)}
