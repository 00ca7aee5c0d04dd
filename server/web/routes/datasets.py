"""HTTP routes of the datasets: what this server offers, and the per-neuron maps of the plane."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from ...engine.maps import GRADIENT_VALUES, cost_gradient_maps, nearest_labels, neuron_maps, plane_grid, quantize
from ...training.store import freeze, thaw
from ..bodies import StrictRoute
from ..calls import in_session
from ..deps import CatalogDep, SessionDep
from ..inputs import json_response
from ..schemas import MapsRequest
from ..stream import wire

router = APIRouter(prefix="/api", tags=["datasets"], route_class=StrictRoute)


@router.get("/datasets")
async def list_datasets(session: SessionDep, catalog: CatalogDep):
    """Every dataset: name, kind, input size, shape, classes, sizes, options (limits and defaults) and
    whether this server can offer it (``reason`` when not). Reading an image dataset's files the first
    time takes a moment."""
    entries = await asyncio.to_thread(catalog.describe_all)
    current = await asyncio.wrap_future(session.read(dataset_name, session))
    return json_response({"current": current, "datasets": entries})


def dataset_name(session) -> str:
    return session.data.name


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

    try:
        data = await in_session(session, maps_body, session, req.size, req.extent, req.values, req.label)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    return Response(data, media_type="application/octet-stream")


def _plane_network(session, label: int | None):
    """A copy of the network, its iteration, and (for the gradient maps) the training points and labels."""
    data = session.data
    if data.kind != "plane":
        raise ValueError(f"maps: the current dataset ({data.name}) is not of the plane; maps cover "
                         "the plane, for datasets whose inputs are points (x, y)")
    n_out = session.net.sizes[-1]
    if label is not None and label >= n_out:
        raise ValueError(f"label: the {data.name} dataset has {n_out} classes, so it must be from 0 to "
                         f"{n_out - 1}, got {label}")
    return freeze(session.net), session.iteration, data.train_inputs, data.train_labels


def maps_body(session, size: int, extent: float, values: str, label: int | None = None) -> bytes:
    """Where the session lives, on a copy of its network (training goes on). The cost's gradient maps score
    each grid point against ``label``, or the class of the nearest training point."""
    frozen, iteration, inputs, labels = session.read(_plane_network, session, label).result()
    net = thaw(frozen)
    grid_labels, named = None, "nearest"
    if values in GRADIENT_VALUES:
        if label is None:
            grid_labels = nearest_labels(plane_grid(size, extent, net.dtype), inputs, labels)
        else:
            grid_labels, named = label, label
    return maps_envelope(net, size, extent, values, iteration, grid_labels, named)
