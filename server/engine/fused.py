"""Network.sgd_step, fused: the chain rule of ``Network.backprop`` + ``apply_gradients``, in place.

On small mini-batches, and for small networks on any batch, each NumPy call costs about as much as
its arithmetic, so this path makes as few calls as it can and allocates nothing:

- it works on columns, as the lectures write it: each layer's activations are an (n_neurons, batch)
  array, one column per example, with a row of ones below them. A layer's weights and biases are one
  array ``[W | b]`` (the network stores them so, ``weights[l]`` and ``biases[l]`` being views), so
  ``z = [W | b] [a; 1]`` is one product, and the update of W and b together is one product and one
  subtraction: ``[W | b] −= δ [a; 1]ᵀ`` (with δ already scaled by η/n);
- activations, δ and the updates live in buffers reused across steps (a few batch sizes are kept);
- the activations' kernels work in place, with their constants as preallocated arrays.

``Network.backprop`` stays the readable reference; tests check that both give the same weights.
"""

from __future__ import annotations

import numpy as np

from .activations import LEAKY_SLOPE
from .costs import CROSS_ENTROPY, QUADRATIC

WIDE_INPUT = 32  # inputs from which the first layer's product is done on rows (see _Workspace)


def fused_sgd_step(net, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
    """One step W ← W − η ∇C on the batch (x, y) (rows: one example each); returns the batch's mean cost C.

    The output error δ is scaled by η/n once (so each layer's update is just [W | b] −= δ [a; 1]ᵀ), and
    every layer is updated as soon as δ has been passed down through its (old) weights. The workspace
    holds each layer's arrays and kernels ready (``_Workspace.forward``/``backward``): the loops below
    only unpack them.
    """
    n = len(x)
    ws = net._workspaces.get(n)
    if ws is None:
        ws = _workspace(net, n)

    # Forward. Layer 1 from the input rows: z = W x_colᵀ + b; then z = [W | b] [a; 1] for the rest.
    a = ws.a1
    if ws.z1_rows is None:
        np.dot(ws.w0, x.T, out=a)
    else:  # a wide input (images): the BLAS is faster on rows; then one transposing copy
        np.dot(x, ws.w0_t, out=ws.z1_rows)
        np.copyto(a, ws.z1_rows.T)
    np.add(a, ws.b0_col, out=a)
    ws.f0(a, ws.s1)
    for p, a_in, a, f, sc in ws.forward:
        np.dot(p, a_in, out=a)
        f(a, sc)

    # The output error δ = ∂C0/∂z, already multiplied by η/n (targets as columns too).
    y_col, delta, sL = ws.y_col, ws.delta, ws.sL
    np.copyto(y_col, y.T)
    if ws.quadratic:
        np.subtract(a, y_col, out=delta)
        cost = float(np.vdot(delta, delta)) / n  # C0 = Σ_j (a_j − y_j)²
        np.multiply(delta, 2.0 * learning_rate / n, out=delta)  # ∂C0/∂a_j = 2 (a_j − y_j)
        ws.g_out(a, delta, sL)  # δ_j = σ'(z_j) ∂C0/∂a_j (softmax: Jacobian product)
    else:
        if ws.cross_entropy:  # C0 = −Σ_j y_j ln a_j
            t = sL.tmp
            np.maximum(a, sL.tiny, out=t)  # (ln 0 would be −inf: clamp as costs.py does)
            np.log(t, out=t)
            cost = -float(np.vdot(y_col, t)) / n
        else:
            cost = float(net.cost_fn.per_example(a.T, y).mean())
        np.subtract(a, y_col, out=delta)  # cross-entropy cancels σ': δ = a − y
        np.multiply(delta, learning_rate / n, out=delta)

    # Backward: pass δ down through the old W, then update [W | b] of this layer.
    for p, w_t, a_in, a, dC_da, gp, gp_t, g, sc in ws.backward:
        np.dot(w_t, delta, out=dC_da)  # ∂C0/∂a_k = Σ_j w_jk δ_j
        np.dot(a_in, delta.T, out=gp_t)  # η ∂C/∂[W | b] = (η/n) Σ_examples δ [a; 1]ᵀ
        np.subtract(p, gp, out=p)
        g(a, dC_da, sc)  # δ = σ'(z) ∂C0/∂a, in place
        delta = dC_da
    p0, gp0 = ws.p0, ws.gp0
    np.dot(x.T, delta.T, out=ws.gw0_t)  # the first layer's weights: (η/n) Σ_examples δ xᵀ
    np.dot(delta, ws.ones, out=ws.gb0)  # and its biases: (η/n) Σ_examples δ
    np.subtract(p0, gp0, out=p0)
    return cost


def _workspace(net, n: int) -> "_Workspace":
    """The buffers for batches of n examples (a few batch sizes are kept: the last batch is short)."""
    if len(net._workspaces) >= 4:
        net._workspaces.clear()
    ws = net._workspaces[n] = _Workspace(net, n)
    return ws


class _Workspace:
    """Buffers for one batch size (activations with their row of ones, ∂C0/∂a then δ, the updates) and,
    per layer, the arrays and kernels each loop of the step uses, ready to unpack."""

    def __init__(self, net, n: int):
        sizes, dtype, params, kernels = net.sizes, net.dtype, net._params, net._kernels
        L = len(params)
        # acts_1[l]: layer l's activations (sizes[l] × n) with a row of ones below; acts[l] the top part
        acts_1 = [None] + [np.ones((m + 1, n), dtype=dtype) for m in sizes[1:]]
        acts = [None] + [a[:-1] for a in acts_1[1:]]
        grads = [None] + [np.empty((m, n), dtype=dtype) for m in sizes[1:]]
        scratch = [None] + [_Scratch(m, n, dtype) for m in sizes[1:]]
        # gp[l]: the update of [W | b] (Fortran order, like the parameters); gp_t[l] its transpose (C order)
        gp = [np.empty((m, k + 1), dtype=dtype, order="F") for k, m in zip(sizes[:-1], sizes[1:])]
        w_t = [p[:, :-1].T for p in params]  # Wᵀ, for ∂C0/∂a
        self.forward = [(params[l], acts_1[l], acts[l + 1], kernels[l][0], scratch[l + 1]) for l in range(1, L)]
        self.backward = [(params[l], w_t[l], acts_1[l], acts[l], grads[l], gp[l], gp[l].T, kernels[l - 1][1],
                          scratch[l]) for l in range(L - 1, 0, -1)]
        # the first layer, from the input rows
        k0 = sizes[0]
        self.a1, self.s1, self.f0 = acts[1], scratch[1], kernels[0][0]
        self.w0, self.w0_t, self.b0_col = params[0][:, :-1], w_t[0], params[0][:, -1:]
        self.p0, self.gp0, self.gw0_t, self.gb0 = params[0], gp[0], gp[0].T[:k0], gp[0][:, k0]
        # the first layer of a wide input is computed on rows (measured faster from ~32 inputs on)
        self.z1_rows = np.empty((n, sizes[1]), dtype=dtype) if k0 >= WIDE_INPUT else None
        # the output layer and the cost
        self.delta, self.sL, self.g_out = grads[L], scratch[L], kernels[-1][1]
        self.y_col = np.empty((sizes[-1], n), dtype=dtype)
        self.ones = np.ones(n, dtype=dtype)
        self.quadratic = net.cost_fn is QUADRATIC
        self.cross_entropy = net.cost_fn is CROSS_ENTROPY


# ----- sgd_step's fused kernels ---------------------------------------------------------------------
# The same functions as activations.py, written in place into preallocated buffers, on columns (one
# example per column: softmax normalises down each column). Each activation has a forward ``f(z, s)``
# that turns z into σ(z) in place, and a backward ``g(a, dC_da, s)`` that turns ∂C0/∂a into
# δ = ∂C0/∂z in place (``s`` holds scratch buffers and constants of the layer's shape and dtype:
# a NumPy constant of the right dtype saves converting a Python number on every call).


class _Scratch:
    def __init__(self, m: int, n: int, dtype):
        self.tmp = np.empty((m, n), dtype=dtype)
        self.mask = np.empty((m, n), dtype=bool)
        self.row = np.empty((1, n), dtype=dtype)
        self.tiny = np.finfo(dtype).tiny
        c = lambda v: np.asarray(v, dtype=dtype)  # noqa: E731
        self.zero, self.one = c(0.0), c(1.0)
        # z is capped here before e^z (σ(z) has rounded to 1 long before: e^87 ≈ 6e37 in float32).
        self.exp_cap = c(np.floor(np.log(np.finfo(dtype).max)) - 1)
        self.slope = c(LEAKY_SLOPE)
        self.one_minus_slope = c(1 - LEAKY_SLOPE)


def _sigmoid_fwd(z, s):
    """σ(z) = 1 / (1 + e^−z) = e^z / (1 + e^z); leaves 1 + e^z in s.tmp for the backward pass."""
    np.minimum(z, s.exp_cap, out=z)  # so e^z cannot overflow (σ is 1 there anyway)
    np.exp(z, out=z)  # may underflow to 0 for z ≪ 0: then σ = 0, as in the textbook formula
    np.add(z, s.one, out=s.tmp)
    np.divide(z, s.tmp, out=z)


def _sigmoid_bwd(a, g, s):
    """δ = σ'(z) ∂C0/∂a with σ'(z) = a (1 − a) = e^z / (1 + e^z)² = a / (1 + e^z), from the forward pass."""
    t = s.tmp
    np.divide(a, t, out=t)
    np.multiply(g, t, out=g)


def _tanh_fwd(z, s):
    np.tanh(z, out=z)


def _tanh_bwd(a, g, s):
    """tanh'(z) = 1 − a²."""
    t = s.tmp
    np.multiply(a, a, out=t)
    np.subtract(s.one, t, out=t)
    np.multiply(g, t, out=g)


def _relu_fwd(z, s):
    np.maximum(z, s.zero, out=z)


def _relu_bwd(a, g, s):
    """relu'(z) = 1 if z > 0 else 0 (and a > 0 exactly when z > 0): zero ∂C0/∂a where a = 0."""
    np.less_equal(a, s.zero, out=s.mask)
    np.copyto(g, s.zero, where=s.mask)


def _leaky_relu_fwd(z, s):
    """max(z, slope·z) = z if z > 0 else slope·z, as the slope is below 1."""
    np.multiply(z, s.slope, out=s.tmp)
    np.maximum(z, s.tmp, out=z)


def _leaky_relu_bwd(a, g, s):
    """leaky_relu'(z) = 1 if z > 0 else slope: scale ∂C0/∂a by the slope where a ≤ 0."""
    np.less_equal(a, s.zero, out=s.mask)
    np.multiply(g, s.slope, out=g, where=s.mask)


def _softmax_fwd(z, s):
    """softmax(z)_j = e^{z_j − max z} / Σ_i e^{z_i − max z}, down each column."""
    row = s.row
    np.maximum.reduce(z, axis=0, keepdims=True, out=row)
    np.subtract(z, row, out=z)
    np.exp(z, out=z)
    np.add.reduce(z, axis=0, keepdims=True, out=row)
    np.divide(z, row, out=z)


def _softmax_bwd(a, g, s):
    """δ_i = a_i (∂C0/∂a_i − Σ_j a_j ∂C0/∂a_j)."""
    t, row = s.tmp, s.row
    np.multiply(a, g, out=t)
    np.add.reduce(t, axis=0, keepdims=True, out=row)
    np.subtract(g, row, out=g)
    np.multiply(g, a, out=g)


_KERNELS = {
    "sigmoid": (_sigmoid_fwd, _sigmoid_bwd),
    "tanh": (_tanh_fwd, _tanh_bwd),
    "relu": (_relu_fwd, _relu_bwd),
    "leaky_relu": (_leaky_relu_fwd, _leaky_relu_bwd),
    "softmax": (_softmax_fwd, _softmax_bwd),
}


def fused_kernels(activation: str, output_activation: str, n_layers: int):
    """The (forward, backward) kernel of each weight layer's activation, or None if one is missing."""
    if activation not in _KERNELS or output_activation not in _KERNELS:
        return None
    return [_KERNELS[activation]] * (n_layers - 1) + [_KERNELS[output_activation]]
