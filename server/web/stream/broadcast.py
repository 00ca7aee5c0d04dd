"""Fan the session out to every viewer: ≤ 30 frames/s, latest state only, slow viewers skip frames.

One loop ticks at the frame rate (on a fixed schedule, so time spent working does not lower the rate;
with many viewers, more slowly: see ``MAX_SENDS_PER_SECOND``).
On each tick it asks the session's worker (``frames.tick``, one module-level call, so that it runs where
the session lives: in classroom mode, the session's worker process) for the events since and, when
something changed, a snapshot taken between two mini-batches, and has the arrays every frame shares
packed as bytes (by a thread of this process for a session that lives here, so that the training thread
only copies; by the session's own process in classroom mode): the ``full`` frame when a viewer streams every weight, the ``summary`` stream's core
(and, when a viewer's budget has room for weights, fresh weight parts) when one streams what the view
draws. Then it wakes every viewer. Each viewer sends the newest prepared frame when it is ready for one: a viewer whose link is
backed up simply skips the frames it had no time for (``budget.py``), and one that takes nothing for
longer than the stall limit is disconnected. Nobody ever waits for a slow viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass

from fastapi import WebSocket

from . import frames
from . import wire
from .budget import Pacer
from .frames import Prepared, TickRequest
from .link import LinkProbe
from ..schemas import STREAM_LIMITS
from ...training.session import TrainingSession

log = logging.getLogger("backprop_lab")
FIRST_LAYER_EVERY = 10  # ticks between full frames that carry the (inputs × n) first layer (≈ 3 per second)
STALL_LIMIT_SECONDS = 20.0  # a viewer that takes nothing for longer than this is disconnected
FULL_BACKLOG = 256 * 1024  # a full viewer's frame waits while more than this is undelivered
# Frames sent per second, all viewers together. Every send costs the event loop a hand-off of Python's
# GIL with the training thread; beyond about this many, training slows by more than 10%, so with more
# than 8 tabs each gets fewer than 30 frames per second (16 tabs: 15). Measured: docs/server-results.md.
MAX_SENDS_PER_SECOND = 240.0
EVENTS_KEPT = 200  # events the broadcaster keeps for viewers that have not had them yet (as the session's log)
BLOCKS_EVERY = 0.1  # seconds: fresh weight parts are taken at most this often (a snapshot with them costs
# the training thread 2-3 ms on the biggest network, the others well under 1 ms)
DEFAULT_BUDGET = 1_000_000  # bytes per second per summary viewer (Wi-Fi friendly)
MAX_BUDGET = 4_000_000  # the most a viewer may ask for (serve --max-viewer-bytes)
MIN_BUDGET = STREAM_LIMITS["budget"][0]
DEFAULT_NEURONS = 64  # neurons per layer a summary viewer is sent, until it says how many it shows


class SendBudget:
    """Frames per second for every viewer of every broadcaster that shares it: each broadcaster ticks at
    most ``viewers / per_second`` seconds apart, counting the viewers of all of them. One session: its
    viewers. Classroom mode: one budget for the web process, shared by every visitor's session, so the
    frame rate each viewer gets falls as the room fills (docs/protocol.md, "Frame rate"). (The bytes a
    summary viewer may take are its own: ``StreamSettings.budget``, ``budget.py``.)"""

    def __init__(self, per_second: float = MAX_SENDS_PER_SECOND):
        self.per_second = per_second
        self.viewers = 0


@dataclass
class StreamSettings:
    """What one viewer streams: the ``detail`` level, its byte budget (summary) and how many neurons per
    layer its view shows (summary)."""

    detail: str = "full"
    budget: int = DEFAULT_BUDGET
    neurons: int = DEFAULT_NEURONS

    def describe(self, max_budget: int) -> dict:
        return {"detail": self.detail, "budget": self.budget, "max_budget": max_budget, "neurons": self.neurons}


class ViewerStalled(Exception):
    """A send to this viewer did not complete, or nothing sent reached it, within the stall limit."""


class Viewer:
    """One websocket's position in the stream: what it has seen so far, and how it streams."""

    def __init__(self, ws: WebSocket, stall_limit: float = STALL_LIMIT_SECONDS, settings: StreamSettings | None = None,
                 probe: LinkProbe | None = None, now: float = 0.0):
        self.ws = ws
        self.stall_limit = stall_limit
        self.settings = settings or StreamSettings()
        self.probe = probe
        self.pacer = Pacer(self.settings.budget, now)
        self.seq = 0
        self.next_cost = 1  # iteration of the first cost it has not received
        self.acc_seen = 0
        self.markers_seen = 0
        self.event_seq = 0
        self.structure_version = -1
        self.version = -1
        self.helloed = False
        self.first_layer_offered = False  # a full frame with the first layer was prepared since it joined
        self.send_lock = asyncio.Lock()
        self.delivered_at = now  # when the link last showed progress (a send, or a shrinking backlog)
        self._last_queued: int | None = None
        self._sent_since_check = 0
        self.rehello = False  # its stream settings changed: a new hello is due
        self.serial = 0  # the prepared snapshot it was last sent (each is sent at most once)
        self.connection: str | None = None  # its id for walkthrough holds (holds.py), sent in every hello

    @property
    def summary(self) -> bool:
        return self.settings.detail == "summary"

    async def _send(self, message: dict) -> None:
        async with self.send_lock:
            try:
                async with asyncio.timeout(self.stall_limit):  # no extra task, unlike wait_for
                    await self.ws.send(message)
                self._sent_since_check += len(message.get("bytes") or message.get("text") or "")
            except TimeoutError:
                raise ViewerStalled(f"a send blocked for {self.stall_limit:g} s") from None

    async def send_text(self, payload: dict) -> None:
        await self._send({"type": "websocket.send", "text": wire.dumps(payload)})

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    def queued(self, now: float) -> int | None:
        """Bytes sent and not yet delivered (None: unknown); raises ViewerStalled when nothing has moved
        for the stall limit while some are waiting."""
        q = self.probe.queued() if self.probe is not None else None
        if q is None:
            return None
        if q == 0 or self._last_queued is None or q < self._last_queued + self._sent_since_check:
            self.delivered_at = now  # some bytes got through since the last look
        self._last_queued, self._sent_since_check = q, 0
        if q > 0 and now - self.delivered_at > self.stall_limit:
            raise ViewerStalled(f"a send blocked for {self.stall_limit:g} s (nothing delivered)")
        return q


class Broadcaster:
    def __init__(self, session: TrainingSession, frame_rate: float = 30.0, stall_limit: float = STALL_LIMIT_SECONDS,
                 max_sends_per_second: float = MAX_SENDS_PER_SECOND, budget: SendBudget | None = None,
                 viewer_bytes: int = DEFAULT_BUDGET, max_viewer_bytes: int = MAX_BUDGET):
        if not (math.isfinite(frame_rate) and 0 < frame_rate <= 60):
            raise ValueError("frame rate must be > 0 and ≤ 60")
        if not MIN_BUDGET <= viewer_bytes <= max_viewer_bytes:
            raise ValueError(f"the viewers' byte budget must be from {MIN_BUDGET} to the limit ({max_viewer_bytes}) "
                             "bytes/s")
        self.session = session
        # A session in this process: its worker only takes the snapshot, and a thread of the web process
        # packs it, while training goes on (in classroom mode the session's own process packs it).
        self.local = isinstance(session, TrainingSession)
        self.interval = 1.0 / frame_rate
        self.budget = budget or SendBudget(max_sends_per_second)
        self.stall_limit = stall_limit
        self.default_budget = viewer_bytes
        self.max_budget = max_viewer_bytes
        self.events: list[dict] = []  # the latest events (numbered), for viewers that have not had them
        self.viewers: set[Viewer] = set()
        self.latest: Prepared | None = None
        self.parts_prep: Prepared | None = None  # the latest prepared frame with weight parts (summary)
        self._tick = asyncio.Event()
        self._watched = asyncio.Event()  # set while there is a viewer: without one the loop sleeps
        self._task: asyncio.Task | None = None
        self._ticks = 0
        self._first_layer_tick = -FIRST_LAYER_EVERY
        self.frames_prepared = 0
        self._refresh = False  # a snapshot is due even if nothing changed (weight parts still to send)
        self._blocks_at = -math.inf  # when the latest weight parts were taken

    def settings(self, **given) -> StreamSettings:
        """A viewer's stream settings: the server's defaults, then what it asked (already validated)."""
        s = StreamSettings(budget=self.default_budget)
        for k, v in given.items():
            if v is not None:
                setattr(s, k, v)
        return s

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
            request = self._request(viewers, loop.time(), last_version)
            self._refresh = False
            try:
                result = await asyncio.wrap_future(self.session.read(frames.tick, self.session, request))
                if result.taken is not None:  # packed here, off the training thread
                    result.prep = await asyncio.to_thread(frames.pack_tick, result.taken, request)
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
                    v.first_layer_offered = v.first_layer_offered or (v.helloed and not v.summary)
            if prep.summary is not None and prep.summary.parts:
                old = self.parts_prep
                if old is not None and old.version == prep.version and old.summary.neurons_asked != prep.summary.neurons_asked:
                    # other neurons' parts of the same state: what each viewer was sent is no longer them
                    for v in viewers:
                        v.pacer.sent.clear()
                self.parts_prep = prep
                self._blocks_at = loop.time()
            last_version = prep.version
            self.frames_prepared += 1
            prep.serial = self.frames_prepared
            self.latest = prep
            wake, self._tick = self._tick, asyncio.Event()
            wake.set()

    def session_lost(self, error: BaseException) -> bool:
        """Whether ``error`` says the session's process is gone (classroom mode: its seat reports it)."""
        return getattr(error, "session_lost", False)

    def _request(self, viewers: list, now: float, last_version: int) -> TickRequest:
        """What this tick's snapshot must hold for these viewers (and which events they still lack)."""
        ready = [v for v in viewers if v.helloed] or viewers
        full = [v for v in viewers if not v.summary]
        summary = [v for v in viewers if v.summary]
        neurons = max((v.settings.neurons for v in summary), default=None)
        blocks = bool(summary) and self._blocks_due(summary, neurons, now)
        # weight parts for other neurons (a view laid out anew) or a new network are wanted even while
        # nothing changes (paused): without a snapshot for them, those viewers would wait for ever
        must_refresh = blocks and self._parts_outdated(neurons)
        shown = None
        if summary and not blocks and self.latest is not None and self.latest.summary is not None:
            shown = self.latest.summary.shown  # the neurons of the weights the viewers have: keep them
        return TickRequest(
            costs_from=min(v.next_cost for v in ready),
            acc_from=min(v.acc_seen for v in ready),
            markers_from=min(v.markers_seen for v in ready),
            first_layer_cadence=bool(full) and self._first_layer_cadence_due(full),
            full=bool(full),
            neurons=neurons,
            blocks=blocks,
            shown=shown,
            last_version=last_version,
            viewers_version=min(v.version for v in viewers),
            refresh=self._refresh or must_refresh,
            events_from=max(self.events[-1]["seq"] if self.events else 0, min(v.event_seq for v in ready)),
            pack=not self.local,
        )

    def _parts_outdated(self, neurons: int) -> bool:
        """The latest weight parts are not for this network, or not for the neurons now asked."""
        p, latest = self.parts_prep, self.latest
        return (p is None or latest is None or p.structure_version != latest.structure_version
                or p.summary.neurons_asked != neurons)

    def _blocks_due(self, summary: list, neurons: int, now: float) -> bool:
        """Fresh weight parts are taken when a summary viewer has sent every part of the latest ones and has
        room for more (or there are none yet for this network, or the view wants other neurons)."""
        p = self.parts_prep
        latest = self.latest
        if p is None or latest is None or p.structure_version != latest.structure_version:
            return True
        if p.summary.neurons_asked != neurons:
            return True
        if now - self._blocks_at < BLOCKS_EVERY:
            return False  # (many viewers finish their parts at different times: one fresh set per interval)
        smallest = min(part.nbytes for part in p.summary.parts)
        largest = max(part.nbytes for part in p.summary.parts)
        core = latest.summary.core_bytes if latest.summary is not None else 0
        for v in summary:
            v.pacer.refill(now, core, largest)
            if v.pacer.wants_parts(smallest) and not v.pacer.pending(p.summary.parts, p.version):
                return True
        return False

    def tick_interval(self) -> float:
        """1 / frame rate, longer when that many frames to every viewer (of every broadcaster sharing the
        budget) would exceed the send budget."""
        return max(self.interval, max(len(self.viewers), self.budget.viewers) / self.budget.per_second)

    def _first_layer_cadence_due(self, viewers) -> bool:
        """The first layer (every pixel × n on images) travels in full frames about 3 times a second, and
        in the first frame prepared after a viewer joins (once: a viewer that never takes it must not make
        every frame heavy)."""
        return self._ticks - self._first_layer_tick >= FIRST_LAYER_EVERY or not all(
            v.first_layer_offered for v in viewers)

    async def serve(self, viewer: Viewer) -> None:
        """Send hello, then events and frames to one viewer until it goes away (or stalls)."""
        self.viewers.add(viewer)
        self._watched.set()
        self.budget.viewers += 1
        loop = asyncio.get_running_loop()
        try:
            await self.send_hello(viewer)
            while True:
                prep = self.latest
                tick = self._tick
                if viewer.rehello:
                    await self.send_events(viewer)
                    await self.send_hello(viewer)
                    continue
                top_up = prep is not None and prep.serial > viewer.serial and self._top_up_due(viewer)
                if prep is None or (prep.version <= viewer.version and not top_up):
                    idle = not await self._wait(tick, viewer)
                    if idle and self._top_up_due(viewer):
                        self._refresh = True  # nothing newer is coming (paused, or slow): a new snapshot
                    continue
                await self.send_events(viewer)
                if prep.structure_version != viewer.structure_version:
                    if prep.structure_version > viewer.structure_version:
                        await self.send_hello(viewer)  # a new network: start over
                    else:
                        await self._wait(tick, viewer)
                    continue
                now = loop.time()
                queued = viewer.queued(now)  # (raises ViewerStalled when nothing moves for the stall limit)
                if viewer.summary:
                    sent = await self._send_summary(viewer, prep, now, queued)
                else:
                    sent = await self._send_full(viewer, prep, queued)
                if not sent:
                    await self._wait(tick, viewer)  # skipped: the next tick may find the link free
        finally:
            self.viewers.discard(viewer)
            if not self.viewers:
                self._watched.clear()
            self.budget.viewers -= 1

    async def _wait(self, tick: asyncio.Event, viewer: Viewer) -> bool:
        """Until the next tick (True); a summary viewer with weight parts still to send gives up after two
        intervals (False): training may be paused, so no new tick is coming, but the parts still are."""
        if viewer.summary and self.parts_prep is not None:
            try:
                async with asyncio.timeout(2 * self.tick_interval()):
                    await tick.wait()
            except TimeoutError:
                return False
            return True
        await tick.wait()
        return True

    def _top_up_due(self, viewer: Viewer) -> bool:
        """Whether a summary viewer still has weights to get: parts it was not sent, or parts older than the
        state it shows. While nothing else changes (training paused, or slow), snapshots are taken anyway
        to bring them, until it has the weights of the state it shows."""
        p, latest = self.parts_prep, self.latest
        if not viewer.summary or viewer.seq == 0 or p is None or latest is None:
            return False
        if p.structure_version != viewer.structure_version:
            return False
        return viewer.pacer.pending(p.summary.parts, p.version) or p.version < latest.version

    async def _send_full(self, viewer: Viewer, prep: Prepared, queued: int | None) -> bool:
        if prep.table is None:  # prepared before this viewer asked for full frames: the next one will do
            return False
        if queued is not None and queued > FULL_BACKLOG:
            return False
        viewer.seq += 1
        data = frames.frame(prep, viewer.seq, viewer.next_cost, viewer.acc_seen, viewer.markers_seen)
        await viewer.send_bytes(data)
        self._sent(viewer, prep)
        return True

    async def _send_summary(self, viewer: Viewer, prep: Prepared, now: float, queued: int | None) -> bool:
        if prep.summary is None:
            return False
        pacer = viewer.pacer
        p = self.parts_prep if self.parts_prep is not None and \
            self.parts_prep.structure_version == prep.structure_version else None
        parts_all = p.summary.parts if p is not None else []
        largest = max((part.nbytes for part in parts_all), default=0)
        pacer.refill(now, prep.summary.core_bytes, largest)
        if pacer.backed_up(now, queued) or not pacer.can_send(prep.summary.core_bytes):
            return False
        parts = pacer.choose(parts_all, p.version) if p is not None else []
        if prep.version <= viewer.version and not parts:
            return False  # a snapshot taken for weight parts, and none fits yet
        viewer.seq += 1
        chosen = {part.key for part in parts}
        complete = p is not None and p.version >= prep.version and not any(
            pacer.sent.get(part.key, -1) < p.version and part.key not in chosen for part in parts_all)
        data = frames.summary_frame(prep, viewer.seq, viewer.next_cost, viewer.acc_seen, viewer.markers_seen, parts, p,
                                    complete)
        await viewer.send_bytes(data)
        pacer.spent(len(data), parts, p.version if p is not None else 0)
        self._sent(viewer, prep)
        return True

    @staticmethod
    def _sent(viewer: Viewer, prep: Prepared) -> None:
        viewer.serial = prep.serial
        viewer.version = max(viewer.version, prep.version)
        viewer.next_cost = frames.unseen(prep.costs, prep.costs_start, viewer.next_cost)[1]
        viewer.acc_seen = frames.unseen(prep.accuracy_history, prep.accuracy_start, viewer.acc_seen)[1]
        viewer.markers_seen = frames.unseen(prep.markers, prep.markers_start, viewer.markers_seen)[1]

    async def send_hello(self, viewer: Viewer) -> None:
        viewer.rehello = False
        stream = viewer.settings.describe(self.max_budget) if viewer.summary else None
        data, info = await asyncio.wrap_future(self.session.read(frames.hello, self.session, stream,
                                                                 viewer.connection))
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
        viewer.pacer.forget_parts()
        viewer.helloed = True

    async def send_events(self, viewer: Viewer) -> None:
        for event in [e for e in self.events if e["seq"] > viewer.event_seq]:
            viewer.event_seq = event["seq"]
            await viewer.send_text({k: v for k, v in event.items() if k != "seq"})

    def restream(self, viewer: Viewer, settings: StreamSettings) -> None:
        """Apply a viewer's new stream settings (validated): a change of detail level starts it over with a
        hello in that format; a new budget or neuron count applies from its next frame."""
        detail_changed = settings.detail != viewer.settings.detail
        viewer.settings = settings
        viewer.pacer.set_budget(settings.budget)
        if detail_changed:
            viewer.rehello = True
            self._tick.set()  # wake its loop now (others just find nothing new)
            self._tick = asyncio.Event()
