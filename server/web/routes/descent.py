"""HTTP routes of the Descent view: the cost along −∇C, a slice of the cost surface with the path the
network took, and gradient descent against SGD from one start.

Each request works on a copy of the network (taken on the session's worker between two mini-batches)
in a thread of its own, so training goes on. A tab has at most one computation: a newer request from
the same ``tab`` cancels the older one (which answers 409), and at most ``CONCURRENT`` run at once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading

import numpy as np
from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse

from ...engine import landscape as ls
from ...engine.network import Network, one_hot
from ...training.store import freeze, thaw
from ..bodies import StrictRoute
from ..deps import SessionDep
from ..calls import in_session
from ..inputs import json_response
from ..schemas import LineRequest, RunnersRequest, SurfaceRequest
from ..stream import wire

router = APIRouter(prefix="/api/descent", tags=["descent"], route_class=StrictRoute)
CONCURRENT = 2
MAX_PATH_POINTS = 64
COARSE = 11


class Latest:
    """At most one computation per tab: starting one cancels the tab's previous one. It lives where the
    session does (its process), so each computation is known by a key that crosses the boundary."""

    def __init__(self):
        self._flags: dict[int, threading.Event] = {}  # key → its cancel flag
        self._tabs: dict[str, int] = {}  # tab → the key of its latest computation
        self._lock = threading.Lock()
        self._keys = itertools.count(1)

    def begin(self, tab: str | None) -> int:
        key = next(self._keys)
        with self._lock:
            self._flags[key] = threading.Event()
            if tab is not None:
                old = self._tabs.get(tab)
                if old is not None and old in self._flags:
                    self._flags[old].set()
                self._tabs[tab] = key
        return key

    def flag(self, key: int) -> threading.Event:
        with self._lock:
            return self._flags.get(key) or _set_event()

    def end(self, tab: str | None, key: int) -> None:
        with self._lock:
            self._flags.pop(key, None)
            if tab is not None and self._tabs.get(tab) == key:
                del self._tabs[tab]


def _set_event() -> threading.Event:
    flag = threading.Event()
    flag.set()
    return flag


_latest = Latest()
_slots: asyncio.Semaphore | None = None


def _slots_for_loop() -> asyncio.Semaphore:
    global _slots
    if _slots is None:
        _slots = asyncio.Semaphore(CONCURRENT)
    return _slots


def begin(tab: str | None) -> int:
    """(Where the session lives.) Cancel the tab's previous computation; the key of this one."""
    return _latest.begin(tab)


def run_computation(tab: str | None, key: int, fn, *args):
    """(Where the session lives.) ``fn(*args, cancelled)``, unless a newer request of the tab came first."""
    flag = _latest.flag(key)
    try:
        if flag.is_set():
            raise ls.Cancelled()
        return fn(*args, flag.is_set)
    finally:
        _latest.end(tab, key)


def evaluation_set(session, examples: int):
    """The first N training examples as the network's inputs and one-hot targets (the fixed evaluation set)."""
    data = session.data
    n = min(examples, data.train_size)
    return data.inputs(data.train_inputs[:n]), one_hot(data.train_labels[:n], data.n_classes, "float32")


def _copy(session, with_path: bool):
    frozen = freeze(session.net)
    path = []
    if with_path:
        snaps = session.recorder.snapshots
        summaries = snaps.summaries()
        pick = np.unique(np.linspace(0, len(summaries) - 1, min(len(summaries), MAX_PATH_POINTS)).astype(int))
        for i in pick:
            s = snaps.at_or_before(summaries[i]["iteration"])
            path.append((s.iteration, ls.flatten(s.weights, s.biases)))
    return frozen, path, session.learning_rate, session.iteration


def network_and_path(session, with_path: bool):
    """A copy of the network (and the recorded path), taken on the session's worker between two mini-batches."""
    frozen, path, lr, iteration = session.read(_copy, session, with_path).result()
    return thaw(frozen), path, lr, iteration


async def _compute(session, tab, fn, *args):
    """``fn(*args, cancelled)`` where the session lives, one at a time per tab and ``CONCURRENT`` at once."""
    key = await in_session(session, begin, tab)
    try:
        async with _slots_for_loop():
            return await in_session(session, run_computation, tab, key, fn, *args)
    except ls.Cancelled:
        raise HTTPException(409, "replaced by a newer request from this tab") from None
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.post("/line")
async def descent_line(req: LineRequest, session: SessionDep):
    """C(θ − t·∇C) on the first N training examples, along the negative gradient of those same examples,
    for t from 0 to ``max_step`` (``steps[0] = 0``), with ‖∇C‖ and the current η."""
    return json_response(await _compute(session, req.tab, line_body, session, req))


def line_body(session, req, cancelled) -> dict:
    net, _, lr, iteration = network_and_path(session, with_path=False)
    x, y = evaluation_set(session, req.examples)
    if cancelled():
        raise ls.Cancelled()
    line = ls.line(net, x, y, req.max_step, req.points)
    return {"steps": line.steps.tolist(), "costs": _finite(line.costs), "gradient_norm": line.gradient_norm,
            "learning_rate": lr, "best_step": line.best_step, "iteration": iteration, "examples": len(x)}


def _finite(values) -> list:
    """Costs for JSON: an overflowing network's cost (inf) becomes null."""
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values).ravel()]


def _plane(net, req, path):
    if req.plane == "pca":
        if len(path) < 2:
            raise ValueError("the PCA plane needs the recorded path: train a few mini-batches first")
        dirs, explained = ls.pca_directions(np.stack([p for _, p in path]), ls.flatten(net.weights, net.biases),
                                            net.sizes)
        return dirs, explained.tolist(), True
    if req.plane == "random":
        return ls.random_directions(net, req.seed), None, False
    params = [p.model_dump() for p in req.weights or []]
    if len(params) != 2:
        raise ValueError("weights: the 'weights' plane needs exactly two parameters {layer, j, k}")
    for p in params:
        _check_param(net, p)
    return ls.weight_directions(net, params), None, True


def _check_param(net, p):
    if p["layer"] >= len(net.weights):
        raise ValueError(f"weights: layer {p['layer']} does not exist (0 to {len(net.weights) - 1})")
    n_out, n_in = net.weights[p["layer"]].shape
    if p["j"] >= n_out or (p.get("k") is not None and p["k"] >= n_in):
        raise ValueError(f"weights: layer {p['layer']} has {n_out} neurons fed by {n_in}")


def _surface_parts(net, x, y, req, path, cancelled):
    dirs, explained, orthonormal = _plane(net, req, path)
    alphas = np.linspace(-req.span, req.span, req.resolution)
    origin = ls.flatten(net.weights, net.biases)
    points = []
    if path:
        coords = ls.project(np.stack([p for _, p in path]), origin, dirs)
        recorded = [_cost_of(net, p, x, y) for _, p in path]
        points = [[float(a), float(b), c, it] for (a, b), c, (it, _) in zip(coords, recorded, path)]
    grads = net.backprop(x, y, input_gradient=False)
    g = ls.flatten(grads.nabla_w, grads.nabla_b)
    basis = np.stack([ls.flatten(*d) for d in dirs])
    arrow = -(basis @ g) if orthonormal else -ls.project(origin + g, origin, dirs)[0]
    head = {"plane": req.plane, "alphas": alphas.tolist(), "betas": alphas.tolist(), "path": points,
            "center_cost": float(net.cost(x, y)), "gradient": arrow.tolist(), "explained": explained,
            "exact_path": req.plane == "weights"}
    return dirs, alphas, head


def _cost_of(net, flat, x, y):
    weights, biases = ls.unflatten(flat, net.sizes)
    probe = Network.from_parameters(net.config, weights, biases)
    with np.errstate(over="ignore", invalid="ignore"):
        c = probe.cost(x, y)
    return float(c) if np.isfinite(c) else None


@router.post("/surface")
async def descent_surface(req: SurfaceRequest, session: SessionDep):
    """The cost on a plane through the current weights (α, β from −span to span), the recorded path
    projected on it (each point with the cost the network really had there), and −∇C projected.
    With ``stream``: newline-delimited JSON, a coarse grid first, then rows as they finish, then the whole.
    (A session in a worker process computes the lines there and they are sent together.)"""
    if not req.stream:
        return json_response(await _compute(session, req.tab, surface_body, session, req))
    if getattr(session, "in_process", True):
        key = await in_session(session, begin, req.tab)
        head = await _answer(in_session(session, surface_start, session, req, key))
        return StreamingResponse(surface_lines(req, key, *head), media_type="application/x-ndjson")
    lines = await _compute(session, req.tab, all_surface_lines, session, req)
    return StreamingResponse(iter(lines), media_type="application/x-ndjson")


async def _answer(awaitable):
    try:
        return await awaitable
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


def surface_body(session, req, cancelled) -> dict:
    net, path, _, iteration = network_and_path(session, with_path=True)
    x, y = evaluation_set(session, req.examples)
    dirs, alphas, head = _surface_parts(net, x, y, req, path, cancelled)
    costs = ls.surface(net, x, y, dirs, alphas, alphas, cancelled)
    return {**head, "costs": [_finite(row) for row in costs], "iteration": iteration}


def surface_start(session, req, key: int) -> tuple:
    """The copy and the plane of a streamed surface (its rows follow in ``surface_lines``)."""
    net, path, _, iteration = network_and_path(session, with_path=True)
    x, y = evaluation_set(session, req.examples)
    try:
        dirs, alphas, head = _surface_parts(net, x, y, req, path, _latest.flag(key).is_set)
    except BaseException:
        _latest.end(req.tab, key)
        raise
    return net, x, y, dirs, alphas, head, iteration


def surface_lines(req, key: int, net, x, y, dirs, alphas, head, iteration):
    """The streamed surface of an in-process session; the tab's computation ends with the stream."""
    try:
        yield from _surface_stream(req, net, x, y, dirs, alphas, head, iteration, _latest.flag(key).is_set)
    finally:
        _latest.end(req.tab, key)


def _surface_stream(req, net, x, y, dirs, alphas, head, iteration, cancelled):
    """A coarse grid, then rows as they finish, then the whole (or ``cancelled``), as NDJSON lines."""
    try:
        coarse = np.linspace(-req.span, req.span, min(COARSE, req.resolution))
        yield wire.dumps({"type": "coarse", "alphas": coarse.tolist(), "betas": coarse.tolist(),
                          "costs": [_finite(r) for r in ls.surface(net, x, y, dirs, coarse, coarse, cancelled)]}) + "\n"
        full = []
        for start, rows in ls.surface_rows(net, x, y, dirs, alphas, alphas, cancelled):
            full.extend(_finite(r) for r in rows)
            yield wire.dumps({"type": "rows", "start": start, "costs": [_finite(r) for r in rows]}) + "\n"
        yield wire.dumps({"type": "done", **head, "costs": full, "iteration": iteration}) + "\n"
    except ls.Cancelled:
        yield json.dumps({"type": "cancelled", "detail": "replaced by a newer request from this tab"}) + "\n"


def all_surface_lines(session, req, cancelled) -> list[str]:
    """The streamed surface's lines, all at once (for a session in another process)."""
    net, path, _, iteration = network_and_path(session, with_path=True)
    x, y = evaluation_set(session, req.examples)
    dirs, alphas, head = _surface_parts(net, x, y, req, path, cancelled)
    return list(_surface_stream(req, net, x, y, dirs, alphas, head, iteration, cancelled))


@router.post("/runners")
async def descent_runners(req: RunnersRequest, session: SessionDep):
    """From one start (the current weights, or a fresh network of the same shape and ``seed``): K steps of
    gradient descent on the evaluation set and K steps of SGD at each batch size, on copies. Their paths on
    one shared PCA plane, their costs against examples seen and against compute time."""
    return json_response(await _compute(session, req.tab, runners_body, session, req))


def runners_body(session, req, cancelled) -> dict:
    net, _, lr, iteration = network_and_path(session, with_path=False)
    if req.start == "fresh":
        net = Network(**{k: v for k, v in net.config.items() if k != "seed"}, seed=req.seed)
    x, y = evaluation_set(session, req.examples)
    eta = req.learning_rate or lr
    runs = []
    for batch in [None, *req.batch_sizes]:
        if cancelled():
            raise ls.Cancelled()
        runs.append(ls.descend(net, x, y, req.steps, eta, batch, seed=req.seed,
                               record_every=max(1, req.steps // 100)))
    everything = np.concatenate([np.stack(r.params) for r in runs])
    origin = runs[0].params[0]
    dirs, explained = ls.pca_directions(everything, origin, net.sizes)
    out = []
    for r in runs:
        coords = ls.project(np.stack(r.params), origin, dirs)
        out.append({"name": r.name, "batch_size": r.batch_size, "path": coords.tolist(), "costs": _finite(r.costs),
                    "examples": r.examples, "seconds": r.seconds, "diverged_at": r.diverged_at,
                    "note": (f"diverged at step {r.diverged_at}: the cost became infinite; try a smaller η"
                             if r.diverged_at else None)})
    return {"learning_rate": eta, "steps": req.steps, "explained": explained.tolist(), "runners": out,
            "iteration": iteration, "start": req.start}
