"""HTTP routes of the live session: state, predict, the model file, test examples and mistakes."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from ...engine import checkpoint
from ...engine.datasets import as_inputs
from ...training.snapshot import shown_example
from ...training.store import Frozen, export, freeze, thaw
from ..bodies import StrictRoute
from ..deps import SessionDep
from ..calls import in_session
from ..inputs import class_name, classify_request, json_response
from ..schemas import PredictRequest

router = APIRouter(prefix="/api", tags=["live session"], route_class=StrictRoute)


@router.get("/state")
async def get_state(session: SessionDep):
    """Counters, parameters and configuration ("cost" is the cost function; "batch_cost" the latest value)."""

    return json_response(await asyncio.wrap_future(session.read(state_body, session)))


def state_body(session) -> dict:
    """``GET /api/state``'s body (on the session's worker)."""
    state = session.state()
    return {**state, "batch_cost": state["cost"], **session.params(), "warmup": session.warmup,
            **session.config(), "dataset_options": session.dataset_options()}


@router.post("/predict")
async def post_predict(req: PredictRequest, session: SessionDep):
    """Classify one example of the current dataset: ``input`` (e.g. a point [x, y]), an image dataset's
    ``pixels``, or a raw drawing (cropped, scaled, centred the way MNIST was made)."""
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
        try:
            frozen, extra = await asyncio.wrap_future(session.read(snapshot_file, session, iteration))
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        name = f"backprop-lab-model-{extra['iteration']}.npz"
    data = await asyncio.to_thread(checkpoint.to_bytes, frozen, extra)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def snapshot_file(session, iteration: int):
    """(Frozen, extra) of the snapshot at or before ``iteration`` (on the worker); ValueError when it is after now."""
    if iteration > session.iteration:
        raise ValueError(f"iteration: {iteration:,} is after now (iteration {session.iteration:,})")
    snap = session.recorder.snapshots.at_or_before(iteration)
    frozen = Frozen(list(snap.weights), list(snap.biases), dict(session.net.config))
    return frozen, {"iteration": snap.iteration, "epoch": snap.epoch, "snapshot": True}


@router.get("/neuron")
async def get_neuron(session: SessionDep, layer: int = Query(..., ge=1), index: int = Query(..., ge=0)):
    """Exact numbers behind one neuron, for the inspector: its incoming weights and bias (as /api/model
    has them), and for the example the frames show, its z, a, δ, the previous layer's activations, and
    the last mini-batch's ∂C/∂b. All float32 values, exactly (as JSON numbers)."""
    try:
        return json_response(await asyncio.wrap_future(session.read(neuron_facts, session, layer, index)))
    except NotFinite as e:
        raise HTTPException(409, str(e)) from None
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


class NotFinite(ValueError):
    """The network's numbers overflow right now (it is diverging)."""


def neuron_facts(session, layer: int, index: int) -> dict:
    """(On the session's worker.) ValueError for a neuron the network does not have."""
    net = session.net
    L = len(net.weights)
    if layer > L:
        raise ValueError(f"layer: the network has layers 1 to {L} (0 is the input), got {layer}")
    if index >= net.sizes[layer]:
        raise ValueError(f"index: layer {layer} has {net.sizes[layer]} neurons, so it must be below that, got {index}")
    example = shown_example(session)
    x = example.pop("_x")
    trace = net.forward(x)
    delta = None
    if example["label"] is not None:
        y = np.zeros((1, net.sizes[-1]), np.float32)
        y[0, example["label"]] = 1
        delta = float(net.deltas(trace, y)[layer - 1][0, index])
    grads = session._last_grads
    # as a frame computes it: the gradient kept scaled by η, times 1/η in float32
    grad_b = float(grads.nabla_b[layer - 1][index] * np.float32(1.0 / session._last_eta)) if grads is not None else None
    w, a_prev = net.weights[layer - 1][index], trace.activations[layer - 1][0]
    numbers = [net.biases[layer - 1][index], trace.zs[layer - 1][0, index], trace.activations[layer][0, index],
               delta or 0.0, grad_b or 0.0]
    if not (np.isfinite(w).all() and np.isfinite(a_prev).all() and np.isfinite(numbers).all()):
        raise NotFinite("the network's numbers are not finite right now (it is diverging): lower the learning "
                        "rate and reset")

    def exact(a):
        return np.asarray(a, np.float32).astype(np.float64).tolist()

    return {
        "iteration": session.iteration, "layer": layer, "index": index, "example": example,
        "w": exact(w), "b": float(net.biases[layer - 1][index]),
        "z": float(trace.zs[layer - 1][0, index]), "a": float(trace.activations[layer][0, index]),
        "delta": delta, "grad_b": grad_b, "a_prev": exact(a_prev),
    }


def example_body(session, which: str, index: int) -> dict:
    """One example of the session's dataset as the network sees it: ``input`` (and, for images, the same as
    ``pixels``). Runs where the session lives (``in_session``)."""
    data = session.data
    inputs, labels = data.split(which)
    if index >= len(inputs):
        kind = "training" if which == "train" else "test"
        raise ValueError(f"index: the {kind} set has {len(inputs)} examples, so it must be below that")
    x = as_inputs(inputs[index]).astype(np.float64).round(4).tolist()
    label = int(labels[index])
    body = {"index": index, "label": label, "class_name": class_name(data, label), "input": x}
    if data.kind == "image":
        body["pixels"] = x
    return body


@router.get("/test-example")
async def test_example(session: SessionDep, index: int = Query(..., ge=0)):
    """One test example with its label: ``input`` (an image's pixels in 0..1 are also ``pixels``)."""
    return json_response(await _example(session, "test", index))


@router.get("/train-example")
async def train_example(session: SessionDep, index: int = Query(..., ge=0)):
    """One training example with its label: ``input`` (an image's pixels in 0..1 are also ``pixels``)."""
    return json_response(await _example(session, "train", index))


async def _example(session, which: str, index: int) -> dict:
    try:
        return await in_session(session, example_body, session, which, index)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.get("/mistake")
async def next_mistake(session: SessionDep, after: int = Query(-1, ge=-1)):
    """The next test example (after ``after``, wrapping round) that the current network gets wrong."""
    found = await in_session(session, find_mistake, session, after)
    if found is None:
        return JSONResponse({"detail": "the network gets every test example right"}, 404)
    return found


def _network_and_data(session):
    return freeze(session.net), session.data


def find_mistake(session, after: int) -> dict | None:
    """The next wrong test example after ``after`` (where the session lives, on a copy of its network:
    training goes on)."""
    frozen, data = session.read(_network_and_data, session).result()
    net = thaw(frozen)
    order = np.roll(np.arange(data.test_size), -(after + 1))
    for start in range(0, len(order), 2000):
        idx = order[start : start + 2000]
        predicted = net.predict(as_inputs(data.test_inputs[idx], net.dtype))
        wrong = np.nonzero(predicted != data.test_labels[idx])[0]
        if len(wrong):
            i, p = int(idx[wrong[0]]), int(predicted[wrong[0]])
            label = int(data.test_labels[i])
            return {"index": i, "label": label, "predicted": p, "class_name": class_name(data, label),
                    "predicted_name": class_name(data, p)}
    return None
