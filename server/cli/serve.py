"""`python -m server serve`: run the live training server with uvicorn."""

from __future__ import annotations

import asyncio
import logging
import sys
import webbrowser

import uvicorn

from ..web.app import Settings, create_app
from ..training.store import AUTOSAVE, CheckpointStore
from ..training.limits import check_fits
from ..training.saved_history import check_history, check_params
from ..web.schemas import MAX_MESSAGE_BYTES
from ..web.guard import Guard


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    parser.add_argument("--load", metavar="PATH", help="start from a checkpoint (.npz)")
    parser.add_argument("--data-dir", help="folder with the four IDX files (default: the bundled MNIST)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument("--checkpoint-dir", default="checkpoints", metavar="DIR",
                        help="folder for checkpoints saved from the page and the autosave (default ./checkpoints)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the session saved at the last shutdown (DIR/autosave.npz), history included; "
                             "with --load, restore the history saved in that checkpoint")
    parser.add_argument("--no-autosave", action="store_true", help="do not save the session on shutdown")


def uvicorn_config(app, host: str = "127.0.0.1", port: int = 8000, **overrides) -> uvicorn.Config:
    """The server's uvicorn settings: websocket size limit (over 64 KiB closes with 1009), pings that
    detect dead peers, a graceful shutdown that closes every socket (1012) within 5 s, and no
    permessage-deflate: frames are mostly float32 arrays that barely compress, and zlib per viewer per
    frame cost more CPU than everything else the event loop does (measured: 41% of it, 16 viewers)."""
    options = dict(ws_max_size=MAX_MESSAGE_BYTES, ws_ping_interval=20, ws_ping_timeout=20, log_level="warning",
                   timeout_graceful_shutdown=5, ws_per_message_deflate=False)
    options.update(overrides)
    return uvicorn.Config(app, host=host, port=port, **options)


def _log_to_stderr() -> None:
    """The server's own messages (autosave, dropped viewers, errors) on stderr, one line each."""
    logger = logging.getLogger("backprop_lab")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def run(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be from 0 to 65535, got {args.port}")
    guard = Guard.for_bind(args.host, args.port or None)
    store = CheckpointStore(args.checkpoint_dir)
    load = args.load
    if args.resume and not load:
        if store.exists(AUTOSAVE):
            load = str(store.path(AUTOSAVE))
        else:
            print(f"no saved session in {store.folder}: starting a new one", file=sys.stderr)
    elif not args.resume and not args.no_autosave and store.exists(AUTOSAVE):
        print(f"note: {store.path(AUTOSAVE)} holds the last session; it is replaced at shutdown "
              "(start with --resume to continue it)", file=sys.stderr)
    if load:  # fail fast, with one line, before the server starts (the live limits before any allocation)
        from ..engine import checkpoint

        net, extra = checkpoint.load(load, fits=check_fits)
        if extra.get("history"):
            check_history(extra["history"])
        check_params(extra.get("params"))
    settings = Settings(data_dir=args.data_dir, load=load, guard=guard, checkpoint_dir=store.folder,
                        resume=args.resume, autosave=not args.no_autosave)
    _log_to_stderr()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, args.host, args.port))

    async def serve():
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                return await task
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        guard.port = port if guard.token is None else None
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        shown = f"[{shown}]" if ":" in shown else shown
        url = f"http://{shown}:{port}/" + (f"?token={guard.token}" if guard.token else "")
        print(f"Backprop Lab is running at {url}", flush=True)
        if args.open:
            webbrowser.open(url)
        await task

    asyncio.run(serve())
    return 0
