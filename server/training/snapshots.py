"""The network's weights through its training, kept for scrubbing back: log-spaced, within a budget.

Snapshots are taken at iterations 0, 1, 2, 4, 8, … (where the maps change fastest), at the end of every
epoch the session reports (at most two a second while it trains), and at every marker (a learning-rate or batch-size change, a restore). When they outgrow the
memory budget they are thinned evenly on a logarithmic iteration axis — the early, fast-changing part
keeps its detail — rather than recording stopping; markers and the first snapshot are kept longest.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass

import numpy as np

DEFAULT_BUDGET_BYTES = 200 * 1024 * 1024


@dataclass
class Snapshot:
    iteration: int
    epoch: int
    cost: float | None  # the mini-batch cost at that iteration (None at iteration 0)
    weights: list
    biases: list
    marker: bool = False

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (*self.weights, *self.biases))

    def summary(self) -> dict:
        return {"iteration": self.iteration, "epoch": self.epoch, "cost": self.cost, "marker": self.marker}

    def __repr__(self) -> str:
        return f"Snapshot(iteration {self.iteration}, epoch {self.epoch}{', marker' if self.marker else ''})"


def is_scheduled(iteration: int) -> bool:
    """0, 1, 2, 4, 8, …: the powers of two (and 0)."""
    return iteration == 0 or iteration & (iteration - 1) == 0


class SnapshotLog:
    """Snapshots of one network's training, in iteration order (one per iteration at most)."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        self.budget_bytes = budget_bytes
        self._items: list[Snapshot] = []
        self._iterations: list[int] = []
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"SnapshotLog({len(self._items)} snapshots, {self.nbytes / 1e6:.1f} of {self.budget_bytes / 1e6:.0f} MB)"

    def wants(self, iteration: int, epoch_end: bool = False, marker: bool = False) -> bool:
        """Whether a snapshot at this iteration should be taken (before copying any weights)."""
        if self._iterations and self._iterations[-1] == iteration:
            return False
        return marker or epoch_end or is_scheduled(iteration)

    def record(self, iteration: int, epoch: int, cost, weights, biases, marker: bool = False) -> None:
        """Keep copies of these parameters (the caller decides when, with ``wants``)."""
        snap = Snapshot(iteration, epoch, None if cost is None else float(cost),
                        [np.array(w, copy=True) for w in weights], [np.array(b, copy=True) for b in biases], marker)
        at = bisect.bisect_left(self._iterations, iteration)
        if at < len(self._iterations) and self._iterations[at] == iteration:
            self.nbytes -= self._items[at].nbytes
            snap.marker = snap.marker or self._items[at].marker
            self._items[at] = snap
        else:
            self._items.insert(at, snap)
            self._iterations.insert(at, iteration)
        self.nbytes += snap.nbytes
        while self.nbytes > self.budget_bytes and len(self._items) > 2:
            self._drop(self._thinnest())

    def _thinnest(self) -> int:
        """The snapshot whose neighbours are closest on a log axis (ordinary ones before markers; never
        the first or the latest)."""
        best, best_gap = None, math.inf
        for pass_markers in (False, True):
            for i in range(1, len(self._items) - 1):
                if self._items[i].marker and not pass_markers:
                    continue
                gap = math.log1p(self._iterations[i + 1]) - math.log1p(self._iterations[i - 1])
                if gap < best_gap:
                    best, best_gap = i, gap
            if best is not None:
                return best
        return 1

    def _drop(self, i: int) -> None:
        self.nbytes -= self._items[i].nbytes
        del self._items[i]
        del self._iterations[i]

    def at_or_before(self, iteration: int) -> Snapshot:
        """The nearest snapshot at or before ``iteration`` (ValueError if there is none)."""
        at = bisect.bisect_right(self._iterations, iteration) - 1
        if at < 0:
            raise ValueError(f"no snapshot at or before iteration {iteration:,}")
        return self._items[at]

    def summaries(self) -> list[dict]:
        return [s.summary() for s in self._items]

    def clear(self) -> None:
        self._items.clear()
        self._iterations.clear()
        self.nbytes = 0

    def for_saving(self, budget_bytes: int, max_count: int) -> list[Snapshot]:
        """The snapshots a checkpoint carries: all of them when they fit in ``budget_bytes`` and
        ``max_count``, else as many as fit, thinned as the log itself is (the first and the latest
        kept, ordinary ones before markers, evenly on a log axis). The log's own objects, not copies."""
        if not self._items:
            return []
        per = max(s.nbytes for s in self._items)
        keep = max(2, min(max_count, budget_bytes // max(per, 1)))
        return [self._items[i] for i in thin_evenly(self._iterations, [s.marker for s in self._items], keep)]

    def restore(self, snapshots) -> None:
        """Put saved snapshots (objects with a ``Snapshot``'s fields, e.g. from a checkpoint) back beside
        those recorded since; at an iteration held twice the one recorded here wins. Thinned to the budget."""
        merged = {s.iteration: s for s in snapshots}
        merged.update({s.iteration: s for s in self._items})
        self._items = [
            s if isinstance(s, Snapshot) else Snapshot(int(s.iteration), int(s.epoch), s.cost, list(s.weights),
                                                        list(s.biases), bool(s.marker))
            for _, s in sorted(merged.items())
        ]
        self._iterations = [s.iteration for s in self._items]
        self.nbytes = sum(s.nbytes for s in self._items)
        if self.nbytes > self.budget_bytes:
            per = max(s.nbytes for s in self._items)
            kept = thin_evenly(self._iterations, [s.marker for s in self._items], max(2, self.budget_bytes // per))
            self._items = [self._items[i] for i in kept]
            self._iterations = [s.iteration for s in self._items]
            self.nbytes = sum(s.nbytes for s in self._items)

    def truncate_after(self, iteration: int) -> list[Snapshot]:
        """Forget the snapshots after ``iteration`` (a branch from there); returns what was removed."""
        at = bisect.bisect_right(self._iterations, iteration)
        removed = self._items[at:]
        for s in removed:
            self.nbytes -= s.nbytes
        del self._items[at:]
        del self._iterations[at:]
        return removed


def thin_evenly(iterations: list[int], markers: list[bool], keep: int) -> list[int]:
    """The indices of ``keep`` of these (increasing) iterations, thinned as ``SnapshotLog`` thins: again
    and again, drop the one whose neighbours are closest on a log axis, ordinary ones before markers,
    never the first or the last. O(n log n): a heap of gaps, updated as neighbours go."""
    n = len(iterations)
    if n <= keep:
        return list(range(n))
    logs = [math.log1p(i) for i in iterations]
    prev, nxt = list(range(-1, n - 1)), list(range(1, n + 1))
    alive = [True] * n
    heap = [(markers[i], logs[i + 1] - logs[i - 1], i) for i in range(1, n - 1)]
    heapq.heapify(heap)
    left = n
    while left > keep and heap:
        marker, gap, i = heapq.heappop(heap)
        if not alive[i] or gap != logs[nxt[i]] - logs[prev[i]]:
            continue  # gone, or its gap grew since (a newer entry is in the heap)
        alive[i] = False
        left -= 1
        p, q = prev[i], nxt[i]
        nxt[p], prev[q] = q, p
        for j in (p, q):
            if 0 < j < n - 1:
                heapq.heappush(heap, (markers[j], logs[nxt[j]] - logs[prev[j]], j))
    return [i for i in range(n) if alive[i]]
