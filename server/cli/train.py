"""`python -m server train`: train headless on the whole training set and report test accuracy."""

from __future__ import annotations

import math
import sys
import time

from ..engine import checkpoint
from ..engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ..engine.batches import BatchStream, evaluate
from ..engine.blas import limit_blas
from ..engine.costs import COSTS
from ..engine.data import load_dataset
from ..engine.network import DTYPES, Network
from .args import UsageError, layer_sizes, positive_float, positive_int


def add_arguments(parser) -> None:
    parser.add_argument("--sizes", type=layer_sizes, default=[784, 30, 10], help="layer sizes, e.g. 784,30,10")
    parser.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default="sigmoid")
    parser.add_argument("--output-activation", choices=OUTPUT_ACTIVATIONS, default="sigmoid")
    parser.add_argument("--cost", choices=COSTS, default="quadratic")
    parser.add_argument("--lr", type=positive_float, default=1.5, help="learning rate η")
    parser.add_argument("--batch-size", type=positive_int, default=10)
    parser.add_argument("--epochs", type=positive_int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=DTYPES, default="float32")
    parser.add_argument("--train-limit", type=positive_int, help="train on the first N training images only")
    parser.add_argument("--data-dir", help="folder with the four IDX files (default: the bundled MNIST)")
    parser.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz) after training")
    parser.add_argument("--load", metavar="PATH", help="start from a checkpoint instead of random weights")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def progress_bar(done: int, total: int, cost: float, width: int = 30) -> str:
    filled = int(width * done / max(total, 1))
    return f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  cost {cost:.4f}"


def run(args) -> int:
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
