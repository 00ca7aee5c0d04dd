"""MNIST and the IDX reader, under the names the rest of the code and the tests have always used.

The code lives in ``datasets/``: ``idx.py`` reads the IDX layout, ``images.py`` knows MNIST (the copy
bundled with the project, its checksums, its ten digits) and Fashion-MNIST.
"""

from __future__ import annotations

import numpy as np

from .datasets.base import DataError, Dataset, as_inputs  # noqa: F401
from .datasets.idx import FILES, IDX_UBYTE, load_idx_dataset, load_idx_file, md5sums_in, parse_idx  # noqa: F401
from .datasets.images import DEFAULT_DATA_DIR, DIGITS, MNIST_MD5  # noqa: F401
from .datasets.images import load_mnist as load_dataset  # noqa: F401


def to_float(images: np.ndarray, dtype=np.float32, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels 0..255 → floats in [0, 1] (into ``out`` when given, to avoid reallocating)."""
    return as_inputs(images, dtype, out)
