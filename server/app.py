"""The FastAPI app factory: loads MNIST once, owns the training session, mounts the routes."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import Headers, QueryParams
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from . import __version__
from .checkpoints import MAX_FILE_BYTES as UPLOAD_LIMIT
from .checkpoints import AUTOSAVE, CheckpointStore, export
from .data import Dataset, load_dataset
from .security import TOKEN_HEADER, Guard
from .session import TrainingSession

log = logging.getLogger("backprop_lab")
ROOT = Path(__file__).resolve().parent.parent
MAX_BODY_BYTES = 16 * 1024 * 1024  # a 1024×1024 drawing as JSON floats fits; anything larger is refused


@dataclass
class Settings:
    data_dir: str | None = None
    load: str | None = None  # checkpoint to start from
    guard: Guard = field(default_factory=Guard)
    frame_rate: float = 30.0
    session_kwargs: dict = field(default_factory=dict)
    checkpoint_dir: Path = Path("checkpoints")  # created on demand
    resume: bool = False  # with ``load``: also restore counters and history saved in the checkpoint
    autosave: bool = False  # on shutdown, save the session as the checkpoint "autosave" (with history)
    stall_limit: float = 20.0  # seconds a send may block before the viewer is disconnected
    dataset: Dataset | None = None  # an already loaded dataset (tests, benchmarks); else loaded at start-up


class GuardMiddleware:
    """Host, Origin, token and body-size checks on every HTTP request, before any route runs.

    A plain ASGI middleware (Starlette's ``@app.middleware("http")`` costs about a millisecond per
    request). Websockets are checked in ``ws.py`` before they are accepted.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        response = self.refusal(scope)
        if response is not None:
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)

    @staticmethod
    def refusal(scope):
        guard: Guard = scope["app"].state.guard
        headers = Headers(scope=scope)
        host = headers.get("host")
        if not guard.host_ok(host):
            return PlainTextResponse(f"Host {host!r} is not allowed (this server answers only on loopback)", 403)
        if scope["method"] not in ("GET", "HEAD") and not guard.origin_ok(headers.getlist("origin"), host):
            return JSONResponse({"detail": "cross-site request refused"}, 403)
        if scope["path"].startswith("/api/") and not guard.token_ok(
            headers.get(TOKEN_HEADER) or QueryParams(scope.get("query_string", b"")).get("token")
        ):
            return JSONResponse({"detail": "missing or wrong token"}, 401)
        length = headers.get("content-length")
        limit = UPLOAD_LIMIT if scope["path"] == "/api/checkpoints/upload" else MAX_BODY_BYTES
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse({"detail": f"request body over {limit} bytes"}, 413)
        return None


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
        from .broadcast import Broadcaster

        data = settings.dataset or await asyncio.to_thread(load_dataset, settings.data_dir)
        session = TrainingSession(data, **settings.session_kwargs)
        store = CheckpointStore(settings.checkpoint_dir)
        if settings.load:
            from . import checkpoint

            net, extra = await asyncio.to_thread(checkpoint.load, settings.load)
            history = extra.get("history") if settings.resume else None
            session.load_network(net, history or None,
                                 message="resumed" if history else f"started from {Path(settings.load).name}")
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

    from .api import router as api_router
    from .pages import router as page_router
    from .walkthrough_api import router as walkthrough_router
    from .ws import router as ws_router

    app.include_router(page_router)
    app.include_router(api_router)
    app.include_router(walkthrough_router)
    app.include_router(ws_router)
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    return app
