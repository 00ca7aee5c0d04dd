"""A custom set: the user's own points of the plane, ``[[x, y, class], ...]``, at most ``MAX_POINTS``.

Every point trains, and the test set is the training set (with a few hand-placed points there is
nothing worth holding out). The points can be replaced while a network trains on them (the session
swaps them in between two mini-batches). A set whose points all have one class still trains: its
``trivial`` flag says there is nothing to tell apart.
"""

from __future__ import annotations

import math

import numpy as np

from .base import PLANE_EXTENT, Dataset
from .options import FIELD, Option

MAX_POINTS = 500
CLASSES = Option("classes", "int", 2, 2, 5, "number of classes (one output neuron each)")
POINTS = Option("points", "points", None, 1, MAX_POINTS,
                f"[[x, y, class], ...]: 1 to {MAX_POINTS} points with x and y in [-1, 1] (omitted: a starter "
                "set of 8 points)")
SPECS = (CLASSES, POINTS)
# The set a custom dataset starts with when no points are given: two groups of four.
STARTER = [[-0.5, 0.4, 0], [-0.6, 0.1, 0], [-0.3, 0.2, 0], [-0.45, -0.2, 0],
           [0.5, -0.4, 1], [0.6, -0.1, 1], [0.3, -0.2, 1], [0.45, 0.2, 1]]
TITLE = "Your own points"


def class_names(classes: int | None = None) -> tuple:
    return tuple(f"class {i + 1}" for i in range(classes or CLASSES.default))


def check_points(points, classes: int, field: str = f"{FIELD}.points") -> tuple[np.ndarray, np.ndarray, list]:
    """(inputs float32 (N, 2), labels uint8, the points as given: [[x, y, class], ...]) from
    ``[[x, y, class], ...]``; ValueError naming the field."""
    if not isinstance(points, (list, tuple)):
        raise ValueError(f"{field}: must be a list of [x, y, class] points")
    if not points:
        raise ValueError(f"{field}: a custom set needs at least 1 point")
    if len(points) > MAX_POINTS:
        raise ValueError(f"{field}: at most {MAX_POINTS} points, got {len(points)}")
    xy = np.empty((len(points), 2), np.float32)
    labels = np.empty(len(points), np.uint8)
    clean = []
    for i, p in enumerate(points):
        if not isinstance(p, (list, tuple)) or len(p) != 3:
            raise ValueError(f"{field}[{i}]: a point is [x, y, class], got {p!r}")
        x, y, c = p
        for name, v in (("x", x), ("y", y)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or abs(v) > PLANE_EXTENT:
                raise ValueError(f"{field}[{i}]: {name} must be a number from {-PLANE_EXTENT:g} to "
                                 f"{PLANE_EXTENT:g}, got {v!r}")
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < classes:
            raise ValueError(f"{field}[{i}]: the class must be a whole number from 0 to {classes - 1} "
                             f"({classes} classes), got {c!r}")
        xy[i] = (x, y)
        labels[i] = c
        clean.append([float(x), float(y), c])
    return xy, labels, clean


def make(options: dict) -> Dataset:
    """The custom set for checked options (``classes``; ``points`` or None for the starter set)."""
    classes = options["classes"]
    points = options.get("points")
    xy, labels, clean = check_points(STARTER if points is None else points, classes)
    return Dataset(train_inputs=xy, train_labels=labels, test_inputs=xy, test_labels=labels, name="custom",
                   kind="plane", shape=(2,), class_names=class_names(classes),
                   options={"classes": classes, "points": clean},
                   source=f"{len(xy)} points placed by hand", title=TITLE)


def replace_points(data: Dataset, points, field: str = "points") -> Dataset:
    """The custom set ``data`` with new points (same class count); ValueError naming ``field``."""
    xy, labels, clean = check_points(points, data.n_classes, field)
    return data.with_training_set(xy, labels, {"classes": data.n_classes, "points": clean})
