"""HTTP routes of the classroom's presenter (classroom mode only): become the presenter with the key, lock
the class to follow, publish the walkthrough's step, and copy the presenter's network into one's own
session. The follow itself is the websocket's (``/ws?follow=1``) and the follower's reads
(``X-Backprop-Follow: 1``): see ``classroom.py``."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import Field, field_validator

from ..bodies import StrictRoute
from ..classroom import FOLLOW_HEADER, copy_session
from ..presenter import LOCKED, NO_PRESENTER
from ..schemas import Strict
from ...training.remote import SessionLost

router = APIRouter(prefix="/api/classroom", tags=["classroom"], route_class=StrictRoute)
MAX_EXAMPLE_BYTES = 32 * 1024  # the walked example as the presenter's page describes it (pixels included)


class PresentRequest(Strict):
    key: Annotated[str, Field(min_length=1, max_length=256)]


class LockRequest(Strict):
    locked: bool


class WalkthroughView(Strict):
    open: bool
    step: Annotated[int, Field(ge=0, le=1000)] | None = None  # the step's index in the walkthrough
    phase: Annotated[int, Field(ge=1, le=6)] | None = None
    example: dict | None = None  # the page's walked example ({source, label, index, request}), passed on as is

    @field_validator("example")
    @classmethod
    def small(cls, v):
        if v is not None and len(json.dumps(v, separators=(",", ":"))) > MAX_EXAMPLE_BYTES:
            raise ValueError(f"example is over {MAX_EXAMPLE_BYTES} bytes")
        return v


def _classroom(request: Request):
    classroom = request.app.state.classroom
    if classroom is None:
        raise HTTPException(404, "there is no presenter without --classroom (every tab shares one session)")
    return classroom


async def _presenter(request: Request):
    classroom = _classroom(request)
    key, seat = await classroom.visitor_seat(request)
    if not classroom.presenter.is_presenter(key):
        raise HTTPException(403, "only the presenter can do this: open the page with the presenter key")
    return classroom


def _status(classroom, key: str, request: Request) -> dict:
    present = classroom.presenter_seat() is not None
    following = not classroom.presenter.is_presenter(key) and present and (
        classroom.presenter.is_locked(key, present) or request.headers.get(FOLLOW_HEADER) == "1")
    out = classroom.presenter.status(key, following, present)
    out.pop("type")
    return out


@router.get("")
async def classroom_state(request: Request):
    """The room as this visitor sees it (the ``classroom`` message's fields)."""
    classroom = _classroom(request)
    key, _ = await classroom.visitor_seat(request)
    return _status(classroom, key, request)


@router.post("/present")
async def present(req: PresentRequest, request: Request):
    """Become the presenter: with the presenter key only."""
    classroom = _classroom(request)
    key, _ = await classroom.visitor_seat(request)
    if not classroom.presenter.key_ok(req.key):
        raise HTTPException(403, "that is not the presenter key: you stay a student")
    classroom.presenter.claim(key)
    await classroom.announce()
    await classroom.presenter.relock()  # pages that asked to follow before there was a presenter: follow now
    return _status(classroom, key, request)


@router.post("/lock")
async def lock(req: LockRequest, request: Request):
    """Lock every student to follow the presenter (their own commands are refused), or release them."""
    classroom = await _presenter(request)
    await classroom.set_lock(req.locked)
    return {"locked": classroom.presenter.locked, "followers": classroom.presenter.followers()}


@router.post("/walkthrough")
async def publish_walkthrough(req: WalkthroughView, request: Request):
    """The presenter's page says which walkthrough step it shows; followers' pages go to the same one."""
    classroom = await _presenter(request)
    classroom.presenter.walkthrough = req.model_dump() if req.open else None
    await classroom.announce()
    return {"followers": classroom.presenter.followers()}


@router.post("/copy")
async def copy(request: Request):
    """Copy the presenter's network (weights, history, η and batch size, dataset) into one's own session."""
    classroom = _classroom(request)
    key, seat = await classroom.visitor_seat(request)
    if classroom.presenter.is_presenter(key):
        raise HTTPException(422, "you are the presenter: this network is yours already")
    theirs = classroom.presenter_seat()
    if theirs is None:
        raise HTTPException(409, NO_PRESENTER)
    if classroom.presenter.is_locked(key):
        raise HTTPException(409, LOCKED)
    try:
        restored = await copy_session(theirs.session, seat.session)
    except SessionLost as e:
        raise HTTPException(503, f"a session stopped while copying ({e}); try again") from None
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
    return {"copied": restored}
