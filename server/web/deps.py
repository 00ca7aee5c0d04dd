"""Typed dependencies: what a route may ask for (the session, the checkpoint store)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..training.catalog import Catalog
from ..training.session import TrainingSession
from ..training.store import CheckpointStore


def get_session(request: Request) -> TrainingSession:
    return request.app.state.session


def get_store(request: Request) -> CheckpointStore:
    return request.app.state.checkpoints


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


SessionDep = Annotated[TrainingSession, Depends(get_session)]
StoreDep = Annotated[CheckpointStore, Depends(get_store)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
