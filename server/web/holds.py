"""Walkthrough holds that die with their owner.

A walkthrough pauses training with a *hold* (``TrainingSession.hold``) and gives it back when it closes
(``release``). A tab that vanishes without saying goodbye (a crash, a killed mobile tab, a closed laptop)
must not leave training paused for ever, so every hold has an owner:

- a **websocket connection** (the page sends the ``connection`` id its ``hello`` carried): the hold ends
  when that socket closes, after ``grace`` seconds in which a reconnecting tab may claim it for its new
  connection (a network blip is not a goodbye);
- otherwise a **lease** of ``lease`` seconds, renewed by opening again with the hold's id (a script).

Expiring a hold is exactly a close: when the last hold ends, training runs again if it ran before the
first one (unless someone chose play, pause or step meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import secrets

log = logging.getLogger("backprop_lab")
HOLD_GRACE_SECONDS = 15.0  # after its socket closes, a hold waits this long for the tab to reconnect
HOLD_LEASE_SECONDS = 120.0  # a hold without a connection ends unless renewed within this


class Holds:
    """The open walkthrough holds: on which session, who owns each, and the timers that end them.

    A session here is anything with ``hold()`` and ``release(hold)`` returning Futures (TrainingSession)."""

    def __init__(self, grace: float = HOLD_GRACE_SECONDS, lease: float = HOLD_LEASE_SECONDS):
        self.grace = grace
        self.lease = lease
        self.connections: set[str] = set()  # the websocket connections open now
        self._owner: dict[str, str | None] = {}  # hold → its connection (None: a lease), oldest first
        self._session: dict[str, object] = {}  # hold → the session it pauses
        self._was_running: dict[str, bool] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._expiring: set[asyncio.Task] = set()

    # ----- connections ----------------------------------------------------------------------------
    def connect(self) -> str:
        """A new websocket connection: its id (sent in its hello)."""
        connection = secrets.token_urlsafe(12)
        self.connections.add(connection)
        return connection

    def disconnect(self, connection: str) -> None:
        """Its socket closed: each of its holds ends after the grace, unless claimed by a new connection."""
        self.connections.discard(connection)
        for hold, owner in self._owner.items():
            if owner == connection:
                self._expire_in(hold, self.grace)

    # ----- holds ----------------------------------------------------------------------------------
    async def open(self, session, connection: str | None = None, hold: str | None = None) -> dict:
        """Pause training for a walkthrough (``hold``: one this client already has, to claim it for
        ``connection`` or renew its lease; a hold that already ended is replaced by a new one).
        Raises ValueError for a connection that is not open."""
        if connection is not None and connection not in self.connections:
            raise ValueError("connection: no websocket with this id is open (reconnect, then use the id in "
                             "the new hello)")
        if hold is not None and self._session.get(hold) is session:
            self._owner[hold] = connection
            self._cancel(hold)
        else:
            hold, was_running = await asyncio.wrap_future(session.hold())
            self._owner[hold] = connection
            self._session[hold] = session
            self._was_running[hold] = was_running
        if connection is None:
            self._expire_in(hold, self.lease)
        body = {"was_running": self._was_running[hold], "hold": hold}
        if connection is None:
            body["lease_seconds"] = self.lease
        return body

    async def close(self, session, hold: str | None = None) -> bool:
        """End a hold on ``session`` (None: its latest); whether training runs now."""
        if hold is None:
            hold = next((h for h in reversed(self._owner) if self._session[h] is session), None)
        if self._session.get(hold, session) is session:
            self._forget(hold)
        return await asyncio.wrap_future(session.release(hold))

    def shutdown(self) -> None:
        for hold in list(self._timers):
            self._cancel(hold)

    # ----- timers ---------------------------------------------------------------------------------
    def _expire_in(self, hold: str, seconds: float) -> None:
        self._cancel(hold)
        loop = asyncio.get_running_loop()
        self._timers[hold] = loop.call_later(seconds, self._expire, hold)

    def _expire(self, hold: str) -> None:
        self._timers.pop(hold, None)
        if hold not in self._owner:
            return
        log.info("a walkthrough's hold on training ended: its tab went away (or its lease ran out)")
        task = asyncio.get_running_loop().create_task(self.close(self._session[hold], hold))
        self._expiring.add(task)
        task.add_done_callback(self._expiring.discard)

    def _cancel(self, hold: str) -> None:
        timer = self._timers.pop(hold, None)
        if timer is not None:
            timer.cancel()

    def _forget(self, hold: str | None) -> None:
        if hold is None:
            return
        self._cancel(hold)
        self._owner.pop(hold, None)
        self._session.pop(hold, None)
        self._was_running.pop(hold, None)
