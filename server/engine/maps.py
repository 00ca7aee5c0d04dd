"""Per-neuron maps of the plane: every neuron's activation (or weighted sum) over a grid of points.

For a network whose inputs are points (x, y), each neuron computes a function of the plane; drawn as
a small image it shows what that neuron has learnt. All of them come from one batched forward pass
over the grid's points, so a 64×64 grid of a [2,8,8,8,3] network costs well under a millisecond.

The grid covers [-extent, extent]² with ``size`` × ``size`` cell centres, row 0 at the top (largest y)
and column 0 at the left (smallest x), as an image is drawn: pixel (r, c) is the point
x = −e + (c + ½)·2e/size, y = e − (r + ½)·2e/size.

The cost's gradient maps answer "where would moving this neuron's output help?": ∂C0/∂a_j (or δ_j =
∂C0/∂z_j) of every neuron at every grid point, from one batched backprop over the grid with a label for
each point (by default the class of the nearest training point: what the data say there).
"""

from __future__ import annotations

import numpy as np

from .network import Network, one_hot


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


GRADIENT_VALUES = ("dC_da", "delta")
NEAREST_CHUNK = 1024  # grid points per block of the distance matrix (1024 × 4000 float32: 16 MB)


def nearest_labels(points: np.ndarray, inputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label of the nearest of ``inputs`` (rows [x, y]) to each of ``points``: the data's answer
    anywhere on the plane (1-nearest neighbour), a block of points at a time as one matrix."""
    if len(inputs) == 0:
        raise ValueError("nearest_labels: there are no training points to take a label from")
    inputs = np.asarray(inputs, dtype=np.float32)
    sq = np.einsum("ij,ij->i", inputs, inputs)
    out = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), NEAREST_CHUNK):
        p = np.asarray(points[start:start + NEAREST_CHUNK], dtype=np.float32)
        # |p − q|² = |p|² − 2 p·q + |q|²; |p|² is the same along a row, so it does not change the nearest
        d = sq[None, :] - 2.0 * (p @ inputs.T)
        out[start:start + len(p)] = labels[np.argmin(d, axis=1)]
    return out


def cost_gradient_maps(net: Network, grid: np.ndarray, labels, values: str = "dC_da") -> list[np.ndarray]:
    """Each neuron's ∂C0/∂a (``values="dC_da"``) or δ = ∂C0/∂z (``"delta"``) over the grid, with ``labels``
    (one class per grid point, or one class for all): ``maps[l]`` has shape (sizes[l+1], len(grid)), row j =
    neuron j of layer l+1 — the numbers the walkthrough shows for one example, for every grid point at once
    (one backprop of the grid as a batch)."""
    if values not in GRADIENT_VALUES:
        raise ValueError(f"values must be one of {GRADIENT_VALUES}, got {values!r}")
    n_out = net.sizes[-1]
    labels = np.broadcast_to(np.asarray(labels, dtype=np.int64), (len(grid),))
    if labels.size and (labels.min() < 0 or labels.max() >= n_out):
        raise ValueError(f"label: the network has {n_out} outputs, so a label is from 0 to {n_out - 1}")
    grads = net.backprop(grid, one_hot(labels, n_out, net.dtype), input_gradient=False)
    layers = grads.dC_da[1:] if values == "dC_da" else grads.deltas
    return [np.ascontiguousarray(m.T) for m in layers]
