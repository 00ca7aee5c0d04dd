"""The session's event log: what every tab is told (an epoch ended, training diverged, a reset...).

Events are numbered; a reader asks for those after the last number it saw. The log is a tuple that is
replaced, never changed, so readers on other threads need no lock.
"""

from __future__ import annotations

MAX_EVENTS = 200


class EventLog:
    def __init__(self, limit: int = MAX_EVENTS):
        self.limit = limit
        self.seq = 0  # the number of the last event
        self._events: tuple = ()

    def add(self, kind: str, message: str, iteration: int, **extra) -> dict:
        self.seq += 1
        event = {"seq": self.seq, "type": "event", "kind": kind, "message": message, "iteration": iteration, **extra}
        self._events = (*self._events[-(self.limit - 1):], event)
        return event

    @property
    def all(self) -> tuple:
        return self._events

    def since(self, seq: int) -> list[dict]:
        return [e for e in self._events if e["seq"] > seq]

    def __repr__(self) -> str:
        return f"EventLog({len(self._events)} kept, last #{self.seq})"
