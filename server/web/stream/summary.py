"""The ``summary`` stream's arrays: what the view draws, small (docs/protocol.md, "Detail levels"). No I/O.

A summary snapshot (``training.summary``) carries, for big layers, only the neurons a view shows. Here
it becomes the bytes every ``summary`` viewer's frame shares: the *core* (the shown example's
activations, which neurons are shown), packed once per tick and sent in every frame, and the weight
*parts* (a weight matrix's block, or a run of its rows when it is big: at most ``PART_BYTES`` each),
packed once and sent to each viewer when its byte budget has room (``budget.py`` picks them).
Everything here is a pure function of the snapshot, with picklable results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import quantise, wire
from ...training.snapshot import Snapshot

PART_BYTES = 32 * 1024  # a weight part's size, about: a 200 KB/s link carries one in 0.16 s
EXACT_VALUES = 1024  # a block of at most this many weights travels as float32 (exact; a small network's
# weights cost almost nothing, and the plane's per-neuron maps are computed from them in the page)


@dataclass
class Packed:
    """Arrays packed from offset 0, with each table entry encoded up to its ``offset`` value, so a frame
    can place the blob anywhere: entry = prefix + str(where + offset) + "}"."""

    blob: bytes = b""
    entries: list = field(default_factory=list)  # [(prefix, offset)]

    @classmethod
    def of(cls, arrays: dict) -> "Packed":
        table, blob = wire.pack(arrays)
        entries = []
        for name, spec in table.items():
            offset = spec.pop("offset")
            entries.append((wire.dumps(name) + ":" + wire.dumps(spec)[:-1] + ',"offset":', offset))
        return cls(blob, entries)

    def table_json(self, at: int) -> str:
        """The table entries (no braces) with every offset moved by ``at``."""
        return ",".join(f"{prefix}{at + offset}}}" for prefix, offset in self.entries)


@dataclass
class Part:
    """Some rows of weight matrix ``layer`` (chunk ``chunk`` of ``chunks``), ready to send."""

    layer: int
    chunk: int
    chunks: int
    packed: Packed

    @property
    def key(self) -> tuple[int, int]:
        return (self.layer, self.chunk)

    @property
    def nbytes(self) -> int:
        return len(self.packed.blob) + sum(len(p) + 8 for p, _ in self.packed.entries)


@dataclass
class SummaryPack:
    core: Packed
    parts: list  # [Part]
    shared_json: str  # header fields every summary frame has in common (no braces)
    shown: tuple  # the shown sets, for the next snapshots to reuse until new blocks are taken
    neurons_asked: int | None  # the view size it was made for

    @property
    def core_bytes(self) -> int:
        return len(self.core.blob) + len(self.shared_json) + sum(len(p) + 8 for p, _ in self.core.entries)


def core_arrays(snap: Snapshot) -> dict:
    """The shown example: every layer's activations (big layers as f2, the input as lossless u1 when it
    is an image), z and δ of every layer shown whole (f4), and for each big layer which neurons are shown."""
    shown = snap.shown or [None] * len(snap.activations)
    arrays = {}
    for l, a in enumerate(snap.activations):
        if l == 0:
            arrays["a0"] = quantise.pixels(a) or a
        else:
            arrays[f"a{l}"] = a if shown[l] is None else quantise.f2(a)
    for l, z in enumerate(snap.zs, start=1):
        if shown[l] is None:
            arrays[f"z{l}"] = z
    for l, d in enumerate(snap.deltas or (), start=1):
        if shown[l] is None:
            arrays[f"delta{l}"] = d
    for l, s in enumerate(shown):
        if s is not None:
            arrays[f"shown{l}"] = s
    return arrays


def block_parts(l: int, block, part_bytes: int = PART_BYTES) -> list[Part]:
    """Weight matrix ``l``'s block as parts of about ``part_bytes``: runs of whole rows (u1 weights and
    gradients, one scale per row, or f4 for a small block; f4 biases; the rows' and columns' neuron
    indices when not all)."""
    n_rows, n_cols = block.w.shape
    exact = block.w.size <= EXACT_VALUES
    row_bytes = n_cols * (4 if exact else 1) * (1 if block.nabla_w is None else 2) + 16
    per = max(1, part_bytes // max(1, row_bytes))
    chunks = max(1, -(-n_rows // per))
    rows = block.rows if block.rows is not None else np.arange(n_rows, dtype=np.int32)

    def rows_of(a, q, r):
        return a[r] if exact else wire.Scaled(q.data[r], q.scale[r], q.zero)

    w = None if exact else quantise.u1_rows(block.w)
    g = None if exact or block.nabla_w is None else quantise.u1_rows(block.nabla_w)
    parts = []
    for c in range(chunks):
        r = slice(c * per, min(n_rows, (c + 1) * per))
        arrays = {f"W{l}": rows_of(block.w, w, r), f"b{l}": block.b[r]}
        if block.nabla_w is not None:
            arrays[f"nabla_w{l}"] = rows_of(block.nabla_w, g, r)
            arrays[f"nabla_b{l}"] = block.nabla_b[r]
        if block.rows is not None or chunks > 1:
            arrays[f"rows{l}"] = rows[r].astype(np.int32)
        if block.cols is not None:
            arrays[f"cols{l}"] = block.cols
        parts.append(Part(l, c, chunks, Packed.of(arrays)))
    return parts


def pack(snap: Snapshot, neurons: int | None = None) -> SummaryPack:
    """The core and the weight parts of a summary snapshot (no parts when it carries no blocks)."""
    core = Packed.of(core_arrays(snap))
    parts = [p for l, block in enumerate(snap.blocks or ()) for p in block_parts(l, block)]
    shared = {
        "detail": "summary",
        "time": round(snap.taken_at, 4),
        "state": snap.state,
        "params": snap.params,
        "example": snap.example,
        "grad_norms": snap.grad_norms or [],
    }
    return SummaryPack(core, parts, wire.dumps(shared)[1:-1], tuple(snap.shown or ()), neurons)
