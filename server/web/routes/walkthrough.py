"""HTTP routes of the backprop walkthrough, "teach it my digit", undo and the gradient check.

Reads (the numbers of one example or one mini-batch) run on the session's worker between two
mini-batches; changes (a step, teach, undo) are commands in the session's one ordered queue.
"""

from __future__ import annotations

import asyncio

import numpy as np
from typing import Literal

from fastapi import APIRouter, HTTPException, Query

from ...engine import walkthrough as wt
from ...training.edits import chosen_parameters, walked_batch
from ...training.store import freeze, thaw
from ..bodies import StrictRoute
from ..deps import HoldsDep, SessionDep
from ..calls import in_session
from ..inputs import backprop_payload, request_input
from ..schemas import (
    BackpropRequest, BatchRequest, CloseRequest, CurveRequest, GradCheckRequest, OpenRequest, SetParameterRequest,
    StepRequest, TeachRequest,
)

router = APIRouter(prefix="/api", tags=["walkthrough"], route_class=StrictRoute)


async def _answer(future):
    """The result of a session read or command; a ValueError becomes a 422 naming the reason."""
    try:
        return await asyncio.wrap_future(future)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


def _params(req_params) -> list[dict] | None:
    return [p.model_dump() for p in req_params] if req_params else None


@router.post("/backprop")
async def post_backprop(req: BackpropRequest, session: SessionDep):
    """One example forward and backward with the current weights (which stay unchanged)."""
    try:
        return await backprop_payload(session, req)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.post("/walkthrough/open")
async def open_walkthrough(session: SessionDep, holds: HoldsDep, req: OpenRequest | None = None):
    """Pause training while the walkthrough is open: whether it was running, and the hold to release.
    The hold ends with the tab's websocket (``connection``), else when its lease runs out (holds.py)."""
    try:
        return await holds.open(session, req.connection if req else None, req.hold if req else None)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.post("/walkthrough/close")
async def close_walkthrough(session: SessionDep, holds: HoldsDep, req: CloseRequest | None = None):
    """Step back out: training runs again exactly when it ran before the walkthrough opened, unless
    someone pressed play, pause or step meanwhile (their choice wins), or another walkthrough is open."""
    return {"running": await holds.close(session, req.hold if req else None)}


@router.post("/walkthrough/batch")
async def walkthrough_batch(req: BatchRequest, session: SessionDep):
    """A random mini-batch of training examples (after the walked example, when given: column 1) and each
    one's nudges for a few parameters: those asked for, else the ones that matter for this batch."""
    example = req.example.model_dump() if req.example else None
    indices, x, data, body, lr = await _answer(session.read(batch_table, session, req.seed, req.size, example,
                                                            _params(req.params)))
    inputs = x.astype(np.float64).round(4 if data.kind == "plane" else 3).tolist()
    extra = {"images": inputs} if data.kind == "image" else {}
    return {"indices": indices.tolist(), "example_first": example is not None, "inputs": inputs, **extra,
            "learning_rate": lr, "class_names": list(data.class_names), **body}


class DataKind:
    """What the batch route needs to know of the dataset (the dataset itself stays where the session is)."""

    def __init__(self, data):
        self.kind, self.class_names = data.kind, tuple(data.class_names)


def batch_table(session, seed, size: int, example: dict | None, params) -> tuple:
    """The walkthrough's mini-batch table (on the session's worker)."""
    rng = np.random.default_rng(seed)
    net, data = session.net, session.data
    count = min(size - (example is not None), data.train_size)
    indices = np.sort(rng.choice(data.train_size, size=count, replace=False))
    x, labels = walked_batch(net, data, indices, example)
    body = wt.batch_table(net, x, labels, chosen_parameters(net, params), example_first=example is not None)
    return indices, x, DataKind(data), body, session.learning_rate


@router.post("/walkthrough/step")
async def walkthrough_step(req: StepRequest, session: SessionDep):
    """Apply w ← w − η · (average nudge) for that mini-batch to the live network; undo restores it."""
    example = req.example.model_dump() if req.example else None
    return await _answer(session.walk_step(req.indices, _params(req.params), req.learning_rate, example))


@router.post("/walkthrough/set")
async def set_parameter(req: SetParameterRequest, session: SessionDep):
    """Give one weight or bias a value by hand (undo restores it): then ask /api/backprop what changed."""
    return await _answer(session.set_parameter(req.param.model_dump(), req.value, merge_undo=req.merge_undo))


@router.post("/walkthrough/curve")
async def cost_curve(req: CurveRequest, session: SessionDep):
    """C0 of one example as one parameter runs from ``low`` to ``high``, every other parameter as it is now,
    with its current value, C0 and backprop's slope there (float64, on a copy: training goes on)."""
    return await _answer(session.compute(curve_body, session, req))


def curve_body(session, req) -> dict:
    """Where the session lives, on a float64 copy of the network, off the training thread."""
    x, _, _, _ = request_input(session, req, label=True)
    param, frozen = session.read(_checked_copy, session, req.param.model_dump()).result()
    values = np.linspace(req.low, req.high, req.points)
    return wt.cost_curve(thaw(frozen), x, req.label, param, values)


PICK_CHUNK = 500  # training images ranked per look


@router.get("/walkthrough/example")
async def pick_example(session: SessionDep, kind: Literal["easy", "hard", "mistake"] = "hard",
                       seed: int | None = Query(None, ge=0, le=2**31 - 1),
                       sample: int = Query(PICK_CHUNK, ge=1, le=5000)):
    """A training image worth walking through, from a random sample ranked with the current weights: ``hard``
    the mistake with the largest gradient ‖∇C0‖ (the one the weights learn most from), ``easy`` the lowest
    cost of those classified right, ``mistake`` one classified wrong (looking further, a sample at a time,
    when the sample has none)."""
    found = await in_session(session, pick_body, session, kind, seed, sample)
    if "none" in found:
        raise HTTPException(404, f"the network gets every one of the {found['none']:,} training examples right")
    return found


def _network_copy(session):
    return freeze(session.net)


def pick_body(session, kind: str, seed, sample: int) -> dict:
    """Where the session lives, on a copy of its network (training goes on): the example, or
    ``{"none": train_size}`` when there is none of that kind."""
    data = session.data
    net = thaw(session.read(_network_copy, session).result())  # a copy: training goes on
    rng = np.random.default_rng(seed)
    order = rng.permutation(data.train_size)
    looked = 0
    for start in range(0, len(order), sample):
        idx = np.sort(order[start : start + sample])
        labels = data.train_labels[idx]
        costs, predictions, norms = wt.rank_examples(net, data.inputs(data.train_inputs[idx], net.dtype), labels)
        looked += len(idx)
        pick = wt.pick_example(costs, predictions, labels, kind, rng, norms)
        if pick is not None:
            i = int(idx[pick])
            wrong = int(np.count_nonzero(predictions != labels))
            return {"kind": kind, "index": i, "label": int(labels[pick]), "prediction": int(predictions[pick]),
                    "cost": float(costs[pick]), "sample": len(idx), "looked": looked, "wrong": wrong,
                    "rank": int(np.count_nonzero(costs > costs[pick])) + 1,
                    "gradient_norm": float(norms[pick]), "median_gradient_norm": float(np.median(norms)),
                    "pixels": data.inputs(data.train_inputs[i]).astype(np.float64).round(6).tolist()}
        if kind != "mistake":
            break
    return {"none": data.train_size}


@router.post("/teach")
async def teach(req: TeachRequest, session: SessionDep):
    """One backprop step on a single example (a drawing, pixels or a point) with the label the user gives;
    undo restores it."""
    try:
        x, stages, empty, _ = await in_session(session, teach_input, session, req)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    if empty:
        raise HTTPException(422, "the drawing is empty: draw something first")
    body = await _answer(session.teach(x, req.label, req.learning_rate))
    return {**body, "stages": stages}


def teach_input(session, req) -> tuple:
    x, stages, empty, _ = request_input(session, req, label=True)
    return x, stages, empty, None


@router.post("/undo")
async def undo_step(session: SessionDep):
    """Restore the weights from before the last walkthrough step or teach step of this network."""
    return await _answer(session.undo_step())


@router.post("/gradcheck")
async def gradcheck(req: GradCheckRequest, session: SessionDep):
    """The finite-difference estimate of ∂C0/∂p next to backprop's value, for one example."""
    return await _answer(session.compute(gradient_check, session, req))


def _checked_copy(session, param: dict):
    return wt.check_parameter(session.net, param), freeze(session.net)


def gradient_check(session, req) -> dict:
    """Where the session lives: on a float64 copy of the network, off the training thread (training goes on)."""
    x, _, _, _ = request_input(session, req, label=True)
    param, frozen = session.read(_checked_copy, session, req.param.model_dump()).result()
    return wt.gradient_check(thaw(frozen), x, req.label, param, req.eps)
