"""HTTP routes of the backprop walkthrough, "teach it my digit", undo and the gradient check.

Reads (the numbers of one example or one mini-batch) run on the session's worker between two
mini-batches; changes (a step, teach, undo) are commands in the session's one ordered queue.
"""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import APIRouter, HTTPException

from ...engine import walkthrough as wt
from ...training.edits import chosen_parameters, training_batch
from ...training.store import freeze, thaw
from ..bodies import StrictRoute
from ..deps import SessionDep
from ..inputs import backprop_payload, request_input
from ..schemas import BackpropRequest, BatchRequest, CloseRequest, GradCheckRequest, StepRequest, TeachRequest

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
async def open_walkthrough(session: SessionDep):
    """Pause training while the walkthrough is open: whether it was running, and the hold to release."""
    hold, was_running = await asyncio.wrap_future(session.hold())
    return {"was_running": was_running, "hold": hold}


@router.post("/walkthrough/close")
async def close_walkthrough(session: SessionDep, req: CloseRequest | None = None):
    """Step back out: training runs again exactly when it ran before the walkthrough opened, unless
    someone pressed play, pause or step meanwhile (their choice wins), or another walkthrough is open."""
    running = await asyncio.wrap_future(session.release(req.hold if req else None))
    return {"running": running}


@router.post("/walkthrough/batch")
async def walkthrough_batch(req: BatchRequest, session: SessionDep):
    """A random mini-batch of training examples and each one's nudges for a few parameters (at most as
    many examples as the training set has)."""
    rng = np.random.default_rng(req.seed)

    def table():
        net, data = session.net, session.data
        indices = np.sort(rng.choice(data.train_size, size=min(req.size, data.train_size), replace=False))
        x, labels = training_batch(data, indices)
        body = wt.batch_table(net, x, labels, chosen_parameters(net, _params(req.params)))
        return indices, x, data, body, session.learning_rate

    indices, x, data, body, lr = await _answer(session.read(table))
    inputs = x.astype(np.float64).round(4 if data.kind == "plane" else 3).tolist()
    extra = {"images": inputs} if data.kind == "image" else {}
    return {"indices": indices.tolist(), "inputs": inputs, **extra, "learning_rate": lr,
            "class_names": list(data.class_names), **body}


@router.post("/walkthrough/step")
async def walkthrough_step(req: StepRequest, session: SessionDep):
    """Apply w ← w − η · (average nudge) for that mini-batch to the live network; undo restores it."""
    return await _answer(session.walk_step(req.indices, _params(req.params), req.learning_rate))


@router.post("/teach")
async def teach(req: TeachRequest, session: SessionDep):
    """One backprop step on a single example (a drawing, pixels or a point) with the label the user gives;
    undo restores it."""
    try:
        x, stages, empty, _ = await request_input(session, req, label=True)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    if empty:
        raise HTTPException(422, "the drawing is empty: draw something first")
    body = await _answer(session.teach(x, req.label, req.learning_rate))
    return {**body, "stages": stages}


@router.post("/undo")
async def undo_step(session: SessionDep):
    """Restore the weights from before the last walkthrough step or teach step of this network."""
    return await _answer(session.undo_step())


@router.post("/gradcheck")
async def gradcheck(req: GradCheckRequest, session: SessionDep):
    """The finite-difference estimate of ∂C0/∂p next to backprop's value, for one example."""
    try:
        x, _, _, _ = await request_input(session, req, label=True)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None

    def copy():
        return wt.check_parameter(session.net, req.param.model_dump()), freeze(session.net)

    param, frozen = await _answer(session.read(copy))
    try:  # on a float64 copy of the network, off the worker: training goes on meanwhile
        return await asyncio.to_thread(wt.gradient_check, thaw(frozen), x, req.label, param, req.eps)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
