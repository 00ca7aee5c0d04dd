"""The MNIST loader: the bundled copy, checksums, missing and malformed files, other IDX datasets."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from conftest import idx_bytes, tiny_arrays, write_idx_dataset
from server.engine.data import DEFAULT_DATA_DIR, FILES, MNIST_MD5, DataError, load_dataset, to_float

# The class counts documented in server/data/mnist/README.md.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_bundled_mnist_has_the_documented_shapes_and_classes(mnist):
    assert mnist.train_images.shape == (60000, 784) and mnist.test_images.shape == (10000, 784)
    assert mnist.train_labels.shape == (60000,) and mnist.test_labels.shape == (10000,)
    for array in (mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels):
        assert array.dtype == np.uint8
    assert np.bincount(mnist.train_labels, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.test_labels, minlength=10).tolist() == TEST_COUNTS
    assert mnist.train_images.max() == 255 and mnist.train_images.min() == 0
    assert mnist.image_shape == (28, 28)
    pixels = to_float(mnist.test_images[:5])
    assert pixels.dtype == np.float32 and 0 <= pixels.min() and pixels.max() == 1.0


def mnist_copy(folder, corrupt: str | None = None):
    """The bundled files linked into ``folder``; ``corrupt`` (a file name) is re-gzipped with one byte flipped."""
    folder.mkdir()
    for name in FILES.values():
        source = DEFAULT_DATA_DIR / f"{name}.gz"
        if name == corrupt:
            raw = bytearray(gzip.decompress(source.read_bytes()))
            raw[len(raw) // 2] ^= 0x01  # a valid label/pixel still: only the checksum can tell
            (folder / f"{name}.gz").write_bytes(gzip.compress(bytes(raw)))
        else:
            os.symlink(source, folder / f"{name}.gz")
    return folder


@pytest.mark.parametrize("how", ["MD5SUMS file", "md5 argument"])
def test_a_corrupt_copy_is_refused_naming_the_file(tmp_path, how):
    folder = mnist_copy(tmp_path / "mnist", corrupt="train-labels-idx1-ubyte")
    if how == "MD5SUMS file":
        (folder / "MD5SUMS").write_text("".join(f"{md5}  {name}\n" for name, md5 in MNIST_MD5.items()))
        md5 = None
    else:
        md5 = MNIST_MD5
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: corrupt \(MD5"):
        load_dataset(folder, md5=md5)


def test_an_intact_copy_with_md5sums_loads(tmp_path, mnist):
    folder = mnist_copy(tmp_path / "mnist")
    (folder / "MD5SUMS").write_text("".join(f"{md5} *{name}\n" for name, md5 in MNIST_MD5.items()))
    copy = load_dataset(folder)
    assert np.array_equal(copy.test_labels, mnist.test_labels)


def test_a_missing_file_is_named(tmp_path):
    folder = mnist_copy(tmp_path / "mnist")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz is missing"):
        load_dataset(folder)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(DataError, match="no such data folder"):
        load_dataset(tmp_path / "nowhere")


def test_a_synthetic_idx_dataset_loads(tiny_dataset):
    folder, arrays = tiny_dataset
    data = load_dataset(folder)  # verified against the MD5SUMS written with it
    assert data.source == str(folder)
    assert np.array_equal(data.train_images, arrays["train_images"].reshape(-1, 784))
    assert np.array_equal(data.train_labels, arrays["train_labels"])
    assert np.array_equal(data.test_images, arrays["test_images"].reshape(-1, 784))
    assert np.array_equal(data.test_labels, arrays["test_labels"])
    assert data.train_images.dtype == np.uint8


def test_uncompressed_idx_files_without_checksums_load(tmp_path):
    arrays = tiny_arrays(seed=1, n_train=7, n_test=3)
    data = load_dataset(write_idx_dataset(tmp_path / "plain", arrays, compress=False))
    assert data.train_images.shape == (7, 784) and np.array_equal(data.test_labels, arrays["test_labels"])


def test_bad_magic_is_refused(tmp_path):
    folder = write_idx_dataset(tmp_path / "bad", tiny_arrays())
    raw = idx_bytes(tiny_arrays()["test_images"], magic_type=0x0D)  # 0x0D: floats, not unsigned bytes
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: not an IDX file of unsigned bytes \(bad magic"):
        load_dataset(folder)


def test_a_file_shorter_than_its_header_says_is_refused(tmp_path):
    folder = write_idx_dataset(tmp_path / "short", tiny_arrays())
    raw = idx_bytes(tiny_arrays()["train_labels"])[:-3]
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: header says \(40,\)"):
        load_dataset(folder)


def test_a_broken_gzip_is_refused(tmp_path):
    folder = write_idx_dataset(tmp_path / "gz", tiny_arrays())
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: cannot be read"):
        load_dataset(folder)


def test_images_and_labels_must_agree(tmp_path):
    arrays = tiny_arrays()
    arrays["test_labels"] = arrays["test_labels"][:-1]
    with pytest.raises(DataError, match=r"test images \(12, 28, 28\) and labels \(11,\) do not match"):
        load_dataset(write_idx_dataset(tmp_path / "mismatch", arrays))


def test_labels_must_be_digits(tmp_path):
    arrays = tiny_arrays()
    arrays["train_labels"][3] = 12
    with pytest.raises(DataError, match="labels must be digits"):
        load_dataset(write_idx_dataset(tmp_path / "labels", arrays))
