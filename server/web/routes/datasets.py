"""HTTP routes of the datasets: what this server offers, and the per-neuron maps of the plane."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from ...engine.maps import neuron_maps, plane_grid, quantize
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


def maps_envelope(net, size: int, extent: float, values: str, iteration: int) -> bytes:
    """Every neuron's map over a size × size grid of the plane, as uint8 with each neuron's range."""
    maps, los, his = quantize(neuron_maps(net, plane_grid(size, extent, net.dtype), values))
    header = {
        "type": "maps", "size": size, "extent": extent, "values": values, "iteration": iteration,
        "sizes": list(net.sizes),
        "layers": [{"layer": l + 1, "lo": lo.tolist(), "hi": hi.tolist()} for l, (lo, hi) in enumerate(zip(los, his))],
    }
    arrays = {f"map{l + 1}": m.reshape(len(m), size, size) for l, m in enumerate(maps)}
    return wire.encode(header, arrays)


@router.post("/maps")
async def post_maps(req: MapsRequest, session: SessionDep):
    """Per-neuron maps of the plane for a 2-input network: the binary envelope of docs/protocol.md."""

    try:
        data = await in_session(session, maps_body, session, req.size, req.extent, req.values)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    return Response(data, media_type="application/octet-stream")


def _plane_network(session):
    if session.data.kind != "plane":
        raise ValueError(f"maps: the current dataset ({session.data.name}) is not of the plane; maps cover "
                         "the plane, for datasets whose inputs are points (x, y)")
    return freeze(session.net), session.iteration


def maps_body(session, size: int, extent: float, values: str) -> bytes:
    """Where the session lives, on a copy of its network (training goes on)."""
    frozen, iteration = session.read(_plane_network, session).result()
    return maps_envelope(thaw(frozen), size, extent, values, iteration)
