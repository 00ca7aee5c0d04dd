"""Toy datasets of the plane: points (x, y) in about [-1, 1]², each of one of 2–5 classes.

Each is seeded (the same options give the same points), vectorised (1,000 points in well under a
millisecond) and has the same options: ``noise`` (the standard deviation of a Gaussian jitter added
to each coordinate *after* the point's class was chosen, so noise blurs the boundary), ``points``
(training + test), ``test_fraction``, ``seed``, and ``classes`` where a class count makes sense.

- ``circle``: a disk (r < 0.5) inside a ring (0.7 < r < 1). 2 classes. Needs a closed boundary.
- ``xor``: the class is the sign of x·y. 2 classes. Needs two lines combined.
- ``gauss``: 2–5 round blobs around the origin. Linearly separable (the easy one).
- ``spiral``: 2–5 arms winding 1.5 turns round the origin. Needs many bends.
- ``checkerboard``: a 4×4 board of squares 0.5 wide, square (i, j) of class (i + j) mod C; 2–5
  classes. Each class is several disjoint squares, so no smooth blob of any size separates them:
  the network needs a boundary along every edge of the board.
"""

from __future__ import annotations

import numpy as np

from .base import Dataset
from .options import Option

SPIRAL_TURNS = 1.5
GAUSS_RADIUS, GAUSS_SPREAD = 0.6, 0.12
BOARD_CELLS = 4

NOISE = Option("noise", "float", 0.05, 0.0, 1.0,
               "standard deviation of the jitter added to each coordinate after the class is chosen")
POINTS = Option("points", "int", 1000, 20, 10000, "training and test points together")
TEST_FRACTION = Option("test_fraction", "float", 0.2, 0.05, 0.9, "the share of the points held out for testing")
SEED = Option("seed", "int", 0, 0, 2**31 - 1, "the same seed and options give the same points")
CLASSES = Option("classes", "int", 2, 2, 5, "number of classes (one output neuron each)")


def _balanced_labels(rng, n: int, classes: int) -> np.ndarray:
    return rng.permutation(np.arange(n) % classes).astype(np.uint8)


def _polar(r, theta) -> np.ndarray:
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def circle(rng, n: int, classes: int):
    labels = _balanced_labels(rng, n, 2)
    u = rng.random(n)
    # uniform over the area of each region: a disk of radius 0.5, a ring from 0.7 to 1
    r = np.where(labels == 0, 0.5 * np.sqrt(u), np.sqrt(0.49 + 0.51 * u))
    return _polar(r, rng.random(n) * 2 * np.pi), labels


def xor(rng, n: int, classes: int):
    labels = _balanced_labels(rng, n, 2)
    m = 0.05 + 0.95 * rng.random((n, 2))  # kept 0.05 off the axes, where the class flips
    sx = rng.choice(np.array([-1.0, 1.0]), n)
    sy = np.where(labels == 0, sx, -sx)  # class 0: x·y > 0; class 1: x·y < 0
    return m * np.stack([sx, sy], axis=1), labels


def gauss(rng, n: int, classes: int):
    labels = _balanced_labels(rng, n, classes)
    angles = np.pi / 4 + 2 * np.pi * np.arange(classes) / classes
    centres = GAUSS_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return centres[labels] + GAUSS_SPREAD * rng.standard_normal((n, 2)), labels


def spiral(rng, n: int, classes: int):
    labels = _balanced_labels(rng, n, classes)
    t = rng.random(n)
    theta = 2 * np.pi * (SPIRAL_TURNS * t + labels / classes)
    return _polar(0.05 + 0.95 * t, theta), labels


def checkerboard(rng, n: int, classes: int):
    xy = rng.uniform(-1.0, 1.0, (n, 2))
    cell = np.minimum(((xy + 1.0) * (BOARD_CELLS / 2)).astype(np.int64), BOARD_CELLS - 1)
    return xy, ((cell[:, 0] + cell[:, 1]) % classes).astype(np.uint8)


def _numbered(word: str):
    return lambda classes: tuple(f"{word} {i + 1}" for i in range(classes))


# name → (title, generator, class names for a class count, whether the class count is chosen)
GENERATORS = {
    "circle": ("Circle", circle, lambda c: ("inside", "outside"), False),
    "xor": ("XOR", xor, lambda c: ("x·y > 0", "x·y < 0"), False),
    "gauss": ("Gaussian blobs", gauss, _numbered("blob"), True),
    "spiral": ("Spiral", spiral, _numbered("arm"), True),
    "checkerboard": ("Checkerboard", checkerboard, _numbered("colour"), True),
}


def option_specs(name: str) -> tuple:
    chosen = GENERATORS[name][3]
    return (NOISE, POINTS, TEST_FRACTION, *((CLASSES,) if chosen else ()), SEED)


def class_names(name: str, classes: int | None = None) -> tuple:
    return GENERATORS[name][2](classes or CLASSES.default)


def generate(name: str, options: dict) -> Dataset:
    """The dataset ``name`` for checked ``options`` (every option present: see ``options.check_options``)."""
    title, make, names, chosen = GENERATORS[name]
    classes = options["classes"] if chosen else 2
    n = options["points"]
    rng = np.random.default_rng(options["seed"])
    xy, labels = make(rng, n, classes)
    if options["noise"] > 0:
        xy = xy + options["noise"] * rng.standard_normal((n, 2))
    xy = xy.astype(np.float32)
    n_test = min(max(1, round(n * options["test_fraction"])), n - 1)
    return Dataset(
        train_inputs=xy[n_test:], train_labels=labels[n_test:], test_inputs=xy[:n_test], test_labels=labels[:n_test],
        name=name, kind="plane", shape=(2,), class_names=names(classes), options=dict(options),
        source=f"generated ({name}, seed {options['seed']})", title=title,
    )
