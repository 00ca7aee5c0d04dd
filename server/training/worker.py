"""A worker thread for some state: commands and reads run on it between units of work.

Commands (plain callables) and reads (callables whose result comes back as a Future) are queued and
run in the order received, under ``lock``, between two units of work; so work never waits for a
reader's lock hand-off and a reader never sees state in the middle of a unit. Its owner says whether
there is work (``busy``), how fast it may go (``interval``), does one unit (``work``), decides what a
failure means (``fault``), and may mark each command's effect (``after_command``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

log = logging.getLogger("backprop_lab")


class _Read:
    """A reader's request, run by the worker between two units of work (see ``Worker.read``)."""

    __slots__ = ("fn", "args", "future")

    def __init__(self, fn, args, future):
        self.fn, self.args, self.future = fn, args, future

    def run(self, lock) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            with lock:
                result = self.fn(*self.args)
        except BaseException as e:  # the reader gets the error; the worker carries on
            self.future.set_exception(e)
        else:
            self.future.set_result(result)


class Worker:
    def __init__(self, name: str, *, busy, work, fault, interval=lambda: None, after_command=lambda: None):
        self.name = name
        self._busy, self._work, self._fault = busy, work, fault
        self._interval, self._after_command = interval, after_command
        self.lock = threading.RLock()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._read_guard = threading.Lock()  # orders read() against stop()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._read_guard:
            self._stopping = True
            self._commands.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._drain_reads()

    def _drain_reads(self) -> None:
        """Answer readers still queued when the worker stopped (their futures must not hang)."""
        while True:
            try:
                item = self._commands.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Read):
                item.run(self.lock)

    def waiting(self) -> bool:
        """Whether a command or read is queued (the owner's work should end soon, so it runs)."""
        return not self._commands.empty()

    def submit(self, fn) -> None:
        """Queue a command: ``fn()`` runs on the worker, under the lock, after the commands before it."""
        self._commands.put(fn)

    def call(self, fn, *args) -> Future:
        """A command whose caller wants its result: ``fn(*args)`` runs on the worker in order with the
        other commands, counts as one (``after_command``), and its result or error comes back as a Future.
        Without a worker it runs at once, under the lock."""
        future: Future = Future()

        def command():
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args)
            except BaseException as e:  # the caller gets the error; the worker carries on
                future.set_exception(e)
            else:
                future.set_result(result)

        with self._read_guard:
            worker = self._thread
            if worker is not None and worker.is_alive() and not self._stopping:
                self._commands.put(command)
                return future
        with self.lock:
            command()
            self._after_command()
        return future

    def read(self, fn, *args) -> Future:
        """Run ``fn(*args)`` on a consistent session and return a Future of its result.

        While the worker runs, the worker itself calls it between two mini-batches: training never
        waits for a reader's lock hand-off, and the reader never waits for a lock the worker keeps
        re-taking. Without a worker it runs at once, under the lock. Use it for snapshots, state and
        classification (``await asyncio.wrap_future(session.read(...))`` in async code).
        """
        future: Future = Future()
        item = _Read(fn, args, future)
        with self._read_guard:
            worker = self._thread
            if worker is not None and worker.is_alive() and not self._stopping:
                self._commands.put(item)
                return future
        item.run(self.lock)
        return future

    def _run(self) -> None:
        _name_os_thread(self.name)
        next_time = time.perf_counter()
        while not self._stopping:
            busy = self._busy()
            interval = self._interval() if busy else None
            if not busy:
                wait = None  # idle: sleep until a command or read arrives
                next_time = 0.0  # the pace starts afresh when work comes (no burst to catch up an idle spell)
            elif interval:
                next_time = next_time or time.perf_counter()
                wait = max(0.0, next_time - time.perf_counter())
            else:
                wait = 0.0
            try:
                item = self._commands.get(timeout=wait) if wait != 0.0 else self._commands.get_nowait()
            except queue.Empty:
                item = False
            if item is None:
                break
            if isinstance(item, _Read):
                item.run(self.lock)
                continue
            if item is not False:
                with self.lock:
                    try:
                        item()
                    except Exception:  # a bug must not kill the worker: report it, stay paused
                        log.exception("%s: command failed", self.name)
                        self._fault("a command failed")
                    self._after_command()
                continue  # drain every waiting command before the next unit of work
            try:
                self._work()
            except Exception:
                log.exception("%s: work failed", self.name)
                with self.lock:
                    self._fault("a training step failed")
            if interval:  # keep the pace, without a burst to catch up after a long pause
                next_time = max(next_time + interval, time.perf_counter() - 0.5)
            else:
                next_time = time.perf_counter()


def _name_os_thread(name: str) -> None:
    """Name the thread for the OS too (top -H, /proc): Linux only, best effort."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass
