"""MNIST (or any dataset in the same four-file IDX layout), checked by MD5 and kept as uint8."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "mnist"

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# MD5 of the *decompressed* canonical MNIST files, as published with the dataset.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
IDX_UBYTE = 0x08


class DataError(Exception):
    """A dataset file is missing, corrupt or not in the IDX layout."""


def _read_bytes(folder: Path, name: str) -> tuple[bytes, Path]:
    """The decompressed bytes of ``name`` (from ``name.gz`` or a plain ``name``)."""
    for path, opener in ((folder / f"{name}.gz", gzip.open), (folder / name, open)):
        if path.is_file():
            try:
                with opener(path, "rb") as f:
                    return f.read(), path
            except (OSError, EOFError) as e:
                raise DataError(f"{path}: cannot be read ({e})") from None
    raise DataError(f"{folder / name}.gz is missing (nor is there an uncompressed {name})")


def parse_idx(raw: bytes, path) -> np.ndarray:
    """An IDX file of unsigned bytes: magic 0x0000 08 ndim, ndim big-endian sizes, then the data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != IDX_UBYTE or not 1 <= raw[3] <= 3:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != int(np.prod(shape)):
        raise DataError(f"{path}: header says {shape} = {int(np.prod(shape))} bytes, file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


@dataclass
class Dataset:
    """Images as uint8 rows of 784 pixels, labels as uint8 digits."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str

    @property
    def image_shape(self) -> tuple[int, int]:
        return (28, 28)


def load_idx_file(folder: Path, name: str, expected_md5: str | None) -> np.ndarray:
    raw, path = _read_bytes(folder, name)
    if expected_md5 is not None:
        md5 = hashlib.md5(raw).hexdigest()
        if md5 != expected_md5:
            raise DataError(f"{path}: corrupt (MD5 of the decompressed file is {md5}, expected {expected_md5})")
    return parse_idx(raw, path)


def load_dataset(data_dir: str | Path | None = None, md5: dict[str, str] | None = None) -> Dataset:
    """Load the four IDX files from ``data_dir`` (default: the MNIST copy shipped with the project).

    The MNIST checksums are verified for the default folder; for another folder pass ``md5``
    (file name → MD5 of the decompressed file), or a folder that holds an ``MD5SUMS`` file.
    Other folders without checksums are still checked for the IDX layout and consistent sizes.
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if not folder.is_dir():
        raise DataError(f"{folder}: no such data folder")
    if md5 is None:
        md5 = _md5_for(folder)
    arrays = {key: load_idx_file(folder, name, md5.get(name)) for key, name in FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
        if images.shape[1:] != (28, 28):
            raise DataError(f"{folder}: {split} images are {images.shape[1:]}, expected 28×28")
        if labels.max(initial=0) > 9:
            raise DataError(f"{folder}: {split} labels must be digits 0–9")
    return Dataset(
        train_images=arrays["train_images"].reshape(-1, 784),
        train_labels=arrays["train_labels"],
        test_images=arrays["test_images"].reshape(-1, 784),
        test_labels=arrays["test_labels"],
        source=str(folder),
    )


def _md5_for(folder: Path) -> dict[str, str]:
    if folder.resolve() == DEFAULT_DATA_DIR.resolve():
        return MNIST_MD5
    sums = folder / "MD5SUMS"
    if sums.is_file():
        table = {}
        for line in sums.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                table[parts[1].lstrip("*")] = parts[0].lower()
        return table
    return {}


def to_float(images: np.ndarray, dtype=np.float32, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels 0..255 → floats in [0, 1] (into ``out`` when given, to avoid reallocating)."""
    return np.multiply(images, np.asarray(1 / 255, dtype=dtype), out=out, dtype=dtype)
