"""Classify a drawing or MNIST pixels with the session's current network (never disturbs training)."""

from __future__ import annotations

import numpy as np

from .preprocess import to_mnist
from .session import TrainingSession


def mnist_input(req) -> tuple[np.ndarray, dict, bool]:
    """The 784 network inputs for a request with ``pixels`` or ``image``, the preprocessing stages, empty."""
    if req.pixels is not None:
        return np.asarray(req.pixels, dtype=np.float32), {}, not any(req.pixels)
    result = to_mnist(req.image.pixels, req.image.width, req.image.height)
    return result.input, result.stages, result.empty


def predict_payload(session: TrainingSession, req) -> dict:
    x, stages, empty = mnist_input(req)
    out = session.classify(x)
    return {
        "digit": out["digit"],
        "probabilities": out["probabilities"],
        "input": x.astype(np.float64).tolist(),
        "activations": out["activations"],
        "stages": stages,
        "empty": bool(empty),
    }


def backprop_payload(session: TrainingSession, req) -> dict:
    """The walkthrough's numbers for one labelled example, with the session's current weights."""
    from .walkthrough import example_breakdown

    x, stages, _ = mnist_input(req)
    with session.lock:
        body = example_breakdown(session.net, x, req.label)
    body["stages"] = stages
    return body
