"""Datasets are generic (issue 15, the engine's side): the plane datasets, the custom set, Fashion-MNIST,
their options and refusals, mini-batches of any of them, per-neuron maps, and the README's toy settings.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``): its
tests are mandatory when ``CI`` is set (``.ci/run`` installs the package), skipped with a message elsewhere.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import time
from pathlib import Path

import numpy as np
import pytest

from server.cli.main import main as cli_main
from server.engine.batches import BatchStream, evaluate
from server.engine.blas import limit_blas
from server.engine.datasets import DataError, PLANE_EXTENT, custom, plane, registry
from server.engine.datasets.idx import FILES
from server.engine.datasets.images import FASHION_CLASSES, FASHION_DIR, FASHION_MD5, load_fashion
from server.engine.maps import cost_gradient_maps, nearest_labels, neuron_maps, plane_grid, quantize
from server.engine.network import Network
from server.engine.walkthrough import example_breakdown
from server.training.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
PLANE = ("circle", "xor", "gauss", "spiral", "checkerboard")
FASHION_PRESENT = all((FASHION_DIR / f"{name}.gz").is_file() for name in FILES.values())


def need_fashion():
    if not FASHION_PRESENT:
        if os.environ.get("CI"):
            pytest.fail(f"Fashion-MNIST is mandatory in CI: {FASHION_DIR} lacks its files (install "
                        "dataset-fashion-mnist)")
        pytest.skip(f"Fashion-MNIST is not installed in {FASHION_DIR} (apt-get install dataset-fashion-mnist)")


# ----- the plane ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PLANE)
def test_a_plane_dataset_is_seeded_regenerable_and_split(name):
    options = {"points": 1000, "test_fraction": 0.25, "seed": 7}
    a, b = registry.make(name, options), registry.make(name, options)
    for split in ("train", "test"):
        np.testing.assert_array_equal(a.split(split)[0], b.split(split)[0])
        np.testing.assert_array_equal(a.split(split)[1], b.split(split)[1])
    other = registry.make(name, {**options, "seed": 8})
    assert not np.array_equal(a.train_inputs, other.train_inputs)
    assert (a.train_size, a.test_size) == (750, 250)
    assert a.kind == "plane" and a.shape == (2,) and a.input_size == 2
    assert a.train_inputs.dtype == np.float32 and a.train_labels.dtype == np.uint8
    assert a.train_inputs.flags.c_contiguous and a.train_inputs.shape == (750, 2)
    assert set(np.unique(a.train_labels)) == set(range(a.n_classes))
    # the classes are about balanced (checkerboard's 16 squares share 3 classes 6/5/5)
    counts = np.bincount(np.concatenate([a.train_labels, a.test_labels]), minlength=a.n_classes)
    assert counts.min() > 0.3 * counts.max()
    described = registry.describe(name)
    assert described["train_size"] == 800 and described["test_size"] == 200  # at the default options
    assert described["extent"] == PLANE_EXTENT


@pytest.mark.parametrize("name", PLANE)
def test_without_noise_the_points_lie_in_the_square(name):
    data = registry.make(name, {"noise": 0.0})
    for x in (data.train_inputs, data.test_inputs):
        assert np.abs(x).max() <= PLANE_EXTENT + 1e-6


def test_the_classes_are_what_their_names_say():
    """circle: inside r < 0.5 vs outside 0.7 < r < 1; xor: the sign of x·y; checkerboard: (i + j) mod C."""
    c = registry.make("circle", {"noise": 0.0})
    r = np.hypot(*c.train_inputs.T)
    assert (r[c.train_labels == 0] < 0.5 + 1e-6).all() and (r[c.train_labels == 1] > 0.7 - 1e-6).all()
    x = registry.make("xor", {"noise": 0.0})
    assert np.array_equal(x.train_labels, (np.prod(x.train_inputs, axis=1) < 0).astype(np.uint8))
    b = registry.make("checkerboard", {"noise": 0.0, "classes": 3})
    cell = np.minimum(((b.train_inputs + 1) * 2).astype(int), 3)
    assert np.array_equal(b.train_labels, (cell.sum(axis=1) % 3).astype(np.uint8))
    assert registry.make("gauss", {"classes": 5}).class_names == ("blob 1", "blob 2", "blob 3", "blob 4", "blob 5")
    assert registry.make("spiral", {"classes": 4}).n_classes == 4


@pytest.mark.parametrize("name", PLANE)
def test_1000_points_are_generated_within_50_ms(name):
    registry.make(name, {"points": 1000})  # warm
    times = []
    for seed in range(7):
        t = time.perf_counter()
        registry.make(name, {"points": 1000, "seed": seed})
        times.append(time.perf_counter() - t)
    assert np.median(times) <= 0.050, times  # measured: about 0.1–0.3 ms (docs/server-results.md)


# ----- options and their refusals ---------------------------------------------------------------------
@pytest.mark.parametrize("name, options, field, text", [
    ("moons", {}, "dataset", "unknown dataset 'moons'"),
    ("gauss", {"classes": 6}, "dataset_options.classes", "from 2 to 5, got 6"),
    ("spiral", {"classes": 1}, "dataset_options.classes", "from 2 to 5, got 1"),
    ("circle", {"classes": 3}, "dataset_options.classes", "circle always has classes = 2"),
    ("xor", {"noise": -0.1}, "dataset_options.noise", "from 0 to 1, got -0.1"),
    ("gauss", {"points": 10**6}, "dataset_options.points", "from 20 to 10000"),
    ("spiral", {"test_fraction": 1.0}, "dataset_options.test_fraction", "from 0.05 to 0.9"),
    ("circle", {"noise": "a lot"}, "dataset_options.noise", "must be a finite number"),
    ("circle", {"points": 100.5}, "dataset_options.points", "whole number"),
    ("circle", {"seed": True}, "dataset_options.seed", "whole number"),
    ("circle", {"radius": 2}, "dataset_options.radius", "circle has no option 'radius'"),
    ("mnist", {"noise": 0.1}, "dataset_options.noise", "mnist has no option 'noise'"),
    ("custom", {"points": [[0, 0, 0]] * 501}, "dataset_options.points", "at most 500 points, got 501"),
    ("custom", {"points": []}, "dataset_options.points", "at least 1 point"),
    ("custom", {"points": [[0, 0, 2]]}, "dataset_options.points[0]", "from 0 to 1 (2 classes), got 2"),
    ("custom", {"points": [[0, 0, 0], [1.5, 0, 1]]}, "dataset_options.points[1]", "x must be a number from -1 to 1"),
    ("custom", {"points": [[0, 0]]}, "dataset_options.points[0]", "a point is [x, y, class]"),
    ("custom", {"classes": 6}, "dataset_options.classes", "from 2 to 5, got 6"),
])
def test_bad_options_are_refused_naming_the_field(name, options, field, text):
    with pytest.raises(ValueError) as e:
        Catalog(mnist_dir=None).open(name, options)
    message = str(e.value)
    assert message.startswith(f"{field}: ") and text in message, message


def test_options_are_filled_with_their_defaults():
    assert registry.check_options("spiral", {"classes": 3}) == {
        "noise": 0.05, "points": 1000, "test_fraction": 0.2, "classes": 3, "seed": 0}
    assert registry.check_options("mnist", None) == {}
    described = {d["name"]: d for d in map(registry.describe, registry.NAMES)}
    assert described["xor"]["class_count"] == [2, 2] and described["gauss"]["class_count"] == [2, 5]
    assert [o["name"] for o in described["circle"]["options"]] == ["noise", "points", "test_fraction", "seed"]
    noise = described["circle"]["options"][0]
    assert (noise["min"], noise["default"], noise["type"]) == (0.0, 0.05, "float")


# ----- the custom set ---------------------------------------------------------------------------------
def test_a_custom_set_trains_on_its_points_and_tests_on_them():
    points = [[-0.5, 0.5, 0], [0.5, 0.5, 1], [0.0, -0.5, 2]]
    data = registry.make("custom", {"classes": 3, "points": points})
    assert data.train_size == data.test_size == 3 and data.n_classes == 3 and not data.trivial
    np.testing.assert_array_equal(data.train_inputs, np.array(points, np.float32)[:, :2])
    assert data.options == {"classes": 3, "points": points}
    starter = registry.make("custom", {})
    assert starter.train_size == len(custom.STARTER)
    edited = custom.replace_points(data, [[0.1, 0.1, 1]])
    assert edited.trivial and edited.n_classes == 3 and edited.train_size == 1
    with pytest.raises(ValueError, match=r"^points\[0\]: the class must be a whole number from 0 to 2"):
        custom.replace_points(data, [[0.1, 0.1, 3]])


# ----- mini-batches and evaluation of any dataset -----------------------------------------------------
def test_a_batch_stream_of_points_covers_each_epoch_once():
    data = registry.make("gauss", {"points": 103, "test_fraction": 0.05, "classes": 3})
    stream = BatchStream.for_dataset(data, 10, np.float32, seed=0)
    seen, ended, n = [], False, 0
    while not ended:
        x, y, idx, ended = stream.next()
        np.testing.assert_array_equal(x, data.train_inputs[idx])
        np.testing.assert_array_equal(y.argmax(axis=1), data.train_labels[idx])
        assert y.shape == (len(idx), 3) and y.dtype == np.float32 and x.flags.c_contiguous
        seen.extend(idx.tolist())
        n += 1
    assert sorted(seen) == list(range(data.train_size)) and n == 10 and stream.epoch == 1
    net = Network([2, 3], "sigmoid", "softmax", "cross_entropy", seed=0)
    manual = np.mean(net.predict(data.test_inputs) == data.test_labels)
    assert evaluate(net, data.test_inputs, data.test_labels) == pytest.approx(manual)


# ----- Fashion-MNIST ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fashion():
    need_fashion()
    return load_fashion()


def test_fashion_mnist_loads_checked_against_its_md5s(fashion):
    assert fashion.name == "fashion-mnist" and fashion.kind == "image" and fashion.shape == (28, 28)
    assert fashion.class_names == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                   "Sneaker", "Bag", "Ankle boot") == FASHION_CLASSES
    assert (fashion.train_size, fashion.test_size) == (60000, 10000)
    assert fashion.train_inputs.dtype == np.uint8 and fashion.train_inputs.shape == (60000, 784)
    assert np.bincount(fashion.test_labels).tolist() == [1000] * 10
    import hashlib
    for file, md5 in FASHION_MD5.items():  # the sums in the code are the package's, as shared/data lists them
        assert hashlib.md5(gzip.decompress((FASHION_DIR / f"{file}.gz").read_bytes())).hexdigest() == md5


def test_fashion_mnist_784_100_10_reaches_85_percent_in_3_epochs(fashion):
    """As README's command (η 0.05, batch 10, seed 0): 0.865 in 2–4 s here (seeds 0–3: 0.852–0.865)."""
    net = Network([784, 100, 10], "relu", "softmax", "cross_entropy", seed=0)
    stream = BatchStream.for_dataset(fashion, 10, net.dtype, seed=0)
    with limit_blas(10):
        while stream.epoch < 3:
            x, y, _, _ = stream.next()
            net.sgd_step(x, y, 0.05)
    assert evaluate(net, fashion.test_inputs, fashion.test_labels) >= 0.85


def linked_copy(folder: Path, corrupt: str | None = None, missing: str | None = None) -> Path:
    """The package's files linked into ``folder``; ``corrupt`` re-gzipped with one byte flipped."""
    folder.mkdir()
    for name in FILES.values():
        source = FASHION_DIR / f"{name}.gz"
        if name == missing:
            continue
        if name == corrupt:
            raw = bytearray(gzip.decompress(source.read_bytes()))
            raw[len(raw) // 2] ^= 0x01  # still a valid label: only the checksum can tell
            (folder / f"{name}.gz").write_bytes(gzip.compress(bytes(raw)))
        else:
            os.symlink(source, folder / f"{name}.gz")
    return folder


def test_a_corrupt_fashion_copy_is_not_offered_and_asking_says_why(tmp_path):
    need_fashion()
    folder = linked_copy(tmp_path / "fashion", corrupt="train-labels-idx1-ubyte")
    catalog = Catalog(fashion_dir=folder)
    available, reason, _ = catalog.availability("fashion-mnist")
    assert not available and "train-labels-idx1-ubyte.gz: corrupt (MD5" in reason, reason
    with pytest.raises(DataError, match=r"^dataset: fashion-mnist is not available here: .*corrupt \(MD5"):
        catalog.open("fashion-mnist")
    entry = {d["name"]: d for d in catalog.describe_all()}["fashion-mnist"]
    assert entry["available"] is False and "corrupt" in entry["reason"]
    assert {d["name"]: d for d in catalog.describe_all()}["circle"]["available"] is True


def test_missing_fashion_files_are_named(tmp_path):
    catalog = Catalog(fashion_dir=tmp_path / "nowhere")
    available, reason, _ = catalog.availability("fashion-mnist")
    assert not available and "does not exist" in reason and "dataset-fashion-mnist" in reason
    if FASHION_PRESENT:
        folder = linked_copy(tmp_path / "part", missing="t10k-images-idx3-ubyte")
        _, reason, _ = Catalog(fashion_dir=folder).availability("fashion-mnist")
        assert "t10k-images-idx3-ubyte.gz is missing" in reason, reason


def test_a_repaired_fashion_folder_is_offered_again(tmp_path):
    need_fashion()
    folder = linked_copy(tmp_path / "fashion", missing="t10k-labels-idx1-ubyte")
    catalog = Catalog(fashion_dir=folder)
    assert catalog.availability("fashion-mnist")[0] is False
    os.symlink(FASHION_DIR / "t10k-labels-idx1-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz")
    assert catalog.availability("fashion-mnist")[:2] == (True, None)


# ----- per-neuron maps --------------------------------------------------------------------------------
def test_neuron_maps_are_every_neuron_over_the_grid():
    net = Network([2, 8, 8, 8, 3], "tanh", "softmax", "cross_entropy", seed=3)
    grid = plane_grid(64)
    assert grid.shape == (4096, 2)
    # row 0 is the top (largest y), column 0 the left (smallest x), at the cells' centres
    np.testing.assert_allclose(grid[0], [-1 + 1 / 64, 1 - 1 / 64])
    np.testing.assert_allclose(grid[63], [1 - 1 / 64, 1 - 1 / 64])
    np.testing.assert_allclose(grid[64 * 63], [-1 + 1 / 64, -1 + 1 / 64])
    maps = neuron_maps(net, grid)
    assert [m.shape for m in maps] == [(8, 4096), (8, 4096), (8, 4096), (3, 4096)]
    for r, c in ((0, 0), (10, 50), (63, 63), (31, 7)):
        x = np.array([[-1 + (c + 0.5) / 32, 1 - (r + 0.5) / 32]])
        a = x
        for l, (w, b) in enumerate(zip(net.weights, net.biases)):  # an independent float64 forward pass
            z = a @ w.astype(np.float64).T + b
            a = np.tanh(z) if l < 3 else np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            np.testing.assert_allclose(maps[l][:, r * 64 + c], a[0], atol=1e-5)
    z_maps = neuron_maps(net, grid, "z")
    np.testing.assert_allclose(np.tanh(z_maps[0]), maps[0], atol=1e-6)
    u8, lo, hi = quantize(maps)
    for m, q, l_, h in zip(maps, u8, lo, hi):
        assert q.dtype == np.uint8
        np.testing.assert_allclose(l_[:, None] + (h - l_)[:, None] * q / 255.0, m, atol=(h - l_).max() / 255)


def test_neuron_maps_of_a_toy_network_take_under_10_ms():
    net = Network([2, 8, 8, 8, 3], "relu", "softmax", "cross_entropy", seed=0)
    grid = plane_grid(64)
    quantize(neuron_maps(net, grid))
    times = []
    for _ in range(20):
        t = time.perf_counter()
        quantize(neuron_maps(net, plane_grid(64)))
        times.append(time.perf_counter() - t)
    assert np.median(times) <= 0.010, times  # measured: about 0.5–1 ms


def independent_backprop(net, x, label):
    """One example forward and back in float64, written out from the weights (no engine code): ∂C0/∂a and
    δ of every layer after the input."""
    W = [w.astype(np.float64) for w in net.weights]
    B = [b.astype(np.float64) for b in net.biases]
    act, d_act = {
        "tanh": (np.tanh, lambda z, a: 1 - a * a),
        "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
        "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(float)),
    }[net.config["activation"]]
    out_name, cost = net.config["output_activation"], net.config["cost"]
    a, zs, acts = np.asarray(x, dtype=np.float64), [], []
    for l, (w, b) in enumerate(zip(W, B)):
        z = w @ a + b
        last = l == len(W) - 1
        if last and out_name == "softmax":
            e = np.exp(z - z.max())
            a = e / e.sum()
        elif last and out_name == "sigmoid":
            a = 1 / (1 + np.exp(-z))
        else:
            a = act(z)
        zs.append(z)
        acts.append(a)
    y = np.eye(len(acts[-1]))[label]
    a_out = acts[-1]
    if cost == "quadratic":
        dC_da = 2 * (a_out - y)
    elif out_name == "softmax":
        dC_da = -y / a_out
    else:
        dC_da = (a_out - y) / (a_out * (1 - a_out))
    if cost == "cross_entropy":
        delta = a_out - y
    elif out_name == "softmax":
        delta = a_out * (dC_da - (a_out * dC_da).sum())
    else:
        delta = a_out * (1 - a_out) * dC_da
    dCs, deltas = [dC_da], [delta]
    for l in range(len(W) - 2, -1, -1):
        dC_da = W[l + 1].T @ delta
        delta = d_act(zs[l], acts[l]) * dC_da
        dCs.insert(0, dC_da)
        deltas.insert(0, delta)
    return dCs, deltas


@pytest.mark.parametrize("config", [("tanh", "softmax", "cross_entropy"), ("sigmoid", "sigmoid", "quadratic"),
                                    ("relu", "softmax", "quadratic"), ("tanh", "sigmoid", "cross_entropy")])
def test_the_cost_gradient_maps_are_each_grid_points_backprop(config):
    net = Network([2, 8, 8, 3], *config, seed=5)
    grid = plane_grid(32)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, len(grid))
    dC = cost_gradient_maps(net, grid, labels)
    deltas = cost_gradient_maps(net, grid, labels, "delta")
    assert [m.shape for m in dC] == [(8, 1024), (8, 1024), (3, 1024)] == [m.shape for m in deltas]
    for p in (0, 31, 32 * 13 + 5, 700, 1023):
        want_dC, want_delta = independent_backprop(net, grid[p].astype(np.float64), labels[p])
        # and the walkthrough's own numbers for that one point
        bd = example_breakdown(net, grid[p], int(labels[p]))
        for l in range(3):
            scale = np.abs(want_dC[l]).max() + 1e-3
            np.testing.assert_allclose(dC[l][:, p], want_dC[l], rtol=1e-3, atol=1e-4 * scale, err_msg=(config, l, p))
            np.testing.assert_allclose(deltas[l][:, p], want_delta[l], rtol=1e-3, atol=1e-5, err_msg=(config, l, p))
            np.testing.assert_allclose(dC[l][:, p], bd["layers"][l]["dC_da"], rtol=1e-5, atol=1e-7)
    # one label for every point is the same as that label everywhere
    one = cost_gradient_maps(net, grid, 2)
    np.testing.assert_array_equal(one[0], cost_gradient_maps(net, grid, np.full(len(grid), 2))[0])
    with pytest.raises(ValueError, match="label: the network has 3 outputs"):
        cost_gradient_maps(net, grid, 3)
    with pytest.raises(ValueError, match="values must be one of"):
        cost_gradient_maps(net, grid, 0, "a")


def test_nearest_labels_are_the_class_of_the_nearest_training_point():
    rng = np.random.default_rng(2)
    inputs = rng.uniform(-1, 1, (300, 2)).astype(np.float32)
    labels = rng.integers(0, 4, 300)
    points = plane_grid(48)  # 2,304 points: more than one block of the distance matrix
    got = nearest_labels(points, inputs, labels)
    d = ((points[:, None, :].astype(np.float64) - inputs[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(got, labels[np.argmin(d, axis=1)])
    np.testing.assert_array_equal(nearest_labels(inputs, inputs, labels), labels)  # a training point is its own
    with pytest.raises(ValueError, match="no training points"):
        nearest_labels(points, inputs[:0], labels[:0])


# ----- nothing outside the MNIST loader assumes 784 inputs or 10 classes ------------------------------
# preprocess.py turns a drawing into MNIST's 28×28 format (its job); bench.py measures MNIST on purpose.
ALLOWED = {"engine/datasets/images.py", "engine/preprocess.py", "cli/bench.py"}
ASSUMPTIONS = [
    re.compile(r"\b784\b"),  # MNIST's input size
    re.compile(r"\b28\s*[,×x*]\s*28\b"),  # its image shape
    re.compile(r"\bdigits? 0\s*[–-]\s*9\b"),  # its classes
    re.compile(r"n_out\s*=\s*10\b|\bsizes\[-1\]\s*!=\s*10\b|\ble\s*=\s*9\b|one_hot\([^,()]*\)"),  # 10 classes
]


def test_nothing_outside_the_mnist_loader_assumes_784_inputs_or_10_classes():
    server = ROOT / "server"
    found = []
    for path in sorted(server.rglob("*.py")):
        rel = path.relative_to(server).as_posix()
        if rel in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(p.search(line) for p in ASSUMPTIONS):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []


def test_the_assumption_check_catches_one(tmp_path):
    assert any(p.search("if sizes[0] != 784 or sizes[-1] != 10:") for p in ASSUMPTIONS)
    assert any(p.search("y = one_hot(labels)") for p in ASSUMPTIONS)
    assert not any(p.search("y = one_hot(labels, data.n_classes)") for p in ASSUMPTIONS)


# ----- the README's suggested settings for the toy datasets -------------------------------------------
def readme_toy_commands() -> dict[str, list[str]]:
    """dataset → the arguments of the README's suggested `python -m server train --dataset ...` command."""
    commands = {}
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Suggested settings for the toy datasets"):]
    section = section[: section.index("\n#", 1)]
    for line in section.splitlines():
        m = re.match(r"^\.venv/bin/python -m server (train --dataset (\S+) .*)$", line.strip())
        if m and m.group(2) in PLANE:
            commands[m.group(2)] = shlex.split(m.group(1))
    return commands


@pytest.mark.parametrize("name, target", [("circle", 0.95), ("xor", 0.95), ("gauss", 0.95), ("spiral", 0.90)])
def test_the_readme_settings_reach_their_accuracy_within_30_s(name, target, capsys):
    args = readme_toy_commands()[name]
    if name == "spiral":
        assert "--classes" not in args or args[args.index("--classes") + 1] == "2"  # the 2-arm spiral
    start = time.perf_counter()
    assert cli_main(args + ["--no-progress"]) == 0
    seconds = time.perf_counter() - start
    out = capsys.readouterr().out
    accuracy = float(re.search(r"^test accuracy: (\S+)$", out, re.M).group(1))
    assert accuracy >= target, out
    assert seconds < 30, seconds  # measured: 0.1–2 s each (README)


# ----- the command line -------------------------------------------------------------------------------
def run_cli(capsys, *args) -> tuple[int, str, str]:
    try:
        code = cli_main(list(args))
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("args, text", [
    (["--dataset", "circle", "--noise", "-1"], "error: --noise: must be from 0 to 1, got -1"),
    (["--dataset", "xor", "--classes", "3"], "error: --classes: xor always has classes = 2, got 3"),
    (["--dataset", "gauss", "--classes", "6"], "error: --classes: must be from 2 to 5, got 6"),
    (["--dataset", "spiral", "--points", "5"], "error: --points: must be from 20 to 10000, got 5"),
    (["--noise", "0.1"], "error: --noise: mnist has no option 'noise'"),
    (["--dataset", "moons"], "invalid choice: 'moons'"),
    (["--dataset", "circle", "--sizes", "2,8,3"], "error: --sizes must start with 2 and end with 2 for circle"),
])
def test_train_refuses_bad_dataset_flags_in_one_line(capsys, args, text):
    code, out, err = run_cli(capsys, "train", *args, "--epochs", "1")
    assert code == 2 and text in err and len(err.strip().splitlines()) == 1, err


def test_train_saves_the_dataset_and_load_continues_on_it(capsys, tmp_path):
    path = str(tmp_path / "g.npz")
    code, out, _ = run_cli(capsys, "train", "--dataset", "gauss", "--classes", "3", "--noise", "0.1", "--hidden", "4",
                           "--activation", "tanh", "--output-activation", "softmax", "--cost", "cross_entropy",
                           "--lr", "0.3", "--epochs", "2", "--save", path)
    assert code == 0, out
    assert out.splitlines()[0] == ("network [2, 4, 3], tanh/softmax, cross_entropy cost, η = 0.3, batch 10, 800 "
                                   "training points of gauss (noise 0.1, points 1000, test_fraction 0.2, classes 3, "
                                   "seed 0)")
    from server.engine import checkpoint
    _, extra = checkpoint.load(path)
    assert extra["dataset"] == {"name": "gauss", "options": {"noise": 0.1, "points": 1000, "test_fraction": 0.2,
                                                             "classes": 3, "seed": 0}}
    code, out, _ = run_cli(capsys, "train", "--load", path, "--epochs", "1")
    assert code == 0 and "training points of gauss (noise 0.1" in out.splitlines()[0]
    code, _, err = run_cli(capsys, "train", "--load", path, "--dataset", "circle", "--epochs", "1")
    assert code == 2 and "that checkpoint was trained on gauss" in err


def test_serve_refuses_a_checkpoint_whose_dataset_it_cannot_offer_in_one_line(tmp_path):
    import subprocess
    import sys

    from server.engine import checkpoint
    path = tmp_path / "f.npz"
    checkpoint.save(path, Network([784, 8, 10]), {"dataset": {"name": "fashion-mnist", "options": {}}})
    run = subprocess.run([sys.executable, "-m", "server", "--port", "0", "--no-autosave", "--checkpoint-dir",
                          str(tmp_path / "ck"), "--load", str(path), "--fashion-dir", str(tmp_path / "none")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.strip().startswith(f"error: {path}: dataset: fashion-mnist is not "
                                                                 "available here"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
