"""The lecture notes' simple example: one training example for a network of one neuron per layer.

The notes open the calculus with "a simple network", a chain of single neurons, where every derivative
is one number: ``a⁽ᴸ⁾ = σ(w⁽ᴸ⁾ a⁽ᴸ⁻¹⁾ + b⁽ᴸ⁾)`` and ``C₀ = (a⁽ᴸ⁾ − y)²`` for *one* training example with
target y. This dataset is that example and nothing else:

- one input, the number ``x`` (option ``x``, default 1): kind ``scalar``, so a network on it has one
  input neuron;
- one class, so the network has one output neuron and its target is y = 1 (the one-hot vector of the
  only class) — the lectures' example wants exactly that output, 1.00;
- the training set is that one example, and the test set is the same example (there is nothing to hold
  out). Accuracy is then 100% whatever the weights; the cost C₀ is what moves.

With hidden layers ``[1, 1]`` the network is ``[1, 1, 1, 1]``, the notes' chain x → a⁽¹⁾ → a⁽²⁾ → a⁽³⁾.
"""

from __future__ import annotations

import numpy as np

from .base import Dataset
from .options import Option

NAME = "simple"
TITLE = "The notes' simple example (one input x, target y = 1)"
CLASS_NAMES = ("y = 1",)
INPUT_NAMES = ("x",)  # what the page calls the one input
X = Option("x", "float", 1.0, -1.0, 1.0, "the one training example's input a⁽⁰⁾ = x (its target is y = 1)")
SPECS = (X,)


def class_names(options: dict | None = None) -> tuple:
    return CLASS_NAMES


def make(options: dict) -> Dataset:
    """The one example ``x`` (checked options: see ``options.check_options``), as training and test set."""
    x = np.array([[options["x"]]], dtype=np.float32)
    labels = np.zeros(1, dtype=np.uint8)
    return Dataset(
        train_inputs=x, train_labels=labels, test_inputs=x.copy(), test_labels=labels.copy(),
        name=NAME, kind="scalar", shape=(1,), class_names=CLASS_NAMES, options=dict(options),
        source=f"the lecture notes' simple example (x = {options['x']:g}, y = 1)", title=TITLE,
    )
