"""`python -m server train`: train headless on the whole training set and report test accuracy.

Any dataset: ``--dataset mnist`` (the default), ``fashion-mnist``, or a plane dataset (``circle``, ``xor``,
``gauss``, ``spiral``, ``checkerboard``) with its options as flags (``--noise``, ``--points``, ``--classes``,
``--test-fraction``, ``--data-seed``). The network's input and output layers follow the dataset.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..engine import checkpoint
from ..engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ..engine.batches import BatchStream, evaluate
from ..engine.blas import limit_blas
from ..engine.costs import COSTS
from ..engine.datasets import registry
from ..engine.network import DTYPES, Network
from ..training.catalog import Catalog
from ..training.saved_history import check_history, encode
from .args import UsageError, layer_sizes, positive_float, positive_int

DEFAULT_LR = 1.5
DEFAULT_BATCH = 10


# the plane datasets' options, as flags: option name → (flag, type)
DATASET_FLAGS = {"noise": ("--noise", float), "points": ("--points", int), "classes": ("--classes", int),
                 "test_fraction": ("--test-fraction", float), "seed": ("--data-seed", int)}
DEFAULT_HIDDEN = {"image": [30], "plane": [8, 8], "scalar": [1, 1]}  # scalar: the notes' [1, 1, 1, 1]


def hidden_sizes(text: str) -> list[int]:
    """``8,8`` → [8, 8]; ``none`` → no hidden layer."""
    if text.strip() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated whole numbers, e.g. 8,8") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every hidden layer needs at least 1 neuron")
    return sizes


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", choices=[n for n in registry.NAMES if n != "custom"], default=None,
                        help="what to train on (default: mnist, or the --load checkpoint's dataset)")
    for name, (flag, kind) in DATASET_FLAGS.items():
        parser.add_argument(flag, type=kind, default=None, dest=f"data_{name}",
                            help=f"plane datasets: {_option_help(name)}")
    parser.add_argument("--hidden", type=hidden_sizes, default=None,
                        help="hidden layer sizes, e.g. 8,8 (default: 30 for images, 8,8 for the plane); the input "
                             "and output layers follow the dataset")
    parser.add_argument("--sizes", type=layer_sizes, default=None,
                        help="all layer sizes, e.g. 2,8,8,2 (must start with the dataset's input size and end "
                             "with its class count)")
    parser.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default="sigmoid")
    parser.add_argument("--output-activation", choices=OUTPUT_ACTIVATIONS, default="sigmoid")
    parser.add_argument("--cost", choices=COSTS, default="quadratic")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help=f"learning rate η (default: the --load checkpoint's, else {DEFAULT_LR})")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help=f"mini-batch size (default: the --load checkpoint's, else {DEFAULT_BATCH})")
    parser.add_argument("--epochs", type=positive_int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=DTYPES, default="float32")
    parser.add_argument("--train-limit", type=positive_int, help="train on the first N training images only")
    parser.add_argument("--data-dir", help="mnist: a folder with the four IDX files (default: the bundled MNIST)")
    parser.add_argument("--fashion-dir", help="fashion-mnist: its folder (default: Debian's package folder)")
    parser.add_argument("--save", metavar="PATH",
                        help="write a checkpoint (.npz) after training: weights, η, batch size, counters and history "
                             "(the folder is checked before training starts)")
    parser.add_argument("--load", metavar="PATH", help="start from a checkpoint instead of random weights")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _option_help(name: str) -> str:
    from ..engine.datasets import plane

    spec = {o.name: o for o in (plane.NOISE, plane.POINTS, plane.CLASSES, plane.TEST_FRACTION, plane.SEED)}[name]
    return f"{spec.help} ({spec.min:g}–{spec.max:g}, default {spec.default:g})".replace("%", "%%")


def open_dataset(args, record: dict | None):
    """The dataset to train on: ``--dataset`` with its option flags, else the loaded checkpoint's."""
    given = {name: getattr(args, f"data_{name}") for name in DATASET_FLAGS if getattr(args, f"data_{name}") is not None}
    name, options = args.dataset, given
    if record is not None:
        if name is not None and (name != record.get("name") or given):
            raise UsageError(f"--load {args.load}: that checkpoint was trained on {record.get('name')} "
                             f"{record.get('options') or ''}; leave out --dataset and its options to continue it")
        name, options = record.get("name"), record.get("options") or {}
    catalog = Catalog(mnist_dir=args.data_dir, fashion_dir=args.fashion_dir)
    try:
        return catalog.open(name or registry.DEFAULT, options)
    except ValueError as e:
        text = str(e)
        for option, (flag, _) in DATASET_FLAGS.items():
            text = text.replace(f"dataset_options.{option}", flag)
        raise UsageError(text) from None


def progress_bar(done: int, total: int, cost: float, width: int = 30) -> str:
    filled = int(width * done / max(total, 1))
    return f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  cost {cost:.4f}"


def check_save_path(text: str) -> Path:
    """The --save target, checked before any training: its folder exists, is a folder and takes a file."""
    path = Path(text)
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"--save {text}: that is a folder; give a file name, e.g. {path / 'model.npz'}")
    if not folder.exists():
        raise UsageError(f"--save {text}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise UsageError(f"--save {text}: {folder} is not a folder")
    try:  # a real write: permissions, read-only mounts and ACLs all show here
        with tempfile.TemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as e:
        raise UsageError(f"--save {text}: cannot write in {folder} ({e.strerror})") from None
    return path


def _saved(params: dict, key: str, kind):
    """A hyper-parameter saved in the loaded checkpoint, when it is a sound one (else None)."""
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or value <= 0:
        return None
    return value


def run(args) -> int:
    save = check_save_path(args.save) if args.save else None
    prior = None  # the loaded checkpoint's history, continued by this run
    saved: dict = {}
    if args.load:
        net, extra = checkpoint.load(args.load)
        record = extra.get("dataset") if isinstance(extra.get("dataset"), dict) else {"name": registry.DEFAULT}
        data = open_dataset(args, record)
        if net.sizes[0] != data.input_size or net.sizes[-1] != data.n_classes:
            raise UsageError(f"{args.load}: network {net.sizes} does not fit {data.name}'s {data.input_size} inputs "
                             f"and {data.n_classes} classes")
        if extra.get("history"):
            prior = check_history(extra["history"])
        saved = {**(extra.get("params") if isinstance(extra.get("params"), dict) else {}), **(prior or {}).get("params", {})}
    else:
        data = open_dataset(args, None)
        if args.sizes is not None and args.hidden is not None:
            raise UsageError("give --sizes or --hidden, not both")
        sizes = args.sizes or [data.input_size, *(args.hidden if args.hidden is not None else DEFAULT_HIDDEN[data.kind]),
                               data.n_classes]
        if sizes[0] != data.input_size or sizes[-1] != data.n_classes:
            raise UsageError(f"--sizes must start with {data.input_size} and end with {data.n_classes} for {data.name} "
                             f"(its inputs and classes), got {sizes}")
        net = Network(sizes, args.activation, args.output_activation, args.cost, seed=args.seed, dtype=args.dtype)
    # η and the batch size: as given, else as the loaded checkpoint was trained, else the defaults
    lr = args.lr if args.lr is not None else _saved(saved, "learning_rate", (int, float)) or DEFAULT_LR
    batch_size = args.batch_size if args.batch_size is not None else _saved(saved, "batch_size", int) or DEFAULT_BATCH
    images, labels = data.train_inputs, data.train_labels
    if args.train_limit:
        images, labels = images[: args.train_limit], labels[: args.train_limit]
    stream = BatchStream(images, labels, batch_size, net.dtype, seed=args.seed, n_out=data.n_classes)
    batches_per_epoch = math.ceil(len(images) / batch_size)
    show_progress = not args.no_progress and sys.stderr.isatty()
    what = {"image": "images", "plane": "points"}.get(data.kind, "examples")
    what = what[:-1] if len(images) == 1 else what
    of = "" if data.name == registry.DEFAULT else f" of {data.name}{_options_text(data)}"
    print(f"network {net.sizes}, {net.activation_name}/{net.output_activation_name}, {net.cost_name} cost, "
          f"η = {lr}, batch {batch_size}, {len(images)} training {what}{of}")
    # the run's history, as the live session keeps it, so that `serve --load` shows and continues it
    costs = np.empty(args.epochs * batches_per_epoch, np.float32)
    done = examples = 0
    accuracy_history = []
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        start, total_cost = time.perf_counter(), 0.0
        with limit_blas(batch_size):
            for i in range(batches_per_epoch):
                x, y, _, _ = stream.next()
                cost = net.sgd_step(x, y, lr)
                costs[done] = cost
                done += 1
                examples += len(x)
                total_cost += cost * len(x)
                if show_progress and (i % 50 == 0 or i == batches_per_epoch - 1):
                    print(progress_bar(i + 1, batches_per_epoch, cost), end="", file=sys.stderr, flush=True)
        seconds = time.perf_counter() - start
        if show_progress:
            print("\r" + " " * 70 + "\r", end="", file=sys.stderr)
        if not net.is_finite():
            raise UsageError(f"training diverged in epoch {epoch} (weights became NaN/inf): lower the learning rate")
        accuracy = evaluate(net, data.test_inputs, data.test_labels)
        accuracy_history.append([done, accuracy, True])
        print(f"epoch {epoch}: training cost {total_cost / len(images):.4f}, test accuracy {accuracy:.4f}, {seconds:.1f} s")
    if save:
        extra = training_record(prior, costs[:done], examples, args.epochs, accuracy_history, lr, batch_size, accuracy)
        extra["dataset"] = registry.dataset_record(data)
        try:
            checkpoint.save(save, net, extra=extra)
        except OSError as e:
            raise UsageError(f"--save {args.save}: cannot write it ({e.strerror or e})") from None
        print(f"saved {args.save}")
    print(f"test accuracy: {accuracy:.4f}")
    return 0


def _options_text(data) -> str:
    text = ", ".join(f"{k} {v:g}" for k, v in data.options.items() if isinstance(v, (int, float)))
    return f" ({text})" if text else ""


def training_record(prior: dict | None, costs, examples: int, epochs: int, accuracy_history: list, lr: float,
                    batch_size: int, accuracy: float) -> dict:
    """A checkpoint's ``extra`` for a headless run: its hyper-parameters, counters and history (continuing
    the loaded checkpoint's, if it had one), in the live session's format."""
    prior = prior or {"iteration": 0, "epoch": 0, "examples_seen": 0, "costs": np.empty(0), "accuracy_history": [],
                      "markers": [], "params": {}}
    start = prior["iteration"]
    params = {"learning_rate": lr, "batch_size": batch_size}
    markers = list(prior["markers"])
    changed = [f"η = {lr:g}" if prior["params"].get("learning_rate") not in (None, lr) else None,
               f"batch {batch_size}" if prior["params"].get("batch_size") not in (None, batch_size) else None]
    if start and any(changed):
        markers.append({"iteration": start, "text": ", ".join(filter(None, changed))})
    history = encode(start + len(costs), prior["epoch"] + epochs, prior["examples_seen"] + examples,
                     np.concatenate([prior["costs"].astype(np.float32), costs]),
                     prior["accuracy_history"] + [[start + i, a, full] for i, a, full in accuracy_history],
                     markers, params)
    return {"test_accuracy": accuracy, "epochs": history["epoch"], "iteration": history["iteration"],
            "params": params, "history": history}
