"""Display arrays made small: uint8 or float16 with a scale (docs/protocol.md, "Encoding"). Pure numpy.

Each function returns a ``wire.Scaled``; a client reads value = (q − zero) × scale. What each costs in
precision is stated with it (and in docs/protocol.md, per field).
"""

from __future__ import annotations

import numpy as np

from .wire import Scaled

U1_ZERO = 128  # signed values in uint8: q = 128 + round(value / scale), 1..255


def _finite(a) -> np.ndarray:
    a = np.asarray(a, np.float32)
    if not np.isfinite(a).all():  # never happens for a session's snapshot (it is made finite first)
        big = float(np.finfo(np.float32).max)
        a = np.nan_to_num(a, nan=0.0, posinf=big, neginf=-big)
    return a


def u1_rows(w) -> Scaled:
    """A matrix as uint8 with one scale per row: scale_j = max_k |w_jk| / 127, so every value is within
    scale_j / 2 (0.4 % of its row's largest magnitude) of the float32 one, and each row keeps 8 bits of
    its own range (a row of small values is not flattened to 0 by a large one elsewhere)."""
    w = _finite(w)
    if w.ndim != 2:
        raise ValueError("u1_rows takes a matrix")
    m = np.abs(w).max(axis=1) if w.shape[1] else np.zeros(w.shape[0], np.float32)
    scale = (m / np.float32(127)).astype(np.float32)
    safe = np.where(scale > 0, scale, np.float32(1))
    q = np.clip(np.rint(w / safe[:, None]), -127, 127).astype(np.int16) + U1_ZERO
    return Scaled(q.astype(np.uint8), [float(s) for s in scale], U1_ZERO)


def u1(a) -> Scaled:
    """Any array as uint8 with one scale: scale = max |a| / 127; within scale / 2 of each value."""
    a = _finite(a)
    m = float(np.abs(a).max()) if a.size else 0.0
    scale = float(np.float32(m / 127))
    q = np.clip(np.rint(a / (scale or 1.0)), -127, 127).astype(np.int16) + U1_ZERO
    return Scaled(q.astype(np.uint8), scale, U1_ZERO)


def f2(a) -> Scaled:
    """float16 of a / scale, scale = max |a| (so no value overflows float16): 11 significant bits, a
    relative error ≤ 2⁻¹¹ (0.05 %) for values down to 6·10⁻⁵ × max |a|, an absolute one of at most
    3·10⁻⁸ × max |a| below that."""
    a = _finite(a)
    m = float(np.abs(a).max()) if a.size else 0.0
    scale = float(np.float32(m)) or 1.0
    return Scaled((a / np.float32(scale)).astype(np.float16), scale)


def pixels(a) -> Scaled | None:
    """An image's inputs as uint8 when that loses nothing: every value is k × float32(1/255) (as image
    datasets make them), so q = k and q × scale, rounded to float32, is exactly the value the network saw.
    None otherwise."""
    a = np.asarray(a, np.float32)
    step = np.float32(1 / 255)
    q = np.rint(a / step)
    if a.size == 0 or q.min() < 0 or q.max() > 255 or not np.array_equal(q.astype(np.float32) * step, a):
        return None
    return Scaled(q.astype(np.uint8), float(step))
