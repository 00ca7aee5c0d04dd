"""HTTP API: state, predict, model download and test examples."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from . import checkpoint, wire
from .app import MAX_BODY_BYTES
from .data import to_float
from .messages import PredictRequest, describe, parse_json
from .predict import classify_request

router = APIRouter(prefix="/api")


async def read_json(request: Request, limit: int = MAX_BODY_BYTES):
    """The request body as JSON, refusing more than ``limit`` bytes even without a Content-Length."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body over {limit} bytes")
        chunks.append(chunk)
    try:
        return parse_json(b"".join(chunks).decode())
    except (ValueError, UnicodeDecodeError) as e:
        raise HTTPException(400, f"invalid JSON: {e}") from None


def validated(model, raw):
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise HTTPException(422, describe(e)) from None


def json_response(body) -> Response:
    """Strict JSON (no NaN), encoded once: FastAPI's generic encoder costs ~1.5 ms on a prediction."""
    return Response(wire.dumps(body), media_type="application/json")


@router.get("/state")
async def get_state(request: Request):
    """Counters, parameters and configuration ("cost" is the cost function; "batch_cost" the latest value)."""
    session = request.app.state.session

    def read():
        state = session.state()
        return {**state, "batch_cost": state["cost"], **session.params(), **session.config()}

    return json_response(await asyncio.wrap_future(session.read(read)))


@router.post(
    "/predict",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": PredictRequest.model_json_schema()}}}},
)
async def post_predict(request: Request):
    """Classify 784 MNIST-format pixels or a raw drawing (cropped, scaled, centred the way MNIST was made)."""
    req = validated(PredictRequest, await read_json(request))
    try:
        return json_response(await classify_request(request.app.state.session, req))
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.get("/model")
async def get_model(request: Request):
    """The current weights as a checkpoint file (.npz, the CLI's format)."""
    session = request.app.state.session

    def dump():
        with session.lock:
            return checkpoint.to_bytes(session.net, {"iteration": session.iteration})

    data = await asyncio.to_thread(dump)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": 'attachment; filename="backprop-lab-model.npz"'})


@router.get("/test-example")
async def test_example(request: Request, index: int = Query(..., ge=0)):
    """One test image as 784 floats in 0..1, with its label."""
    data = request.app.state.session.data
    if index >= len(data.test_images):
        raise HTTPException(422, f"index must be below {len(data.test_images)}")
    return {"index": index, "label": int(data.test_labels[index]),
            "pixels": to_float(data.test_images[index]).astype(np.float64).round(4).tolist()}


@router.get("/mistake")
async def next_mistake(request: Request, after: int = Query(-1, ge=-1)):
    """The next test image (after ``after``, wrapping round) that the current network gets wrong."""
    session = request.app.state.session
    data = session.data

    def find():
        order = np.roll(np.arange(len(data.test_images)), -(after + 1))
        for start in range(0, len(order), 2000):
            idx = order[start : start + 2000]
            with session.lock:
                predicted = session.net.predict(to_float(data.test_images[idx]))
            wrong = np.nonzero(predicted != data.test_labels[idx])[0]
            if len(wrong):
                i = int(idx[wrong[0]])
                return {"index": i, "label": int(data.test_labels[i]), "predicted": int(predicted[wrong[0]])}
        return None

    found = await asyncio.to_thread(find)
    if found is None:
        return JSONResponse({"detail": "the network gets every test image right"}, 404)
    return found
