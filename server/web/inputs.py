"""What a request's input becomes before the session sees it: a drawing or 784 pixels turned into the
network's input, and the JSON bodies of a prediction and of the walkthrough's numbers."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi.responses import Response

from ..engine.preprocess import to_mnist
from ..engine.walkthrough import example_breakdown
from ..training.session import TrainingSession
from .stream import wire


def json_response(body) -> Response:
    """Strict JSON (no NaN), encoded once: FastAPI's generic encoder costs ~1.5 ms on a prediction."""
    return Response(wire.dumps(body), media_type="application/json")


def mnist_input(req) -> tuple[np.ndarray, dict, bool]:
    """The 784 network inputs for a request with ``pixels`` or ``image``, the preprocessing stages, empty."""
    if req.pixels is not None:
        return np.asarray(req.pixels, dtype=np.float32), {}, not any(req.pixels)
    result = to_mnist(req.image.pixels, req.image.width, req.image.height)
    return result.input, result.stages, result.empty


async def classify_request(session: TrainingSession, req) -> dict:
    """The prediction body: a drawing is preprocessed on a worker thread, and the network runs on the
    session's worker between two mini-batches (no lock contention with training)."""
    if req.pixels is not None:
        x, stages, empty = mnist_input(req)  # 784 floats: cheaper here than a thread hand-off
    else:
        x, stages, empty = await asyncio.to_thread(mnist_input, req)
    out = await asyncio.wrap_future(session.read(session.classify, x))
    return {
        "digit": out["digit"],
        "probabilities": out["probabilities"],
        "input": x.astype(np.float64).tolist(),
        "activations": out["activations"],
        "stages": stages,
        "empty": bool(empty),
    }


async def backprop_payload(session: TrainingSession, req) -> dict:
    """The walkthrough's numbers for one labelled example, with the session's current weights (computed
    on its worker between two mini-batches)."""
    x, stages, _ = await asyncio.to_thread(mnist_input, req)
    body = await asyncio.wrap_future(session.read(lambda: example_breakdown(session.net, x, req.label)))
    body["stages"] = stages
    return body
