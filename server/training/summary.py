"""What a view of a big network shows of it: at most ``neurons`` neurons per layer, chosen by influence.

The network view draws every neuron of a small layer, and of a big one only the neurons whose outgoing
weights are strongest (Σ_j |w_jk|, the same score the page uses): those neurons' connections, their
first-layer weight maps, their biases. A summary snapshot carries exactly that, copied from the live
arrays without copying the whole network. Pure numpy; no session, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Block:
    """Part of weight matrix l (``W[l][rows][:, cols]``) with the biases and gradients of those rows.
    ``rows`` / ``cols`` are neuron indices of layers l+1 / l, or None for all of them."""

    rows: np.ndarray | None
    cols: np.ndarray | None
    w: np.ndarray
    b: np.ndarray
    nabla_w: np.ndarray | None = None
    nabla_b: np.ndarray | None = None

    def arrays(self):
        yield from (a for a in (self.w, self.b, self.nabla_w, self.nabla_b) if a is not None)


def shown_sets(weights: list, neurons: int) -> list:
    """For each layer 0..L: None when every neuron is shown (the input, the output, and a hidden layer of
    at most ``neurons``), else the ``neurons`` indices with the largest Σ_j |w_jk| over the outgoing
    weights (int32, strongest first; ties by index)."""
    out: list = [None]
    for l in range(1, len(weights)):
        w = weights[l]  # shape (sizes[l+1], sizes[l]): column k = neuron k's outgoing weights
        n = w.shape[1]
        if n <= neurons:
            out.append(None)
            continue
        score = np.abs(w).sum(axis=0, dtype=np.float64)
        top = np.argpartition(-score, neurons - 1)[:neurons]
        order = np.lexsort((top, -score[top]))  # strongest first, then by index
        out.append(top[order].astype(np.int32))
    out.append(None)
    return out


def fits(shown, sizes: list, neurons: int) -> bool:
    """Whether shown sets (from an earlier snapshot) still fit this network and view size."""
    if shown is None or len(shown) != len(sizes):
        return False
    last = len(sizes) - 1
    for i, (s, n) in enumerate(zip(shown, sizes)):
        whole = i == 0 or i == last or n <= neurons
        if whole != (s is None):
            return False
        if s is not None and (len(s) != neurons or int(s.max()) >= n):
            return False
    return True


def take(a: np.ndarray, rows, cols=None) -> np.ndarray:
    """A C-order float32 copy of ``a[rows][:, cols]`` (None = all)."""
    if rows is not None and cols is not None and a.ndim == 2:
        return np.ascontiguousarray(a[np.ix_(rows, cols)], dtype=np.float32)  # one copy, of the block only
    if cols is not None:
        a = a[:, cols] if a.ndim == 2 else a[cols]
    if rows is not None:
        a = a[rows]
    if rows is None and cols is None:
        return np.array(a, dtype=np.float32, order="C", copy=True)
    return np.ascontiguousarray(a, dtype=np.float32)  # fancy indexing made a copy already


def blocks(weights: list, biases: list, shown: list, nabla_w: list | None = None, nabla_b: list | None = None,
           gradient_scale: float = 1.0, with_gradients: bool = True) -> list[Block]:
    """One block per weight matrix: its rows for layer l+1's shown neurons, its columns for layer l's.
    Gradients (when given) are multiplied by ``gradient_scale`` (the session keeps them scaled by η)."""
    out = []
    for l, (w, b) in enumerate(zip(weights, biases)):
        rows, cols = shown[l + 1], shown[l]
        block = Block(rows, cols, take(w, rows, cols), take(b, rows))
        if with_gradients and nabla_w is not None:
            block.nabla_w = take(nabla_w[l], rows, cols) * np.float32(gradient_scale)
            block.nabla_b = take(nabla_b[l], rows) * np.float32(gradient_scale)
        out.append(block)
    return out


def gradient_norms(nabla_w: list | None, nabla_b: list | None, gradient_scale: float = 1.0) -> list:
    """[{w: ‖∇W‖, b: ‖∇b‖}, ...] of every layer (None for a norm that is not finite)."""
    if not nabla_w:
        return []
    return [{"w": _norm(w, gradient_scale), "b": _norm(b, gradient_scale)} for w, b in zip(nabla_w, nabla_b)]


def _norm(a, scale: float) -> float | None:
    if a is None:
        return None
    flat = a.reshape(-1, order="A")
    n = float(np.sqrt(np.dot(flat, flat), dtype=np.float64)) * abs(scale) if flat.size else 0.0
    return n if np.isfinite(n) else None
