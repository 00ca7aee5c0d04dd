"""The command line: `serve` (the default), `train` (headless) and `bench`."""

from __future__ import annotations

import sys

from .. import __version__
from ..engine.checkpoint import CheckpointError
from ..engine.data import DataError
from . import bench, serve, train
from .args import OneLineArgumentParser, UsageError


def build_parser() -> OneLineArgumentParser:
    # Sub-parsers are created with the parent's class, so they report errors the same way.
    parser = OneLineArgumentParser(prog="python -m server", description="Backprop Lab: watch a neural network learn.")
    parser.add_argument("--version", action="version", version=f"backprop-lab {__version__}")
    sub = parser.add_subparsers(dest="command")
    train.add_arguments(sub.add_parser("train", help="train headless and report test accuracy"))
    bench.add_arguments(sub.add_parser("bench", help="measure training throughput against baselines"))
    serve.add_arguments(sub.add_parser("serve", help="run the live training server (default)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "bench", "serve", "-h", "--help", "--version"):
        argv = ["serve", *argv]  # `python -m server --port 8001` means serve
    args = parser.parse_args(argv)
    command = args.command
    try:
        if command == "train":
            return train.run(args)
        if command == "bench":
            return bench.run(args)
        return serve.run(args)
    except (UsageError, DataError, CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
