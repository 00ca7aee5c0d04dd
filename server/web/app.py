"""The FastAPI app factory: loads MNIST once, owns the training session, mounts the routes."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..engine import checkpoint
from ..engine.data import Dataset, load_dataset
from ..training.session import TrainingSession
from ..training.store import AUTOSAVE, CheckpointStore, export
from .bodies import validation_error
from .guard import Guard, GuardMiddleware
from .routes import checkpoints, live, pages, walkthrough, ws
from .stream.broadcast import Broadcaster

log = logging.getLogger("backprop_lab")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Settings:
    data_dir: str | None = None
    load: str | None = None  # checkpoint to start from
    guard: Guard = field(default_factory=Guard)
    frame_rate: float = 30.0
    session_kwargs: dict = field(default_factory=dict)
    checkpoint_dir: Path = Path("checkpoints")  # created on demand
    resume: bool = False  # ``load`` is the last session's autosave (the loaded event says "resumed")
    autosave: bool = False  # on shutdown, save the session as the checkpoint "autosave" (with history)
    stall_limit: float = 20.0  # seconds a send may block before the viewer is disconnected
    dataset: Dataset | None = None  # an already loaded dataset (tests, benchmarks); else loaded at start-up


def autosave(session: TrainingSession, store: CheckpointStore) -> None:
    """Save the session (weights, counters, whole history) as the checkpoint "autosave"."""
    try:
        frozen, extra = session.read(export, session).result()
        store.save(AUTOSAVE, frozen, extra)
        log.info("saved the session as %s (iteration %d); continue it with --resume",
                    store.path(AUTOSAVE), extra["iteration"])
    except Exception:
        log.exception("could not save the session on shutdown")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        data = settings.dataset or await asyncio.to_thread(load_dataset, settings.data_dir)
        session = TrainingSession(data, **settings.session_kwargs)
        store = CheckpointStore(settings.checkpoint_dir)
        if settings.load:
            net, extra = await asyncio.to_thread(checkpoint.load, settings.load)
            session.load_network(net, extra.get("history") or None, params=extra.get("params"),
                                 message="resumed" if settings.resume else f"started from {Path(settings.load).name}")
        session.start()
        app.state.session = session
        app.state.checkpoints = store
        app.state.broadcaster = Broadcaster(session, settings.frame_rate, settings.stall_limit)
        app.state.broadcaster.start()
        try:
            yield
        finally:
            await app.state.broadcaster.close()
            session.stop()
            if settings.autosave:
                await asyncio.to_thread(autosave, session, store)

    app = FastAPI(title="Backprop Lab", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.guard = settings.guard
    templates = Jinja2Templates(directory=str(ROOT / "templates"))
    app.state.templates = templates

    app.add_middleware(GuardMiddleware)

    app.add_exception_handler(RequestValidationError, validation_error)
    for module in (pages, live, checkpoints, walkthrough, ws):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    return app
