"""Classify a drawing or MNIST pixels with the session's current network (never disturbs training)."""

from __future__ import annotations

import asyncio

import numpy as np

from .preprocess import to_mnist
from .session import TrainingSession


def mnist_input(req) -> tuple[np.ndarray, dict, bool]:
    """The 784 network inputs for a request with ``pixels`` or ``image``, the preprocessing stages, empty."""
    if req.pixels is not None:
        return np.asarray(req.pixels, dtype=np.float32), {}, not any(req.pixels)
    result = to_mnist(req.image.pixels, req.image.width, req.image.height)
    return result.input, result.stages, result.empty


async def classify_request(session: TrainingSession, req) -> dict:
    """``predict_payload`` for async callers: a drawing is preprocessed on a worker thread, and the
    network runs on the session's worker between two mini-batches (no lock contention with training)."""
    if req.pixels is not None:
        x, stages, empty = mnist_input(req)  # 784 floats: cheaper here than a thread hand-off
    else:
        x, stages, empty = await asyncio.to_thread(mnist_input, req)
    out = await asyncio.wrap_future(session.read(session.classify, x))
    return _body(x, out, stages, empty)


def _body(x: np.ndarray, out: dict, stages: dict, empty: bool) -> dict:
    return {
        "digit": out["digit"],
        "probabilities": out["probabilities"],
        "input": x.astype(np.float64).tolist(),
        "activations": out["activations"],
        "stages": stages,
        "empty": bool(empty),
    }


def predict_payload(session: TrainingSession, req) -> dict:
    """The prediction body, computed in the caller's thread (under the session lock)."""
    x, stages, empty = mnist_input(req)
    return _body(x, session.classify(x), stages, empty)


def backprop_payload(session: TrainingSession, req) -> dict:
    """The walkthrough's numbers for one labelled example, with the session's current weights."""
    from .walkthrough import example_breakdown

    x, stages, _ = mnist_input(req)
    with session.lock:
        body = example_breakdown(session.net, x, req.label)
    body["stages"] = stages
    return body
