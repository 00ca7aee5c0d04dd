"""`python -m server serve`: run the live training server with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import socket
import sys
import webbrowser
from pathlib import Path

import uvicorn

from ..web.app import ClassroomOptions, Settings, create_app, default_checkpoint_dir
from ..web.stream.broadcast import DEFAULT_BUDGET, MAX_BUDGET, MIN_BUDGET
from ..web.stream.link import websocket_protocol
from ..training.catalog import Catalog
from ..training.store import CheckpointStore
from ..training.limits import check_fits
from ..training.saved_history import check_history, check_params
from ..web.schemas import MAX_MESSAGE_BYTES
from ..web.guard import LOOPBACK_BIND, Guard
from . import addresses
from .args import UsageError, host_list, positive_float, positive_int
from .token import PRESENTER_FILE, check_token, stable_token


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    parser.add_argument("--load", metavar="PATH",
                        help="start from a checkpoint (.npz): its weights, η, batch size, counters and history")
    parser.add_argument("--data-dir", help="mnist: a folder with the four IDX files (default: the bundled MNIST)")
    parser.add_argument("--fashion-dir", help="fashion-mnist: its folder (default: /usr/share/datasets/fashion-mnist, "
                                              "where Debian's dataset-fashion-mnist package puts it)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument("--checkpoint-dir", metavar="DIR",
                        help="folder for checkpoints saved from the page and the autosaves (default: the per-user "
                             f"data folder, here {default_checkpoint_dir()})")
    parser.add_argument("--resume", action="store_true",
                        help="continue the session saved at the last shutdown (the newest DIR/autosave-*.npz, or an "
                             "older DIR/autosave.npz), history included")
    parser.add_argument("--flat-out", action="store_true",
                        help="train flat out from the first mini-batch (by default training starts slowly, so the "
                             "first minute can be watched, and speeds up by itself to flat out in about 30 s)")
    parser.add_argument("--viewer-bytes", type=budget, default=DEFAULT_BUDGET, metavar="B",
                        help=f"bytes per second a tab streaming the view's summary gets (default {DEFAULT_BUDGET:,}, "
                             "about 1 MB/s: fine on Wi-Fi); lowered by itself on a slower link")
    parser.add_argument("--max-viewer-bytes", type=budget, default=MAX_BUDGET, metavar="B",
                        help=f"the most bytes per second a tab may ask for (default {MAX_BUDGET:,})")
    parser.add_argument("--token", metavar="TOKEN",
                        help="the token students' pages must present when bound beyond loopback (8 to 128 letters, "
                             "digits, '-', '_', '.' or '~'; given with a loopback --host, a token is required there "
                             "too). Without it the token is kept in DIR/server-token, the same after a restart")
    parser.add_argument("--qr", action=argparse.BooleanOptionalAction, default=None,
                        help="print a QR code of the students' address (default: when bound beyond loopback and "
                             "printing to a terminal)")
    parser.add_argument("--classroom", action="store_true",
                        help="a session per visitor (a cookie tells them apart), each training in a worker process of "
                             "its own; without it every tab shares one session")
    parser.add_argument("--max-sessions", type=positive_int, default=30, metavar="N",
                        help="classroom: at most N sessions at once (default 30); the next visitor sees 'the room is full'")
    parser.add_argument("--idle-minutes", type=positive_float, default=15.0, metavar="M",
                        help="classroom: a session whose visitor has been away M minutes (default 15) is saved in the "
                             "checkpoint folder and put away; it resumes when they return, on any server sharing the folder")
    parser.add_argument("--save-every", type=positive_float, default=60.0, metavar="SECONDS",
                        help="classroom: how often a session that changes is saved (default 60 s; also when put away "
                             "and at shutdown)")
    parser.add_argument("--worker-nice", type=int, default=10, choices=range(20), metavar="N",
                        help="classroom: the niceness of the sessions' processes (default 10: the web process, which "
                             "serves every page, comes first when the sessions keep the cores busy)")
    parser.add_argument("--presenter-key", metavar="KEY",
                        help="classroom: the key that makes a page the presenter's (8 to 128 letters, digits, '-', "
                             "'_', '.' or '~'). Without it the key is kept in DIR/presenter-key, the same after a restart")
    parser.add_argument("--allowed-hosts", type=host_list, default=(), metavar="HOST[:PORT],...",
                        help="also answer requests whose Host is one of these (the name a reverse proxy forwards, e.g. "
                             "lab.example.edu); a name without a port allows any port. Never a wildcard")
    parser.add_argument("--no-autosave", action="store_true",
                        help="do not save the session on shutdown (by default a session trained since the start "
                             "is saved as DIR/autosave-YYYYMMDD-HHMMSS.npz; the newest 5 are kept)")


def budget(text: str) -> int:
    """A byte budget per second: a whole number from the server's minimum up."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes per second") from None
    if value < MIN_BUDGET:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_BUDGET:,} bytes per second, got {text}")
    return value


def uvicorn_config(app, host: str = "127.0.0.1", port: int = 8000, **overrides) -> uvicorn.Config:
    """The server's uvicorn settings: websocket size limit (over 64 KiB closes with 1009), pings that
    detect dead peers, a graceful shutdown that closes every socket (1012) within 5 s, and no
    permessage-deflate: frames are mostly float32 arrays that barely compress, and zlib per viewer per
    frame cost more CPU than everything else the event loop does (measured: 41% of it, 16 viewers).
    Its websocket protocol lets the stream see each link's backlog (web/stream/link.py)."""
    options = dict(ws_max_size=MAX_MESSAGE_BYTES, ws_ping_interval=20, ws_ping_timeout=20, log_level="warning",
                   timeout_graceful_shutdown=5, ws_per_message_deflate=False, ws=websocket_protocol())
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


def print_addresses(host: str, port: int, token: str | None, notes=(), qr: bool | None = None,
                    out=None, found=None) -> tuple[str, list]:
    """Say where the server is: the address on this machine (the line tests and scripts read), then, bound
    beyond loopback, every address students can use, each with the token, then ``notes``, then a QR code
    of the first student address (``qr`` None: only when printing to a terminal). Returns (this machine's
    address, the students' addresses)."""
    out = out or sys.stdout
    shown = "127.0.0.1" if addresses.is_wildcard(host) else host
    shown = f"[{shown}]" if ":" in shown else shown
    query = f"?token={token}" if token else ""
    url = f"http://{shown}:{port}/{query}"
    lines = [f"Backprop Lab is running at {url}" + (" (this machine)" if addresses.is_wildcard(host) else "")]
    students = [] if host in LOOPBACK_BIND else addresses.student_addresses(host, found)
    if host not in LOOPBACK_BIND:
        if students:
            lines.append("Students open one of these (each carries the token):")
            lines += [f"  {a.url(port, token)}" + (f"   ({a.interface})" if a.interface else "") for a in students]
        else:
            lines.append("No network address found: students cannot reach this machine (is it on a network?)")
    lines += notes
    print("\n".join(lines), file=out, flush=True)
    if students and (qr if qr is not None else out.isatty()):
        try:
            print_qr(students[0].url(port, token), out)
        except (ImportError, UnicodeError) as e:  # segno missing, or a terminal without block characters
            print(f"(no QR code: {e})", file=out, flush=True)
    return url, students


def print_qr(text: str, out) -> None:
    """A QR code of ``text`` in the terminal (two rows of modules per line), for phones to scan."""
    import segno  # small, pure Python; only needed here

    print(f"Scan for {text}:", file=out)
    segno.make(text, error="l", micro=False).terminal(out=out, compact=True)
    out.flush()


def resume_path(store: CheckpointStore) -> Path | None:
    """The checkpoint ``--resume`` continues: the newest autosave (``autosave.npz`` of older versions too)."""
    name = store.newest_autosave()
    return store.path(name) if name else None


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), as uvicorn would bind it; a port in use is one line, with a free
    one to try. Binding here, before the app starts, means a failed start runs no lifespan at all."""
    try:
        return _bind(host, port)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            free = _free_port_after(host, port)
            raise UsageError(f"port {port} is in use; try --port {free if free else 0}") from None
        raise UsageError(f"cannot listen on {host}:{port} ({e.strerror})") from None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _free_port_after(host: str, port: int, tries: int = 100) -> int | None:
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        try:
            probe = _bind(host, candidate)
        except OSError:
            continue
        probe.close()
        return candidate
    return None


def run(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be from 0 to 65535, got {args.port}")
    if args.token is not None:
        try:
            check_token(args.token)
        except ValueError as e:
            raise UsageError(str(e)) from None
    if args.presenter_key is not None:
        try:
            check_token(args.presenter_key)
        except ValueError as e:
            raise UsageError(str(e).replace("--token", "--presenter-key")) from None
        if not args.classroom:
            raise UsageError("--presenter-key applies to --classroom only (without it every tab shares one session)")
    sock = listen(args.host, args.port)  # a taken port: one line, exit 2, before anything else is done
    try:
        return _serve(args, sock)
    finally:
        sock.close()


def access_token(host: str, given: str | None, folder) -> tuple[str | None, list[str]]:
    """(the token pages must present, or None on loopback without --token; lines for the terminal)."""
    if given is not None:
        try:
            return check_token(given), ["the token is the one given with --token"]
        except ValueError as e:
            raise UsageError(str(e)) from None
    if host in LOOPBACK_BIND:
        return None, []
    token, path, note = stable_token(folder)
    lines = [note] if note else []
    if path is not None:
        lines.append(f"the token is kept in {path}: the same after a restart (--token sets your own; delete the "
                     "file for a new one)")
    return token, lines


def presenter_key(given: str | None, folder) -> tuple[str | None, list[str]]:
    """(the presenter key, lines for the terminal): ``--presenter-key``, else kept in DIR/presenter-key."""
    if given is not None:
        return given, ["  (the presenter key is the one given with --presenter-key)"]
    key, path, note = stable_token(folder, PRESENTER_FILE)
    lines = [f"  ({note})"] if note else []
    if path is not None:
        lines.append(f"  (the key is kept in {path}: the same after a restart; delete it for a new one)")
    return key, lines


def _serve(args, sock: socket.socket) -> int:
    if args.viewer_bytes > args.max_viewer_bytes:
        raise UsageError(f"--viewer-bytes ({args.viewer_bytes:,}) is above --max-viewer-bytes ({args.max_viewer_bytes:,})")
    if args.classroom and (args.load or args.resume):
        raise UsageError("--load and --resume do not apply to --classroom: each visitor's session resumes from its "
                         "own save in the checkpoint folder")
    store = CheckpointStore(args.checkpoint_dir or default_checkpoint_dir())
    load = args.load
    if args.resume and not load:
        newest = resume_path(store)
        if newest:
            load = str(newest)
        else:
            print(f"no saved session in {store.folder}: starting a new one", file=sys.stderr)
    elif not args.resume and not args.load and (newest := resume_path(store)):
        print(f"note: the last session is kept in {newest}; start with --resume to continue it", file=sys.stderr)
    catalog = Catalog(mnist_dir=args.data_dir, fashion_dir=args.fashion_dir)
    if load:  # fail fast, with one line, before the server starts (the live limits before any allocation)
        from ..engine import checkpoint

        net, extra = checkpoint.load(load, fits=check_fits)
        if extra.get("history"):
            check_history(extra["history"])
        check_params(extra.get("params"))
        record = extra.get("dataset") if isinstance(extra.get("dataset"), dict) else {"name": "mnist"}
        try:  # its dataset is here, and the network fits it (the catalog keeps an image dataset it read)
            check_fits(net.sizes, catalog.open(record.get("name"), record.get("options") or {}))
        except ValueError as e:
            raise UsageError(f"{load}: {e}") from None
    classroom = ClassroomOptions(max_sessions=args.max_sessions, idle_minutes=args.idle_minutes,
                                 save_every=args.save_every, worker_nice=args.worker_nice) if args.classroom else None
    # after every check that can refuse the start: a failed start leaves the folder as it was
    token, token_lines = access_token(args.host, args.token, store.folder)
    presenter_lines = []
    if classroom is not None:
        classroom.presenter_key, presenter_lines = presenter_key(args.presenter_key, store.folder)
    guard = Guard.for_bind(args.host, args.port or None, token=token)
    guard.extra_hosts = tuple(args.allowed_hosts)
    settings = Settings(data_dir=args.data_dir, load=load, guard=guard, checkpoint_dir=store.folder,
                        resume=args.resume, autosave=not args.no_autosave, fashion_dir=args.fashion_dir,
                        catalog=catalog, session_kwargs={"warmup": not args.flat_out}, classroom=classroom,
                        viewer_bytes=args.viewer_bytes, max_viewer_bytes=args.max_viewer_bytes)
    _log_to_stderr()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, args.host, args.port))

    async def serve():
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                return await task
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        guard.port = port if guard.token is None else None
        url, students = print_addresses(args.host, port, guard.token,
                                        [*token_lines, f"checkpoints and autosaves: {store.folder}"], args.qr)
        # the page's Share button writes links with an address students can use, even on a loopback tab
        settings.share_hosts = tuple(a.url(port).removeprefix("http://").rstrip("/") for a in students)
        if classroom is not None:
            print(f"classroom: a session per visitor, at most {classroom.max_sessions}; put away after "
                  f"{classroom.idle_minutes:g} minutes away (saved in {store.folder / 'visitors'})", flush=True)
            if classroom.presenter_key:
                mark = "&" if "?" in url else "?"
                print("The presenter (the teacher; keep this one to yourself) opens:\n"
                      f"  {url}{mark}presenter={classroom.presenter_key}", *presenter_lines, sep="\n", flush=True)
        if args.open:
            webbrowser.open(url)
        await task

    asyncio.run(serve())
    return 0
