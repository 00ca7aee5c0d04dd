"""Argument types shared by every command: bad values are reported as one line, exit status 2."""

from __future__ import annotations

import argparse
import math
import re
import sys


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
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated whole numbers, e.g. 2,8,8,2") from None
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: need at least two layers, each of size ≥ 1")
    return sizes


_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:[0-9]{1,5})?$")


def host_list(text: str) -> tuple[str, ...]:
    """--allowed-hosts: comma-separated host names or addresses, each with an optional port; no wildcards."""
    hosts = tuple(h.strip() for h in text.split(",") if h.strip())
    if not hosts:
        raise argparse.ArgumentTypeError("give at least one host name, e.g. lab.example.edu")
    for host in hosts:
        if not _HOST_RE.match(host) or (":" in host.rsplit("]", 1)[-1] and not 0 < int(host.rsplit(":", 1)[1]) < 65536):
            raise argparse.ArgumentTypeError(f"{host!r} is not a host name or address with an optional :port "
                                             "(wildcards are not allowed: name each host)")
    return hosts


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is reported as one `error: ...` line (no usage block), exit status 2."""

    def error(self, message: str):
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
