"""What a request's input becomes before the session sees it: ``input`` (the dataset's inputs, e.g. a
point [x, y]), ``pixels`` or a drawing turned into the network's input, checked against the current
dataset; and the JSON bodies of a prediction and of the walkthrough's numbers."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi.responses import Response

from ..engine.datasets import Dataset
from ..engine.preprocess import FIELD, to_mnist
from ..engine.walkthrough import example_breakdown
from ..training.session import TrainingSession
from .calls import in_session
from .stream import wire

PLANE_INPUT_LIMIT = 10.0  # a point (or a number x) to classify may lie outside the data's range, not absurdly far
DRAWING_SHAPE = (FIELD, FIELD)  # what preprocess.to_mnist makes of a drawing


def json_response(body) -> Response:
    """Strict JSON (no NaN), encoded once: FastAPI's generic encoder costs ~1.5 ms on a prediction."""
    return Response(wire.dumps(body), media_type="application/json")


def _what_it_takes(data: Dataset) -> str:
    if data.kind == "plane":
        return f"'input': a point [x, y] ({data.input_size} numbers)"
    if data.kind == "scalar":
        return "'input': one number [x]"
    return f"{data.input_size} pixels ({'×'.join(map(str, data.shape))}) in 0..1 as 'pixels' or 'input', or 'image'"


def network_input(req, data: Dataset) -> tuple[np.ndarray, dict, bool]:
    """The network's input for a request with ``input``, ``pixels`` or ``image``, checked against ``data``:
    (inputs, the drawing's preprocessing stages, whether it is empty). ValueError names the field."""
    if req.input is not None:
        x = np.asarray(req.input, dtype=np.float32)
        if len(x) != data.input_size:
            raise ValueError(f"input: the {data.name} dataset takes {_what_it_takes(data)}, got {len(x)} numbers")
        if data.kind == "image" and not (np.all(x >= 0) and np.all(x <= 1)):
            raise ValueError(f"input: the {data.name} dataset's pixels are from 0 to 1")
        if data.kind == "plane" and not np.all(np.abs(x) <= PLANE_INPUT_LIMIT):
            raise ValueError(f"input: a point of the plane must lie within ±{PLANE_INPUT_LIMIT:g} "
                             "(the data lie in about [-1, 1]²)")
        if data.kind == "scalar" and not np.all(np.abs(x) <= PLANE_INPUT_LIMIT):
            raise ValueError(f"input: x must lie within ±{PLANE_INPUT_LIMIT:g}")
        return x, {}, data.kind == "image" and not x.any()
    field = "pixels" if req.pixels is not None else "image"
    if data.kind != "image":
        raise ValueError(f"{field}: the {data.name} dataset takes {_what_it_takes(data)}, not {field}")
    if req.pixels is not None:
        if len(req.pixels) != data.input_size:
            raise ValueError(f"pixels: the {data.name} dataset takes {data.input_size} pixels "
                             f"({'×'.join(map(str, data.shape))}), got {len(req.pixels)}")
        return np.asarray(req.pixels, dtype=np.float32), {}, not any(req.pixels)
    if data.shape != DRAWING_SHAPE:
        raise ValueError(f"image: a drawing becomes a {FIELD}×{FIELD} image, and the {data.name} dataset's images are "
                         f"{'×'.join(map(str, data.shape))}: send 'pixels'")
    result = to_mnist(req.image.pixels, req.image.width, req.image.height)
    return result.input, result.stages, result.empty


def check_label(label: int, data: Dataset) -> int:
    if not 0 <= label < data.n_classes:
        raise ValueError(f"label: the {data.name} dataset has {data.n_classes} classes, so it must be from 0 to "
                         f"{data.n_classes - 1}, got {label}")
    return label


def class_name(data: Dataset, index: int) -> str:
    return data.class_names[index] if 0 <= index < data.n_classes else str(index)


def request_input(session: TrainingSession, req, label: bool = False) -> tuple[np.ndarray, dict, bool, Dataset]:
    """``network_input`` against the session's current dataset; with ``label``, the request's label is
    checked too. Runs where the session lives (``in_session``): a drawing takes a few milliseconds."""
    data = session.data
    if label:
        check_label(req.label, data)
    x, stages, empty = network_input(req, data)
    return x, stages, empty, data


def classify_body(session: TrainingSession, req) -> dict:
    """The prediction body (``in_session``): the network runs on the session's worker between two
    mini-batches (no lock contention with training)."""
    x, stages, empty, _ = request_input(session, req)
    out = session.read(session.classify, x).result()
    return {
        "digit": out["digit"],
        "class_name": out["class_name"],
        "probabilities": out["probabilities"],
        "input": x.astype(np.float64).tolist(),
        "activations": out["activations"],
        "stages": stages,
        "empty": bool(empty),
    }


def classify_now(session: TrainingSession, req) -> dict:
    """The prediction body, all of it on the session's worker between two mini-batches (for inputs that
    need no preprocessing: one hop instead of two)."""
    x, stages, empty, _ = request_input(session, req)
    out = session.classify(x)
    return {"digit": out["digit"], "class_name": out["class_name"], "probabilities": out["probabilities"],
            "input": x.astype(np.float64).tolist(), "activations": out["activations"], "stages": stages,
            "empty": bool(empty)}


async def classify_request(session: TrainingSession, req) -> dict:
    if req.image is None:  # pixels or a point: checked and classified in one read
        return await asyncio.wrap_future(session.read(classify_now, session, req))
    return await in_session(session, classify_body, session, req)  # a drawing: preprocessed off the worker


def _breakdown(session: TrainingSession, x: np.ndarray, label: int) -> dict:
    return example_breakdown(session.net, x, label)


def backprop_body(session: TrainingSession, req) -> dict:
    """The walkthrough's numbers for one labelled example, with the session's current weights (computed
    on its worker between two mini-batches)."""
    x, stages, _, data = request_input(session, req, label=True)
    body = session.read(_breakdown, session, x, req.label).result()
    body["stages"] = stages
    body["label_name"] = class_name(data, body["label"])
    body["prediction_name"] = class_name(data, body["prediction"])
    return body


async def backprop_payload(session: TrainingSession, req) -> dict:
    return await in_session(session, backprop_body, session, req)
