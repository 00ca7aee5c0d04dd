"""Typed dependencies: what a route may ask for (the session, the checkpoint store)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..training.session import TrainingSession
from ..training.store import CheckpointStore


def get_session(request: Request) -> TrainingSession:
    return request.app.state.session


def get_store(request: Request) -> CheckpointStore:
    return request.app.state.checkpoints


def shared_session(request: Request) -> bool:
    """Is the session this request reaches shared by every tab (so that replacing its network replaces
    everyone's, and the page asks first)? Yes: one session per server. Per-visitor sessions (classroom
    mode) answer False for a visitor's own session."""
    return True


SessionDep = Annotated[TrainingSession, Depends(get_session)]
StoreDep = Annotated[CheckpointStore, Depends(get_store)]
SharedDep = Annotated[bool, Depends(shared_session)]
