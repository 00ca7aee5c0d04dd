"""A session's history as saved in checkpoints for --resume, and its validation when loaded back.

The costs travel as base64 float32 (``costs_f32``): exact up to ``MAX_SAVED_COSTS`` mini-batches;
beyond that, as many bucket means (each repeated over its bucket on loading, so the history keeps one
cost per mini-batch; the chart, at most 2000 points, looks the same).
"""

from __future__ import annotations

import base64
import math

import numpy as np

from .limits import LIMITS, check_batch_size, check_learning_rate, check_speed

MAX_SAVED_COSTS = 2_000_000  # costs saved exactly for --resume (8 MB of float32); more are bucket-averaged


def encode_history(session) -> dict:
    """Counters, costs, accuracy history, markers and parameters of a session (call under its lock)."""
    return encode(session.iteration, session.stream.epoch, session.examples_seen, session.cost_history.values(),
                  session.accuracy_history, session.markers, session.params())


def encode(iteration: int, epoch: int, examples_seen: int, costs, accuracy_history, markers, params: dict) -> dict:
    """A history as a checkpoint's ``extra.history`` (JSON-ready): the session's, or a headless run's."""
    values = np.asarray(costs, dtype=np.float32)
    n = len(values)
    if n > MAX_SAVED_COSTS:
        edges = np.linspace(0, n, MAX_SAVED_COSTS + 1).astype(np.int64)
        values = (np.add.reduceat(values.astype(np.float64), edges[:-1]) / np.diff(edges)).astype(np.float32)
    return {
        "iteration": int(iteration),
        "epoch": int(epoch),
        "examples_seen": int(examples_seen),
        "costs_f32": base64.b64encode(np.ascontiguousarray(values, "<f4").tobytes()).decode(),
        "costs_length": n,
        "accuracy_history": [list(p) for p in accuracy_history],
        "markers": [dict(m) for m in markers],
        "params": dict(params),
    }


def _decode_costs(text, length) -> np.ndarray:
    """``costs_f32`` (base64 float32) back to one cost per mini-batch (bucket means repeated if decimated)."""
    if not isinstance(text, str):
        raise ValueError("history.costs_f32 must be a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise ValueError("history.costs_f32 is not valid base64") from None
    if len(raw) % 4:
        raise ValueError("history.costs_f32 is not a whole number of float32 values")
    values = np.frombuffer(raw, "<f4").astype(np.float64)
    n = len(values) if length is None else length
    if isinstance(n, bool) or not isinstance(n, int) or n < len(values) or (len(values) == 0 and n > 0):
        raise ValueError("history.costs_length does not fit costs_f32")
    if n == len(values):
        return values
    edges = np.linspace(0, n, len(values) + 1).astype(np.int64)
    return np.repeat(values, np.diff(edges))


def check_history(history: dict) -> dict:
    """A saved history (from a checkpoint's extra) checked before it replaces the live one."""
    if not isinstance(history, dict):
        raise ValueError("history must be an object")
    out = {}
    for key in ("iteration", "epoch", "examples_seen"):
        v = history.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"history.{key} must be a whole number ≥ 0")
        out[key] = v
    if "costs_f32" in history:
        costs = _decode_costs(history["costs_f32"], history.get("costs_length"))
    else:
        try:
            costs = np.asarray(history.get("costs", []), dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("history.costs must be a list of finite numbers") from None
    if costs.ndim != 1 or not np.isfinite(costs).all():
        raise ValueError("history.costs must be a list of finite numbers")
    if len(costs) != out["iteration"]:
        raise ValueError(f"history.costs has {len(costs)} entries for {out['iteration']} iterations")
    out["costs"] = costs
    acc = history.get("accuracy_history", [])
    if not isinstance(acc, list) or not all(
        isinstance(p, list) and len(p) == 3 and isinstance(p[0], int) and isinstance(p[1], (int, float))
        and math.isfinite(p[1]) and isinstance(p[2], bool) for p in acc
    ):
        raise ValueError("history.accuracy_history must be [[iteration, accuracy, full], ...]")
    out["accuracy_history"] = acc
    markers = history.get("markers", [])
    if not isinstance(markers, list) or not all(
        isinstance(m, dict) and isinstance(m.get("iteration"), int) and isinstance(m.get("text"), str) for m in markers
    ):
        raise ValueError("history.markers must be [{iteration, text}, ...]")
    out["markers"] = [{"iteration": m["iteration"], "text": m["text"]} for m in markers]
    params = history.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError("history.params must be an object")
    out["params"] = {k: params[k] for k in ("learning_rate", "batch_size", "steps_per_second") if k in params}
    return out


def check_snapshots(saved, dropped: str | None, iteration: int) -> tuple:
    """(the recorded snapshots to restore or None, why a checkpoint's snapshots are not restored or None).

    ``saved``: its ``SavedHistory`` (None: it has none); ``dropped``: why reading them failed, if it did;
    ``iteration``: the checkpoint's own iteration (snapshots after it belong to another run)."""
    if not dropped and saved is not None and saved.snapshots and saved.snapshots[-1].iteration > iteration:
        dropped = f"they go to iteration {saved.snapshots[-1].iteration:,}, after the network's {iteration:,}"
    if dropped:
        return None, dropped
    return (saved if saved is not None and saved.snapshots else None), None


def check_params(params, strict: bool = False) -> tuple[dict, list[str]]:
    """A checkpoint's training hyper-parameters (``extra.params`` or ``history.params``), checked.

    Returns (what the live session can take, notes on what it cannot). A value of the wrong kind
    (a string, a fraction of a batch, a negative η) is a bad file: ValueError. A sound value outside
    the live session's limits (a headless run may use η 20 or batch 4096) is not restored, and a
    note says so; with ``strict`` (a session's own history, always within the limits) it is refused.
    """
    if params is None:
        return {}, []
    if not isinstance(params, dict):
        raise ValueError("params must be an object {learning_rate, batch_size, steps_per_second}")
    out, notes = {}, []
    for name, sound, live, note in _PARAMS:
        if name not in params:
            continue
        value = params[name]
        if not sound(value):
            raise ValueError(f"params.{name}: {_SOUND[name]}, got {value!r}")
        try:
            out[name] = live(value)
        except ValueError:
            if strict:
                raise
            notes.append(note(value))
    return out, notes


def _number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float))


# Each training hyper-parameter a checkpoint may carry: is the value sound at all, the live session's
# check (ValueError outside its limits), and the note when a sound value is beyond them.
_PARAMS = (
    ("learning_rate", lambda v: _number(v) and math.isfinite(v) and v > 0, check_learning_rate,
     lambda v: f"η {v:g} not restored (the live limit is {LIMITS['learning_rate'][1]:g})"),
    ("batch_size", lambda v: not isinstance(v, bool) and isinstance(v, int) and v >= 1, check_batch_size,
     lambda v: f"batch {v} not restored (the live limit is {LIMITS['batch_size'][1]})"),
    ("steps_per_second", lambda v: v is None or _number(v), check_speed,
     lambda v: f"speed {v:g} steps/s not restored"),
)
_SOUND = {
    "learning_rate": "the learning rate must be a finite number > 0",
    "batch_size": "the batch size must be a whole number ≥ 1",
    "steps_per_second": "must be a number or null",
}
