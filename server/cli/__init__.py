"""The command line: `serve` (the default), `train` (headless) and `bench`."""

from .main import main

__all__ = ["main"]
