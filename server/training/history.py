"""A growable float32 record of every mini-batch cost, and its decimation for a chart."""

from __future__ import annotations

import numpy as np


class CostHistory:
    """Append-only costs, one per mini-batch; amortised O(1) append, slices without copying."""

    def __init__(self, capacity: int = 4096):
        self._data = np.empty(capacity, dtype=np.float32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, cost: float) -> None:
        if self._n == len(self._data):
            grown = np.empty(2 * len(self._data), dtype=np.float32)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n] = cost
        self._n += 1

    def since(self, start: int) -> np.ndarray:
        """Costs of mini-batches start, start+1, … (a copy: safe to hand to another thread)."""
        return self._data[max(0, start) : self._n].copy()

    def values(self) -> np.ndarray:
        return self._data[: self._n]

    def decimated(self, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
        """(iterations, costs) with at most ``max_points``: bucket means placed at each bucket's end.

        Iteration i is the cost of the i-th mini-batch, counted from 1.
        """
        n = self._n
        if n <= max_points:
            return np.arange(1, n + 1, dtype=np.int32), self._data[:n].copy()
        edges = np.linspace(0, n, max_points + 1).astype(np.int64)
        sums = np.add.reduceat(self._data[:n].astype(np.float64), edges[:-1])
        means = (sums / np.diff(edges)).astype(np.float32)
        return edges[1:].astype(np.int32), means

    @classmethod
    def from_array(cls, values) -> "CostHistory":
        values = np.asarray(values, dtype=np.float32).ravel()
        h = cls(max(4096, 2 * len(values)))
        h._data[: len(values)] = values
        h._n = len(values)
        return h
