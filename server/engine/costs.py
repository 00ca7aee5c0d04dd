"""Cost functions of one example, looked up by name; a batch's cost is their mean.

Each cost gives ``per_example(a, y)`` (C0 for every row) and ``derivative(a, y)`` = ∂C0/∂a.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Cost:
    name: str
    per_example: Callable[[np.ndarray, np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _tiny(a):
    return np.finfo(a.dtype).tiny


def _quadratic(a, y):
    """C0 = Σ_j (a_j − y_j)²  (the lectures' cost: no ½)."""
    d = a - y
    return np.einsum("ij,ij->i", d, d)


def _quadratic_derivative(a, y):
    """∂C0/∂a_j = 2 (a_j − y_j)."""
    return 2 * (a - y)


def _cross_entropy(a, y):
    """C0 = −Σ_j y_j ln a_j  (with a softmax output, whose a sum to 1)."""
    return -(y * np.log(np.maximum(a, _tiny(a)))).sum(axis=1)


def _cross_entropy_derivative(a, y):
    """∂C0/∂a_j = −y_j / a_j."""
    return -y / np.maximum(a, _tiny(a))


def _binary_cross_entropy(a, y):
    """C0 = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]  (with independent sigmoid outputs)."""
    t = _tiny(a)
    return -(y * np.log(np.maximum(a, t)) + (1 - y) * np.log(np.maximum(1 - a, t))).sum(axis=1)


def _binary_cross_entropy_derivative(a, y):
    """∂C0/∂a_j = (a_j − y_j) / (a_j (1 − a_j))."""
    return (a - y) / np.maximum(a * (1 - a), _tiny(a))


QUADRATIC = Cost("quadratic", _quadratic, _quadratic_derivative)
CROSS_ENTROPY = Cost("cross_entropy", _cross_entropy, _cross_entropy_derivative)
BINARY_CROSS_ENTROPY = Cost("cross_entropy", _binary_cross_entropy, _binary_cross_entropy_derivative)

COSTS = ("quadratic", "cross_entropy")
# Cross-entropy needs outputs in (0, 1): the categorical form for softmax, the binary one for sigmoid.
CROSS_ENTROPY_OUTPUTS = ("softmax", "sigmoid")


def get_cost(name: str, output_activation: str) -> Cost:
    """Look a cost up by name; cross-entropy picks its form from the output activation."""
    if name == "quadratic":
        return QUADRATIC
    if name == "cross_entropy":
        if output_activation == "softmax":
            return CROSS_ENTROPY
        if output_activation == "sigmoid":
            return BINARY_CROSS_ENTROPY
        raise ValueError(
            f"cross_entropy needs a softmax or sigmoid output layer, not {output_activation!r}"
        )
    raise ValueError(f"unknown cost {name!r}; choose one of: {', '.join(COSTS)}")
