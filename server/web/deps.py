"""Typed dependencies: what a route may ask for (the session, the checkpoint store, the datasets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..training.catalog import Catalog
from ..training.session import TrainingSession
from ..training.store import CheckpointStore
from .holds import Holds


async def get_session(request: Request) -> TrainingSession:
    """The shared session, or in classroom mode the visitor's own (a proxy of the same surface)."""
    classroom = request.app.state.classroom
    if classroom is not None:
        return await classroom.session(request)
    return request.app.state.session


def get_store(request: Request) -> CheckpointStore:
    """The checkpoint folder, or in classroom mode the visitor's own (and the presenter's shared ones)."""
    classroom = request.app.state.classroom
    if classroom is not None:
        return classroom.store(request)
    return request.app.state.checkpoints


def get_holds(request: Request) -> Holds:
    return request.app.state.holds


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def shared_session(request: Request) -> bool:
    """Is the session this request reaches shared by every tab (so that replacing its network replaces
    everyone's, and the page asks first)? Yes: one session per server. Per-visitor sessions (classroom
    mode) answer False for a visitor's own session."""
    return request.app.state.classroom is None


SessionDep = Annotated[TrainingSession, Depends(get_session)]
StoreDep = Annotated[CheckpointStore, Depends(get_store)]
HoldsDep = Annotated[Holds, Depends(get_holds)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SharedDep = Annotated[bool, Depends(shared_session)]
