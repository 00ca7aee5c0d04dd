"""A dataset, whatever it holds: inputs and labels of a training and a test set, and what they mean.

Three kinds exist. ``image``: each input is a picture of ``shape`` (e.g. rows × columns) kept as uint8 pixels and
turned into floats in 0..1 one mini-batch at a time. ``plane``: each input is a point (x, y) of the
plane, float32, in about [-1, 1]². ``scalar``: each input is one number x, float32 (the lecture notes'
simple example, ``simple.py``). Everything else (the input size, the class names, the sizes of
the two sets) is read from the dataset; nothing downstream assumes a particular one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

KINDS = ("image", "plane", "scalar")
PLANE_EXTENT = 1.0  # plane inputs live in about [-PLANE_EXTENT, PLANE_EXTENT]²
PLANE_INPUT_NAMES = ("x₁", "x₂")  # a point's two coordinates, as the page names the two inputs


class DataError(ValueError):
    """A dataset is missing, corrupt, not offered here, or asked for with bad options."""


def as_inputs(raw: np.ndarray, dtype=np.float32, out: np.ndarray | None = None) -> np.ndarray:
    """Stored inputs → the network's floats: uint8 pixels become 0..1, floats are copied as they are
    (into ``out`` when given, to avoid reallocating)."""
    if raw.dtype == np.uint8:
        return np.multiply(raw, np.asarray(1 / 255, dtype=dtype), out=out, dtype=dtype)
    if out is None:
        return raw.astype(dtype, copy=True)
    np.copyto(out, raw, casting="same_kind")
    return out


@dataclass(eq=False)
class Dataset:
    """Inputs as rows (one example per row: uint8 pixels for images, float32 points or numbers) and
    labels as uint8 class indices, for a training and a test set."""

    train_inputs: np.ndarray
    train_labels: np.ndarray
    test_inputs: np.ndarray
    test_labels: np.ndarray
    name: str
    kind: str
    shape: tuple
    class_names: tuple
    options: dict = field(default_factory=dict)  # the options it was made with (JSON-ready)
    source: str = ""
    title: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"dataset kind must be one of {KINDS}, got {self.kind!r}")
        self.shape = tuple(int(n) for n in self.shape)
        self.class_names = tuple(self.class_names)
        for split in ("train", "test"):
            x, y = getattr(self, f"{split}_inputs"), getattr(self, f"{split}_labels")
            if x.ndim != 2 or x.shape[1] != self.input_size or y.shape != (len(x),):
                raise ValueError(f"{self.name}: {split} inputs {x.shape} and labels {y.shape} do not fit "
                                 f"{self.input_size} inputs per example")
            if len(y) and int(y.max()) >= self.n_classes:
                raise ValueError(f"{self.name}: a {split} label is {int(y.max())}, but there are only "
                                 f"{self.n_classes} classes")
        if not self.title:
            self.title = self.name

    # ----- what it is ----------------------------------------------------------------------------
    @property
    def input_size(self) -> int:
        return math.prod(self.shape)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def train_size(self) -> int:
        return len(self.train_labels)

    @property
    def test_size(self) -> int:
        return len(self.test_labels)

    @property
    def trivial(self) -> bool:
        """Every training example has the same class of several: the network has nothing to tell apart.
        A dataset of one class by design (the notes' simple example) is not trivial: it is meant so."""
        return self.n_classes > 1 and len(np.unique(self.train_labels)) <= 1

    # The names the image code has always used.
    @property
    def train_images(self) -> np.ndarray:
        return self.train_inputs

    @property
    def test_images(self) -> np.ndarray:
        return self.test_inputs

    @property
    def image_shape(self) -> tuple:
        return self.shape

    # ----- reading ---------------------------------------------------------------------------------
    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, labels) of ``"train"`` or ``"test"``."""
        if which == "train":
            return self.train_inputs, self.train_labels
        if which == "test":
            return self.test_inputs, self.test_labels
        raise ValueError(f"split must be train or test, got {which!r}")

    def inputs(self, raw: np.ndarray, dtype=np.float32) -> np.ndarray:
        """Stored inputs (a row or rows of this dataset) as the network's floats."""
        return as_inputs(np.asarray(raw), dtype)

    def example(self, which: str, index: int, dtype=np.float32) -> tuple[np.ndarray, int]:
        """One example's network input and its label."""
        x, y = self.split(which)
        return as_inputs(x[index], dtype), int(y[index])

    def subset(self, n_train: int, n_test: int) -> "Dataset":
        """The first ``n_train`` training and ``n_test`` test examples, the same kind of dataset."""
        return replace(self, train_inputs=self.train_inputs[:n_train], train_labels=self.train_labels[:n_train],
                       test_inputs=self.test_inputs[:n_test], test_labels=self.test_labels[:n_test],
                       source=f"{self.source} (first {n_train} and {n_test})")

    def with_training_set(self, inputs: np.ndarray, labels: np.ndarray, options: dict) -> "Dataset":
        """The same dataset with new points (a custom set edited live); the test set is the training set."""
        return replace(self, train_inputs=inputs, train_labels=labels, test_inputs=inputs, test_labels=labels,
                       options=options)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, {self.kind} {self.shape}, {self.n_classes} classes, "
                f"{self.train_size} train / {self.test_size} test)")
