"""The cost landscape: C along −∇C, on a plane through the weights, and the paths descent takes on it.

The notes picture gradient descent as a ball rolling down "the graph of this multivariable function".
Here that function is the network's real cost C(θ) = mean C0 over a fixed evaluation set, and θ moves in
a space of one or two directions d through a point θ0:

    θ(c) = θ0 + Σ_i c_i d_i

Every grid point is a whole network, so a 41×41 surface is 1,681 forward passes over the evaluation set.
They are computed as stacked matrix products, not one network at a time:

- layer 1 is linear in the coefficients: X W(c)ᵀ = X W0ᵀ + Σ_i c_i X D_iᵀ, so the three products with
  the n × (input size) inputs are done once for the whole grid;
- every later layer takes the activations of a chunk of grid points as one tall matrix A (P·n rows):
  A W(c)ᵀ = A W0ᵀ + Σ_i c_i (A D_iᵀ), scaled row-block by row-block: 1 + (number of directions) GEMMs
  per layer and chunk.

Directions are given like a network's parameters: (list of weight matrices, list of bias vectors).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .network import Network

CHUNK_BYTES = 2 * 1024 * 1024  # one chunk of grid points' activations: small enough to stay in cache


# ----- parameters as vectors ---------------------------------------------------------------------
def flatten(weights, biases) -> np.ndarray:
    """θ as one float64 vector: W0, b0, W1, b1, … (each W row by row)."""
    return np.concatenate([np.concatenate([np.asarray(w, np.float64).ravel(), np.asarray(b, np.float64).ravel()])
                           for w, b in zip(weights, biases)])


def unflatten(vec: np.ndarray, sizes) -> tuple[list, list]:
    weights, biases, at = [], [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(vec[at : at + n_out * n_in].reshape(n_out, n_in))
        at += n_out * n_in
        biases.append(vec[at : at + n_out])
        at += n_out
    return weights, biases


def parameter_index(sizes, p: dict) -> int:
    """Where parameter {layer, j, k} (k None: the bias b_j) sits in ``flatten``'s vector."""
    at = 0
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if l == p["layer"]:
            return at + (n_out * n_in + p["j"] if p.get("k") is None else p["j"] * n_in + p["k"])
        at += n_out * n_in + n_out
    raise ValueError(f"layer {p['layer']} does not exist")


# ----- the cost at many points at once ------------------------------------------------------------
class Cancelled(Exception):
    """A newer request replaced this computation (checked between chunks of grid points)."""


def costs_at(net: Network, x: np.ndarray, y: np.ndarray, origin, directions, coefficients,
             cancelled=lambda: False) -> np.ndarray:
    """C(θ0 + Σ_i c_pi d_i) on (x, y) for every row p of ``coefficients`` (P × m), as stacked products.

    ``origin`` and each direction are (weights, biases) of the network's shapes. Returns P costs
    (float64; +inf where the network overflows). ``cancelled()`` is asked between chunks; when it says
    yes, ``Cancelled`` is raised.
    """
    coefficients = np.atleast_2d(np.asarray(coefficients, np.float64))
    P, m = coefficients.shape
    if m != len(directions):
        raise ValueError(f"{m} coefficients per point for {len(directions)} directions")
    dtype = net.dtype
    x = net.as_input(x)
    n = len(x)
    y = np.asarray(y, dtype)
    w0 = [np.asarray(w, dtype) for w in origin[0]]
    b0 = [np.asarray(b, dtype) for b in origin[1]]
    dw = [[np.asarray(w, dtype) for w in d[0]] for d in directions]
    db = [[np.asarray(b, dtype) for b in d[1]] for d in directions]
    # Layer 1, linear in c: the products with the inputs, once for the whole grid.
    xw = x @ w0[0].T
    xd = [x @ d[0].T for d in dw]
    width = max(net.sizes[1:])
    chunk = max(1, min(P, CHUNK_BYTES // max(1, n * width * dtype.itemsize * (2 + m))))
    out = np.empty(P, np.float64)
    L = len(w0)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, P, chunk):
            if cancelled():
                raise Cancelled()
            c = coefficients[start : start + chunk].astype(dtype)
            p = len(c)
            z = np.broadcast_to(xw, (p, n, xw.shape[1])).copy()
            for i in range(m):
                z += c[:, i, None, None] * xd[i]
            z += _bias(b0[0], [d[0] for d in db], c)[:, None, :]
            a = net.activation_for(0)(z)
            for l in range(1, L):
                flat = a.reshape(p * n, -1)
                z = (flat @ w0[l].T).reshape(p, n, -1)
                for i in range(m):
                    z += c[:, i, None, None] * (flat @ dw[i][l].T).reshape(p, n, -1)
                z += _bias(b0[l], [d[l] for d in db], c)[:, None, :]
                a = net.activation_for(l)(z)
            targets = np.broadcast_to(y, (p, n, y.shape[1])).reshape(p * n, -1)
            per = net.cost_fn.per_example(a.reshape(p * n, -1), targets).reshape(p, n)
            out[start : start + p] = per.astype(np.float64).mean(axis=1)
    out[~np.isfinite(out)] = np.inf
    return out


def _bias(b, db_list, c):
    """b + Σ_i c_i db_i for every row of c: (P, n_out)."""
    out = np.broadcast_to(b, (len(c), len(b))).copy()
    for i, d in enumerate(db_list):
        out += c[:, i, None] * d
    return out


def cost_one_by_one(net: Network, x, y, origin, directions, coefficients) -> np.ndarray:
    """The same numbers the plain way, one network per point with the engine's forward pass: the
    baseline the benchmark compares with, and an independent check for the tests."""
    coefficients = np.atleast_2d(np.asarray(coefficients, np.float64))
    probe = Network.from_parameters(net.config, origin[0], origin[1])
    out = np.empty(len(coefficients))
    for p, c in enumerate(coefficients):
        weights = [np.asarray(w, np.float64) + sum(ci * d[0][l] for ci, d in zip(c, directions))
                   for l, w in enumerate(origin[0])]
        biases = [np.asarray(b, np.float64) + sum(ci * d[1][l] for ci, d in zip(c, directions))
                  for l, b in enumerate(origin[1])]
        if not all(np.isfinite(a).all() for a in (*weights, *biases)):
            out[p] = np.inf
            continue
        probe.set_parameters(weights, biases)
        with np.errstate(over="ignore", invalid="ignore"):
            out[p] = probe.cost(x, y)
    out[~np.isfinite(out)] = np.inf
    return out


# ----- the line along −∇C ---------------------------------------------------------------------------
@dataclass
class Line:
    steps: np.ndarray  # t, from 0
    costs: np.ndarray  # C(θ − t ∇C)
    gradient_norm: float  # ‖∇C‖ over every weight and bias
    best_step: float  # the t of the lowest cost on the line

    def __repr__(self) -> str:
        return f"Line({len(self.steps)} points to t={self.steps[-1]:g}, ‖∇C‖={self.gradient_norm:.3g})"


def line(net: Network, x, y, max_step: float, points: int) -> Line:
    """The cost along the negative gradient of the same examples: C(θ − t·∇C) for t in [0, max_step]."""
    grads = net.backprop(x, y, input_gradient=False)
    origin = (net.weights, net.biases)
    gradient = (grads.nabla_w, grads.nabla_b)
    steps = np.linspace(0.0, max_step, points)
    costs = costs_at(net, x, y, origin, [gradient], -steps[:, None])
    norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in (*grads.nabla_w, *grads.nabla_b)))
    return Line(steps, costs, norm, float(steps[int(np.argmin(costs))]))


# ----- planes ---------------------------------------------------------------------------------------
def pca_directions(trajectory: np.ndarray, origin: np.ndarray, sizes) -> tuple[list, np.ndarray]:
    """The top two principal directions of a recorded path (rows: flattened θ at each snapshot), taken
    about ``origin`` (the current weights, the path's end, as Li et al. 2018 do).

    They span the plane through ``origin`` that holds the path best: of all such planes, the one whose
    projections keep the most of Σ_i ‖θ_i − θ0‖². Returns ([d1, d2] as (weights, biases)) and the share
    of that sum each one keeps (the path's variance about θ0 that the plane explains)."""
    deltas = np.asarray(trajectory, np.float64) - np.asarray(origin, np.float64)
    if len(deltas) < 2 or not np.any(deltas):
        raise ValueError("the recorded path needs at least two distinct points for its principal directions")
    _, s, vt = np.linalg.svd(deltas, full_matrices=False)
    explained = (s ** 2) / float(np.sum(s ** 2))
    k = min(2, len(vt))
    vectors = list(vt[:k])
    if k < 2:  # a path on a line: any direction orthogonal to it completes the plane
        v = np.zeros_like(vectors[0])
        v[int(np.argmin(np.abs(vectors[0])))] = 1.0
        v -= (v @ vectors[0]) * vectors[0]
        vectors.append(v / np.linalg.norm(v))
        explained = np.append(explained, 0.0)
    for v in vectors:  # a direction's sign is arbitrary: put the path's start on the left (and below)
        if deltas[0] @ v > 0:
            v *= -1
    return [unflatten(v, sizes) for v in vectors], explained[:2]


def random_directions(net: Network, seed: int) -> list:
    """Two random directions, filter-normalised as Li et al. do for dense layers: each neuron's incoming
    weights (a row of W) scaled to the norm of that neuron's weights; biases left out (zero)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        weights = []
        for w in net.weights:
            d = rng.standard_normal(w.shape)
            d *= (np.linalg.norm(w, axis=1, keepdims=True) / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12))
            weights.append(d)
        out.append((weights, [np.zeros(len(b)) for b in net.biases]))
    return out


def weight_directions(net: Network, params: list[dict]) -> list:
    """Unit directions along two chosen parameters (all others frozen): the one slice on which a
    path's coordinates are its own, exactly."""
    if len(params) != 2:
        raise ValueError("pick exactly two weights or biases")
    out = []
    for p in params:
        weights = [np.zeros(w.shape) for w in net.weights]
        biases = [np.zeros(len(b)) for b in net.biases]
        if p.get("k") is None:
            biases[p["layer"]][p["j"]] = 1.0
        else:
            weights[p["layer"]][p["j"], p["k"]] = 1.0
        out.append((weights, biases))
    return out


@dataclass
class PathOnPlane:
    """A recorded path seen on a slice: where each point projects, the slice's cost there, the cost the
    network really had at that point, and how far the point lies off the plane."""

    coords: np.ndarray  # (α, β) of each point's projection
    slice: np.ndarray  # C on the slice at (α, β): the heat map's value under the drawn point
    recorded: np.ndarray  # C at the point itself (all its weights), on the same examples
    distances: np.ndarray  # ‖θ_i − its projection‖: 0 when the point lies on the plane

    def __repr__(self) -> str:
        return f"PathOnPlane({len(self.coords)} points, farthest {self.distances.max(initial=0):.3g} off the plane)"


def path_on_plane(net: Network, x, y, trajectory, origin: np.ndarray, directions,
                  cancelled=lambda: False) -> PathOnPlane:
    """Project each flattened θ of ``trajectory`` on the plane origin + α d1 + β d2 and put the two costs
    side by side: the slice's, computed by ``costs_at`` like every grid point (exactly at the projection,
    not read off the grid), and the point's own. They agree only where the path lies on the plane."""
    trajectory = np.atleast_2d(np.asarray(trajectory, np.float64))
    origin = np.asarray(origin, np.float64)
    if len(trajectory) == 0:
        empty = np.zeros(0)
        return PathOnPlane(np.zeros((0, 2)), empty, empty, empty)
    basis = np.stack([flatten(*d) for d in directions], axis=1)  # D × 2
    coords = project(trajectory, origin, directions)
    distances = np.linalg.norm((trajectory - origin) - coords @ basis.T, axis=1)
    on_slice = costs_at(net, x, y, unflatten(origin, net.sizes), directions, coords, cancelled)
    recorded = np.empty(len(trajectory))
    for i, p in enumerate(trajectory):  # each a whole network: the first layer's product dominates, and
        if cancelled():                 # stacking them measured no faster (one inputs×(64·16) product vs 64)
            raise Cancelled()
        recorded[i] = cost_of(net, p, x, y)
    return PathOnPlane(coords, on_slice, recorded, distances)


def cost_of(net: Network, flat: np.ndarray, x, y) -> float:
    """C at the flattened parameters ``flat`` (the network's own forward pass); inf if it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        probe = Network.from_parameters(net.config, *unflatten(np.asarray(flat, np.float64), net.sizes))
        c = float(probe.cost(x, y))
    return c if math.isfinite(c) else math.inf


def fit_extent(coords, span: float | None, resolution: int, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The grid's α and β: a square in the plane's units (so contours and −∇C keep their true angles)
    that holds every path point and the current point (0, 0) with ``margin`` × the path's extent to
    spare, and the square ±``span`` when given. With no path to fit (and no span): ±1."""
    coords = np.asarray(coords, np.float64).reshape(-1, 2)
    lo = np.minimum(coords.min(axis=0, initial=0.0), 0.0)
    hi = np.maximum(coords.max(axis=0, initial=0.0), 0.0)
    extent = float(np.max(hi - lo))
    if extent > 1e-12:
        lo, hi = lo - margin * extent, hi + margin * extent
    elif span is None:
        span = 1.0
    if span is not None:
        lo, hi = np.minimum(lo, -span), np.maximum(hi, span)
    pad = (np.max(hi - lo) - (hi - lo)) / 2  # the shorter side grows on both ends to make a square
    return tuple(np.linspace(a - p, b + p, resolution) for a, b, p in zip(lo, hi, pad))


def project(points: np.ndarray, origin: np.ndarray, directions) -> np.ndarray:
    """Coordinates (α, β) of flattened θ's in the plane: least squares, exact for orthonormal directions."""
    basis = np.stack([flatten(*d) for d in directions], axis=1)  # D × 2
    deltas = np.atleast_2d(np.asarray(points, np.float64)) - np.asarray(origin, np.float64)
    coords, *_ = np.linalg.lstsq(basis, deltas.T, rcond=None)
    return coords.T


def surface(net: Network, x, y, directions, alphas, betas, cancelled=lambda: False) -> np.ndarray:
    """C on the grid θ0 + α d1 + β d2 (rows: β, columns: α), θ0 = the network's current weights."""
    aa, bb = np.meshgrid(np.asarray(alphas, np.float64), np.asarray(betas, np.float64))
    coefficients = np.stack([aa.ravel(), bb.ravel()], axis=1)
    costs = costs_at(net, x, y, (net.weights, net.biases), directions, coefficients, cancelled)
    return costs.reshape(len(betas), len(alphas))


def surface_rows(net: Network, x, y, directions, alphas, betas, cancelled=lambda: False):
    """The same grid a few rows at a time (for streaming): yields (first row index, rows)."""
    per = max(1, 4096 // max(1, len(alphas)))
    for start in range(0, len(betas), per):
        yield start, surface(net, x, y, directions, alphas, betas[start : start + per], cancelled)


# ----- gradient descent against stochastic gradient descent -----------------------------------------
@dataclass
class Run:
    """One runner's descent from the common start: its path, costs and what it cost to get there."""

    name: str
    batch_size: int | None  # None: the whole evaluation set (gradient descent)
    params: list = field(default_factory=list)  # flattened θ after each step (the start first)
    costs: list = field(default_factory=list)  # C on the evaluation set at each of those points
    examples: list = field(default_factory=list)  # examples seen (gradients computed) to get there
    seconds: list = field(default_factory=list)  # compute time to get there
    diverged_at: int | None = None
    momentum: float | None = None  # μ of v ← μ v − η ∇C, θ ← θ + v (beyond the lecture); None: plain steps

    def __repr__(self) -> str:
        return f"Run({self.name}, {len(self.costs) - 1} steps, final cost {self.costs[-1]:.4g})"


def descend(net: Network, x, y, steps: int, learning_rate: float, batch_size: int | None, seed: int = 0,
            record_every: int = 1, momentum: float | None = None) -> Run:
    """``steps`` steps of W ← W − η ∇C from the network's current weights, on a copy: with the gradient
    of the whole evaluation set (``batch_size`` None) or of shuffled mini-batches of it.

    With ``momentum`` μ (beyond the lecture: the heavy ball of Polyak, Distill's "Why Momentum Really
    Works") each step keeps a velocity, v ← μ v − η ∇C and θ ← θ + v, starting from v = 0."""
    copy = Network.from_parameters(net.config, net.weights, net.biases)
    x = copy.as_input(x)
    y = np.asarray(y, copy.dtype)
    rng = np.random.default_rng(seed)
    name = "gradient descent" if batch_size is None else f"SGD, batch {batch_size}"
    if momentum is not None:
        name += f" + momentum {momentum:g}"
    run = Run(name, batch_size, momentum=momentum)
    velocity = None if momentum is None else [np.zeros_like(a) for a in (*copy.weights, *copy.biases)]
    order, at, seen, spent = rng.permutation(len(x)), 0, 0, 0.0

    def record():
        run.params.append(flatten(copy.weights, copy.biases))
        with np.errstate(over="ignore", invalid="ignore"):
            run.costs.append(float(copy.cost(x, y)))
        run.examples.append(seen)
        run.seconds.append(spent)

    record()
    for k in range(1, steps + 1):
        t = time.perf_counter()
        if batch_size is None:
            xb, yb = x, y
        else:
            if at + batch_size > len(order):
                order, at = rng.permutation(len(x)), 0
            idx = order[at : at + batch_size]
            at += batch_size
            xb, yb = x[idx], y[idx]
        with np.errstate(over="ignore", invalid="ignore"):
            cost = copy.sgd_step(xb, yb, learning_rate) if velocity is None else _heavy_ball(copy, xb, yb, learning_rate,
                                                                                             momentum, velocity)
        spent += time.perf_counter() - t
        seen += len(xb)
        if not math.isfinite(cost) or not copy.is_finite():
            run.diverged_at = k
            break
        if k % record_every == 0 or k == steps:
            record()
    return run


def _heavy_ball(net: Network, x, y, learning_rate: float, momentum: float, velocity: list) -> float:
    """One momentum step in place: v ← μ v − η ∇C, θ ← θ + v; returns the batch's cost."""
    grads = net.backprop(x, y, input_gradient=False)
    mu, eta = net.dtype.type(momentum), net.dtype.type(learning_rate)
    for v, p, g in zip(velocity, (*net.weights, *net.biases), (*grads.nabla_w, *grads.nabla_b)):
        v *= mu
        v -= eta * g
        p += v
    return grads.cost
