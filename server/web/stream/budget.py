"""One viewer's byte budget: how fast its frames may go, and what each one carries (no I/O, no clock).

A ``summary`` viewer has a budget in bytes per second (its own, at most the server's limit). The rate
it is actually sent at starts there and follows the link: before each frame the broadcaster reports
how many bytes are still undelivered (``link.LinkProbe``); when that backlog passes a tenth of a
second's worth, the frame is skipped (never queued) and the rate drops below what the link was seen
to deliver; while the link keeps up, the rate climbs back (fast up to the link's last known speed,
then slowly past it, as TCP probes, and fast again once no backlog was seen for 5 s), never past the
budget.

Within the rate, two token buckets: the *core* of a frame (costs, counters, the shown example's
activations) takes up to ``CORE_SHARE`` of it and goes at the frame rate whenever it can; what the
core does not use, and the rest, fills the *parts* bucket, which pays for weight parts, stalest first
(a round-robin over every part of every weight matrix), at most one per matrix per frame.
"""

from __future__ import annotations

import math

START_RATE = 250_000.0  # bytes/s at first: a slow link is not flooded before it shows it is slow; doubles
# each second while the link keeps up, up to the budget
CORE_SHARE = 0.6  # of the rate, reserved for the core: the rest (and what the core leaves) is for weights
MIN_RATE = 20_000.0  # bytes/s: the rate never drops below this (a slower link just skips more frames)
BACKLOG_SECONDS = 0.1  # undelivered bytes above this many seconds of the rate: the frame waits
MIN_BACKLOG = 16 * 1024
CUT = 0.8  # after a backlog: the rate becomes this × what the link delivered (and at least half of what it was)
CUT_EVERY = 0.5  # seconds between two cuts
MEASURE_SECONDS = 0.5  # the link's speed is measured over busy spells of this long
FAST_GROWTH = 1.0  # per second, relative, while below 0.9 × the link's last known speed
SLOW_GROWTH = 0.05  # per second, relative, past it (the link was full there: only probe whether it got faster)
FORGET_SECONDS = 5.0  # without a backlog for this long, the link's last known speed is forgotten


class Pacer:
    def __init__(self, budget: float, now: float):
        self.budget = float(budget)
        self.rate = min(self.budget, START_RATE)
        self.ceiling: float | None = None  # what the link delivered when it last backed up
        self.drain: float | None = None  # bytes/s delivered while the link was busy (smoothed)
        self.t = now
        self.core_tokens = math.inf  # full at first: the first frame goes at once, with weight parts
        self.part_tokens = math.inf
        self._queued: int | None = None
        self._t_queued = now
        self._sent_since = 0
        self._window = [0, 0.0]  # bytes delivered and seconds, in the current busy spell
        self._cut_at = -math.inf
        self.sent: dict = {}  # part key → version of the blocks it was last sent from
        self.skipped = 0  # frames skipped because the link was backed up (for tests and benchmarks)
        self.bytes_sent = 0

    # ----- the budget ---------------------------------------------------------------------------
    def set_budget(self, budget: float) -> None:
        self.budget = float(budget)
        self.rate = min(self.budget, self.rate)

    def forget_parts(self) -> None:
        """A new network (a hello): no part was sent of it yet."""
        self.sent.clear()

    def refill(self, now: float, core_bytes: int, largest_part: int) -> None:
        dt = max(0.0, now - self.t)
        self.t = now
        core_cap = max(2.0 * core_bytes, 0.1 * self.rate)
        part_cap = max(1.5 * largest_part, 0.25 * (1 - CORE_SHARE) * self.rate)
        core = self.core_tokens + CORE_SHARE * self.rate * dt
        overflow = max(0.0, core - core_cap) if math.isfinite(core) else 0.0
        self.core_tokens = min(core, core_cap) if math.isfinite(core) else core_cap
        self.part_tokens = min(part_cap, self.part_tokens + (1 - CORE_SHARE) * self.rate * dt + overflow)
        if not math.isfinite(self.part_tokens):
            self.part_tokens = part_cap

    # ----- the link -----------------------------------------------------------------------------
    def backed_up(self, now: float, queued: int | None) -> bool:
        """Look at the link before a frame: True when it still holds more than a tenth of a second's
        worth (the frame is skipped, and the rate lowered to what the link delivers)."""
        if queued is None:
            return False
        dt = now - self._t_queued
        if self._queued is None:
            self._queued, self._t_queued, self._sent_since = queued, now, 0
            dt = 0.0
        elif dt > 0.004:
            self._measure(self._queued + self._sent_since - queued, dt, busy=self._queued > 0 and queued > 0)
            self._queued, self._t_queued, self._sent_since = queued, now, 0
        limit = max(MIN_BACKLOG, self.rate * BACKLOG_SECONDS)
        if queued > limit:
            self.skipped += 1
            if now - self._cut_at >= CUT_EVERY:  # one cut per spell, not one per skipped frame
                self._cut_at = now
                self.ceiling = self.drain
                floor = self.rate * 0.5
                target = CUT * self.drain if self.drain is not None else self.rate * 0.7
                self.rate = max(MIN_RATE, floor, min(self.rate, target))
            return True
        if queued <= limit / 2 and dt > 0:
            self._grow(min(dt, 0.25))
        return False

    def _measure(self, delivered: int, dt: float, busy: bool) -> None:
        """What the link delivers while it has bytes waiting the whole time (averaged over half a second:
        a receiver's window opens in steps)."""
        if not busy:
            self._window = [0, 0.0]
            return
        self._window[0] += max(0, delivered)
        self._window[1] += dt
        if self._window[1] >= MEASURE_SECONDS:
            sample = self._window[0] / self._window[1]
            self.drain = sample if self.drain is None else 0.5 * self.drain + 0.5 * sample
            self._window = [0, 0.0]

    def _grow(self, dt: float) -> None:
        if self.ceiling is not None and self.t - self._cut_at > FORGET_SECONDS:
            self.ceiling = None  # no backlog for a while: the link may well be faster now
        if self.ceiling is None or self.rate < 0.9 * self.ceiling:
            self.rate *= 1 + FAST_GROWTH * dt
        else:
            self.rate *= 1 + SLOW_GROWTH * dt
        self.rate = min(self.budget, self.rate)

    # ----- what a frame carries -----------------------------------------------------------------
    def can_send(self, core_bytes: int) -> bool:
        return self.core_tokens >= core_bytes

    def choose(self, parts, version: int) -> list:
        """The weight parts for this frame: stalest first (never sent, then sent longest ago), at most one
        per weight matrix, while the parts bucket pays for them; stops at the first that does not fit
        (so a big part is not passed over for ever by small ones)."""
        chosen, layers, tokens = [], set(), self.part_tokens
        for p in sorted(parts, key=lambda p: (self.sent.get(p.key, -1), p.layer, p.chunk)):
            if self.sent.get(p.key, -1) >= version or p.layer in layers:
                continue
            if p.nbytes > tokens:
                break
            chosen.append(p)
            layers.add(p.layer)
            tokens -= p.nbytes
        return chosen

    def pending(self, parts, version: int) -> bool:
        """Whether some part of the latest blocks has not been sent to this viewer."""
        return any(self.sent.get(p.key, -1) < version for p in parts)

    def wants_parts(self, smallest_part: int) -> bool:
        return self.part_tokens >= smallest_part

    def spent(self, nbytes: int, parts, version: int) -> None:
        part_bytes = sum(p.nbytes for p in parts)
        self.part_tokens -= part_bytes
        self.core_tokens -= max(0, nbytes - part_bytes)
        for p in parts:
            self.sent[p.key] = version
        self._sent_since += nbytes
        self.bytes_sent += nbytes
