"""Turn session snapshots into protocol messages (hello and frame envelopes); no I/O.

A frame's arrays are the same for every viewer except ``costs`` (each viewer gets the costs since its
own previous frame). ``prepare`` packs the shared arrays once per tick; ``frame`` then only writes a
small header per viewer and appends that viewer's costs.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from . import wire
from ...engine.datasets.registry import describe_dataset
from ...training.limits import LIMITS
from ...training.session import TrainingSession
from ...training.snapshot import Snapshot

log = logging.getLogger("backprop_lab")
MAX_HISTORY_POINTS = 2000


def _limits() -> dict:
    return {k: list(v) for k, v in LIMITS.items()}


def _parameter_arrays(snap: Snapshot) -> dict[str, np.ndarray]:
    arrays = {}
    for l, (w, b) in enumerate(zip(snap.weights, snap.biases)):
        if w is not None:
            arrays[f"W{l}"] = w
        arrays[f"b{l}"] = b
    return arrays


def _norm(a) -> float | None:
    if a is None:
        return None
    n = float(np.linalg.norm(a.astype(np.float64, copy=False)))
    return n if math.isfinite(n) else None


@dataclass
class HelloInfo:
    """What the broadcaster needs to know about the state a hello described."""

    version: int
    structure_version: int
    iteration: int
    accuracy_count: int
    markers_count: int
    event_seq: int


def hello(session: TrainingSession) -> tuple[bytes, HelloInfo]:
    """The full state for a new (or resynchronising) viewer. Call it via ``session.read`` (or under the lock)."""
    with session.lock:  # the history and the snapshot describe the same iteration
        snap = session.snapshot(costs_from=None)
        iterations, values = session.cost_history.decimated(MAX_HISTORY_POINTS)
        data = session.data
    header = {
        "type": "hello",
        "config": snap.config,
        "params": snap.params,
        "state": snap.state,
        "accuracy_history": decimate_points(snap.accuracy_history, MAX_HISTORY_POINTS),
        "markers": snap.markers,
        "limits": _limits(),
        "example": snap.example,
        "dataset": describe_dataset(data),
    }
    arrays = {"cost_iterations": iterations, "cost_values": values, **_parameter_arrays(snap), **dataset_arrays(data)}
    info = HelloInfo(snap.version, snap.structure_version, snap.state["iteration"], len(snap.accuracy_history),
                     len(snap.markers), snap.event_seq)
    return wire.encode(header, arrays), info


def dataset_arrays(data) -> dict[str, np.ndarray]:
    """A plane dataset's points, so the page can draw them: ``points_x`` (N, 2) f4 and ``points_y`` (N,) u1
    for training, ``test_x`` and ``test_y`` for testing. Image datasets send none (60,000 images)."""
    if data.kind != "plane":
        return {}
    return {"points_x": data.train_inputs, "points_y": data.train_labels, "test_x": data.test_inputs,
            "test_y": data.test_labels}


def decimate_points(points: list, max_points: int) -> list:
    """At most ``max_points`` evenly spread entries, always keeping every whole-test-set one and the last."""
    if len(points) <= max_points:
        return points
    keep = set(np.linspace(0, len(points) - 1, max_points // 2).astype(int).tolist())
    keep.update(i for i, p in enumerate(points) if p[2])
    return [points[i] for i in sorted(keep)][-max_points:]


@dataclass
class Prepared:
    """One snapshot with its shared arrays already packed, and the shared part of the header as JSON."""

    snap: Snapshot
    table: dict
    blob: bytes
    grad_norms: list
    shared_json: str = ""  # the header fields every viewer's frame has in common, as JSON (no braces)
    table_json: str = ""  # the shared arrays' table, as JSON (no braces)
    has_first_layer: bool = False  # the frame carries the first layer's weights

    @property
    def version(self) -> int:
        return self.snap.version

    @property
    def structure_version(self) -> int:
        return self.snap.structure_version

    def lean(self) -> "Prepared":
        """The same frame without the snapshot's arrays (they are packed in ``blob``): what crosses from a
        session's process to the web process, and all ``frame`` needs."""
        snap = replace(self.snap, weights=[], biases=[], nabla_w=None, nabla_b=None, activations=[], zs=[],
                       deltas=None)
        return replace(self, snap=snap)


def shared_arrays(snap: Snapshot) -> dict[str, np.ndarray]:
    arrays = {}
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
    return arrays


def prepare(snap: Snapshot) -> Prepared:
    """Pack the arrays every viewer's frame shares. Never raises for non-finite values: the session's
    snapshot is finite by construction, and should anything slip through it is zeroed here (and logged)."""
    arrays = shared_arrays(snap)
    try:
        table, blob = wire.pack(arrays)
    except ValueError as e:
        log.error("non-finite values in a snapshot (%s): sending them as zeros", e)
        big = float(np.finfo(np.float32).max)
        arrays = {k: np.nan_to_num(v, nan=0.0, posinf=big, neginf=-big) for k, v in arrays.items()}
        table, blob = wire.pack(arrays)
    norms = [{"w": _norm(w), "b": _norm(b)} for w, b in zip(snap.nabla_w, snap.nabla_b)] if snap.nabla_w else []
    shared = {
        "time": round(snap.taken_at, 4),
        "state": snap.state,
        "params": snap.params,
        "example": snap.example,
        "grad_norms": norms,
        "has_first_layer": snap.weights[0] is not None,
    }
    return Prepared(snap, table, blob, norms, wire.dumps(shared)[1:-1], wire.dumps(table)[1:-1],
                    shared["has_first_layer"])


def frame(prep: Prepared, seq: int, costs_from: int, acc_seen: int, markers_seen: int) -> bytes:
    """One frame for one viewer: the shared arrays plus the costs and evaluations it has not seen yet.

    Only the per-viewer fields are encoded here; the rest of the header was encoded once by ``prepare``.
    """
    snap = prep.snap
    costs = snap.costs[max(0, costs_from - snap.costs_start) :]
    own = {
        "type": "frame",
        "seq": seq,
        "costs_start": max(costs_from, snap.costs_start),
        "accuracy_history_new": snap.accuracy_history[max(0, acc_seen - snap.accuracy_start) :],
        "markers_new": snap.markers[max(0, markers_seen - snap.markers_start) :],
    }
    costs_table, costs_blob = wire.pack({"costs": costs}, offset=len(prep.blob))
    arrays = wire.dumps(costs_table)[:-1] + ("," + prep.table_json if prep.table_json else "") + "}"
    head = wire.dumps(own)[:-1] + "," + prep.shared_json + ',"arrays":' + arrays + "}"
    return wire.envelope_head(head, prep.blob, costs_blob)
