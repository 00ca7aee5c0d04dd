"""The multilayer perceptron: forward pass, backpropagation and mini-batch SGD in pure NumPy.

Notation follows the lectures. Layer l computes ``z = W a + b`` and ``a' = σ(z)``; ``W[l]`` has shape
(n_out, n_in) so ``W[l][j, k]`` connects neuron k of the previous layer to neuron j (the "jk"
convention). A mini-batch is a matrix with one example per row, so the code writes ``a @ W.T``.

Each W is *stored* column by column (Fortran order): ``W.T`` is then an ordinary row-major matrix,
which the BLAS multiplies faster in ``a @ W.T``. Shapes, values and indexing are unchanged. W and b of
a layer share one array ``[W | b]`` (n_out × (n_in + 1)): ``weights[l]`` and ``biases[l]`` are views of
it, so the fused training step (``fused.py``) updates both with one subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, get_activation
from .costs import COSTS, get_cost
from .fused import fused_kernels, fused_sgd_step

DTYPES = ("float32", "float64")
MAX_LAYERS = 16
MAX_NEURONS = 4096


@dataclass
class Trace:
    """What a forward pass saw: ``zs[l]`` (batch, sizes[l+1]); ``activations[l]`` (batch, sizes[l])."""

    zs: list[np.ndarray]
    activations: list[np.ndarray]


@dataclass
class Gradients:
    """What backprop found, for the mean cost over the batch (nabla_*) and per example (deltas, dC_da)."""

    nabla_w: list[np.ndarray]
    nabla_b: list[np.ndarray]
    deltas: list[np.ndarray]  # ∂C0/∂z of layer l+1, shape (batch, sizes[l+1])
    dC_da: list[np.ndarray | None]  # ∂C0/∂a of layer l, shape (batch, sizes[l]); [0] None if skipped
    costs: np.ndarray  # C0 of each example, shape (batch,)
    trace: Trace

    @property
    def cost(self) -> float:
        """C = mean of the per-example costs C0."""
        return float(self.costs.mean())


def validate_config(sizes, activation, output_activation, cost, dtype) -> None:
    """Raise ValueError with a plain message if the network cannot be built as asked."""
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError("sizes needs at least an input and an output layer, e.g. [2, 3]")
    if len(sizes) > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS} layers, got {len(sizes)}")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_NEURONS:
            raise ValueError(f"every layer size must be a whole number from 1 to {MAX_NEURONS}, got {n!r}")
    if activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of: {', '.join(HIDDEN_ACTIVATIONS)}")
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(
            f"unknown output activation {output_activation!r}; choose one of: {', '.join(OUTPUT_ACTIVATIONS)}"
        )
    if cost not in COSTS:
        raise ValueError(f"unknown cost {cost!r}; choose one of: {', '.join(COSTS)}")
    get_cost(cost, output_activation)  # raises for cross-entropy with an output outside (0, 1)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


class Network:
    """A fully connected network ``sizes[0] → … → sizes[-1]``."""

    def __init__(
        self,
        sizes,
        activation: str = "sigmoid",
        output_activation: str = "sigmoid",
        cost: str = "quadratic",
        seed: int | None = 0,
        dtype: str = "float32",
    ):
        self._configure(sizes, activation, output_activation, cost, seed, dtype)
        self.weights, self.biases = self._initial_parameters(seed)

    @classmethod
    def from_parameters(cls, config: dict, weights, biases, copy: bool = True) -> "Network":
        """The network ``config`` describes, holding the given weights and biases: no random draw, so it
        allocates only the parameters themselves (checkpoints, copies). ``config`` is ``Network.config``'s
        form (``seed`` and ``dtype`` optional). Raises ValueError for a bad configuration, a shape that
        does not match it, or a NaN/infinity. The parameters are always copied into the network's own
        ``[W | b]`` arrays (``copy`` is kept for callers of earlier versions)."""
        net = cls.__new__(cls)
        net._configure(config["sizes"], config.get("activation", "sigmoid"), config.get("output_activation", "sigmoid"),
                       config.get("cost", "quadratic"), config.get("seed"), config.get("dtype", "float32"))
        net.weights, net.biases = net._checked_parameters(weights, biases, copy)
        return net

    def _configure(self, sizes, activation, output_activation, cost, seed, dtype) -> None:
        """Everything but the parameters: validated configuration, functions and the fused kernels."""
        validate_config(sizes, activation, output_activation, cost, dtype)
        self.sizes = [int(n) for n in sizes]
        self.activation_name = activation
        self.output_activation_name = output_activation
        self.cost_name = cost
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.hidden = get_activation(activation)
        self.output = get_activation(output_activation, output=True)
        self.cost_fn = get_cost(cost, output_activation)
        # Cross-entropy's ∂C0/∂a cancels σ' exactly (softmax or sigmoid): δ = a − y, with no division.
        self._delta_is_a_minus_y = cost == "cross_entropy"
        # sgd_step's fused kernels (None: fall back to backprop + apply_gradients) and its reusable
        # per-batch-size buffers, so that a training step allocates nothing.
        self._kernels = fused_kernels(activation, output_activation, len(self.sizes) - 1)
        self._workspaces: dict = {}

    def __repr__(self) -> str:
        return (f"Network({self.sizes}, {self.activation_name}/{self.output_activation_name}, "
                f"{self.cost_name} cost, {self.dtype.name})")

    # ----- construction -------------------------------------------------------------------
    def _initial_parameters(self, seed):
        """Seeded random weights scaled to the fan-in (He for ReLU-like, Xavier otherwise); zero biases."""
        rng = np.random.default_rng(seed)
        gain = 2.0 if self.activation_name in ("relu", "leaky_relu") else 1.0
        weights, biases = [], []
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            last = l == len(self.sizes) - 2
            scale = np.sqrt((1.0 if last else gain) / n_in)
            # Drawn in float64 so the float32 and float64 networks of one seed start at the same point.
            weights.append(rng.standard_normal((n_out, n_in)) * scale)
            biases.append(np.zeros(n_out))
        return self._store(weights, biases)

    def _store(self, weights, biases) -> tuple[list, list]:
        """Copy the parameters into this network's storage: per layer one Fortran-order array ``[W | b]``
        (kept in ``_params``), of which the returned W and b are views."""
        self._params = []
        self._workspaces.clear()  # the fused step's buffers hold views of the old parameters
        for w, b in zip(weights, biases):
            p = np.empty((w.shape[0], w.shape[1] + 1), dtype=self.dtype, order="F")
            p[:, :-1] = w
            p[:, -1] = b
            self._params.append(p)
        return [p[:, :-1] for p in self._params], [p[:, -1] for p in self._params]

    def __reduce__(self):
        # Pickled as its configuration and parameters (a network sent to a session in a worker process);
        # its activation and cost functions are looked up again by name.
        return (Network.from_parameters, (self.config, self.weights, self.biases))

    @property
    def config(self) -> dict:
        """Everything needed to rebuild this network's shape (not its parameters)."""
        return {
            "sizes": list(self.sizes),
            "activation": self.activation_name,
            "output_activation": self.output_activation_name,
            "cost": self.cost_name,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    @property
    def num_layers(self) -> int:
        return len(self.sizes)

    def activation_for(self, l: int):
        """The activation of the layer that weight matrix l feeds (the last one is the output's)."""
        return self.output if l == len(self.weights) - 1 else self.hidden

    def as_input(self, x) -> np.ndarray:
        """A batch as a C-contiguous (batch, sizes[0]) array of this network's dtype."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"input must have shape (batch, {self.sizes[0]}), got {x.shape}")
        return x

    def _as_target(self, y, batch) -> np.ndarray:
        y = np.asarray(y, dtype=self.dtype)
        if y.ndim == 1:
            y = y[None, :]
        if y.shape != (batch, self.sizes[-1]):
            raise ValueError(f"targets must have shape ({batch}, {self.sizes[-1]}), got {y.shape}")
        return y

    # ----- the lectures' math --------------------------------------------------------------
    def forward(self, x) -> Trace:
        """Feed x forward: z = W a + b, a' = σ(z), layer by layer."""
        a = self.as_input(x)
        zs, activations = [], [a]
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ w.T  # z_j = Σ_k w_jk a_k ...
            z += b  # ... + b_j
            a = self.activation_for(l)(z)
            zs.append(z)
            activations.append(a)
        return Trace(zs, activations)

    def feedforward(self, x) -> np.ndarray:
        """The output layer's activations for a batch."""
        return self.forward(x).activations[-1]

    def cost(self, x, y) -> float:
        """C = (1/n) Σ C0: the mean over the batch of each example's cost."""
        x = self.as_input(x)
        a = self.feedforward(x)
        return float(self.cost_fn.per_example(a, self._as_target(y, len(x))).mean())

    def backprop(self, x, y, input_gradient: bool = True) -> Gradients:
        """∂C/∂w and ∂C/∂b for the batch mean, plus every example's δ and ∂C0/∂a, by the chain rule.

        ``input_gradient=False`` skips ∂C0/∂a of the input layer (pixels cannot be nudged in training).
        """
        x = self.as_input(x)
        n = len(x)
        y = self._as_target(y, n)
        trace = self.forward(x)
        zs, activations = trace.zs, trace.activations
        L = len(self.weights)
        nabla_w: list = [None] * L
        nabla_b: list = [None] * L
        deltas: list = [None] * L
        dC_da: list = [None] * (L + 1)

        a_out = activations[-1]
        dC_da[L] = self.cost_fn.derivative(a_out, y)  # ∂C0/∂a_j of the output layer
        if self._delta_is_a_minus_y:
            delta = a_out - y
        else:
            delta = self.output.backward(zs[-1], a_out, dC_da[L])  # δ_j = σ'(z_j) ∂C0/∂a_j
        for l in range(L - 1, -1, -1):
            deltas[l] = delta
            # ∂C/∂w_jk = mean over examples of a_k(l−1) δ_j ;  ∂C/∂b_j = mean of δ_j
            # (laid out like W, column by column, so that W −= η ∇_W C runs straight through memory)
            nabla_w[l] = np.matmul(delta.T, activations[l], out=np.empty(self.weights[l].shape, self.dtype, order="F"))
            nabla_w[l] *= 1.0 / n
            nabla_b[l] = delta.mean(axis=0)
            if l == 0 and not input_gradient:
                break
            # ∂C0/∂a_k(l−1) = Σ_j w_jk δ_j : the sum over every path out of neuron k
            dC_da[l] = delta @ self.weights[l]
            if l > 0:
                delta = self.hidden.backward(zs[l - 1], activations[l], dC_da[l])
        costs = self.cost_fn.per_example(a_out, y)
        return Gradients(nabla_w, nabla_b, deltas, dC_da, costs, trace)

    def deltas(self, trace: Trace, y) -> list[np.ndarray]:
        """δ = ∂C0/∂z of every layer for the examples ``trace`` fed forward: ``backprop``'s chain rule
        without the weight gradients (what a view of one example needs, at a fraction of the cost)."""
        zs, activations = trace.zs, trace.activations
        y = self._as_target(y, len(activations[0]))
        L = len(self.weights)
        a_out = activations[-1]
        if self._delta_is_a_minus_y:
            delta = a_out - y
        else:
            delta = self.output.backward(zs[-1], a_out, self.cost_fn.derivative(a_out, y))
        deltas: list = [None] * L
        for l in range(L - 1, -1, -1):
            deltas[l] = delta
            if l > 0:
                delta = self.hidden.backward(zs[l - 1], activations[l], delta @ self.weights[l])
        return deltas

    def sgd_step(self, x, y, learning_rate: float) -> float:
        """One mini-batch step W ← W − η ∇C (mean gradient of the batch); returns the batch's cost.

        The same chain rule as ``backprop`` followed by ``apply_gradients``, fused for speed in
        ``fused.py`` (tests check the two agree); falls back to the plain pair where no kernel exists.
        """
        x = self.as_input(x)
        y = self._as_target(y, len(x))
        if self._kernels is None or len(x) == 0:
            grads = self.backprop(x, y, input_gradient=False)
            self.apply_gradients(grads.nabla_w, grads.nabla_b, learning_rate)
            return grads.cost
        return fused_sgd_step(self, x, y, learning_rate)

    @property
    def fused(self) -> bool:
        """Whether ``sgd_step`` runs the fused step (every activation has its in-place kernels)."""
        return self._kernels is not None

    def apply_gradients(self, nabla_w, nabla_b, learning_rate: float) -> None:
        """W ← W − η ∇_W C and b ← b − η ∇_b C, in place."""
        eta = self.dtype.type(learning_rate)
        for w, b, nw, nb in zip(self.weights, self.biases, nabla_w, nabla_b):
            nw *= eta
            w -= nw
            nb *= eta
            b -= nb

    # ----- utilities --------------------------------------------------------------------------
    def predict(self, x) -> np.ndarray:
        """The most active output neuron of each example."""
        return self.feedforward(x).argmax(axis=1)

    def probabilities(self, out) -> list[float]:
        """What the page shows as the probability of each class for output activations ``out``.

        Softmax outputs are a distribution already. Other outputs (sigmoid, tanh, ReLU) are not: each is
        shown as its share of the positive total (uniform when none is positive).
        """
        out = np.asarray(out, dtype=np.float64)
        if self.output_activation_name == "softmax":
            return (out / out.sum()).tolist()
        pos = np.maximum(out, 0)
        return (pos / pos.sum()).tolist() if pos.sum() > 0 else [1 / len(out)] * len(out)

    def parameters(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """A copy of the weights and biases (for undo, checkpoints and divergence recovery)."""
        return [w.copy() for w in self.weights], [b.copy() for b in self.biases]

    def set_parameters(self, weights, biases) -> None:
        """Replace the weights and biases with copies of the given arrays (shapes must match)."""
        self.weights, self.biases = self._checked_parameters(weights, biases)

    def _checked_parameters(self, weights, biases, copy: bool = True) -> tuple[list, list]:  # noqa: ARG002
        """The given parameters as this network's (dtype, W column by column), after checking their count,
        shapes (from ``sizes``) and finiteness; ValueError says which layer is wrong."""
        weights = [np.asarray(w) for w in weights]
        biases = [np.asarray(b) for b in biases]
        n = len(self.sizes) - 1
        if len(weights) != n or len(biases) != n:
            raise ValueError(f"expected {n} weight matrices and bias vectors")
        for l, (w, b) in enumerate(zip(weights, biases)):
            want_w, want_b = (self.sizes[l + 1], self.sizes[l]), (self.sizes[l + 1],)
            if w.shape != want_w or b.shape != want_b:
                raise ValueError(f"layer {l}: weights {w.shape} and biases {b.shape} do not match {want_w} and {want_b}")
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise ValueError(f"layer {l}: weights or biases contain NaN or infinity")
        return self._store(weights, biases)  # always a copy, into the network's own [W | b] arrays

    def is_finite(self) -> bool:
        return all(np.isfinite(w).all() and np.isfinite(b).all() for w, b in zip(self.weights, self.biases))


def one_hot(labels, n: int, dtype="float32") -> np.ndarray:
    """Targets y for ``n`` classes: 1 for the right class, 0 elsewhere."""
    labels = np.asarray(labels)
    y = np.zeros((labels.size, n), dtype=dtype)
    y[np.arange(labels.size), labels.ravel()] = 1
    return y
