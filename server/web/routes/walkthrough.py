"""HTTP API of the backprop walkthrough, "teach it my digit" and the gradient check."""

from __future__ import annotations

import asyncio
import numpy as np
from fastapi import APIRouter, HTTPException, Request

from ...engine import walkthrough as wt
from ...engine.data import to_float
from ...engine.network import one_hot
from ..bodies import StrictRoute
from ..deps import SessionDep
from ..inputs import backprop_payload, mnist_input
from ..schemas import BackpropRequest, BatchRequest, GradCheckRequest, StepRequest, TeachRequest

router = APIRouter(prefix="/api", tags=["walkthrough"], route_class=StrictRoute)
UNDO_DEPTH = 20


def _undo_stack(request: Request) -> list:
    if not hasattr(request.app.state, "undo"):
        request.app.state.undo = []
    return request.app.state.undo


def _params(net, params) -> list[dict]:
    if not params:
        return wt.default_parameters(net)
    return [wt.check_parameter(net, p.model_dump()) for p in params]


def _training_batch(session, indices) -> tuple[np.ndarray, np.ndarray]:
    """The inputs (floats in 0..1) and labels of these training images."""
    n = len(session.data.train_images)
    if any(i >= n for i in indices):
        raise ValueError(f"indices must be below {n}")
    indices = np.asarray(indices)
    return to_float(session.data.train_images[indices]), session.data.train_labels[indices]


async def _run(fn, *args):
    try:
        return await asyncio.to_thread(fn, *args)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.post("/backprop")
async def post_backprop(req: BackpropRequest, session: SessionDep):
    """One example forward and backward with the current weights (which stay unchanged)."""
    return await _run(backprop_payload, session, req)


@router.post("/walkthrough/open")
async def open_walkthrough(session: SessionDep):
    """Pause training while the walkthrough is open; returns whether it was running."""
    state = await asyncio.wrap_future(session.read(session.state))  # not under the lock in the event loop
    was_running = state["running"]
    session.pause()
    return {"was_running": was_running}


@router.post("/walkthrough/close")
async def close_walkthrough(session: SessionDep):
    """Step back out: training resumes from the (possibly updated) weights."""
    session.play()
    return {"running": True}


@router.post("/walkthrough/batch")
async def walkthrough_batch(req: BatchRequest, session: SessionDep):
    """A random mini-batch of training examples and each one's nudges for a few parameters."""

    def run():
        rng = np.random.default_rng(req.seed)
        indices = np.sort(rng.choice(len(session.data.train_images), size=req.size, replace=False))
        x, labels = _training_batch(session, indices)
        with session.lock:
            params = _params(session.net, req.params)
            table = wt.batch_table(session.net, x, labels, params)
            lr = session.learning_rate
        return {"indices": indices.tolist(), "images": x.astype(np.float64).round(3).tolist(),
                "learning_rate": lr, **table}

    return await _run(run)


@router.post("/walkthrough/step")
async def walkthrough_step(req: StepRequest, request: Request, session: SessionDep):
    """Apply w ← w − η · (average nudge) for that mini-batch to the live network; undo restores it."""
    undo = _undo_stack(request)

    def run():
        x, labels = _training_batch(session, req.indices)
        with session.lock:
            net = session.net
            lr = req.learning_rate or session.learning_rate
            params = _params(net, req.params)
            before = [wt.parameter_value(net, p) for p in params]
            table = wt.batch_table(net, x, labels, params)
            _, cost_after = _descend(session, undo, x, one_hot(labels, net.sizes[-1], net.dtype), lr)
            after = [wt.parameter_value(net, p) for p in params]
        return {
            "learning_rate": lr,
            "params": params,
            "average": [r["average"] for r in table["rows"]],
            "before": before,
            "after": after,
            "step": [a - b for a, b in zip(after, before)],
            "cost_before": table["cost"],
            "cost_after": cost_after,
            "undo_depth": len(undo),
        }

    return await _run(run)


@router.post("/teach")
async def teach(req: TeachRequest, request: Request, session: SessionDep):
    """One backprop step on a single drawn example with the label the user gives; undo restores it."""
    undo = _undo_stack(request)

    def run():
        x, stages, empty = mnist_input(req)
        if empty:
            raise ValueError("the drawing is empty: draw a digit first")

        with session.lock:
            net = session.net
            lr = req.learning_rate or session.learning_rate
            y = one_hot([req.label], net.sizes[-1], net.dtype)
            before = net.feedforward(x[None, :])[0]
            cost_before, cost_after = _descend(session, undo, x[None, :], y, lr)
            after = net.feedforward(x[None, :])[0]
            return {
                "label": req.label,
                "learning_rate": lr,
                "before": {"digit": int(np.argmax(before)), "probabilities": net.probabilities(before)},
                "after": {"digit": int(np.argmax(after)), "probabilities": net.probabilities(after)},
                "cost_before": cost_before,
                "cost_after": cost_after,
                "undo_depth": len(undo),
                "stages": stages,
            }

    return await _run(run)


@router.post("/undo")
async def undo_step(request: Request, session: SessionDep):
    """Restore the weights from before the last walkthrough step or teach step."""
    undo = _undo_stack(request)

    def run():
        with session.lock:
            while undo:
                sizes, weights, biases = undo.pop()
                if sizes == session.net.sizes:  # a reset since then makes older entries meaningless
                    session.net.set_parameters(weights, biases)
                    session.version += 1
                    return {"undone": True, "undo_depth": len(undo)}
            return {"undone": False, "undo_depth": 0}

    return await _run(run)


@router.post("/gradcheck")
async def gradcheck(req: GradCheckRequest, session: SessionDep):
    """The finite-difference estimate of ∂C0/∂p next to backprop's value, for one example."""

    def run():
        x, _, _ = mnist_input(req)
        with session.lock:
            p = wt.check_parameter(session.net, req.param.model_dump())
            weights, biases = session.net.parameters()
            net = session.net
        snapshot = type(net)(**{k: v for k, v in net.config.items()})
        snapshot.set_parameters(weights, biases)
        return wt.gradient_check(snapshot, x, req.label, p, req.eps)

    return await _run(run)


def _descend(session, undo: list, x, y, learning_rate: float) -> tuple[float, float]:
    """One undoable step W ← W − η ∇C of the live network on (x, y); the batch's cost before and after.

    Call it under the session lock.
    """
    net = session.net
    _push_undo(undo, net)
    grads = net.backprop(x, y, input_gradient=False)
    net.apply_gradients(grads.nabla_w, grads.nabla_b, learning_rate)
    session.version += 1
    return grads.cost, net.cost(x, y)


def _push_undo(undo: list, net) -> None:
    weights, biases = net.parameters()
    undo.append((list(net.sizes), weights, biases))
    del undo[:-UNDO_DEPTH]
