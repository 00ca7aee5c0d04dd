"""The slow start ("warm-up"): a first minute a newcomer can watch.

Flat out, the default network passes 90% test accuracy in about a second and a half: over before anyone
has seen the cost fall. While the warm-up is on, the pace is a function of how many mini-batches the
network has trained since the warm-up began: ``START`` mini-batches per second at first, doubling every
``DOUBLING`` mini-batches, until it reaches ``FLAT_OUT``; then training runs flat out and the warm-up is
over. As a function of time that is a pace growing exponentially (the same doubling every
``DOUBLING / START · ln 2`` seconds at the start, faster and faster later), so the whole warm-up takes
``seconds_to(∞) = DOUBLING / (START · ln 2)`` seconds of training.

Pure functions, no state: the session keeps where the warm-up began.
"""

from __future__ import annotations

import math

START = 8.0  # mini-batches per second at the start
DOUBLING = 160  # mini-batches after which the pace has doubled
FLAT_OUT = 1000.0  # from this pace on, flat out (the live limit of steps_per_second)


def pace(done: int) -> float | None:
    """Mini-batches per second after ``done`` mini-batches of warm-up; None = flat out (the warm-up is over)."""
    value = START * 2.0 ** (max(0, done) / DOUBLING)
    return None if value >= FLAT_OUT else round(value, 1)


def length() -> int:
    """Mini-batches the warm-up lasts."""
    return math.ceil(DOUBLING * math.log2(FLAT_OUT / START))


def seconds_to(done: int) -> float:
    """Seconds of training the warm-up takes to reach ``done`` mini-batches (flat out counted as instant)."""
    return sum(1.0 / p for k in range(min(max(0, done), length())) if (p := pace(k)) is not None)
