"""A dataset's options (noise, points, class count, ...): their limits, defaults and checks.

Every refusal is a ValueError whose text starts with the field it is about, as the protocol reports
it: ``dataset_options.noise: must be from 0 to 1, got -0.5``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FIELD = "dataset_options"


@dataclass(frozen=True)
class Option:
    name: str
    type: str  # "int" | "float" | "points"
    default: object
    min: float | None = None
    max: float | None = None
    help: str = ""

    def check(self, value):
        where = f"{FIELD}.{self.name}"
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where}: must be a whole number, got {value!r}")
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{where}: must be a finite number, got {value!r}")
            value = float(value)
        else:
            return value  # points: checked by their dataset (custom.py), which knows the class count
        lo, hi = self.min, self.max
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"{where}: must be from {_num(lo)} to {_num(hi)}, got {_num(value)}")
        return value

    def describe(self) -> dict:
        return {"name": self.name, "type": self.type, "default": self.default, "min": self.min, "max": self.max,
                "help": self.help}


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def check_options(dataset: str, specs: tuple, given, fixed: dict | None = None) -> dict:
    """``given`` (a dict, or None for every default) checked against ``specs``: every option filled in.

    ``fixed`` names options this dataset does not let you choose (e.g. ``{"classes": 2}`` for xor):
    asking for another value says so.
    """
    given = {} if given is None else given
    if not isinstance(given, dict):
        raise ValueError(f"{FIELD}: must be an object of options, got {type(given).__name__}")
    by_name = {s.name: s for s in specs}
    out = {}
    for key, value in given.items():
        if key in by_name:
            continue
        if fixed and key in fixed:
            if value == fixed[key] and not isinstance(value, bool):
                continue
            raise ValueError(f"{FIELD}.{key}: {dataset} always has {key} = {fixed[key]}, got {value!r}")
        offered = ", ".join(by_name) or "none"
        raise ValueError(f"{FIELD}.{key}: {dataset} has no option {key!r} (its options: {offered})")
    for spec in specs:
        out[spec.name] = spec.check(given[spec.name]) if spec.name in given else spec.default
    return out
