"""HTTP routes of the live session: state, predict, the model file, test examples and mistakes."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from ...engine import checkpoint
from ...engine.data import to_float
from ...training.store import Frozen, export, freeze, thaw
from ..bodies import StrictRoute
from ..deps import SessionDep
from ..inputs import classify_request, json_response
from ..schemas import PredictRequest

router = APIRouter(prefix="/api", tags=["live session"], route_class=StrictRoute)


@router.get("/state")
async def get_state(session: SessionDep):
    """Counters, parameters and configuration ("cost" is the cost function; "batch_cost" the latest value)."""

    def read():
        state = session.state()
        return {**state, "batch_cost": state["cost"], **session.params(), "warmup": session.warmup, **session.config()}

    return json_response(await asyncio.wrap_future(session.read(read)))


@router.post("/predict")
async def post_predict(req: PredictRequest, session: SessionDep):
    """Classify 784 MNIST-format pixels or a raw drawing (cropped, scaled, centred the way MNIST was made)."""
    try:
        return json_response(await classify_request(session, req))
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.get("/model")
async def get_model(session: SessionDep, iteration: int | None = Query(None, ge=0)):
    """The current session as a checkpoint file (.npz, the CLI's format): weights, counters, η, batch size,
    history. With ``iteration=K``: the weights of the nearest snapshot at or before K (its iteration in
    ``extra.iteration``), for scrubbing back through training."""
    if iteration is None:
        # the weights, counters, hyper-parameters and history, like a saved checkpoint (an upload restores them)
        frozen, extra = await asyncio.wrap_future(session.read(export, session))  # after every command queued
        name = "backprop-lab-model.npz"
    else:
        frozen, extra = await asyncio.wrap_future(session.read(snapshot_file, session, iteration))
        name = f"backprop-lab-model-{extra['iteration']}.npz"
    data = await asyncio.to_thread(checkpoint.to_bytes, frozen, extra)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def snapshot_file(session, iteration: int):
    """(Frozen, extra) of the snapshot at or before ``iteration`` (on the worker); 422 when it is after now."""
    if iteration > session.iteration:
        raise HTTPException(422, f"iteration: {iteration} is after now (iteration {session.iteration})")
    snap = session.recorder.snapshots.at_or_before(iteration)
    frozen = Frozen(list(snap.weights), list(snap.biases), dict(session.net.config))
    return frozen, {"iteration": snap.iteration, "epoch": snap.epoch, "snapshot": True}


def _example(images, labels, index: int, which: str) -> dict:
    if index >= len(images):
        raise HTTPException(422, f"index: the {which} set has {len(images)} images, so it must be below that")
    return {"index": index, "label": int(labels[index]), "pixels": to_float(images[index]).astype(np.float64).round(4).tolist()}


@router.get("/test-example")
async def test_example(session: SessionDep, index: int = Query(..., ge=0)):
    """One test image as floats in 0..1, with its label."""
    return _example(session.data.test_images, session.data.test_labels, index, "test")


@router.get("/train-example")
async def train_example(session: SessionDep, index: int = Query(..., ge=0)):
    """One training image as floats in 0..1, with its label."""
    return _example(session.data.train_images, session.data.train_labels, index, "training")


@router.get("/mistake")
async def next_mistake(session: SessionDep, after: int = Query(-1, ge=-1)):
    """The next test image (after ``after``, wrapping round) that the current network gets wrong."""
    data = session.data
    net = thaw(await asyncio.wrap_future(session.read(freeze, session.net)))  # a copy: training goes on

    def find():
        order = np.roll(np.arange(len(data.test_images)), -(after + 1))
        for start in range(0, len(order), 2000):
            idx = order[start : start + 2000]
            predicted = net.predict(to_float(data.test_images[idx], net.dtype))
            wrong = np.nonzero(predicted != data.test_labels[idx])[0]
            if len(wrong):
                i = int(idx[wrong[0]])
                return {"index": i, "label": int(data.test_labels[i]), "predicted": int(predicted[wrong[0]])}
        return None

    found = await asyncio.to_thread(find)
    if found is None:
        return JSONResponse({"detail": "the network gets every test image right"}, 404)
    return found
