"""Fan the session out to every viewer: ≤ 30 frames/s, latest state only, slow viewers skip frames."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import WebSocket

from . import frames, wire
from .session import Snapshot, TrainingSession

log = logging.getLogger("backprop_lab")
FIRST_LAYER_EVERY = 10  # ticks between frames that carry the 784×n first layer (≈ 3 per second)
STALL_LIMIT_SECONDS = 20.0  # a viewer whose send takes longer than this is disconnected


class Viewer:
    """One websocket's position in the stream: what it has seen so far."""

    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.seq = 0
        self.next_cost = 1  # iteration of the first cost it has not received
        self.acc_seen = 0
        self.markers_seen = 0
        self.event_seq = 0
        self.structure_version = -1
        self.version = -1
        self.send_lock = asyncio.Lock()

    async def send_text(self, payload: dict) -> None:
        async with self.send_lock:
            await asyncio.wait_for(self.ws.send_text(wire.dumps(payload)), STALL_LIMIT_SECONDS)

    async def send_bytes(self, data: bytes) -> None:
        async with self.send_lock:
            await asyncio.wait_for(self.ws.send_bytes(data), STALL_LIMIT_SECONDS)


class Broadcaster:
    def __init__(self, session: TrainingSession, frame_rate: float = 30.0):
        self.session = session
        self.interval = 1.0 / frame_rate
        self.viewers: set[Viewer] = set()
        self.latest: Snapshot | None = None
        self._tick = asyncio.Condition()
        self._task: asyncio.Task | None = None
        self._ticks = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="broadcaster")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        last_version = -1
        while True:
            await asyncio.sleep(self.interval)
            if not self.viewers:
                continue
            self._ticks += 1
            version = self.session.version
            if version == last_version and not any(v.version < version for v in self.viewers):
                continue
            costs_from = min(v.next_cost for v in self.viewers)
            first = self._ticks % FIRST_LAYER_EVERY == 0 or any(v.seq == 0 for v in self.viewers)
            try:
                self.latest = await asyncio.to_thread(self.session.snapshot, costs_from, first)
            except Exception:  # never let one bad snapshot end the stream
                log.exception("snapshot failed")
                continue
            last_version = self.latest.version
            async with self._tick:
                self._tick.notify_all()

    async def wait_tick(self) -> Snapshot:
        async with self._tick:
            await self._tick.wait()
        return self.latest

    async def serve(self, viewer: Viewer) -> None:
        """Send hello, then frames and events to one viewer until it goes away."""
        self.viewers.add(viewer)
        try:
            await self.send_hello(viewer)
            while True:
                snap = self.latest
                if snap is None or (snap.version <= viewer.version and snap.structure_version == viewer.structure_version):
                    snap = await self.wait_tick()  # nothing new since this viewer's last frame
                await self.send_events(viewer)
                if snap.structure_version != viewer.structure_version:
                    await self.send_hello(viewer)
                    continue
                if snap.version <= viewer.version:
                    continue
                viewer.seq += 1
                data = frames.frame(snap, viewer.seq, viewer.next_cost, viewer.acc_seen, viewer.markers_seen)
                await viewer.send_bytes(data)
                viewer.version = snap.version
                viewer.next_cost = snap.costs_start + len(snap.costs)
                viewer.acc_seen = len(snap.accuracy_history)
                viewer.markers_seen = len(snap.markers)
        finally:
            self.viewers.discard(viewer)

    async def send_hello(self, viewer: Viewer) -> None:
        data, snap = await asyncio.to_thread(frames.hello, self.session)
        viewer.event_seq = max(viewer.event_seq, self.session.event_seq) if viewer.seq == 0 else viewer.event_seq
        await viewer.send_bytes(data)
        viewer.structure_version = snap.structure_version
        viewer.version = snap.version
        viewer.next_cost = snap.state["iteration"] + 1
        viewer.acc_seen = len(snap.accuracy_history)
        viewer.markers_seen = len(snap.markers)
        viewer.seq = max(viewer.seq, 0)

    async def send_events(self, viewer: Viewer) -> None:
        for event in self.session.events_since(viewer.event_seq):
            viewer.event_seq = event["seq"]
            await viewer.send_text({k: v for k, v in event.items() if k != "seq"})
