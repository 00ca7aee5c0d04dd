"""The live session's limits and defaults, and the checks that enforce them (ValueError with a reason)."""

from __future__ import annotations

import math

from ..engine.datasets import custom, registry

DEFAULT_HIDDEN = [16, 16]
DEFAULT_NETWORK = {"activation": "sigmoid", "output_activation": "sigmoid", "cost": "quadratic", "seed": 0}
DEFAULT_LEARNING_RATE = 3.0
DEFAULT_BATCH_SIZE = 10

LIMITS = {
    "learning_rate": (0.0, 10.0),  # exclusive lower bound
    "batch_size": (1, 1024),
    "steps_per_second": (0.1, 1000.0),
    "hidden_layers": (0, 4),
    "neurons": (1, 512),
    "seed": (0, 2**31 - 1),
    "custom_points": (1, custom.MAX_POINTS),  # points of a custom set
}
# What any dataset offered here can ask of a network (a checkpoint's sizes are checked against these
# before its arrays are read; the exact dataset is checked when it is loaded).
INPUT_SIZES = sorted({s.input_size for s in registry.SPECS.values()})
CLASS_COUNTS = (min(s.class_count[0] for s in registry.SPECS.values()),
                max(s.class_count[1] for s in registry.SPECS.values()))


def default_config(data) -> dict:
    """The network a session starts with on ``data``: two hidden layers of 16, sigmoid, quadratic cost."""
    return {"sizes": [data.input_size, *DEFAULT_HIDDEN, data.n_classes], **DEFAULT_NETWORK}


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


def check_fits(sizes, data=None) -> None:
    """ValueError unless a network of these sizes can be the live session's: within the limits, and with
    the inputs and outputs of ``data`` (one output per class); without ``data``, of some dataset offered."""
    sizes = list(sizes)
    if data is not None:
        if sizes[0] != data.input_size or sizes[-1] != data.n_classes:
            raise ValueError(f"network {sizes} does not fit the {data.name} dataset: it needs {data.input_size} "
                             f"inputs and {data.n_classes} outputs (one per class)")
    elif sizes[0] not in INPUT_SIZES or not CLASS_COUNTS[0] <= sizes[-1] <= CLASS_COUNTS[1]:
        raise ValueError(f"network {sizes} fits no dataset offered here (inputs "
                         f"{' or '.join(map(str, INPUT_SIZES))}, {CLASS_COUNTS[0]}–{CLASS_COUNTS[1]} outputs)")
    hidden = sizes[1:-1]
    (hlo, hhi), (nlo, nhi) = LIMITS["hidden_layers"], LIMITS["neurons"]
    if not hlo <= len(hidden) <= hhi or not all(nlo <= n <= nhi for n in hidden):
        raise ValueError(f"network {list(sizes)} is outside the live session's limits "
                         f"({hlo}–{hhi} hidden layers of {nlo}–{nhi} neurons)")
