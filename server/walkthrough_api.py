"""HTTP API of the backprop walkthrough, "teach it my digit" and the gradient check."""

from __future__ import annotations

import asyncio
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Request
from pydantic import Field

from . import walkthrough as wt
from .api import read_json, validated
from .data import to_float
from .messages import BackpropRequest, LearningRate, Strict
from .network import one_hot
from .predict import backprop_payload, mnist_input

router = APIRouter(prefix="/api")
UNDO_DEPTH = 20


class Param(Strict):
    layer: Annotated[int, Field(ge=0)]
    j: Annotated[int, Field(ge=0)]
    k: Annotated[int, Field(ge=0)] | None = None  # None: the bias b_j


class BatchRequest(Strict):
    size: Annotated[int, Field(ge=1, le=32)] = 10
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    params: Annotated[list[Param], Field(max_length=12)] | None = None


class StepRequest(Strict):
    indices: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1, max_length=32)]
    params: Annotated[list[Param], Field(max_length=12)] | None = None
    learning_rate: LearningRate | None = None


class TeachRequest(BackpropRequest):
    learning_rate: LearningRate | None = None


class GradCheckRequest(BackpropRequest):
    param: Param
    eps: Annotated[float, Field(gt=0, le=0.1)] = 1e-4


def _session(request: Request):
    return request.app.state.session


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
async def post_backprop(request: Request):
    """One example forward and backward with the current weights (which stay unchanged)."""
    req = validated(BackpropRequest, await read_json(request))
    return await _run(backprop_payload, _session(request), req)


@router.post("/walkthrough/open")
async def open_walkthrough(request: Request):
    """Pause training while the walkthrough is open; returns whether it was running."""
    session = _session(request)
    state = await asyncio.wrap_future(session.read(session.state))  # not under the lock in the event loop
    was_running = state["running"]
    session.pause()
    return {"was_running": was_running}


@router.post("/walkthrough/close")
async def close_walkthrough(request: Request):
    """Step back out: training resumes from the (possibly updated) weights."""
    _session(request).play()
    return {"running": True}


@router.post("/walkthrough/batch")
async def walkthrough_batch(request: Request):
    """A random mini-batch of training examples and each one's nudges for a few parameters."""
    req = validated(BatchRequest, await read_json(request))
    session = _session(request)

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
async def walkthrough_step(request: Request):
    """Apply w ← w − η · (average nudge) for that mini-batch to the live network; undo restores it."""
    req = validated(StepRequest, await read_json(request))
    session = _session(request)
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
async def teach(request: Request):
    """One backprop step on a single drawn example with the label the user gives; undo restores it."""
    req = validated(TeachRequest, await read_json(request))
    session = _session(request)
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
                "before": {"digit": int(np.argmax(before)), "probabilities": wt.probabilities(net, before)},
                "after": {"digit": int(np.argmax(after)), "probabilities": wt.probabilities(net, after)},
                "cost_before": cost_before,
                "cost_after": cost_after,
                "undo_depth": len(undo),
                "stages": stages,
            }

    return await _run(run)


@router.post("/undo")
async def undo_step(request: Request):
    """Restore the weights from before the last walkthrough step or teach step."""
    session = _session(request)
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
async def gradcheck(request: Request):
    """The finite-difference estimate of ∂C0/∂p next to backprop's value, for one example."""
    req = validated(GradCheckRequest, await read_json(request))
    session = _session(request)

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
