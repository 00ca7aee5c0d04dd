"""Turn session snapshots into protocol messages (hello and frame envelopes); no I/O.

A frame's arrays are the same for every viewer except ``costs`` (each viewer gets the costs since its
own previous frame). ``prepare`` packs the shared arrays once per tick; ``frame`` then only writes a
small header per viewer and appends that viewer's costs.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from . import summary as summary_stream
from . import wire
from .summary import SummaryPack
from ...engine.datasets.registry import describe_dataset
from ...training.limits import LIMITS
from ...training.session import TrainingSession
from ...training.snapshot import Detail, Snapshot, make_finite

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


def hello(session: TrainingSession, stream: dict | None = None, connection: str | None = None
          ) -> tuple[bytes, HelloInfo]:
    """The full state for a new (or resynchronising) viewer. Call it via ``session.read`` (or under the lock).
    ``connection``: the viewer's websocket id (walkthrough holds name it; see holds.py).

    ``stream``: the viewer's stream settings, when it chose them (``{"detail": "summary", ...}``): they go
    in the header as ``stream``, and a ``summary`` viewer's hello leaves the weight matrices out (its
    frames bring what the view draws of them)."""
    summary = bool(stream) and stream.get("detail") == "summary"
    with session.lock:  # the history and the snapshot describe the same iteration
        snap = session.snapshot(costs_from=None, detail=Detail(full=False) if summary else None)
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
    if stream:
        header["stream"] = stream
    if connection is not None:
        header["connection"] = connection
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
    """One snapshot made ready for every viewer: what each frame shares, packed once, and what a viewer's
    own part of the frame is cut from (its costs and evaluations since its previous frame). Picklable:
    it holds bytes and small lists, not the snapshot (``prepare`` may run in another process).

    ``table``/``blob`` and the JSON fields: the ``full`` frame (every weight as float32; None when no
    viewer wants it); ``summary``: the ``summary`` stream's core and weight parts (None likewise)."""

    version: int
    structure_version: int
    taken_at: float
    running: bool
    iteration: int
    costs: np.ndarray
    costs_start: int
    accuracy_history: list
    accuracy_start: int
    markers: list
    markers_start: int
    has_first_layer: bool = False
    table: dict | None = None
    blob: bytes = b""
    grad_norms: list = field(default_factory=list)
    shared_json: str = ""  # the header fields every full frame has in common, as JSON (no braces)
    table_json: str = ""  # the full frame's shared arrays' table, as JSON (no braces)
    summary: SummaryPack | None = None
    serial: int = 0  # the broadcaster's count of prepared snapshots, when it took this one

    @property
    def next_cost(self) -> int:
        return self.costs_start + len(self.costs)

    @property
    def accuracy_seen(self) -> int:
        return self.accuracy_start + len(self.accuracy_history)

    @property
    def markers_seen(self) -> int:
        return self.markers_start + len(self.markers)

    def lean(self) -> "Prepared":
        """What crosses from a session's process to the web process: all of it (it holds no snapshot)."""
        return self


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


SLOW_ENOUGH_FOR_EVERY_FIRST_LAYER = 100.0  # steps/s at or below which every full frame carries the first layer


@dataclass(frozen=True)
class TickRequest:
    """What the broadcaster asks its session for, once per tick (picklable: it crosses to the session's
    process in classroom mode)."""

    costs_from: int  # the first iteration whose cost a viewer still lacks
    acc_from: int
    markers_from: int
    first_layer_cadence: bool = False  # the full frame's regular first-layer turn is due
    full: bool = True  # some viewer streams every weight
    neurons: int | None = None  # some viewer streams the summary, showing at most this many neurons a layer
    blocks: bool = False  # ... and fresh weight parts are wanted
    shown: tuple | None = None  # ... else the shown neurons to keep (those of the parts already out)
    last_version: int = -1  # the version of the last frame prepared
    viewers_version: int = -1  # the oldest version a viewer has seen
    refresh: bool = False  # a snapshot even if nothing changed (weight parts still to send)
    events_from: int = 0  # the events after this number are wanted
    pack: bool = True  # pack the snapshot where it is taken (False: hand it over raw, see Tick.taken)


@dataclass
class Tick:
    prep: Prepared | None  # None: nothing changed since the last frame (or ``taken`` holds it, unpacked)
    events: list = field(default_factory=list)
    taken: Snapshot | None = None  # with ``TickRequest.pack`` False: the snapshot, for ``pack_tick``


def tick(session: TrainingSession, req: TickRequest) -> Tick:
    """Runs on the session's worker, between two mini-batches: the events since, and (when something
    changed, or a refresh is asked) its snapshot, prepared (or, with ``req.pack`` False, only taken: the
    caller packs it with ``pack_tick`` in another thread, and the training thread is back to training
    sooner)."""
    events = session.events_since(req.events_from)
    if session.version == req.last_version and req.viewers_version >= session.version and not req.refresh:
        return Tick(None, events)
    snap = take_tick(session, req)
    if not req.pack:
        return Tick(None, events, snap)
    return Tick(pack_tick(snap, req), events)


def take_tick(session: TrainingSession, req: TickRequest) -> Snapshot:
    """Run on the session's worker, between two mini-batches: its snapshot. The first layer also goes in
    every full frame while training is paused, stepped or slow (each of those may be the one the user
    studies): decided here, where every command queued before this frame (a pause, a new speed) is
    applied."""
    speed = session.steps_per_second
    slow = speed is not None and speed <= SLOW_ENOUGH_FOR_EVERY_FIRST_LAYER
    first = req.full and (req.first_layer_cadence or not session.running or slow)
    detail = Detail(full=req.full, neurons=req.neurons, blocks=req.blocks, shown=req.shown)
    return session.snapshot(req.costs_from, first, req.acc_from, req.markers_from, detail)


def pack_tick(snap: Snapshot, req: TickRequest) -> Prepared:
    """A tick's snapshot, prepared as ``req`` asked (any thread: the snapshot is a copy)."""
    return prepare(snap, full=req.full, summary=req.neurons is not None, neurons=req.neurons)


def prepare(snap: Snapshot, full: bool = True, summary: bool = False, neurons: int | None = None) -> Prepared:
    """Pack the arrays every viewer's frame shares: the ``full`` frame's (every weight as float32) and/or
    the ``summary`` stream's (the snapshot must then be a summary one). Never raises for non-finite
    values: the session's snapshot is finite by construction, and should anything slip through it is
    zeroed here (and logged)."""
    prep = Prepared(snap.version, snap.structure_version, snap.taken_at, bool(snap.state.get("running")),
                    int(snap.state.get("iteration", 0)),
                    snap.costs, snap.costs_start, snap.accuracy_history, snap.accuracy_start, snap.markers,
                    snap.markers_start, has_first_layer=bool(snap.weights) and snap.weights[0] is not None)
    try:
        _pack(prep, snap, full, summary, neurons)
    except ValueError as e:
        log.error("non-finite values in a snapshot (%s): sending them as zeros", e)
        make_finite(snap)
        _pack(prep, snap, full, summary, neurons)
    return prep


def _pack(prep: Prepared, snap: Snapshot, full: bool, summary: bool, neurons: int | None) -> None:
    if full:
        prep.table, prep.blob = wire.pack(shared_arrays(snap))
        norms = [{"w": _norm(w), "b": _norm(b)} for w, b in zip(snap.nabla_w, snap.nabla_b)] if snap.nabla_w else []
        shared = {
            "time": round(snap.taken_at, 4),
            "state": snap.state,
            "params": snap.params,
            "example": snap.example,
            "grad_norms": norms,
            "has_first_layer": prep.has_first_layer,
        }
        prep.grad_norms = norms
        prep.shared_json, prep.table_json = wire.dumps(shared)[1:-1], wire.dumps(prep.table)[1:-1]
    if summary:
        prep.summary = summary_stream.pack(snap, neurons)


def unseen(items, start: int, seen: int):
    """(the part of ``items`` a viewer has not had, its position after them). ``items`` begin at position
    ``start`` of their history (costs: an iteration; evaluations, markers: a count) and the viewer has had
    everything before ``seen``. A snapshot prepared for the other viewers' positions, before this one's
    hello about a new network, can begin after ``seen``: then it gets none of them, so none is skipped,
    and keeps its position; the next snapshot starts at or before it (the broadcaster asks from the
    smallest position)."""
    if seen < start:
        return items[:0], seen
    return items[seen - start :], max(seen, start + len(items))


def _own(prep: Prepared, seq: int, costs_from: int, acc_seen: int, markers_seen: int) -> tuple[str, np.ndarray]:
    """A viewer's own header fields (JSON, no closing brace) and its costs."""
    costs, _ = unseen(prep.costs, prep.costs_start, costs_from)
    own = {
        "type": "frame",
        "seq": seq,
        "costs_start": costs_from,
        "accuracy_history_new": unseen(prep.accuracy_history, prep.accuracy_start, acc_seen)[0],
        "markers_new": unseen(prep.markers, prep.markers_start, markers_seen)[0],
    }
    return wire.dumps(own)[:-1], costs


def frame(prep: Prepared, seq: int, costs_from: int, acc_seen: int, markers_seen: int) -> bytes:
    """One ``full`` frame for one viewer: the shared arrays plus the costs and evaluations it has not seen
    yet. Only the per-viewer fields are encoded here; the rest of the header was encoded by ``prepare``.
    """
    own, costs = _own(prep, seq, costs_from, acc_seen, markers_seen)
    costs_table, costs_blob = wire.pack({"costs": costs}, offset=len(prep.blob))
    arrays = wire.dumps(costs_table)[:-1] + ("," + prep.table_json if prep.table_json else "") + "}"
    head = own + "," + prep.shared_json + ',"arrays":' + arrays + "}"
    return wire.envelope_head(head, prep.blob, costs_blob)


def summary_frame(prep: Prepared, seq: int, costs_from: int, acc_seen: int, markers_seen: int,
                  parts=(), parts_from: Prepared | None = None, complete: bool = False) -> bytes:
    """One ``summary`` frame for one viewer: the core, the weight ``parts`` its budget has room for (at
    most one per weight matrix, all taken from the snapshot ``parts_from``), and its own costs and
    evaluations. ``complete``: with these parts the viewer has every weight of this frame's state."""
    pack = prep.summary
    own, costs = _own(prep, seq, costs_from, acc_seen, markers_seen)
    own += ',"weights_complete":' + ("true" if complete else "false")
    if parts:
        source = parts_from or prep
        own += f',"weights_iteration":{source.iteration},"weights_time":{round(source.taken_at, 4)}' 
    blobs = [pack.core.blob]
    tables = [pack.core.table_json(0)]
    at = len(pack.core.blob)
    for part in parts:
        tables.append(part.packed.table_json(at))
        blobs.append(part.packed.blob)
        at += len(part.packed.blob)
    costs_table, costs_blob = wire.pack({"costs": costs}, offset=at)
    blobs.append(costs_blob)
    tables.append(wire.dumps(costs_table)[1:-1])
    head = own + "," + pack.shared_json + ',"arrays":{' + ",".join(t for t in tables if t) + "}}"
    return wire.envelope_head(head, *blobs)
