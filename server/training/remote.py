"""A training session in a worker process of its own, and the proxy that stands for it in the web process.

Classroom mode gives each visitor a session; each trains in a process of its own (process per session:
a crash or a runaway computation takes only that session with it, the OS shares the cores fairly
between them, and the web process never trains). The web process holds a ``RemoteSession``, which has
the surface routes use on a local ``TrainingSession``:

- ``read(fn, *args)``, ``call(fn, *args)``, ``compute(fn, *args)``: Futures of ``fn(*args)`` run in the
  worker (on its training thread between two mini-batches, in order with the commands, or in a thread
  of its own). ``fn`` must be a module-level function and its arguments and result picklable. The proxy
  itself may be an argument: it arrives in the worker as the session it stands for (``__reduce__``).
- the command methods (``play()``, ``reset(...)``, ``load_network(...)``...): Futures of what the local
  method returns (or its ValueError), run in the worker in the order sent.

Messages are pickled over a pipe; one thread per session reads the answers. If the worker dies, every
waiting Future fails with ``SessionLost`` and ``on_lost`` is called. The worker saves its session
(weights, counters, whole history: the checkpoint format) every ``save_every`` seconds when it changed,
when told to stop, and when the web process goes away; it resumes from that save when asked.

Workers are forked from a fork server (``multiprocessing``'s forkserver, with the project's modules
imported once), so they start in milliseconds and share the interpreter's pages; the image datasets are
shared through memory-mapped files (``catalog.Catalog(cache_dir=...)``), never copied per process.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.machinery
import itertools
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("backprop_lab")
SAVE_NAME = "autosave"  # the visitor's session save, in the visitor's checkpoint folder
COMMANDS = ("play", "pause", "step", "set_params", "reset", "set_points", "restore_good", "select_example",
            "load_network", "hold", "release", "walk_step", "set_parameter", "teach", "undo_step", "branch")
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class SessionLost(RuntimeError):
    """The session's worker process is gone (crashed, killed or stopped); its last save remains."""

    session_lost = True


@dataclass
class WorkerSpec:
    """Everything a worker process needs to make (or resume) its session."""

    folder: str  # the visitor's checkpoint folder: the session's save goes there
    label: str = "session"  # for the log and the process title
    session_kwargs: dict = field(default_factory=dict)
    resume: bool = True  # continue from the save in ``folder`` when there is one
    resume_message: str = "resumed"
    save_every: float = 60.0  # seconds between saves while it changes (0: only when stopped)
    mnist_dir: str | None = None
    fashion_dir: str | None = None
    cache_dir: str | None = None  # the memory-mapped image datasets (shared by every worker)
    nice: int = 10  # the web process (and the proxy in front of it) comes first
    memory_limit: int | None = None  # bytes of private memory (RLIMIT_DATA); None: no limit


# ----- the web process's side --------------------------------------------------------------------
_context = None


def context(preload: list[str] | None = None):
    """The forkserver context (started once, with ``preload`` imported and BLAS at one thread)."""
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["server.training.remote", *(preload or [])])
        saved = {k: os.environ.get(k) for k in BLAS_ENV}
        try:  # the fork server (and so every worker) starts with one BLAS thread
            os.environ.update({k: "1" for k in BLAS_ENV})
            from multiprocessing import forkserver

            with _main_left_alone():
                forkserver.ensure_running()
                warm = ctx.Process(target=_nothing, name="bpl-warm-up", daemon=True)
                warm.start()  # the fork server imports ``preload`` first: the first visitor need not wait
                warm.join(120)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        _context = ctx
    return _context


def _nothing() -> None:
    pass


@contextlib.contextmanager
def _main_left_alone():
    """multiprocessing re-runs the parent's main script in a new process unless it was run with ``-m``;
    a worker needs nothing from it (and a script without an ``if __name__ == "__main__"`` guard would
    start over there). Seen as a module named ``__main__``, it is left alone."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = None


class RemoteSession:
    """Stands for a ``TrainingSession`` that trains in a worker process (see the module docstring)."""

    in_process = False

    def __init__(self, spec: WorkerSpec, on_lost=None, preload: list[str] | None = None):
        ctx = context(preload)
        self.spec = spec
        self.on_lost = on_lost  # called (from the reader thread) with the proxy when the worker is gone
        parent, child = ctx.Pipe(duplex=True)
        self._conn = parent
        self._send_lock = threading.Lock()
        self._pending: dict[int, tuple[Future, float]] = {}
        self._pending_lock = threading.Lock()
        self._ids = itertools.count(1)
        self.ready: Future = Future()  # the worker's first message: {pid, iteration, resumed, ...}
        self.lost: str | None = None  # why it is gone
        self.stopping = False
        self.process = ctx.Process(target=worker_main, args=(child, spec), name=f"bpl-{spec.label}", daemon=True)
        with _main_left_alone():
            self.process.start()
        child.close()  # the worker's end lives in the worker only: its death is an EOF here
        self.pid = self.process.pid
        self._reader = threading.Thread(target=self._read_answers, name=f"answers-{spec.label}", daemon=True)
        self._reader.start()

    def __reduce__(self):
        # Sent to the worker (as an argument of a read, call or compute), the proxy is its session there.
        return (_this_session, ())

    def __repr__(self) -> str:
        state = f"lost: {self.lost}" if self.lost else "alive"
        return f"RemoteSession({self.spec.label}, pid {self.pid}, {state})"

    # ----- requests ------------------------------------------------------------------------------
    def _request(self, op: str, *payload) -> Future:
        future: Future = Future()
        if self.lost is not None:
            future.set_exception(SessionLost(self.lost))
            return future
        rid = next(self._ids)
        with self._pending_lock:
            self._pending[rid] = (future, time.monotonic())
        try:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # an argument that cannot be pickled: the caller's error
            self._fail(rid, e)
            return future
        try:
            with self._send_lock:
                self._conn.send((rid, op, data))
        except (OSError, EOFError, ValueError) as e:
            self._fail(rid, SessionLost(self.lost or f"the session's process cannot be reached ({e})"))
        return future

    def _fail(self, rid: int, error: BaseException) -> None:
        with self._pending_lock:
            entry = self._pending.pop(rid, None)
        if entry is not None and not entry[0].done():
            entry[0].set_exception(error)

    def read(self, fn, *args) -> Future:
        return self._request("read", fn, args)

    def call(self, fn, *args) -> Future:
        return self._request("call", fn, args)

    def compute(self, fn, *args) -> Future:
        return self._request("compute", fn, args)

    def save(self) -> Future:
        """Save the session now (when it changed since the last save): a Future of the save's name or None."""
        return self._request("save")

    def oldest_request_age(self) -> float:
        """Seconds the oldest unanswered request has waited (0: none)."""
        with self._pending_lock:
            starts = [t for _, t in self._pending.values()]
        return time.monotonic() - min(starts) if starts else 0.0

    # ----- the worker's answers ------------------------------------------------------------------
    def _read_answers(self) -> None:
        why = None
        while True:
            try:
                rid, ok, value = self._conn.recv()
            except (EOFError, OSError):
                break
            except Exception as e:  # an answer that cannot be unpickled here: that request fails
                log.exception("%s: undecodable answer", self.spec.label)
                why = f"an answer could not be read ({e})"
                break
            if rid == 0:
                if not self.ready.done():
                    self.ready.set_result(value)
                continue
            with self._pending_lock:
                entry = self._pending.pop(rid, None)
            if entry is None or entry[0].done():
                continue
            if ok:
                entry[0].set_result(value)
            else:
                entry[0].set_exception(value)
        self._gone(why)

    def _gone(self, why: str | None) -> None:
        self.process.join(1.0)
        code = self.process.exitcode
        if why is None:
            if self.stopping:
                why = "the session was put away"
            elif code is not None and code < 0:
                why = f"its process was ended by signal {-code} ({_signal_name(-code)})"
            else:
                why = f"its process stopped (exit status {code})"
        self.lost = why
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for future, _ in pending.values():
            if not future.done():
                future.set_exception(SessionLost(why))
        if not self.ready.done():
            self.ready.set_exception(SessionLost(why))
        with _quiet():
            self._conn.close()
        if self.on_lost is not None and not self.stopping:
            try:
                self.on_lost(self)
            except Exception:
                log.exception("%s: on_lost failed", self.spec.label)

    # ----- ending --------------------------------------------------------------------------------
    def stop(self, save: bool = True, timeout: float = 30.0) -> dict | None:
        """Save (when asked and it changed), stop the session and end the process; what was saved
        (``{name, iteration}``) or None. Blocks: call it off the event loop."""
        self.stopping = True
        answer = self._request("stop", save)
        try:
            result = answer.result(timeout)
        except Exception as e:
            result = None
            if not isinstance(e, SessionLost):
                log.warning("%s: did not stop cleanly (%s)", self.spec.label, e)
        self.process.join(timeout)
        if self.process.is_alive():
            self.kill()
            self.process.join(5.0)
        return result

    def kill(self) -> None:
        """End the process at once (a hung or runaway worker): its session reverts to its last save."""
        with _quiet():
            os.kill(self.pid, signal.SIGKILL)

    @property
    def alive(self) -> bool:
        return self.lost is None

    # ----- the command methods: Futures of what they return in the worker -------------------------
    def _command(self, name, *args, **kwargs) -> Future:
        return self._request("method", name, args, kwargs)

    def play(self, *args, **kwargs): return self._command("play", *args, **kwargs)
    def pause(self, *args, **kwargs): return self._command("pause", *args, **kwargs)
    def step(self, *args, **kwargs): return self._command("step", *args, **kwargs)
    def set_params(self, *args, **kwargs): return self._command("set_params", *args, **kwargs)
    def reset(self, *args, **kwargs): return self._command("reset", *args, **kwargs)
    def set_points(self, *args, **kwargs): return self._command("set_points", *args, **kwargs)
    def restore_good(self, *args, **kwargs): return self._command("restore_good", *args, **kwargs)
    def select_example(self, *args, **kwargs): return self._command("select_example", *args, **kwargs)
    def load_network(self, *args, **kwargs): return self._command("load_network", *args, **kwargs)
    def hold(self, *args, **kwargs): return self._command("hold", *args, **kwargs)
    def release(self, *args, **kwargs): return self._command("release", *args, **kwargs)
    def walk_step(self, *args, **kwargs): return self._command("walk_step", *args, **kwargs)
    def set_parameter(self, *args, **kwargs): return self._command("set_parameter", *args, **kwargs)
    def teach(self, *args, **kwargs): return self._command("teach", *args, **kwargs)
    def undo_step(self, *args, **kwargs): return self._command("undo_step", *args, **kwargs)
    def branch(self, *args, **kwargs): return self._command("branch", *args, **kwargs)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown"


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], (OSError, ValueError, ProcessLookupError))


# ----- the worker process's side -----------------------------------------------------------------
_session = None  # the worker's one session (what a proxy becomes when it is sent here)


def _this_session():
    if _session is None:
        raise RuntimeError("a session proxy was sent to a process that has no session")
    return _session


def worker_main(conn, spec: WorkerSpec) -> None:
    """The worker process: make (or resume) the session, answer requests until told to stop or the web
    process goes away (then save and end)."""
    global _session
    gc.freeze()  # the objects inherited from the fork server stay shared: the collector never writes to them
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the web process decides
    _setup_process(spec)
    from .catalog import Catalog
    from .session import TrainingSession
    from .store import CheckpointStore

    catalog = Catalog(mnist_dir=spec.mnist_dir, fashion_dir=spec.fashion_dir, cache_dir=spec.cache_dir)
    session = TrainingSession(catalog.open("mnist"), catalog=catalog, **spec.session_kwargs)
    store = CheckpointStore(spec.folder)
    resumed = _resume(session, store, spec) if spec.resume else None
    session.start()
    _session = session
    sender = _Sender(conn)
    saver = _Saver(session, store, spec.save_every)
    sender.put(0, True, {"pid": os.getpid(), "resumed": resumed, "iteration": session.iteration})
    try:
        _serve(conn, session, sender, saver)
    finally:
        saver.stop()
        sender.close()


def _setup_process(spec: WorkerSpec) -> None:
    with _quiet():
        os.nice(spec.nice)
    if spec.memory_limit:
        with _quiet():
            resource.setrlimit(resource.RLIMIT_DATA, (spec.memory_limit, spec.memory_limit))
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    logger = logging.getLogger("backprop_lab")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"%(levelname)s: [{spec.label}] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _resume(session, store, spec: WorkerSpec) -> dict | None:
    """Load the visitor's save, if any: ``{iteration, saved_at}`` of what was restored."""
    from .limits import check_fits

    if not store.exists(SAVE_NAME):
        return None
    try:
        loaded = store.read(SAVE_NAME, check_fits)  # with its recorded snapshots, to scrub back through
        extra = loaded.extra
        history = extra.get("history") or None
        session.load_network(loaded.net, history, spec.resume_message, extra.get("params"), extra.get("dataset"),
                             loaded.history, loaded.dropped)
    except Exception as e:  # a broken save must not stop the visitor from working: start afresh, say why
        log.warning("%s: its save could not be loaded (%s): a new session", spec.label, e)
        session._event("error", f"Your saved session could not be loaded ({e}); this is a new one.")
        return None
    mtime = store.path(SAVE_NAME).stat().st_mtime
    return {"iteration": int((history or {}).get("iteration", 0)), "saved_at": mtime}


def _serve(conn, session, sender, saver) -> None:
    while True:
        try:
            rid, op, data = conn.recv()
        except (EOFError, OSError):  # the web process is gone: keep the work
            saver.save_if_changed()
            session.stop()
            return
        try:
            payload = pickle.loads(data)
        except Exception as e:  # e.g. a function this process cannot import
            sender.put(rid, False, ValueError(f"the request could not be read in the session's process ({e})"))
            continue
        if op == "stop":
            saved = saver.save_if_changed() if payload[0] else None
            session.stop()
            sender.put(rid, True, saved)
            return
        try:
            if op == "read":
                _chain(session.read(payload[0], *payload[1]), rid, sender)
            elif op == "call":
                _chain(session.call(payload[0], *payload[1]), rid, sender)
            elif op == "compute":
                _chain(session.compute(payload[0], *payload[1]), rid, sender)
            elif op == "method":
                name, args, kwargs = payload
                if name not in COMMANDS:
                    raise ValueError(f"{name!r} is not a session command")
                result = getattr(session, name)(*args, **kwargs)  # validated and queued, in arrival order
                if isinstance(result, Future):
                    _chain(result, rid, sender)
                else:
                    sender.put(rid, True, result)
            elif op == "save":
                threading.Thread(target=lambda: _answer(rid, sender, saver.save_if_changed), daemon=True).start()
            else:
                raise ValueError(f"unknown request {op!r}")
        except BaseException as e:
            sender.put(rid, False, e)


def _answer(rid, sender, fn) -> None:
    try:
        sender.put(rid, True, fn())
    except BaseException as e:
        sender.put(rid, False, e)


def _chain(future: Future, rid: int, sender) -> None:
    def done(f: Future):
        error = f.exception()
        sender.put(rid, error is None, f.result() if error is None else error)
    future.add_done_callback(done)


class _Sender:
    """Answers go out from one thread (pickling a frame never holds up the training thread's callback)."""

    def __init__(self, conn):
        import queue

        self.conn = conn
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="answers", daemon=True)
        self.thread.start()

    def put(self, rid: int, ok: bool, value) -> None:
        if rid >= 0:
            self.queue.put((rid, ok, value))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(10)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            rid, ok, value = item
            try:
                data = pickle.dumps((rid, ok, value), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # an unpicklable result or error: the caller gets a plain one
                data = pickle.dumps((rid, False, RuntimeError(f"{type(value).__name__}: {value}"[:500] if not ok
                                                               else f"the answer could not be sent back ({e})")))
            try:
                self.conn.send_bytes(data)
            except (OSError, ValueError):
                return  # the web process is gone


class _Saver:
    """Saves the session to the visitor's folder every ``every`` seconds while it changes.

    The save is the visitor's, whichever server wrote it: if it changed since this worker last read or
    wrote it (another replica resumed the visitor meanwhile and saved), it is not overwritten; this
    session is kept beside it as ``conflict-YYYYMMDD-HHMMSS``, in the visitor's checkpoint list."""

    def __init__(self, session, store, every: float):
        self.session, self.store, self.every = session, store, every
        self.saved_version = session.version  # as made or resumed: nothing new to save yet
        self.stamp = self._stamp()  # the save as this worker last saw it
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.thread = None
        if every > 0:
            self.thread = threading.Thread(target=self._run, name="saver", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.save_if_changed()
            except Exception:
                log.exception("periodic save failed")

    def stop(self) -> None:
        self._stop.set()

    def save_if_changed(self) -> dict | None:
        """Save when the session changed since the last save: ``{name, iteration, saved_at}``, else None."""
        from .store import export

        with self.lock:
            version = self.session.version
            if version == self.saved_version:
                return None
            frozen, extra = self.session.read(export, self.session, True).result(60)  # snapshots too
            Path(self.store.folder).mkdir(parents=True, exist_ok=True)
            name = SAVE_NAME
            if self._stamp() != self.stamp:
                name = time.strftime("conflict-%Y%m%d-%H%M%S")
                log.warning("the visitor's save was written elsewhere meanwhile: this session is kept as %s", name)
            self.store.save(name, frozen, extra, overwrite=True)
            self.saved_version = version
            if name == SAVE_NAME:
                self.stamp = self._stamp()
            return {"name": name, "iteration": extra["iteration"], "saved_at": time.time()}

    def _stamp(self):
        try:
            st = self.store.path(SAVE_NAME).stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino
