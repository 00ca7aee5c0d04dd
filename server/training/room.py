"""The classroom: one session per visitor, each in a worker process of its own, at most ``max_sessions``
at a time, put away (saved and stopped) after ``idle_seconds`` without the visitor, and resumed from that
save when the visitor returns, on any server that shares the checkpoint folder.

A visitor is known here by a key (a digest of the id its cookie carries; the web layer makes both), and
owns a folder ``ROOT/visitors/KEY/``: its session's save (``autosave.npz``, the checkpoint format, written
by the worker) and the checkpoints it saves from the page. A seat is a visitor's place in the room: its
live session (a ``RemoteSession``), when it was last seen, whether a page is connected, and a notice to
give the visitor at its next connection (its session crashed and was restored, say).

No I/O beyond starting and stopping processes; every method is thread-safe. Stopping a session (which
saves it) blocks: the web layer calls ``evict`` and ``close`` off its event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .remote import SAVE_NAME, RemoteSession, SessionLost, WorkerSpec

log = logging.getLogger("backprop_lab")
VISITORS = "visitors"  # ROOT/visitors/KEY: one folder per visitor
SHARED = "shared"  # ROOT/shared: checkpoints every visitor may list, load and download (the presenter's)
FIRST_CONNECT_SECONDS = 60.0  # a seat whose page never connects is freed after this long
MAKE_ROOM_AFTER = 60.0  # when the room is full, a seat nobody has used this long gives way to a newcomer
HUNG_SECONDS = 120.0  # a worker that leaves a request unanswered this long is ended (and restored)
CRASHES_BEFORE_FRESH = 3  # after this many crashes a seat's session starts afresh instead of from its save


class RoomFull(Exception):
    """Every seat is taken."""


@dataclass
class Seat:
    key: str
    folder: Path
    session: RemoteSession | None = None
    made: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    connections: int = 0  # open websockets of this visitor
    ever_connected: bool = False
    leaving: threading.Event | None = None  # set once the seat is being put away; waited on by newcomers
    notice: str | None = None  # told at the visitor's next connection
    lost: str | None = None  # why its session's process ended (it is restored at the next request)
    crashes: int = 0

    def touch(self) -> None:
        self.last_seen = time.monotonic()


class Room:
    def __init__(self, root: str | Path, max_sessions: int = 30, idle_seconds: float = 15 * 60.0,
                 spec: WorkerSpec | None = None, preload: list[str] | None = None, on_lost=None):
        """``spec``: the template of every worker's ``WorkerSpec`` (its folder and label are the visitor's);
        ``on_lost(seat)``: called (from a reader thread) when a seat's session process ends unexpectedly."""
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.root = Path(root).expanduser().resolve()
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.spec = spec or WorkerSpec(folder="")
        self.preload = preload or []
        self.on_lost = on_lost
        self.seats: dict[str, Seat] = {}
        self._lock = threading.RLock()

    # ----- where things are ------------------------------------------------------------------------
    def folder(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("a visitor key is letters and digits")
        return self.root / VISITORS / key

    @property
    def shared_folder(self) -> Path:
        return self.root / SHARED

    def has_save(self, key: str) -> bool:
        return (self.folder(key) / f"{SAVE_NAME}.npz").is_file()

    # ----- seats -----------------------------------------------------------------------------------
    @property
    def live(self) -> int:
        with self._lock:
            return sum(1 for s in self.seats.values() if s.leaving is None)

    def get(self, key: str) -> Seat | None:
        with self._lock:
            return self.seats.get(key)

    def seat(self, key: str, create: bool = False) -> Seat | None:
        """The visitor's seat, with a live session: the one it has, else one resumed from its save (or a
        new one when ``create``; a page load). None: no seat and nothing to resume (and not ``create``).
        A seat being put away is returned as it is (``leaving`` set): wait for it, then ask again.
        Raises RoomFull when a session would be needed and every seat is taken."""
        with self._lock:
            seat = self.seats.get(key)
            if seat is not None:
                if seat.leaving is None:
                    seat.touch()
                    if seat.session is None or not seat.session.alive:
                        self._restore(seat)
                return seat
            if not create and not self.has_save(key):
                return None
            if self.live >= self.max_sessions:
                raise RoomFull()
            seat = Seat(key, self.folder(key))
            self.seats[key] = seat
            self._start(seat, "resumed")
            return seat

    def _start(self, seat: Seat, message: str, resume: bool = True) -> None:
        seat.folder.mkdir(parents=True, exist_ok=True)
        spec = _with(self.spec, folder=str(seat.folder), label=f"visitor-{seat.key[:8]}", resume=resume,
                     resume_message=message)
        seat.session = RemoteSession(spec, on_lost=lambda proxy: self._lost(seat, proxy), preload=self.preload)
        seat.lost = None

    def _restore(self, seat: Seat) -> None:
        """A new process for a seat whose session ended unexpectedly, from the visitor's last save."""
        why = seat.lost or (seat.session.lost if seat.session else "it was not running")
        had_save = self.has_save(seat.key)
        fresh = seat.crashes >= CRASHES_BEFORE_FRESH  # it keeps crashing: perhaps its save is the cause
        self._start(seat, "restored from its last save", resume=not fresh)
        if fresh:
            seat.crashes = 0
            seat.notice = (f"Your session stopped unexpectedly again ({why}), so this is a new one; its last save "
                           "is still in your checkpoints as 'autosave' until this one is saved.")
        else:
            seat.notice = (f"Your session stopped unexpectedly ({why}). "
                           + ("It was restored from its last save." if had_save else "It had not been saved yet: "
                              "this is a new one."))
        log.warning("visitor %s: session restored (%s)", seat.key[:8], why)

    def _lost(self, seat: Seat, proxy: RemoteSession) -> None:
        with self._lock:
            if seat.session is not proxy or seat.leaving is not None:
                return
            seat.lost = proxy.lost
            seat.crashes += 1
        log.warning("visitor %s: its session's process ended (%s)", seat.key[:8], proxy.lost)
        if self.on_lost is not None:
            self.on_lost(seat)

    # ----- putting seats away ----------------------------------------------------------------------
    def due(self, now: float | None = None) -> list[Seat]:
        """Seats to put away: nobody connected and not seen for ``idle_seconds`` (or never connected
        within ``FIRST_CONNECT_SECONDS`` of being made)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            out = []
            for seat in self.seats.values():
                if seat.leaving is not None or seat.connections:
                    continue
                idle = now - seat.last_seen
                if idle >= self.idle_seconds or (not seat.ever_connected and now - seat.made >= FIRST_CONNECT_SECONDS):
                    out.append(seat)
            return out

    def reclaimable(self, now: float | None = None) -> Seat | None:
        """When the room is full: the seat unused longest (no page connected, not seen for
        ``MAKE_ROOM_AFTER`` seconds), to put away for a newcomer; None when every seat is in use."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [s for s in self.seats.values()
                    if s.leaving is None and not s.connections and now - s.last_seen >= MAKE_ROOM_AFTER]
            return min(idle, key=lambda s: s.last_seen, default=None)

    def hung(self) -> list[Seat]:
        """Seats whose worker has left a request unanswered for ``HUNG_SECONDS`` (a runaway computation)."""
        with self._lock:
            return [s for s in self.seats.values() if s.leaving is None and s.session is not None
                    and s.session.alive and s.session.oldest_request_age() > HUNG_SECONDS]

    def evict(self, seat: Seat, save: bool = True) -> dict | None:
        """Save (when it changed) and stop the seat's session, and free the seat. Blocks."""
        with self._lock:
            if seat.leaving is not None or self.seats.get(seat.key) is not seat:
                return None
            seat.leaving = threading.Event()
        try:
            saved = seat.session.stop(save=save) if seat.session is not None and seat.session.alive else None
            if saved:
                log.info("visitor %s: session saved at iteration %s and put away", seat.key[:8], saved["iteration"])
            return saved
        finally:
            with self._lock:
                if self.seats.get(seat.key) is seat:
                    del self.seats[seat.key]
            seat.leaving.set()

    def close(self) -> None:
        """Save and stop every session (the server is shutting down). Blocks."""
        threads = [threading.Thread(target=self.evict, args=(seat,)) for seat in list(self.seats.values())]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)


def _with(spec: WorkerSpec, **changes) -> WorkerSpec:
    from dataclasses import replace

    return replace(spec, **changes)


__all__ = ["Room", "RoomFull", "Seat", "SessionLost", "VISITORS", "SHARED"]
