"""Per-neuron maps of the plane: every neuron's activation (or weighted sum) over a grid of points.

For a network whose inputs are points (x, y), each neuron computes a function of the plane; drawn as
a small image it shows what that neuron has learnt. All of them come from one batched forward pass
over the grid's points, so a 64×64 grid of a [2,8,8,8,3] network costs well under a millisecond.

The grid covers [-extent, extent]² with ``size`` × ``size`` cell centres, row 0 at the top (largest y)
and column 0 at the left (smallest x), as an image is drawn: pixel (r, c) is the point
x = −e + (c + ½)·2e/size, y = e − (r + ½)·2e/size.
"""

from __future__ import annotations

import numpy as np

from .network import Network


def plane_grid(size: int = 64, extent: float = 1.0, dtype=np.float32) -> np.ndarray:
    """The (size², 2) points (x, y) of the grid, in row-major pixel order."""
    step = 2.0 * extent / size
    centres = -extent + (np.arange(size) + 0.5) * step
    xs, ys = np.meshgrid(centres, centres[::-1])  # row 0 at the top: the largest y
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(dtype)


def neuron_maps(net: Network, grid: np.ndarray, values: str = "a") -> list[np.ndarray]:
    """Each layer's neurons over the grid: ``maps[l]`` has shape (sizes[l+1], len(grid)), row j = neuron j
    of layer l+1, from one forward pass. ``values`` = ``"a"`` (activations) or ``"z"`` (weighted sums:
    z = 0 is where the neuron's boundary lies)."""
    if values not in ("a", "z"):
        raise ValueError(f"values must be 'a' or 'z', got {values!r}")
    trace = net.forward(grid)
    layers = trace.activations[1:] if values == "a" else trace.zs
    return [np.ascontiguousarray(m.T) for m in layers]


def quantize(maps: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """uint8 maps, each neuron scaled over its own range: value = lo + (hi − lo)·u/255. Returns
    (uint8 maps, lo per neuron, hi per neuron); a constant neuron has lo = hi and all zeros."""
    out, los, his = [], [], []
    for m in maps:
        m64 = m.astype(np.float64)
        lo, hi = m64.min(axis=1), m64.max(axis=1)
        span = np.where(hi > lo, hi - lo, 1.0)
        u = np.rint((m64 - lo[:, None]) * (255.0 / span[:, None]))
        out.append(np.clip(u, 0, 255).astype(np.uint8))
        los.append(lo)
        his.append(hi)
    return out, los, his
