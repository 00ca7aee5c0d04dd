"""HTTP routes of the Descent view: the cost along −∇C, a slice of the cost surface with the path the
network took, and gradient descent against SGD from one start.

Each request works on a copy of the network (taken on the session's worker between two mini-batches)
in a thread of its own, where the session lives (``in_session``: in classroom mode, the session's worker
process), so training goes on. A tab has at most one computation: a newer request from
the same ``tab`` cancels the older one (which answers 409). At most ``CONCURRENT`` computations run at
once, streamed or not, and at most ``MAX_WAITING`` wait for a turn (more: 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import weakref

import numpy as np
from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse

from ...engine import landscape as ls
from ...engine.network import Network, one_hot
from ...training.store import freeze, thaw
from ..bodies import StrictRoute
from ..calls import in_session
from ..deps import SessionDep
from ..inputs import json_response
from ..schemas import LineRequest, RunnersRequest, SurfaceRequest
from ..stream import wire

router = APIRouter(prefix="/api/descent", tags=["descent"], route_class=StrictRoute)
CONCURRENT = 2
MAX_WAITING = 8
MAX_PATH_POINTS = 64
COARSE = 11
BUSY = "busy: {n} landscape computations are waiting already; try again in a moment"


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
            found = self._flags.get(key)
        if found is None:  # ended already: as good as cancelled
            found = threading.Event()
            found.set()
        return found

    def end(self, tab: str | None, key: int) -> None:
        with self._lock:
            self._flags.pop(key, None)
            if tab is not None and self._tabs.get(tab) == key:
                del self._tabs[tab]


class Slots:
    """The turns to compute, on one event loop: ``CONCURRENT`` at once, ``MAX_WAITING`` in line."""

    def __init__(self):
        self.semaphore = asyncio.Semaphore(CONCURRENT)
        self.waiting = 0

    def check(self) -> None:
        if self.waiting >= MAX_WAITING:
            raise HTTPException(503, BUSY.format(n=self.waiting))

    @contextlib.asynccontextmanager
    async def turn(self):
        self.check()
        self.waiting += 1
        try:
            await self.semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self.semaphore.release()


_latest = Latest()
_slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop → its Slots


def _slots_for_loop() -> Slots:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = Slots()
    return _slots[loop]


def evaluation_set(session, examples: int):
    """The first N training examples as the network's inputs and one-hot targets (the fixed evaluation set)."""
    data = session.data
    n = min(examples, data.train_size)
    return data.inputs(data.train_inputs[:n]), one_hot(data.train_labels[:n], data.n_classes, "float32")


def begin(tab: str | None) -> int:
    """(Where the session lives.) Cancel the tab's previous computation; the key of this one."""
    return _latest.begin(tab)


def end(tab: str | None, key: int) -> None:
    _latest.end(tab, key)


def run_computation(tab: str | None, key: int, fn, *args):
    """(Where the session lives.) ``fn(*args, cancelled)``, unless a newer request of the tab came first."""
    flag = _latest.flag(key)
    try:
        if flag.is_set():
            raise ls.Cancelled()
        return fn(*args, flag.is_set)
    finally:
        _latest.end(tab, key)


def _copy(session, with_path: bool):
    frozen = freeze(session.net)
    path = []
    if with_path:
        snaps = session.recorder.snapshots
        summaries = snaps.summaries()
        pick = np.unique(np.linspace(0, len(summaries) - 1, min(len(summaries), MAX_PATH_POINTS - 1)).astype(int))
        for i in pick:
            s = snaps.at_or_before(summaries[i]["iteration"])
            if s.iteration < session.iteration:
                path.append((s.iteration, ls.flatten(s.weights, s.biases)))
        path.append((session.iteration, ls.flatten(session.net.weights, session.net.biases)))
    return frozen, path, session.learning_rate, session.iteration


def network_and_path(session, with_path: bool):
    """(Where the session lives.) A copy of the network and, with ``with_path``, its recorded path: up to
    ``MAX_PATH_POINTS`` of the snapshots (evenly by index, the first and the latest kept), then the current
    weights, as [(iteration, flattened θ)]; taken on the session's worker between two mini-batches."""
    frozen, path, lr, iteration = session.read(_copy, session, with_path).result()
    return thaw(frozen), path, lr, iteration


async def _compute(session, tab, fn, *args):
    """``fn(*args, cancelled)`` where the session lives: one at a time per tab, ``CONCURRENT`` at once."""
    key = await in_session(session, begin, tab)
    try:
        async with _slots_for_loop().turn():
            return await in_session(session, run_computation, tab, key, fn, *args)
    except ls.Cancelled:
        raise HTTPException(409, "replaced by a newer request from this tab") from None
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    except HTTPException:  # no turn (too many waiting): the computation never started
        await in_session(session, end, tab, key)
        raise


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
    """(directions, explained, orthonormal) of the requested plane; ValueError (→ 422) when it cannot be."""
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


def _surface_head(net, x, y, req, path, plane, cancelled):
    """Everything but the grid: the extent fitted to the projected path, and each path point as
    [α, β, its own cost, iteration, the slice's cost at (α, β), its distance off the plane]."""
    dirs, explained, orthonormal = plane
    origin = ls.flatten(net.weights, net.biases)
    on = ls.path_on_plane(net, x, y, np.stack([p for _, p in path]) if path else np.zeros((0, len(origin))),
                          origin, dirs, cancelled)
    span = req.span if req.span is not None or req.plane != "random" else 1.0  # a random plane's path is a speck
    alphas, betas = ls.fit_extent(on.coords, span, req.resolution)
    points = [[float(a), float(b), _num(own), it, _num(under), float(d)]
              for (a, b), own, (it, _), under, d in zip(on.coords, on.recorded, path, on.slice, on.distances)]
    grads = net.backprop(x, y, input_gradient=False)
    g = ls.flatten(grads.nabla_w, grads.nabla_b)
    basis = np.stack([ls.flatten(*d) for d in dirs])
    arrow = -(basis @ g) if orthonormal else -ls.project(origin + g, origin, dirs)[0]
    return {"plane": req.plane, "alphas": alphas.tolist(), "betas": betas.tolist(), "path": points,
            "center_cost": float(net.cost(x, y)), "gradient": arrow.tolist(), "explained": explained,
            "exact_path": req.plane == "weights"}


def _num(v) -> float | None:
    return float(v) if np.isfinite(v) else None


@router.post("/surface")
async def descent_surface(req: SurfaceRequest, session: SessionDep):
    """The cost on a plane through the current weights, on a square grid that holds the whole recorded
    path (projected) and ±``span``; each path point with the cost the network really had there and the
    slice's cost under it; −∇C projected. With ``stream``: newline-delimited JSON, the plane and path
    first, then a coarse grid, then rows as they finish, then the whole."""
    if not req.stream:
        return json_response(await _compute(session, req.tab, surface_body, session, req))
    if not getattr(session, "in_process", True):  # a session in a worker process: its lines come all at once
        lines = await _compute(session, req.tab, all_surface_lines, session, req)
        return StreamingResponse(iter(lines), media_type="application/x-ndjson")
    net, path, _, iteration = await in_session(session, network_and_path, session, True)
    x, y = await in_session(session, evaluation_set, session, req.examples)
    try:  # a plane that cannot be is refused before the stream starts (cheap: no cost is computed)
        plane = await asyncio.to_thread(_plane, net, req, path)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    slots = _slots_for_loop()
    slots.check()
    key = _latest.begin(req.tab)
    flag = _latest.flag(key)

    async def lines():
        try:
            async with slots.turn():
                if flag.is_set():
                    raise ls.Cancelled()
                stream = _surface_stream(net, x, y, req, path, plane, iteration, flag.is_set)
                while (line := await asyncio.to_thread(next, stream, None)) is not None:
                    yield line
        except ls.Cancelled:
            yield json.dumps({"type": "cancelled", "detail": "replaced by a newer request from this tab"}) + "\n"
        except HTTPException as e:  # too many waiting, found once the stream had begun
            yield json.dumps({"type": "cancelled", "detail": e.detail}) + "\n"
        finally:
            flag.set()  # a computation still running for a client that left stops at its next chunk
            _latest.end(req.tab, key)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def surface_body(session, req, cancelled) -> dict:
    net, path, _, iteration = network_and_path(session, with_path=True)
    x, y = evaluation_set(session, req.examples)
    plane = _plane(net, req, path)
    head = _surface_head(net, x, y, req, path, plane, cancelled)
    costs = ls.surface(net, x, y, plane[0], head["alphas"], head["betas"], cancelled)
    return {**head, "costs": [_finite(row) for row in costs], "iteration": iteration}


def _surface_stream(net, x, y, req, path, plane, iteration, cancelled):
    """The streamed surface as NDJSON lines: the plane and path, a coarse grid, rows as they finish, the whole."""
    head = _surface_head(net, x, y, req, path, plane, cancelled)
    alphas, betas = np.array(head["alphas"]), np.array(head["betas"])
    yield wire.dumps({"type": "plane", **head, "iteration": iteration}) + "\n"
    n = min(COARSE, req.resolution)
    ca, cb = np.linspace(alphas[0], alphas[-1], n), np.linspace(betas[0], betas[-1], n)
    coarse = ls.surface(net, x, y, plane[0], ca, cb, cancelled)
    yield wire.dumps({"type": "coarse", "alphas": ca.tolist(), "betas": cb.tolist(),
                      "costs": [_finite(r) for r in coarse]}) + "\n"
    full = []
    for start, block in ls.surface_rows(net, x, y, plane[0], alphas, betas, cancelled):
        full.extend(_finite(r) for r in block)
        yield wire.dumps({"type": "rows", "start": start, "costs": [_finite(r) for r in block]}) + "\n"
    yield wire.dumps({"type": "done", **head, "costs": full, "iteration": iteration}) + "\n"


def all_surface_lines(session, req, cancelled) -> list[str]:
    """(Where the session lives.) The streamed surface's lines, all at once: for a session in a worker
    process, whose lines cannot stream across (a plane that cannot be: ValueError, a 422)."""
    net, path, _, iteration = network_and_path(session, with_path=True)
    x, y = evaluation_set(session, req.examples)
    plane = _plane(net, req, path)
    lines = []
    try:
        lines.extend(_surface_stream(net, x, y, req, path, plane, iteration, cancelled))
    except ls.Cancelled:
        lines.append(json.dumps({"type": "cancelled", "detail": "replaced by a newer request from this tab"}) + "\n")
    return lines


@router.post("/runners")
async def descent_runners(req: RunnersRequest, session: SessionDep):
    """From one start (the current weights, or a fresh network of the same shape and ``seed``): K steps of
    gradient descent on the evaluation set and K steps of SGD at each batch size, on copies. Their paths on
    one shared PCA plane, their costs against examples seen and against compute time. With ``momentum``
    μ, one more: gradient descent with momentum (beyond the lecture)."""
    return json_response(await _compute(session, req.tab, runners_body, session, req))


def runners_body(session, req, cancelled) -> dict:
    net, _, lr, iteration = network_and_path(session, with_path=False)
    if req.start == "fresh":
        net = Network(**{k: v for k, v in net.config.items() if k != "seed"}, seed=req.seed)
    x, y = evaluation_set(session, req.examples)
    eta = req.learning_rate or lr
    runs = []
    plan = [(batch, None) for batch in [None, *req.batch_sizes]]
    if req.momentum is not None:
        plan.append((None, req.momentum))
    for batch, momentum in plan:
        if cancelled():
            raise ls.Cancelled()
        runs.append(ls.descend(net, x, y, req.steps, eta, batch, seed=req.seed,
                               record_every=max(1, req.steps // 100), momentum=momentum))
    everything = np.concatenate([np.stack(r.params) for r in runs])
    origin = runs[0].params[0]
    dirs, explained = ls.pca_directions(everything, origin, net.sizes)
    out = []
    for r in runs:
        coords = ls.project(np.stack(r.params), origin, dirs)
        out.append({"name": r.name, "batch_size": r.batch_size, "path": coords.tolist(), "costs": _finite(r.costs),
                    "examples": r.examples, "seconds": r.seconds, "diverged_at": r.diverged_at,
                    "momentum": r.momentum,
                    "note": (f"diverged at step {r.diverged_at}: the cost became infinite; try a smaller η"
                             if r.diverged_at else None)})
    return {"learning_rate": eta, "steps": req.steps, "explained": explained.tolist(), "runners": out,
            "iteration": iteration, "start": req.start, "examples": len(x)}

