"""Network.sgd_step, fused: the chain rule of ``Network.backprop`` + ``apply_gradients``, in place.

On MNIST-sized mini-batches each NumPy call costs about as much as its arithmetic, so this path makes
fewer calls and allocates nothing: activations, δ and the updates live in buffers reused across steps.
``Network.backprop`` stays the readable reference; tests check that both give the same weights.
"""

from __future__ import annotations

import numpy as np

from .activations import LEAKY_SLOPE
from .costs import CROSS_ENTROPY, QUADRATIC


def fused_sgd_step(net, x: np.ndarray, y: np.ndarray, learning_rate: float) -> float:
    """One step W ← W − η ∇C on the batch (x, y); returns the batch's mean cost C.

    The output error δ is scaled by η/n once (so each layer's update is just W −= δᵀ a and
    b −= Σ δ), and every layer is updated as soon as δ has been passed down through its (old) weights.
    """
    n = len(x)
    kernels = net._kernels
    ws = net._workspaces.get(n)
    if ws is None:
        ws = _workspace(net, n)
    weights, biases, acts, scratch = net.weights, net.biases, ws.acts, ws.scratch
    L = len(weights)

    # Forward: z = a Wᵀ + b, then a' = σ(z) in place, layer by layer.
    a = x
    for l in range(L):
        z = acts[l + 1]
        np.dot(a, weights[l].T, out=z)  # (np.dot: less call overhead than @ on small matrices)
        np.add(z, biases[l], out=z)
        kernels[l][0](z, scratch[l + 1])
        a = z

    # The output error δ = ∂C0/∂z, already multiplied by η/n.
    scale = float(learning_rate) / n
    delta = ws.grads[L]
    if net.cost_fn is QUADRATIC:
        np.subtract(a, y, out=delta)
        cost = float(np.vdot(delta, delta)) / n  # C0 = Σ_j (a_j − y_j)²
        np.multiply(delta, 2.0 * scale, out=delta)  # ∂C0/∂a_j = 2 (a_j − y_j)
        kernels[-1][1](a, delta, scratch[L])  # δ_j = σ'(z_j) ∂C0/∂a_j (softmax: Jacobian product)
    else:
        if net.cost_fn is CROSS_ENTROPY:  # C0 = −Σ_j y_j ln a_j
            t = scratch[L].tmp
            np.maximum(a, scratch[L].tiny, out=t)  # (ln 0 would be −inf: clamp as costs.py does)
            np.log(t, out=t)
            cost = -float(np.vdot(y, t)) / n
        else:
            cost = float(net.cost_fn.per_example(a, y).mean())
        np.subtract(a, y, out=delta)  # cross-entropy cancels σ': δ = a − y
        np.multiply(delta, scale, out=delta)

    # Backward: pass δ down through the old W, then update W and b of this layer.
    for l in range(L - 1, -1, -1):
        a_prev = acts[l] if l else x
        w = weights[l]
        if l:
            dC_da = ws.grads[l]
            np.dot(delta, w, out=dC_da)  # ∂C0/∂a_k = Σ_j w_jk δ_j
        # η ∂C/∂w_jk = (η/n) Σ_examples a_k δ_j, written in W's own layout
        if w.flags.f_contiguous:
            gw = ws.gw[l]
            np.dot(a_prev.T, delta, out=gw.T)
        else:
            gw = ws.gw_c[l]
            np.dot(delta.T, a_prev, out=gw)
        np.subtract(w, gw, out=w)
        gb = ws.gb[l]
        np.dot(ws.ones, delta, out=gb)  # η ∂C/∂b_j = (η/n) Σ_examples δ_j (a BLAS sum: faster)
        np.subtract(biases[l], gb, out=biases[l])
        if l:
            kernels[l - 1][1](a_prev, dC_da, scratch[l])  # δ = σ'(z) ∂C0/∂a, in place
            delta = dC_da
    return cost


def _workspace(net, n: int) -> "_Workspace":
    """The buffers for batches of n examples (a few batch sizes are kept: the last batch is short)."""
    if len(net._workspaces) >= 4:
        net._workspaces.clear()
    ws = net._workspaces[n] = _Workspace(net.sizes, n, net.dtype)
    return ws


# ----- sgd_step's fused kernels ---------------------------------------------------------------------
# The same functions as activations.py, written in place into preallocated buffers: on MNIST-sized
# mini-batches each NumPy call costs about as much as its arithmetic, so fewer calls and no
# allocation is what makes a step fast. Each activation has a forward ``f(z, s)`` that turns z into
# σ(z) in place, and a backward ``g(a, dC_da, s)`` that turns ∂C0/∂a into δ = ∂C0/∂z in place
# (``s`` holds scratch buffers of the layer's shape).


class _Scratch:
    def __init__(self, n: int, width: int, dtype):
        self.tmp = np.empty((n, width), dtype=dtype)
        self.mask = np.empty((n, width), dtype=bool)
        self.col = np.empty((n, 1), dtype=dtype)
        self.tiny = np.finfo(dtype).tiny
        # z is capped here before e^z (σ(z) has rounded to 1 long before: e^87 ≈ 6e37 in float32).
        self.exp_cap = float(np.floor(np.log(np.finfo(dtype).max)) - 1)
        self.slope = np.asarray(LEAKY_SLOPE, dtype=dtype)
        self.one_minus_slope = np.asarray(1 - LEAKY_SLOPE, dtype=dtype)


class _Workspace:
    """Buffers for one batch size: activations, ∂C0/∂a (then δ), and the weight/bias updates."""

    def __init__(self, sizes, n: int, dtype):
        self.acts = [None] + [np.empty((n, m), dtype=dtype) for m in sizes[1:]]
        self.grads = [None] + [np.empty((n, m), dtype=dtype) for m in sizes[1:]]
        self.scratch = [None] + [_Scratch(n, m, dtype) for m in sizes[1:]]
        self.gw = [np.empty((m, k), dtype=dtype, order="F") for k, m in zip(sizes[:-1], sizes[1:])]
        self.gw_c = [np.empty((m, k), dtype=dtype) for k, m in zip(sizes[:-1], sizes[1:])]  # for C-order W
        self.gb = [np.empty(m, dtype=dtype) for m in sizes[1:]]
        self.ones = np.ones(n, dtype=dtype)


def _sigmoid_fwd(z, s):
    """σ(z) = 1 / (1 + e^−z) = e^z / (1 + e^z); leaves 1 + e^z in s.tmp for the backward pass."""
    np.minimum(z, s.exp_cap, out=z)  # so e^z cannot overflow (σ is 1 there anyway)
    np.exp(z, out=z)  # may underflow to 0 for z ≪ 0: then σ = 0, as in the textbook formula
    np.add(z, 1.0, out=s.tmp)
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
    np.subtract(1.0, t, out=t)
    np.multiply(g, t, out=g)


def _relu_fwd(z, s):
    np.maximum(z, 0.0, out=z)


def _relu_bwd(a, g, s):
    """relu'(z) = 1 if z > 0 else 0 (and a > 0 exactly when z > 0)."""
    np.greater(a, 0.0, out=s.mask)
    np.multiply(g, s.mask, out=g)


def _leaky_relu_fwd(z, s):
    """max(z, slope·z) = z if z > 0 else slope·z, as the slope is below 1."""
    np.multiply(z, LEAKY_SLOPE, out=s.tmp)
    np.maximum(z, s.tmp, out=z)


def _leaky_relu_bwd(a, g, s):
    """leaky_relu'(z) = 1 if z > 0 else slope, as slope + (1 − slope)·[a > 0]."""
    t = s.tmp
    np.greater(a, 0.0, out=s.mask)
    np.multiply(s.mask, s.one_minus_slope, out=t)
    np.add(t, s.slope, out=t)
    np.multiply(g, t, out=g)


def _softmax_fwd(z, s):
    """softmax(z)_j = e^{z_j − max z} / Σ_i e^{z_i − max z}."""
    col = s.col
    np.maximum.reduce(z, axis=1, keepdims=True, out=col)
    np.subtract(z, col, out=z)
    np.exp(z, out=z)
    np.add.reduce(z, axis=1, keepdims=True, out=col)
    np.divide(z, col, out=z)


def _softmax_bwd(a, g, s):
    """δ_i = a_i (∂C0/∂a_i − Σ_j a_j ∂C0/∂a_j)."""
    t, col = s.tmp, s.col
    np.multiply(a, g, out=t)
    np.add.reduce(t, axis=1, keepdims=True, out=col)
    np.subtract(g, col, out=g)
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
