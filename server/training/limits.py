"""The live session's limits and defaults, and the checks that enforce them (ValueError with a reason)."""

from __future__ import annotations

import math

DEFAULT_CONFIG = {
    "sizes": [784, 16, 16, 10],
    "activation": "sigmoid",
    "output_activation": "sigmoid",
    "cost": "quadratic",
    "seed": 0,
}
DEFAULT_LEARNING_RATE = 3.0
DEFAULT_BATCH_SIZE = 10

LIMITS = {
    "learning_rate": (0.0, 10.0),  # exclusive lower bound
    "batch_size": (1, 1024),
    "steps_per_second": (0.1, 1000.0),
    "hidden_layers": (0, 4),
    "neurons": (1, 512),
    "seed": (0, 2**31 - 1),
}


def check_learning_rate(value) -> float:
    value = float(value)
    if not (math.isfinite(value) and 0 < value <= LIMITS["learning_rate"][1]):
        raise ValueError(f"learning rate must be > 0 and ≤ {LIMITS['learning_rate'][1]:g}, got {value!r}")
    return value


def check_batch_size(value) -> int:
    lo, hi = LIMITS["batch_size"]
    if isinstance(value, bool) or int(value) != value or not lo <= value <= hi:
        raise ValueError(f"batch size must be a whole number from {lo} to {hi}, got {value!r}")
    return int(value)


def check_speed(value) -> float | None:
    if value is None:
        return None
    lo, hi = LIMITS["steps_per_second"]
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"steps per second must be from {lo:g} to {hi:g} (or null for flat out), got {value!r}")
    return value


def check_fits(sizes) -> None:
    """ValueError unless a network of these sizes can be the live session's (784 in, 10 out, the limits)."""
    if sizes[0] != 784 or sizes[-1] != 10:
        raise ValueError(f"network {list(sizes)} does not fit 784 inputs and 10 outputs")
    hidden = sizes[1:-1]
    (hlo, hhi), (nlo, nhi) = LIMITS["hidden_layers"], LIMITS["neurons"]
    if not hlo <= len(hidden) <= hhi or not all(nlo <= n <= nhi for n in hidden):
        raise ValueError(f"network {list(sizes)} is outside the live session's limits "
                         f"({hlo}–{hhi} hidden layers of {nlo}–{nhi} neurons)")
