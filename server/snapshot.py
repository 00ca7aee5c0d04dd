"""What one frame shows: a consistent copy of the session, and the finiteness checks it must pass."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


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


def snapshot_arrays(snap: Snapshot):
    for group in (snap.weights, snap.biases, snap.nabla_w, snap.nabla_b, snap.activations, snap.zs, snap.deltas):
        for a in group or ():
            if a is not None:
                yield a


def all_finite(snap: Snapshot) -> bool:
    # The sum of a float array is finite only if every element is (an overflowing sum of huge finite
    # values also counts as not finite, which is what we want: such a network has diverged).
    return all(math.isfinite(float(a.sum(dtype=np.float64))) for a in snapshot_arrays(snap))


def make_finite(snap: Snapshot) -> None:
    big = float(np.finfo(np.float32).max)
    for a in snapshot_arrays(snap):
        np.nan_to_num(a, copy=False, nan=0.0, posinf=big, neginf=-big)
