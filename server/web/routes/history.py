"""HTTP routes for looking back: the snapshots, the diagnostics, the confusion matrix, branching, CSV exports.

All of it is read through the session's worker (``session.read``), as copies; nothing here changes the
network except ``POST /api/branch``, which is a command in the session's ordered queue.
"""

from __future__ import annotations

import asyncio
import csv
import io

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from ..bodies import StrictRoute
from ..deps import SessionDep
from ..calls import in_session
from ..inputs import json_response
from ..schemas import BranchRequest

router = APIRouter(prefix="/api", tags=["history"], route_class=StrictRoute)
MAX_CELL_IMAGES = 200


async def _read(session, fn, *args):
    try:
        return await asyncio.wrap_future(session.read(fn, *args))
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


@router.get("/snapshots")
async def list_snapshots(session: SessionDep):
    """The kept snapshots, oldest first: ``[{iteration, epoch, cost, marker}]``."""
    summaries, iteration = await _read(session, snapshot_summaries, session)
    return json_response({"snapshots": summaries, "iteration": iteration})


def snapshot_summaries(session) -> tuple[list, int]:
    return session.recorder.snapshots.summaries(), session.iteration


def diagnostics(session) -> list:
    return list(session.recorder.diagnostics)


def full_evaluation(session) -> float:
    return session.recorder.full_evaluation(session)


@router.get("/diagnostics")
async def get_diagnostics(session: SessionDep):
    """Per-layer measurements at each accuracy evaluation: ‖∂C/∂W‖, η‖∂C/∂W‖/‖W‖, saturated and dead
    shares, weight and activation percentiles, and plain-language notes."""
    return json_response({"measurements": await _read(session, diagnostics, session)})


def _confusion(session) -> dict | None:
    c = session.recorder.confusion
    if c is None:
        return None
    return {"iteration": c["iteration"], "accuracy": c["accuracy"], "matrix": c["matrix"].tolist(),
            "classes": list(session.data.class_names)}


@router.get("/confusion")
async def get_confusion(session: SessionDep):
    """The confusion matrix of the latest whole-test-set evaluation (row = true label, column = prediction).
    Before the first one (at the end of the first epoch), it is computed now."""
    body = await _read(session, _confusion, session)
    if body is None:
        await _read(session, full_evaluation, session)
        body = await _read(session, _confusion, session)
    return json_response(body)


@router.get("/confusion/cell")
async def confusion_cell(session: SessionDep, true: int = Query(..., ge=0), predicted: int = Query(..., ge=0),
                         limit: int = Query(48, ge=1, le=MAX_CELL_IMAGES)):
    """Test images in one cell of that matrix, with their pixels: the drill-down."""
    try:
        return json_response(await in_session(session, cell_body, session, true, predicted, limit))
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


def _cell(session, true: int, predicted: int, limit: int) -> tuple[list, object]:
    classes = session.net.sizes[-1]
    if true >= classes or predicted >= classes:
        raise ValueError(f"true and predicted must be below {classes}")
    return session.recorder.cells(session, true, predicted, limit), session.data


def cell_body(session, true: int, predicted: int, limit: int) -> dict:
    indices, data = session.read(_cell, session, true, predicted, limit).result()
    images = data.inputs(data.test_inputs[indices]).astype(np.float64).round(3).tolist() if indices else []
    return {"true": true, "predicted": predicted, "indices": indices, "images": images}


@router.post("/branch")
async def branch(req: BranchRequest, session: SessionDep):
    """Continue from the snapshot at or before ``iteration``, with new settings if given."""
    try:
        await asyncio.wrap_future(session.branch(req.iteration, req.learning_rate, req.batch_size))
    except (ValueError, LookupError) as e:
        raise HTTPException(422, str(e)) from None
    return json_response(await _read(session, state, session))


def state(session) -> dict:
    return session.state()


def cost_and_accuracy(session) -> tuple:
    return session.cost_history.values().copy(), [list(p) for p in session.accuracy_history]


def _csv(rows, header) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv")


@router.get("/history.csv")
async def history_csv(session: SessionDep):
    """Every mini-batch's cost, with the test accuracy where one was measured."""
    costs, accuracy = await _read(session, cost_and_accuracy, session)
    acc = {p[0]: (p[1], p[2]) for p in accuracy}
    rows = ([i, f"{c:.6g}", *(([f"{acc[i][0]:.4f}", "test set" if acc[i][1] else "subset"]) if i in acc else ["", ""])]
            for i, c in enumerate(costs.tolist(), start=1))
    return _csv(rows, ["iteration", "cost", "test_accuracy", "evaluated_on"])


@router.get("/diagnostics.csv")
async def diagnostics_csv(session: SessionDep):
    """The diagnostics, one row per evaluation and layer."""
    measurements = await _read(session, diagnostics, session)
    rows = ([m["iteration"], r["layer"] + 1, f"{r['grad_norm']:.6g}", f"{r['weight_norm']:.6g}",
             "" if r["update_ratio"] is None else f"{r['update_ratio']:.6g}",
             "" if r["saturated"] is None else f"{r['saturated']:.4f}", "" if r["dead"] is None else f"{r['dead']:.4f}"]
            for m in measurements for r in m["layers"])
    return _csv(rows, ["iteration", "layer", "grad_norm", "weight_norm", "update_ratio", "saturated", "dead"])
