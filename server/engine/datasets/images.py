"""The image datasets: MNIST (bundled with the project) and Fashion-MNIST (Debian's package).

Both are 28×28 grey images of ten classes in the IDX layout, verified against the MD5 of each
decompressed file. This is the only place that knows their sizes and class names.
"""

from __future__ import annotations

from pathlib import Path

from .base import DataError, Dataset
from .idx import FILES, load_idx_dataset, md5sums_in

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "mnist"
# MD5 of the *decompressed* canonical MNIST files, as published with the dataset.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
DIGITS = tuple(str(d) for d in range(10))
IMAGE_SHAPE = (28, 28)

# Debian's dataset-fashion-mnist installs the four files here (never copied into this project).
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_PACKAGE = "dataset-fashion-mnist"
# MD5 of the decompressed files of that package (the same bytes as Zalando's release).
FASHION_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")

# name → (title, class names)
IMAGE_DATASETS = {
    "mnist": ("MNIST digits", DIGITS),
    "fashion-mnist": ("Fashion-MNIST clothes", FASHION_CLASSES),
}


def load_mnist(data_dir: str | Path | None = None, md5: dict[str, str] | None = None) -> Dataset:
    """MNIST: the four IDX files from ``data_dir`` (default: the copy shipped with the project).

    The MNIST checksums are verified for the default folder; for another folder pass ``md5``
    (file name → MD5 of the decompressed file), or a folder that holds an ``MD5SUMS`` file.
    Other folders without checksums are still checked for the IDX layout and consistent sizes.
    Whatever the folder, the dataset is called ``mnist``: 28×28 images of the digits 0–9.
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if md5 is None:
        md5 = MNIST_MD5 if folder.resolve() == DEFAULT_DATA_DIR.resolve() else md5sums_in(folder)
    return load_idx_dataset(folder, md5, name="mnist", class_names=DIGITS, title=IMAGE_DATASETS["mnist"][0],
                            shape=IMAGE_SHAPE, labels_are="digits")


def load_fashion(folder: str | Path | None = None) -> Dataset:
    """Fashion-MNIST from Debian's package folder (or ``folder``), every file checked against its MD5.

    A missing or corrupt file raises DataError saying which file and why (and which package installs it).
    """
    folder = Path(folder) if folder is not None else FASHION_DIR
    if not folder.is_dir():
        raise DataError(f"fashion-mnist is not installed: {folder} does not exist (install Debian's "
                        f"{FASHION_PACKAGE} package)")
    for file in FILES.values():
        if not (folder / f"{file}.gz").is_file() and not (folder / file).is_file():
            raise DataError(f"fashion-mnist is not installed completely: {folder / file}.gz is missing "
                            f"(reinstall Debian's {FASHION_PACKAGE} package)")
    try:
        return load_idx_dataset(folder, FASHION_MD5, name="fashion-mnist", class_names=FASHION_CLASSES,
                                title=IMAGE_DATASETS["fashion-mnist"][0], shape=IMAGE_SHAPE)
    except DataError as e:
        raise DataError(f"fashion-mnist cannot be used: {e}") from None
