"""The FastAPI app factory: loads MNIST once, owns the training session, mounts the routes."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from platformdirs import user_data_path

from .. import __version__
from ..engine import checkpoint
from ..engine.datasets import Dataset
from ..training.catalog import Catalog
from ..training.remote import SessionLost, WorkerSpec
from ..training.room import Room
from ..training.session import TrainingSession
from ..training.store import AUTOSAVES_KEPT, CheckpointStore, export, fingerprint, worth_autosaving
from .bodies import validation_error
from .classroom import CLASSROOM_SENDS_PER_SECOND, Classroom, Cookies, load_secret
from .guard import Guard, GuardMiddleware
from .holds import Holds
from .routes import checkpoints, datasets, descent, history, links, live, pages, presenter, walkthrough, ws
from .stream.broadcast import DEFAULT_BUDGET, MAX_BUDGET, Broadcaster

log = logging.getLogger("backprop_lab")


def page_folder(name: str) -> Path:
    """``static`` or ``templates``: inside the installed package (a wheel puts them at server/static and
    server/templates), else beside it in a source checkout. Never relative to the working directory."""
    package = Path(str(resources.files("server")))
    for folder in (package / name, package.parent / name):
        if folder.is_dir():
            return folder
    raise RuntimeError(f"the page's {name}/ folder is missing from {package} (a broken install?)")


def default_checkpoint_dir() -> Path:
    """Where checkpoints and autosaves go unless --checkpoint-dir says otherwise: the per-user data folder
    (~/.local/share/backprop-lab/checkpoints on Linux, honouring XDG_DATA_HOME)."""
    return user_data_path("backprop-lab", appauthor=False) / "checkpoints"


@dataclass
class Settings:
    data_dir: str | None = None
    load: str | None = None  # checkpoint to start from
    guard: Guard = field(default_factory=Guard)
    frame_rate: float = 30.0
    session_kwargs: dict = field(default_factory=dict)
    checkpoint_dir: Path = field(default_factory=default_checkpoint_dir)  # created on demand
    resume: bool = False  # ``load`` is the last session's autosave (the loaded event says "resumed")
    autosave: bool = False  # on shutdown, if trained since the start: a new autosave-YYYYMMDD-HHMMSS (newest 5 kept)
    stall_limit: float = 20.0  # seconds a send may block before the viewer is disconnected
    dataset: Dataset | None = None  # an already loaded MNIST (tests, benchmarks); else loaded at start-up
    fashion_dir: str | None = None  # where Fashion-MNIST's files are (default: Debian's package folder)
    catalog: Catalog | None = None  # the datasets, when the caller already opened some (serve --load checks)
    viewer_bytes: int = DEFAULT_BUDGET  # a summary viewer's byte budget per second, unless it asks another
    max_viewer_bytes: int = MAX_BUDGET  # the most a viewer may ask for
    share_hosts: tuple = ()  # "HOST:PORT" students can reach (serve prints them); the Share button's links use them
    classroom: "ClassroomOptions | None" = None  # a session per visitor, in worker processes (None: one shared)


@dataclass
class ClassroomOptions:
    """``--classroom``: each visitor's session trains in a worker process of its own (classroom.py)."""

    max_sessions: int = 30
    idle_minutes: float = 15.0  # a session without its visitor this long is saved and put away
    save_every: float = 60.0  # seconds between saves of a session that changes
    pace: float | None = 50.0  # mini-batches/s where the slow start ends (None: flat out); the student may change it
    snapshot_budget: int = 32 * 1024 * 1024  # bytes of snapshots per session for looking back
    memory_limit: int | None = 1024 * 1024 * 1024  # private memory of one worker (RLIMIT_DATA)
    sends_per_second: float = CLASSROOM_SENDS_PER_SECOND  # frames for all viewers of all sessions together
    secure_cookies: bool = False  # the cookie only over https (behind a TLS proxy)
    worker_nice: int = 10  # how much the sessions' processes give way to the web process (0–19)
    presenter_key: str | None = None  # the key that makes a visitor the presenter (None: nobody presents)


def autosave(session: TrainingSession, store: CheckpointStore, at_start: str | None) -> str | None:
    """Save the session (weights, counters, η, batch size, whole history and the recorded snapshots, within
    ``SAVED_SNAPSHOT_BYTES``) as a new timestamped autosave,
    keeping the newest few, when it was trained since the server started (``at_start``: the network's
    fingerprint then; None: it never started). Returns the name, or None when nothing was written."""
    try:
        frozen, extra = session.read(export, session, True).result()  # with the recorded snapshots
        if not worth_autosaving(frozen, at_start):
            if at_start is not None:
                log.info("not trained since the server started: no new autosave (those in %s are unchanged)",
                         store.folder)
            return None
        name = store.autosave(frozen, extra)
        log.info("saved the session as %s (iteration %d); continue it with --resume (the newest %d autosaves "
                 "are kept)", store.path(name), extra["iteration"], AUTOSAVES_KEPT)
        return name
    except Exception:
        log.exception("could not save the session on shutdown")
        return None


async def session_lost(request, exc: SessionLost) -> JSONResponse:
    return JSONResponse({"detail": f"your session stopped unexpectedly ({exc}); reload the page: it is restored "
                                   "from its last save"}, 503)


@asynccontextmanager
async def classroom_lifespan(app: FastAPI, settings: Settings):
    """Classroom mode: no session here; a room of worker processes, one per visitor (classroom.py)."""
    options = settings.classroom
    cache = Path(tempfile.mkdtemp(prefix="backprop-lab-datasets-"))  # the image datasets, memory-mapped
    try:
        catalog = Catalog(mnist=settings.dataset, mnist_dir=settings.data_dir, fashion_dir=settings.fashion_dir,
                          cache_dir=cache)
        await asyncio.to_thread(catalog.open, "mnist")  # read (and checked) once, then mapped by every worker
        spec = WorkerSpec(
            folder="", mnist_dir=settings.data_dir, fashion_dir=settings.fashion_dir, cache_dir=str(cache),
            save_every=options.save_every, memory_limit=options.memory_limit, nice=options.worker_nice,
            session_kwargs={**settings.session_kwargs, "warmup_until": options.pace, "max_blas_threads": 1,
                            "snapshot_budget": options.snapshot_budget})
        root = Path(settings.checkpoint_dir).expanduser()
        room = Room(root, options.max_sessions, options.idle_minutes * 60, spec, preload=["server.web.app"])
        classroom = Classroom(room, Cookies(await asyncio.to_thread(load_secret, room.root)), settings.frame_rate,
                              settings.stall_limit, options.sends_per_second, options.secure_cookies,
                              options.presenter_key, viewer_bytes=(settings.viewer_bytes, settings.max_viewer_bytes))
        await classroom.start()
        app.state.classroom = classroom
        app.state.session = None
        app.state.broadcaster = None
        app.state.catalog = catalog
        app.state.checkpoints = None
        try:
            yield
        finally:
            await classroom.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def network_fingerprint(session) -> str:
    return fingerprint(session.net)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.classroom is not None:
            try:
                async with classroom_lifespan(app, settings):
                    yield
            finally:
                app.state.holds.shutdown()
            return
        catalog = settings.catalog or Catalog(mnist=settings.dataset, mnist_dir=settings.data_dir,
                                              fashion_dir=settings.fashion_dir)
        data = settings.dataset or await asyncio.to_thread(catalog.open, "mnist")
        session = TrainingSession(data, catalog=catalog, **settings.session_kwargs)
        store = CheckpointStore(settings.checkpoint_dir)
        if settings.load:
            loaded = await asyncio.to_thread(checkpoint.read_file, settings.load)
            extra = loaded.extra
            if loaded.dropped:
                log.warning("%s: its recorded snapshots were dropped (%s); the network and its cost history "
                            "are loaded", settings.load, loaded.dropped)
            # (reading the checkpoint's dataset may read an image dataset's files: off the event loop)
            await asyncio.to_thread(
                session.load_network, loaded.net, extra.get("history") or None,
                "resumed" if settings.resume else f"started from {Path(settings.load).name}",
                extra.get("params"), extra.get("dataset"), loaded.history, loaded.dropped)
        session.start()
        # what the network was when the server started (after --load): an autosave only if it changes
        at_start = await asyncio.wrap_future(session.read(network_fingerprint, session))
        app.state.session = session
        app.state.catalog = catalog
        app.state.checkpoints = store
        app.state.broadcaster = Broadcaster(session, settings.frame_rate, settings.stall_limit,
                                            viewer_bytes=settings.viewer_bytes, max_viewer_bytes=settings.max_viewer_bytes)
        app.state.broadcaster.start()
        try:
            yield
        finally:
            app.state.holds.shutdown()
            await app.state.broadcaster.close()
            session.stop()
            if settings.autosave:
                await asyncio.to_thread(autosave, session, store, at_start)

    app = FastAPI(title="Backprop Lab", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.guard = settings.guard
    app.state.classroom = None
    app.state.holds = Holds()  # the walkthroughs' holds on whichever session they pause (holds.py)
    templates = Jinja2Templates(directory=str(page_folder("templates")))
    app.state.templates = templates

    app.add_middleware(GuardMiddleware)

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(SessionLost, session_lost)
    for module in (pages, live, datasets, checkpoints, walkthrough, history, descent, links, presenter, ws):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(page_folder("static"))), name="static")
    return app
