"""Turn session snapshots into protocol messages (hello and frame envelopes); no I/O."""

from __future__ import annotations

import numpy as np

from . import wire
from .session import LIMITS, Snapshot, TrainingSession

MAX_HISTORY_POINTS = 2000


def _limits() -> dict:
    return {k: list(v) for k, v in LIMITS.items() if k != "seed"}


def _parameter_arrays(snap: Snapshot) -> dict[str, np.ndarray]:
    arrays = {}
    for l, (w, b) in enumerate(zip(snap.weights, snap.biases)):
        if w is not None:
            arrays[f"W{l}"] = w
        arrays[f"b{l}"] = b
    return arrays


def hello(session: TrainingSession) -> tuple[bytes, Snapshot]:
    """The full state for a new (or resynchronising) viewer."""
    with session.lock:  # one lock: the history and the snapshot describe the same iteration
        snap = session.snapshot(costs_from=None)
        iterations, values = session.cost_history.decimated(MAX_HISTORY_POINTS)
    header = {
        "type": "hello",
        "config": snap.config,
        "params": snap.params,
        "state": snap.state,
        "accuracy_history": snap.accuracy_history,
        "markers": snap.markers,
        "limits": _limits(),
        "example": snap.example,
    }
    arrays = {"cost_iterations": iterations, "cost_values": values, **_parameter_arrays(snap)}
    return wire.encode(header, arrays), snap


def frame(snap: Snapshot, seq: int, costs_from: int, acc_seen: int, markers_seen: int) -> bytes:
    """One frame for one viewer: shared arrays plus the costs and evaluations it has not seen yet."""
    costs = snap.costs[max(0, costs_from - snap.costs_start) :]
    header = {
        "type": "frame",
        "seq": seq,
        "state": snap.state,
        "params": snap.params,
        "costs_start": max(costs_from, snap.costs_start),
        "example": snap.example,
        "grad_norms": [
            {"w": float(np.linalg.norm(w)) if w is not None else None, "b": float(np.linalg.norm(b))}
            for w, b in zip(snap.nabla_w, snap.nabla_b)
        ] if snap.nabla_w is not None else [],
        "accuracy_history_new": snap.accuracy_history[acc_seen:],
        "markers_new": snap.markers[markers_seen:],
        "has_first_layer": snap.weights[0] is not None,
    }
    arrays = {"costs": costs}
    for l, a in enumerate(snap.activations):
        arrays[f"a{l}"] = a
    for l, z in enumerate(snap.zs):
        arrays[f"z{l + 1}"] = z
    arrays.update(_parameter_arrays(snap))
    if snap.nabla_w is not None:
        for l, (nw, nb) in enumerate(zip(snap.nabla_w, snap.nabla_b)):
            if nw is not None:
                arrays[f"nabla_w{l}"] = nw
            arrays[f"nabla_b{l}"] = nb
    if snap.deltas is not None:
        for l, d in enumerate(snap.deltas):
            arrays[f"delta{l + 1}"] = d
    return wire.encode(header, arrays)
