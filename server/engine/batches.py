"""Mini-batches and evaluation: the pieces of a training loop shared by the CLI and the live session."""

from __future__ import annotations

import numpy as np

from .data import to_float
from .network import Network


class BatchStream:
    """Shuffled mini-batches of one epoch after another, as reusable float buffers (no per-step allocation)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, dtype, seed=None, n_out=10):
        self.images, self.labels = images, labels
        self.rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.n_out = n_out
        self._eye = np.eye(n_out, dtype=self.dtype)  # row d is the one-hot target of digit d
        self.epoch = 0
        self.position = 0  # index into the current epoch's order
        self.order = self.rng.permutation(len(images))
        self.set_batch_size(batch_size)

    def set_batch_size(self, batch_size: int) -> None:
        self.batch_size = int(batch_size)
        self._x = np.empty((self.batch_size, self.images.shape[1]), dtype=self.dtype)
        self._y = np.zeros((self.batch_size, self.n_out), dtype=self.dtype)
        self._u8 = np.empty((self.batch_size, self.images.shape[1]), dtype=np.uint8)

    @property
    def epoch_fraction(self) -> float:
        return self.position / len(self.order)

    def next(self, size: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """The next (x, y, indices, epoch_ended). The epoch's last batch may be short; then a new shuffle."""
        size = self.batch_size if size is None else size
        idx = self.order[self.position : self.position + size]
        self.position += len(idx)
        n = len(idx)
        if n == self.batch_size:
            x, y, u8 = self._x, self._y, self._u8
        else:
            x = np.empty((n, self.images.shape[1]), dtype=self.dtype)
            y = np.zeros((n, self.n_out), dtype=self.dtype)
            u8 = np.empty((n, self.images.shape[1]), dtype=np.uint8)
        np.take(self.images, idx, axis=0, out=u8)
        to_float(u8, self.dtype, out=x)
        np.take(self._eye, self.labels[idx], axis=0, out=y)  # y = 1 for the right digit, 0 elsewhere
        ended = self.position >= len(self.order)
        if ended:
            self.epoch += 1
            self.position = 0
            self.order = self.rng.permutation(len(self.images))
        return x, y, idx, ended


def evaluate(net: Network, images: np.ndarray, labels: np.ndarray, chunk: int = 5000) -> float:
    """Fraction of images whose most active output neuron is the right digit."""
    correct = 0
    for start in range(0, len(images), chunk):
        x = to_float(images[start : start + chunk], net.dtype)
        correct += int((net.predict(x) == labels[start : start + chunk]).sum())
    return correct / max(len(images), 1)

