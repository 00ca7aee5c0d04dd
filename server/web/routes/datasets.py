"""HTTP routes of the datasets: what this server offers, and the per-neuron maps of the plane."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from ...engine.maps import GRADIENT_VALUES, cost_gradient_maps, nearest_labels, neuron_maps, plane_grid, quantize
from ...training.store import freeze, thaw
from ..bodies import StrictRoute
from ..deps import SessionDep
from ..inputs import json_response
from ..schemas import MapsRequest
from ..stream import wire

router = APIRouter(prefix="/api", tags=["datasets"], route_class=StrictRoute)


@router.get("/datasets")
async def list_datasets(session: SessionDep):
    """Every dataset: name, kind, input size, shape, classes, sizes, options (limits and defaults) and
    whether this server can offer it (``reason`` when not). Reading an image dataset's files the first
    time takes a moment."""
    entries = await asyncio.to_thread(session.catalog.describe_all)
    return json_response({"current": session.data.name, "datasets": entries})


def maps_envelope(net, size: int, extent: float, values: str, iteration: int, labels=None,
                  label: int | str = "nearest") -> bytes:
    """Every neuron's map over a size × size grid of the plane, as uint8 with each neuron's range: its
    activation or weighted sum, or (``values`` dC_da / delta, with one label per grid point) the cost's
    gradient."""
    grid = plane_grid(size, extent, net.dtype)
    if values in GRADIENT_VALUES:
        maps = cost_gradient_maps(net, grid, labels, values)
    else:
        maps = neuron_maps(net, grid, values)
    maps, los, his = quantize(maps)
    header = {
        "type": "maps", "size": size, "extent": extent, "values": values, "iteration": iteration,
        "sizes": list(net.sizes),
        "layers": [{"layer": l + 1, "lo": lo.tolist(), "hi": hi.tolist()} for l, (lo, hi) in enumerate(zip(los, his))],
    }
    if values in GRADIENT_VALUES:
        header["label"] = label
    arrays = {f"map{l + 1}": m.reshape(len(m), size, size) for l, m in enumerate(maps)}
    return wire.encode(header, arrays)


@router.post("/maps")
async def post_maps(req: MapsRequest, session: SessionDep):
    """Per-neuron maps of the plane for a 2-input network: the binary envelope of docs/protocol.md."""

    def copy():
        data = session.data
        if data.kind != "plane":
            raise ValueError(f"maps: the current dataset ({data.name}) is not of the plane; maps cover "
                             "the plane, for datasets whose inputs are points (x, y)")
        n_out = session.net.sizes[-1]
        if req.label is not None and req.label >= n_out:
            raise ValueError(f"label: the {data.name} dataset has {n_out} classes, so it must be from 0 to "
                             f"{n_out - 1}, got {req.label}")
        return freeze(session.net), session.iteration, data

    try:
        frozen, iteration, data = await asyncio.wrap_future(session.read(copy))
    except ValueError as e:
        raise HTTPException(422, str(e)) from None

    def build():
        net = thaw(frozen)
        labels, label = None, "nearest"
        if req.values in GRADIENT_VALUES:
            if req.label is None:
                labels = nearest_labels(plane_grid(req.size, req.extent, net.dtype), data.train_inputs, data.train_labels)
            else:
                labels, label = req.label, req.label
        return maps_envelope(net, req.size, req.extent, req.values, iteration, labels, label)

    data_bytes = await asyncio.to_thread(build)
    return Response(data_bytes, media_type="application/octet-stream")
