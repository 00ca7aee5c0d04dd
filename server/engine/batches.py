"""Mini-batches and evaluation: the pieces of a training loop shared by the CLI and the live session.

Any dataset works: the inputs are rows (uint8 pixels, turned into 0..1 one batch at a time, or float
points, used as they are) and the labels are class indices below ``n_out``.
"""

from __future__ import annotations

import numpy as np

from .datasets.base import Dataset, as_inputs
from .network import Network


class BatchStream:
    """Shuffled mini-batches of one epoch after another, as reusable float buffers (no per-step allocation).

    Float inputs (the plane's points) are put in the epoch's order once per epoch, so each mini-batch
    is a slice of that copy; uint8 pixels are gathered and converted one mini-batch at a time.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, dtype, seed=None,
                 n_out: int | None = None):
        if len(images) == 0:
            raise ValueError("a dataset with no training examples cannot be trained on")
        self.images, self.labels = images, labels
        self.rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.n_out = int(labels.max()) + 1 if n_out is None else int(n_out)
        self._eye = np.eye(self.n_out, dtype=self.dtype)  # row c is the one-hot target of class c
        self._pixels = images.dtype == np.uint8
        self.epoch = 0
        self.position = 0  # index into the current epoch's order
        self._shuffle()
        self.set_batch_size(batch_size)

    @classmethod
    def for_dataset(cls, data: Dataset, batch_size: int, dtype, seed=None) -> "BatchStream":
        return cls(data.train_inputs, data.train_labels, batch_size, dtype, seed=seed, n_out=data.n_classes)

    def _shuffle(self) -> None:
        self.order = self.rng.permutation(len(self.images))
        self._epoch_labels = self.labels[self.order]
        if not self._pixels:  # small float inputs: the whole epoch in order, so a batch is a slice
            self._epoch_x = as_inputs(self.images[self.order], self.dtype)
            self._epoch_y = self._eye[self._epoch_labels]

    def set_batch_size(self, batch_size: int) -> None:
        self.batch_size = int(batch_size)
        width = self.images.shape[1]
        self._x = np.empty((self.batch_size, width), dtype=self.dtype)
        self._y = np.zeros((self.batch_size, self.n_out), dtype=self.dtype)
        self._u8 = np.empty((self.batch_size, width), dtype=np.uint8)

    @property
    def epoch_fraction(self) -> float:
        return self.position / len(self.order)

    def next(self, size: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """The next (x, y, indices, epoch_ended). The epoch's last batch may be short; then a new shuffle.

        x and y are only valid until the next call (they are reused buffers or slices of this epoch)."""
        size = self.batch_size if size is None else size
        start = self.position
        stop = start + size
        idx = self.order[start:stop]
        n = len(idx)
        self.position = start + n
        if not self._pixels:
            x, y = self._epoch_x[start:stop], self._epoch_y[start:stop]
        else:
            if n == self.batch_size:
                x, y, u8 = self._x, self._y, self._u8
            else:
                x = np.empty((n, self.images.shape[1]), dtype=self.dtype)
                y = np.zeros((n, self.n_out), dtype=self.dtype)
                u8 = np.empty((n, self.images.shape[1]), dtype=np.uint8)
            np.take(self.images, idx, axis=0, out=u8)
            as_inputs(u8, self.dtype, out=x)
            np.take(self._eye, self._epoch_labels[start:stop], axis=0, out=y)  # 1 for the right class, 0 elsewhere
        ended = self.position >= len(self.order)
        if ended:
            self.epoch += 1
            self.position = 0
            self._shuffle()
        return x, y, idx, ended


def evaluate(net: Network, inputs: np.ndarray, labels: np.ndarray, chunk: int = 5000) -> float:
    """Fraction of examples whose most active output neuron is the right class."""
    correct = 0
    for start in range(0, len(inputs), chunk):
        x = as_inputs(inputs[start : start + chunk], net.dtype)
        correct += int((net.predict(x) == labels[start : start + chunk]).sum())
    return correct / max(len(inputs), 1)


def evaluate_dataset(net: Network, data: Dataset) -> float:
    """Test accuracy of ``net`` on ``data``."""
    return evaluate(net, data.test_inputs, data.test_labels)
