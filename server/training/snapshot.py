"""What one frame shows: a consistent copy of the session, and the finiteness checks it must pass."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import summary as summarise
from .summary import Block


@dataclass
class Snapshot:
    """A consistent copy of what the page needs, taken under the session lock."""

    config: dict
    params: dict
    state: dict
    example: dict
    weights: list
    biases: list
    nabla_w: list | None
    nabla_b: list | None
    activations: list
    zs: list
    deltas: list | None
    accuracy_history: list
    markers: list
    structure_version: int
    version: int
    costs: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    costs_start: int = 1
    accuracy_start: int = 0  # index in the whole accuracy history of accuracy_history[0]
    markers_start: int = 0  # likewise for markers
    event_seq: int = 0  # the last event created before this snapshot
    taken_at: float = 0.0  # time.time() when it was taken
    # A summary (``Detail.neurons``): the neurons a view shows per layer (None = all), the weight blocks
    # among them (``Detail.blocks``), and every layer's gradient norms.
    shown: list | None = None
    blocks: list | None = None
    grad_norms: list | None = None


@dataclass(frozen=True)
class Detail:
    """Which weights a snapshot copies. ``full``: every matrix whole (the first only ``with_first_layer``),
    as the classic frame sends them. ``neurons``: a summary for views showing at most that many neurons
    per layer: which ones (``Snapshot.shown``: the given ``shown`` sets, or chosen now) and, with
    ``blocks``, their weights, biases and gradients (``Snapshot.blocks``), without copying the rest."""

    full: bool = True
    neurons: int | None = None
    blocks: bool = False
    shown: tuple | None = None


def snapshot_arrays(snap: Snapshot):
    for group in (snap.weights, snap.biases, snap.nabla_w, snap.nabla_b, snap.activations, snap.zs, snap.deltas):
        for a in group or ():
            if a is not None:
                yield a
    for block in snap.blocks or ():
        yield from block.arrays()


def all_finite(snap: Snapshot) -> bool:
    # The sum of a float array is finite only if every element is (an overflowing sum of huge finite
    # values also counts as not finite, which is what we want: such a network has diverged).
    return all(math.isfinite(float(a.sum(dtype=np.float64))) for a in snapshot_arrays(snap))


def make_finite(snap: Snapshot) -> None:
    big = float(np.finfo(np.float32).max)
    for a in snapshot_arrays(snap):
        np.nan_to_num(a, copy=False, nan=0.0, posinf=big, neginf=-big)


def capture(session, costs_from, with_first_layer: bool, accuracy_from: int, markers_from: int,
            detail: Detail | None = None) -> Snapshot:
    """Copy what a frame shows from ``session`` (call it under the session lock; ``session.snapshot``
    does, and handles a network that overflows)."""
    detail = detail or Detail()
    example = shown_example(session)
    x = example.pop("_x")
    net = session.net
    trace = net.forward(x)
    deltas = None
    if example["label"] is not None:
        y = np.zeros((1, net.sizes[-1]), np.float32)
        y[0, example["label"]] = 1
        deltas = [d[0].copy() for d in net.deltas(trace, y)]
    example["prediction"] = int(np.argmax(trace.activations[-1][0]))
    grads = session._last_grads
    session._want_grads = True  # the frame after this one shows the next mini-batch's gradients
    first = 0 if with_first_layer else 1
    L = len(net.weights)
    if not detail.full:
        first = L  # no whole matrix
    nabla_w = nabla_b = None
    inv = 1.0 / session._last_eta  # undo the in-place η scaling of apply_gradients
    if grads is not None:
        nabla_w = [None] * min(first, L) + [g * inv for g in grads.nabla_w[first:]]
        nabla_b = [g * inv for g in grads.nabla_b]
    shown = blocks = norms = None
    if detail.neurons is not None:
        reuse = detail.shown is not None and summarise.fits(detail.shown, net.sizes, detail.neurons)
        shown = list(detail.shown) if reuse else summarise.shown_sets(net.weights, detail.neurons)
        if detail.blocks:
            blocks = summarise.blocks(net.weights, net.biases, shown, grads.nabla_w if grads else None,
                                      grads.nabla_b if grads else None, inv)
        norms = summarise.gradient_norms(grads.nabla_w, grads.nabla_b, inv) if grads is not None else []
    start = 1 if costs_from is None else max(1, costs_from)
    accuracy_from = max(0, min(accuracy_from, len(session.accuracy_history)))
    markers_from = max(0, min(markers_from, len(session.markers)))
    return Snapshot(
        config=session.config(),
        params={**session.params(), "warmup": session.warmup},
        state=session.state(),
        example=example,
        weights=[None] * min(first, L) + [w.copy() for w in net.weights[first:]],
        biases=[b.copy() for b in net.biases],
        nabla_w=nabla_w,
        nabla_b=nabla_b,
        activations=[a[0].copy() for a in trace.activations],
        zs=[z[0].copy() for z in trace.zs],
        deltas=deltas,
        accuracy_history=[list(p) for p in session.accuracy_history[accuracy_from:]],
        markers=[dict(m) for m in session.markers[markers_from:]],
        structure_version=session.structure_version,
        version=session.version,
        costs=session.cost_history.since(start - 1),
        costs_start=start,
        accuracy_start=accuracy_from,
        markers_start=markers_from,
        event_seq=session.event_seq,
        taken_at=time.time(),
        shown=shown,
        blocks=blocks,
        grad_norms=norms,
    )


def shown_example(session) -> dict:
    """The example whose activations a frame shows: the pinned one, else the first of the last
    mini-batch whose gradients were kept (before any training: the first training image)."""
    if session._pinned is not None:
        source, index = session._pinned
        x, label = session.example_input(source, index)
        return {"source": source, "index": index, "label": label, "pinned": True, "_x": x[None, :]}
    if session._last_x is None:
        index = int(session.stream.order[0])
        x, label = session.example_input("train", index)
        return {"source": "train", "index": index, "label": label, "pinned": False, "_x": x[None, :]}
    return {"source": "train", "index": session._last_index, "label": session._last_label, "pinned": False,
            "_x": session._last_x[None, :]}
