"""Fan the session out to every viewer: ≤ 30 frames/s, latest state only, slow viewers skip frames.

One loop ticks at the frame rate (on a fixed schedule, so time spent working does not lower the rate;
with many viewers, more slowly: see ``MAX_SENDS_PER_SECOND``).
On each tick it asks the session's worker (``tick``, one module-level call, so that it runs where the
session lives: in classroom mode, the session's worker process) for the events since and, when
something changed, a snapshot taken between two mini-batches with the arrays every frame shares
already packed (``frames.prepare``), as bytes; then it wakes every viewer. Each viewer sends the newest prepared frame when it is ready for one: a viewer whose
socket is slow simply skips the frames it had no time for, and one whose send blocks longer than the
stall limit is disconnected. Nobody ever waits for a slow viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass, field

from fastapi import WebSocket

from . import frames
from . import wire
from .frames import Prepared
from ...training.session import TrainingSession

log = logging.getLogger("backprop_lab")
FIRST_LAYER_EVERY = 10  # ticks between frames that carry the (inputs × n) first layer (≈ 3 per second)
SLOW_ENOUGH_FOR_EVERY_FIRST_LAYER = 100.0  # steps/s at or below which every frame carries the first layer
STALL_LIMIT_SECONDS = 20.0  # a viewer whose send takes longer than this is disconnected
# Frames sent per second, all viewers together. Every send costs the event loop a hand-off of Python's
# GIL with the training thread; beyond about this many, training slows by more than 10%, so with more
# than 8 tabs each gets fewer than 30 frames per second (16 tabs: 15). Measured: docs/server-results.md.
MAX_SENDS_PER_SECOND = 240.0
EVENTS_KEPT = 200  # events the broadcaster keeps for viewers that have not had them yet (as the session's log)


class SendBudget:
    """Frames per second for every viewer of every broadcaster that shares it: each broadcaster ticks at
    most ``viewers / per_second`` seconds apart, counting the viewers of all of them. One session: its
    viewers. Classroom mode: one budget for the web process, shared by every visitor's session, so the
    frame rate each viewer gets falls as the room fills (docs/protocol.md, "Frame rate")."""

    def __init__(self, per_second: float = MAX_SENDS_PER_SECOND):
        self.per_second = per_second
        self.viewers = 0


@dataclass
class TickRequest:
    """What the broadcaster asks its session for, once per tick (it crosses to the session's process)."""

    costs_from: int  # the first iteration whose cost a viewer still lacks
    cadence: bool  # the first layer is due by the cadence
    acc_from: int
    markers_from: int
    last_version: int  # the version of the last frame prepared
    viewers_version: int  # the oldest version a viewer has seen
    events_from: int  # the events after this number are wanted


@dataclass
class Tick:
    prep: Prepared | None  # None: nothing changed since the last frame
    events: list = field(default_factory=list)


def tick(session: TrainingSession, req: TickRequest) -> Tick:
    """Runs on the session's worker, between two mini-batches. The first layer also goes in every frame
    while training is paused, stepped or slow (each of those may be the one the user studies): decided
    here, where every command queued before this frame (a pause, a new speed) is applied."""
    events = session.events_since(req.events_from)
    if session.version == req.last_version and req.viewers_version >= session.version:
        return Tick(None, events)
    slow = session.steps_per_second is not None and session.steps_per_second <= SLOW_ENOUGH_FOR_EVERY_FIRST_LAYER
    first = req.cadence or not session.running or slow
    prep = frames.prepare(session.snapshot(req.costs_from, first, req.acc_from, req.markers_from))
    return Tick(prep.lean(), events)


class ViewerStalled(Exception):
    """A send to this viewer did not complete within the stall limit."""


class Viewer:
    """One websocket's position in the stream: what it has seen so far."""

    def __init__(self, ws: WebSocket, stall_limit: float = STALL_LIMIT_SECONDS):
        self.ws = ws
        self.stall_limit = stall_limit
        self.seq = 0
        self.next_cost = 1  # iteration of the first cost it has not received
        self.acc_seen = 0
        self.markers_seen = 0
        self.event_seq = 0
        self.structure_version = -1
        self.version = -1
        self.helloed = False
        self.first_layer_offered = False  # a frame with the first layer was prepared since it joined
        self.send_lock = asyncio.Lock()

    async def _send(self, message: dict) -> None:
        async with self.send_lock:
            try:
                async with asyncio.timeout(self.stall_limit):  # no extra task, unlike wait_for
                    await self.ws.send(message)
            except TimeoutError:
                raise ViewerStalled(f"a send blocked for {self.stall_limit:g} s") from None

    async def send_text(self, payload: dict) -> None:
        await self._send({"type": "websocket.send", "text": wire.dumps(payload)})

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})


class Broadcaster:
    def __init__(self, session: TrainingSession, frame_rate: float = 30.0, stall_limit: float = STALL_LIMIT_SECONDS,
                 max_sends_per_second: float = MAX_SENDS_PER_SECOND, budget: SendBudget | None = None):
        if not (math.isfinite(frame_rate) and 0 < frame_rate <= 60):
            raise ValueError("frame rate must be > 0 and ≤ 60")
        self.session = session
        self.interval = 1.0 / frame_rate
        self.budget = budget or SendBudget(max_sends_per_second)
        self.stall_limit = stall_limit
        self.events: list[dict] = []  # the latest events (numbered), for viewers that have not had them
        self.viewers: set[Viewer] = set()
        self.latest: Prepared | None = None
        self._tick = asyncio.Event()
        self._watched = asyncio.Event()  # set while there is a viewer: without one the loop sleeps
        self._task: asyncio.Task | None = None
        self._ticks = 0
        self._first_layer_tick = -FIRST_LAYER_EVERY
        self.frames_prepared = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="broadcaster")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def max_sends_per_second(self) -> float:
        return self.budget.per_second

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_version = -1
        deadline = loop.time()
        while True:
            if not self.viewers:
                await self._watched.wait()  # nobody to send to: no ticks (a classroom has many idle streams)
                deadline = loop.time()
            deadline += self.tick_interval()
            now = loop.time()
            if deadline < now:  # fell behind (a busy machine): carry on from now, no burst to catch up
                deadline = now
            await asyncio.sleep(deadline - now)
            viewers = list(self.viewers)
            if not viewers:
                continue
            self._ticks += 1
            ready = [v for v in viewers if v.helloed] or viewers
            request = TickRequest(
                costs_from=min(v.next_cost for v in ready), cadence=self._first_layer_cadence_due(viewers),
                acc_from=min(v.acc_seen for v in ready), markers_from=min(v.markers_seen for v in ready),
                last_version=last_version, viewers_version=min(v.version for v in viewers),
                events_from=max(self.events[-1]["seq"] if self.events else 0, min(v.event_seq for v in ready)))
            try:
                result = await asyncio.wrap_future(self.session.read(tick, self.session, request))
            except Exception as e:  # never let one bad snapshot end the stream
                if self.session_lost(e):
                    continue
                log.exception("snapshot failed")
                continue
            if result.events:
                self.events = (self.events + result.events)[-EVENTS_KEPT:]
            prep = result.prep
            if prep is None:
                continue
            if prep.has_first_layer:
                self._first_layer_tick = self._ticks
                for v in viewers:
                    v.first_layer_offered = v.first_layer_offered or v.helloed
            last_version = prep.version
            self.latest = prep
            self.frames_prepared += 1
            wake, self._tick = self._tick, asyncio.Event()
            wake.set()

    def session_lost(self, error: BaseException) -> bool:
        """Whether ``error`` says the session's process is gone (classroom mode: its seat reports it)."""
        return getattr(error, "session_lost", False)

    def tick_interval(self) -> float:
        """1 / frame rate, longer when that many frames to every viewer (of every broadcaster sharing the
        budget) would exceed the send budget."""
        return max(self.interval, max(len(self.viewers), self.budget.viewers) / self.budget.per_second)

    def _first_layer_cadence_due(self, viewers) -> bool:
        """The first layer (every pixel × n on images) travels about 3 times a second, and in the first
        frame prepared after a viewer joins (once: a viewer that never takes it must not make every frame
        heavy)."""
        return self._ticks - self._first_layer_tick >= FIRST_LAYER_EVERY or not all(
            v.first_layer_offered for v in viewers)

    async def serve(self, viewer: Viewer) -> None:
        """Send hello, then events and frames to one viewer until it goes away (or stalls)."""
        self.viewers.add(viewer)
        self._watched.set()
        self.budget.viewers += 1
        try:
            await self.send_hello(viewer)
            while True:
                prep = self.latest
                if prep is None or prep.version <= viewer.version:
                    await self._tick.wait()  # nothing newer than what this viewer has
                    continue
                await self.send_events(viewer)
                if prep.structure_version != viewer.structure_version:
                    if prep.structure_version > viewer.structure_version:
                        await self.send_hello(viewer)  # a new network: start over
                    continue
                viewer.seq += 1
                data = frames.frame(prep, viewer.seq, viewer.next_cost, viewer.acc_seen, viewer.markers_seen)
                await viewer.send_bytes(data)
                snap = prep.snap
                viewer.version = snap.version
                viewer.next_cost = snap.costs_start + len(snap.costs)
                viewer.acc_seen = snap.accuracy_start + len(snap.accuracy_history)
                viewer.markers_seen = snap.markers_start + len(snap.markers)
        finally:
            self.viewers.discard(viewer)
            if not self.viewers:
                self._watched.clear()
            self.budget.viewers -= 1

    async def send_hello(self, viewer: Viewer) -> None:
        data, info = await asyncio.wrap_future(self.session.read(frames.hello, self.session))
        if not viewer.helloed:
            viewer.event_seq = info.event_seq  # a new tab sees the state, not the events that led to it
        await viewer.send_bytes(data)
        viewer.structure_version = info.structure_version
        # One version short: the next tick sends a frame at once, even while paused, since the
        # activations, gradients and example of the moment are in frames, not in hello.
        viewer.version = info.version - 1
        viewer.next_cost = info.iteration + 1
        viewer.acc_seen = info.accuracy_count
        viewer.markers_seen = info.markers_count
        viewer.helloed = True

    async def send_events(self, viewer: Viewer) -> None:
        for event in [e for e in self.events if e["seq"] > viewer.event_seq]:
            viewer.event_seq = event["seq"]
            await viewer.send_text({k: v for k, v in event.items() if k != "seq"})
