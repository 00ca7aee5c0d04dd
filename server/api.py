"""HTTP API: state, predict, model download and test examples."""

from __future__ import annotations

import asyncio
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field, ValidationError

from . import checkpoint, wire
from .app import MAX_BODY_BYTES
from .data import to_float
from .checkpoint import CheckpointError
from .checkpoints import MAX_FILE_BYTES, NAME_RE, CheckpointStore, NotFound, export
from .messages import PredictRequest, Strict, describe, parse_json
from .predict import classify_request

router = APIRouter(prefix="/api")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing more than ``limit`` bytes even without a Content-Length."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int = MAX_BODY_BYTES):
    """The request body as JSON (no NaN/Infinity), refusing more than ``limit`` bytes."""
    data = await read_body(request, limit)
    try:
        return parse_json(data.decode())
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


# ----- checkpoints ------------------------------------------------------------------------------
class SaveRequest(Strict):
    name: Annotated[str, Field(pattern=NAME_RE.pattern)]


def _store(request: Request) -> CheckpointStore:
    return request.app.state.checkpoints


def _checkpoint_error(e: CheckpointError) -> HTTPException:
    return HTTPException(404 if isinstance(e, NotFound) else 422, str(e))


async def _install(session, net, extra: dict, message: str) -> dict:
    """Hand a validated network (and its history, if any) to the session; 422 leaves it untouched."""
    history = extra.get("history") if isinstance(extra, dict) else None
    try:
        session.load_network(net, history if history else None, message=message)
    except ValueError as e:
        raise HTTPException(422, f"{message}: {e}") from None
    iteration = history.get("iteration", 0) if isinstance(history, dict) else 0
    return {"sizes": net.sizes, "iteration": iteration, "has_history": bool(history)}


@router.get("/checkpoints")
async def list_checkpoints(request: Request):
    """Saved checkpoints, newest first: name, size, mtime, iteration, config (or the error reading it)."""
    store = _store(request)
    return json_response({"folder": str(store.folder), "checkpoints": await asyncio.to_thread(store.list)})


@router.post("/checkpoints",
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": SaveRequest.model_json_schema()}}}})
async def save_checkpoint(request: Request):
    """Save the current network, counters and history as ``name`` (atomically; replaces one of that name)."""
    req = validated(SaveRequest, await read_json(request, limit=4096))
    session = request.app.state.session
    frozen, extra = await asyncio.wrap_future(session.read(export, session))
    try:
        return json_response(await asyncio.to_thread(_store(request).save, req.name, frozen, extra))
    except CheckpointError as e:
        raise _checkpoint_error(e) from None


@router.post("/checkpoints/upload")
async def upload_checkpoint(request: Request, name: str | None = Query(None, pattern=NAME_RE.pattern)):
    """Load an uploaded checkpoint (the raw .npz as the body) into the session; with ``?name=`` also keep it.

    A file that fails any check (not a zip, truncated, pickled objects, missing or extra members, wrong
    shapes, NaN, members claiming a huge size, a bad history) gets a 422 saying why; nothing changes.
    """
    data = await read_body(request, MAX_FILE_BYTES)
    try:
        net, extra = await asyncio.to_thread(checkpoint.from_bytes, data, "uploaded file")
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    body = await _install(request.app.state.session, net, extra, "uploaded checkpoint loaded")
    if name is not None:
        try:
            await asyncio.to_thread(_store(request).save, name, net, extra)
        except CheckpointError as e:
            raise _checkpoint_error(e) from None
    return json_response({"loaded": name or "uploaded file", **body})


@router.post("/checkpoints/{name}/load")
async def load_checkpoint(request: Request, name: str):
    """Replace the session's network (and history, if saved with one) by a stored checkpoint."""
    store = _store(request)
    try:
        net, extra = await asyncio.to_thread(store.load, name)
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    body = await _install(request.app.state.session, net, extra, f"checkpoint {name!r} loaded")
    return json_response({"loaded": name, **body})


@router.get("/checkpoints/{name}")
async def download_checkpoint(request: Request, name: str):
    """The stored file itself (.npz)."""
    try:
        data = await asyncio.to_thread(_store(request).read_bytes, name)
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}.npz"'})


@router.delete("/checkpoints/{name}")
async def delete_checkpoint(request: Request, name: str):
    try:
        await asyncio.to_thread(_store(request).delete, name)
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    return json_response({"deleted": name})
