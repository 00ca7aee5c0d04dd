"""The command line: `serve` (the default), `train` (headless) and `bench`."""

from __future__ import annotations

import argparse
import math
import sys
import time


from . import checkpoint
from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .blas import limit_blas
from .costs import COSTS
from .data import DataError, load_dataset
from .network import DTYPES, Network
from .training import BatchStream, evaluate


class UsageError(Exception):
    """A bad command-line value: reported as one line, no traceback."""


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {text}")
    return value


def layer_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated whole numbers, e.g. 784,30,10") from None
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: need at least two layers, each of size ≥ 1")
    return sizes


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is reported as one `error: ...` line (no usage block), exit status 2."""

    def error(self, message: str):
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    # Sub-parsers are created with the parent's class, so they report errors the same way.
    parser = OneLineArgumentParser(prog="python -m server", description="Backprop Lab: watch a neural network learn.")
    sub = parser.add_subparsers(dest="command")

    train = sub.add_parser("train", help="train headless and report test accuracy")
    train.add_argument("--sizes", type=layer_sizes, default=[784, 30, 10], help="layer sizes, e.g. 784,30,10")
    train.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default="sigmoid")
    train.add_argument("--output-activation", choices=OUTPUT_ACTIVATIONS, default="sigmoid")
    train.add_argument("--cost", choices=COSTS, default="quadratic")
    train.add_argument("--lr", type=positive_float, default=1.5, help="learning rate η")
    train.add_argument("--batch-size", type=positive_int, default=10)
    train.add_argument("--epochs", type=positive_int, default=1)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--dtype", choices=DTYPES, default="float32")
    train.add_argument("--train-limit", type=positive_int, help="train on the first N training images only")
    train.add_argument("--data-dir", help="folder with the four IDX files (default: the bundled MNIST)")
    train.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz) after training")
    train.add_argument("--load", metavar="PATH", help="start from a checkpoint instead of random weights")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    from .bench import add_arguments as add_bench_arguments

    add_bench_arguments(sub.add_parser("bench", help="measure training throughput against baselines"))

    try:
        from .app_cli import add_arguments as add_serve_arguments
    except ImportError:  # the server part is optional for headless use
        add_serve_arguments = None
    if add_serve_arguments is not None:
        add_serve_arguments(sub.add_parser("serve", help="run the live training server (default)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "bench", "serve", "-h", "--help"):
        argv = ["serve", *argv]  # `python -m server --port 8001` means serve
    args = parser.parse_args(argv)
    command = args.command
    try:
        if command == "train":
            return run_train(args)
        if command == "bench":
            from .bench import run as run_bench

            return run_bench(args)
        from .app_cli import run as run_serve

        return run_serve(args)
    except (UsageError, DataError, checkpoint.CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def progress_bar(done: int, total: int, cost: float, width: int = 30) -> str:
    filled = int(width * done / max(total, 1))
    return f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  cost {cost:.4f}"


def run_train(args) -> int:
    data = load_dataset(args.data_dir)
    if args.load:
        net, _ = checkpoint.load(args.load)
        if net.sizes[0] != data.train_images.shape[1] or net.sizes[-1] != 10:
            raise UsageError(f"{args.load}: network {net.sizes} does not fit 784 inputs and 10 outputs")
    else:
        if args.sizes[0] != 784 or args.sizes[-1] != 10:
            raise UsageError(f"--sizes must start with 784 and end with 10 for 28×28 digits, got {args.sizes}")
        net = Network(args.sizes, args.activation, args.output_activation, args.cost, seed=args.seed, dtype=args.dtype)
    images, labels = data.train_images, data.train_labels
    if args.train_limit:
        images, labels = images[: args.train_limit], labels[: args.train_limit]
    stream = BatchStream(images, labels, args.batch_size, net.dtype, seed=args.seed)
    batches_per_epoch = math.ceil(len(images) / args.batch_size)
    show_progress = not args.no_progress and sys.stderr.isatty()
    print(f"network {net.sizes}, {net.activation_name}/{net.output_activation_name}, {net.cost_name} cost, "
          f"η = {args.lr}, batch {args.batch_size}, {len(images)} training images")
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        start, total_cost = time.perf_counter(), 0.0
        with limit_blas(args.batch_size):
            for i in range(batches_per_epoch):
                x, y, _, _ = stream.next()
                cost = net.sgd_step(x, y, args.lr)
                total_cost += cost * len(x)
                if show_progress and (i % 50 == 0 or i == batches_per_epoch - 1):
                    print(progress_bar(i + 1, batches_per_epoch, cost), end="", file=sys.stderr, flush=True)
        seconds = time.perf_counter() - start
        if show_progress:
            print("\r" + " " * 70 + "\r", end="", file=sys.stderr)
        if not net.is_finite():
            raise UsageError(f"training diverged in epoch {epoch} (weights became NaN/inf): lower the learning rate")
        accuracy = evaluate(net, data.test_images, data.test_labels)
        print(f"epoch {epoch}: training cost {total_cost / len(images):.4f}, test accuracy {accuracy:.4f}, {seconds:.1f} s")
    if args.save:
        checkpoint.save(args.save, net, extra={"test_accuracy": accuracy})
        print(f"saved {args.save}")
    print(f"test accuracy: {accuracy:.4f}")
    return 0
