"""The recorded snapshots inside a checkpoint: what lets a restarted server scrub back through training.

A checkpoint of format ``backprop-lab/2`` is a ``backprop-lab/1`` file (the network, its configuration
and ``extra``: see checkpoint.py) with these members after the network's:

- ``snapshots_index``: UTF-8 JSON as bytes (uint8), ``{"version": 1, "iterations": [...], "epochs": [...],
  "costs": [... or null], "markers": [...], "diagnostics": [...]}``, one entry per snapshot, the
  iterations strictly increasing; ``diagnostics`` are the per-layer measurements of ``diagnostics.py``;
- ``snapshots_W{l}`` of shape (n, sizes[l+1], sizes[l]) and ``snapshots_b{l}`` of shape (n, sizes[l+1]),
  float32: row i holds snapshot i's weights and biases (4 bytes per parameter per snapshot).

This part is read after the network, and anything wrong with it (a bad CRC, a member cut short or
missing, an index that does not fit the arrays, a NaN) drops it as a whole with ``Dropped`` saying
why: the network, its counters and its cost history still load.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import diagnostics

INDEX = "snapshots_index"
VERSION = 1
MAX_SNAPSHOTS = 100_000  # entries an index may list
MAX_INDEX_BYTES = 32 * 1024 * 1024  # the index JSON (the diagnostics make most of it)


@dataclass
class SavedSnapshot:
    """One snapshot as a checkpoint holds it (the fields of ``training.snapshots.Snapshot``)."""

    iteration: int
    epoch: int
    cost: float | None
    weights: list
    biases: list
    marker: bool = False


@dataclass
class SavedHistory:
    """The snapshot part of a checkpoint, as read."""

    snapshots: list = field(default_factory=list)  # SavedSnapshot, oldest first
    diagnostics: list = field(default_factory=list)  # measurements, as ``GET /api/diagnostics`` lists them


class Dropped(ValueError):
    """The snapshot part cannot be used (the network still can): the message says why."""


def member_names(layers: int) -> set[str]:
    """Every member of the snapshot part of a network of ``layers`` weight matrices."""
    return {INDEX} | {f"snapshots_{p}{l}" for l in range(layers) for p in "Wb"}


def to_members(snapshots, measurements, sizes) -> tuple[dict, dict]:
    """(the members to write, in order, and the summary for ``meta``: ``{"count", "bytes"}``).

    ``snapshots``: objects with the fields of ``SavedSnapshot`` (the live log's own, not copied here);
    their parameters are stacked as float32."""
    layers = len(sizes) - 1
    index = {
        "version": VERSION,
        "iterations": [int(s.iteration) for s in snapshots],
        "epochs": [int(s.epoch) for s in snapshots],
        "costs": [_finite_or_none(s.cost) for s in snapshots],
        "markers": [bool(s.marker) for s in snapshots],
        "diagnostics": _json_safe(list(measurements or [])),
    }
    if any(b <= a for a, b in zip(index["iterations"], index["iterations"][1:])):
        raise ValueError("snapshots must be in increasing iteration order")
    members = {INDEX: np.frombuffer(json.dumps(index, allow_nan=False).encode(), np.uint8)}
    total = 0
    for l in range(layers):
        shape_w, shape_b = (sizes[l + 1], sizes[l]), (sizes[l + 1],)
        w = np.empty((len(snapshots), *shape_w), np.float32)
        b = np.empty((len(snapshots), *shape_b), np.float32)
        for i, s in enumerate(snapshots):
            w[i], b[i] = s.weights[l], s.biases[l]
        members[f"snapshots_W{l}"], members[f"snapshots_b{l}"] = w, b
        total += w.nbytes + b.nbytes
    return members, {"count": len(snapshots), "bytes": total}


def read(present: set, sizes, header: Callable, array: Callable, index_bytes: Callable) -> SavedHistory:
    """The snapshot part of a checkpoint whose network has ``sizes``, or ``Dropped``.

    ``present``: the file's member names; ``header(name)`` → (shape, dtype) of a member without reading
    it, ``array(name)`` → its array, ``index_bytes(name, limit)`` → the bytes of a uint8 member (these
    raise on a damaged member; the caller drops the part then). Shapes are checked from the headers
    before any array is read."""
    layers = len(sizes) - 1
    missing = sorted(member_names(layers) - present)
    if missing:
        raise Dropped(f"missing {', '.join(missing)}")
    index = _check_index(index_bytes(INDEX, MAX_INDEX_BYTES))
    n = len(index["iterations"])
    for l in range(layers):
        for key, shape in ((f"snapshots_W{l}", (n, sizes[l + 1], sizes[l])), (f"snapshots_b{l}", (n, sizes[l + 1]))):
            got, dtype = header(key)
            if dtype.hasobject or dtype.kind != "f":
                raise Dropped(f"{key} must hold floats, not {dtype}")
            if tuple(got) != shape:
                raise Dropped(f"{key} has shape {tuple(got)}, the index and the network need {shape}")
    weights = [array(f"snapshots_W{l}") for l in range(layers)]
    biases = [array(f"snapshots_b{l}") for l in range(layers)]
    for l, (w, b) in enumerate(zip(weights, biases)):
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise Dropped(f"layer {l}: a snapshot's weights or biases contain NaN or infinity")
    try:
        measurements = diagnostics.check_measurements(index["diagnostics"], layers)
    except ValueError as e:
        raise Dropped(f"the saved diagnostics: {e}") from None
    snaps = [
        SavedSnapshot(index["iterations"][i], index["epochs"][i], index["costs"][i],
                      [np.array(w[i], np.float32) for w in weights], [np.array(b[i], np.float32) for b in biases],
                      index["markers"][i])
        for i in range(n)
    ]
    return SavedHistory(snaps, measurements)


def _check_index(raw: bytes) -> dict:
    try:
        index = json.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as e:
        raise Dropped(f"the snapshot index is not JSON ({e})") from None
    if not isinstance(index, dict):
        raise Dropped("the snapshot index is not a JSON object")
    if index.get("version") != VERSION:
        raise Dropped(f"the snapshot index has version {index.get('version')!r}; this version reads {VERSION}")
    lists = {k: index.get(k) for k in ("iterations", "epochs", "costs", "markers")}
    if not all(isinstance(v, list) for v in lists.values()):
        raise Dropped("the snapshot index needs the lists iterations, epochs, costs and markers")
    n = len(lists["iterations"])
    if any(len(v) != n for v in lists.values()) or not 1 <= n <= MAX_SNAPSHOTS:
        raise Dropped(f"the snapshot index lists must be as long as each other, 1 to {MAX_SNAPSHOTS} entries")
    whole = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0  # noqa: E731
    its = lists["iterations"]
    if not all(whole(v) for v in its) or any(b <= a for a, b in zip(its, its[1:])):
        raise Dropped("the snapshot iterations must be whole numbers ≥ 0, strictly increasing")
    if not all(whole(v) for v in lists["epochs"]):
        raise Dropped("the snapshot epochs must be whole numbers ≥ 0")
    if not all(c is None or (_number(c) and math.isfinite(c)) for c in lists["costs"]):
        raise Dropped("the snapshot costs must be finite numbers or null")
    if not all(isinstance(m, bool) for m in lists["markers"]):
        raise Dropped("the snapshot markers must be true or false")
    measurements = index.get("diagnostics", [])
    if not isinstance(measurements, list):
        raise Dropped("the saved diagnostics must be a list")
    return {**lists, "costs": [None if c is None else float(c) for c in lists["costs"]], "diagnostics": measurements}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite_or_none(v):
    return float(v) if v is not None and math.isfinite(v) else None


def _json_safe(value):
    """Measurements as strict JSON: a NaN or infinity (a network about to diverge) becomes null."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return _finite_or_none(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value
