"""The IDX file format (MNIST's four-file layout): read, checked by MD5, kept as uint8.

``load_idx_dataset`` reads any image dataset in that layout: MNIST and Fashion-MNIST (``images.py``), or a
folder given on the command line.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

from .base import DataError, Dataset

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_UBYTE = 0x08


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


def load_idx_file(folder: Path, name: str, expected_md5: str | None) -> np.ndarray:
    raw, path = _read_bytes(folder, name)
    if expected_md5 is not None:
        md5 = hashlib.md5(raw).hexdigest()
        if md5 != expected_md5:
            raise DataError(f"{path}: corrupt (MD5 of the decompressed file is {md5}, expected {expected_md5})")
    return parse_idx(raw, path)


def load_idx_dataset(folder: str | Path, md5: dict[str, str] | None = None, *, name: str, class_names,
                     title: str = "", shape: tuple | None = None, labels_are: str = "classes") -> Dataset:
    """The four IDX files in ``folder`` as an image dataset called ``name``.

    ``md5`` maps file names to the MD5 of the decompressed file (a mismatch is refused, naming the
    file); without it a folder's ``MD5SUMS`` file is used if there is one. ``shape``, when given, is the
    image shape the files must have. Labels must be below ``len(class_names)``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such data folder")
    if md5 is None:
        md5 = md5sums_in(folder)
    arrays = {key: load_idx_file(folder, file, md5.get(file)) for key, file in FILES.items()}
    n_classes = len(class_names)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
        if shape is not None and images.shape[1:] != tuple(shape):
            raise DataError(f"{folder}: {split} images are {images.shape[1:]}, expected {'×'.join(map(str, shape))}")
        if images.shape[1:] != arrays["train_images"].shape[1:]:
            raise DataError(f"{folder}: train and test images differ in size")
        if labels.max(initial=0) >= n_classes:
            raise DataError(f"{folder}: {split} labels must be {labels_are} 0–{n_classes - 1}")
    image_shape = arrays["train_images"].shape[1:]
    size = int(np.prod(image_shape))
    return Dataset(
        train_inputs=arrays["train_images"].reshape(-1, size),
        train_labels=arrays["train_labels"],
        test_inputs=arrays["test_images"].reshape(-1, size),
        test_labels=arrays["test_labels"],
        name=name, kind="image", shape=image_shape, class_names=class_names, title=title or name,
        source=str(folder),
    )


def md5sums_in(folder: Path) -> dict[str, str]:
    """The checksums of a folder's MD5SUMS file (file name → MD5), or {} when it has none."""
    sums = folder / "MD5SUMS"
    if sums.is_file():
        table = {}
        for line in sums.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                table[parts[1].lstrip("*")] = parts[0].lower()
        return table
    return {}
