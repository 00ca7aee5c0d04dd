"""HTTP routes of the checkpoint folder: list, save, load, download, delete and upload."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from ...engine import checkpoint
from ...engine.checkpoint import CheckpointError, Loaded
from ...engine.saved_snapshots import SavedHistory
from ...training.limits import check_fits
from ...training.saved_history import check_snapshots
from ...training.store import AUTOSAVE_RE, NAME_RE, Exists, NotFound, export
from ..bodies import StrictRoute
from ..deps import SessionDep, StoreDep
from ..calls import settle
from ..inputs import json_response
from ..schemas import SaveRequest

router = APIRouter(prefix="/api/checkpoints", tags=["checkpoints"], route_class=StrictRoute)


def _checkpoint_error(e: CheckpointError) -> HTTPException:
    return HTTPException(404 if isinstance(e, NotFound) else 409 if isinstance(e, Exists) else 422, str(e))


def _not_an_autosave_name(name: str, store=None) -> None:
    """``autosave-YYYYMMDD-HHMMSS`` names belong to the server's autosaves (the oldest are deleted); a
    classroom visitor's ``autosave`` is its session's own save (``store.reserved``)."""
    if name in getattr(store, "reserved", ()):
        raise HTTPException(422, f"{name!r} is your session's own save, kept by the server; choose another name")
    if AUTOSAVE_RE.match(name):
        raise HTTPException(422, f"names like {name!r} are kept for the server's autosaves (the oldest are deleted); "
                                 "choose another")


async def _install(session, loaded: Loaded, message: str) -> tuple[dict, object]:
    """Hand a validated network (and its history, hyper-parameters and recorded snapshots, if any) to the
    session; a 422 leaves it untouched. A damaged snapshot part only drops the snapshots. Returns the
    reply's body and the snapshots restored (a ``SavedHistory``, or None)."""
    net, extra = loaded.net, loaded.extra
    history = extra.get("history") if isinstance(extra, dict) else None
    try:  # off the event loop: the checkpoint's dataset may be an image dataset not read yet
        restored = await settle(await asyncio.to_thread(
            session.load_network, net, history if history else None, message, extra.get("params"),
            extra.get("dataset"), loaded.history, loaded.dropped))
    except ValueError as e:
        raise HTTPException(422, f"{message}: {e}") from None
    iteration = history.get("iteration", 0) if isinstance(history, dict) else 0
    # the dataset it trains on now: read after the queued load, so it is the loaded one
    dataset = await asyncio.wrap_future(session.read(dataset_name, session))
    saved, dropped = check_snapshots(loaded.history, loaded.dropped, iteration)  # as the session judged them
    snapshots = len(saved.snapshots) if saved is not None else 0
    return {"sizes": net.sizes, "iteration": iteration, "has_history": bool(history), "restored": restored,
            "dataset": dataset, "snapshots": snapshots, "snapshots_dropped": dropped}, saved


def dataset_name(session) -> str:
    return session.data.name


@router.get("")
async def list_checkpoints(store: StoreDep):
    """Saved checkpoints, newest first: name, size, mtime, iteration, config (or the error reading it)."""
    return json_response({"folder": str(store.folder), "checkpoints": await asyncio.to_thread(store.list)})


@router.post("")
async def save_checkpoint(req: SaveRequest, session: SessionDep, store: StoreDep):
    """Save the current network, η, batch size, counters and history as ``name`` (atomically); with
    ``snapshots: true`` ("with history") the recorded snapshots too. A checkpoint of that name is replaced
    only with ``overwrite: true``; otherwise 409 and it stays as it was."""
    _not_an_autosave_name(req.name, store)
    frozen, extra = await asyncio.wrap_future(session.read(export, session, req.snapshots))
    try:
        return json_response(await asyncio.to_thread(store.save, req.name, frozen, extra, req.overwrite))
    except CheckpointError as e:
        raise _checkpoint_error(e) from None


@router.post(
    "/upload",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def upload_checkpoint(request: Request, session: SessionDep, store: StoreDep,
                            name: str | None = Query(None, pattern=NAME_RE.pattern), overwrite: bool = False):
    """Load an uploaded checkpoint (the raw .npz as the body) into the session; with ``?name=`` also keep it
    (a taken name: 409 and nothing changes, unless ``&overwrite=true``).

    A file that fails any check (not a zip, truncated, pickled objects, missing or extra members, wrong
    shapes, NaN, members claiming a huge size, a network beyond the live limits, a bad history) gets a
    422 saying why, before the network is allocated; nothing changes.
    """
    if name is not None:
        _not_an_autosave_name(name, store)
        if not overwrite and await asyncio.to_thread(store.exists, name):
            raise HTTPException(409, f"a checkpoint named {name!r} exists; add overwrite=true to the query to replace it")
    data = await request.body()  # within the upload limit (bodies.LimitedRequest)
    try:
        loaded = await asyncio.to_thread(checkpoint.read, data, "uploaded file", check_fits)
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    body, saved = await _install(session, loaded, "uploaded checkpoint loaded")
    if name is not None:  # the copy keeps what was restored: the snapshots only if they were sound
        try:
            await asyncio.to_thread(store.save, name, loaded.net, loaded.extra, overwrite, saved or SavedHistory())
        except CheckpointError as e:
            raise _checkpoint_error(e) from None
    return json_response({"loaded": name or "uploaded file", **body})


@router.post("/{name}/load")
async def load_checkpoint(name: str, session: SessionDep, store: StoreDep):
    """Replace the session's network (and history, if saved with one) by a stored checkpoint."""
    try:
        loaded = await asyncio.to_thread(store.read, name, check_fits)
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    body, _ = await _install(session, loaded, f"checkpoint {name!r} loaded")
    return json_response({"loaded": name, **body})


@router.get("/{name}")
async def download_checkpoint(name: str, store: StoreDep):
    """The stored file itself (.npz)."""
    try:
        data = await asyncio.to_thread(store.read_bytes, name)
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}.npz"'})


@router.delete("/{name}")
async def delete_checkpoint(name: str, store: StoreDep):
    try:
        await asyncio.to_thread(store.delete, name)
    except CheckpointError as e:
        raise _checkpoint_error(e) from None
    return json_response({"deleted": name})
