"""How many BLAS threads a mini-batch deserves: small matrices run faster on one thread."""

from __future__ import annotations

import contextlib

from threadpoolctl import threadpool_limits

# Measured on 2 cores (see bench/): below this batch size, thread hand-off costs more than it saves.
SINGLE_THREAD_BELOW = 256


def blas_threads_for(batch_size: int) -> int | None:
    return 1 if batch_size < SINGLE_THREAD_BELOW else None


def limit_blas(batch_size: int):
    """A context manager that limits BLAS threads for training with this batch size."""
    n = blas_threads_for(batch_size)
    return threadpool_limits(limits=n, user_api="blas") if n else contextlib.nullcontext()
