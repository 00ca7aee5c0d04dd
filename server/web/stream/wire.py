"""The binary envelope: a JSON header followed by raw little-endian arrays (see docs/protocol.md)."""

from __future__ import annotations

import json
import struct
from typing import NamedTuple

import numpy as np

_DTYPES = {np.dtype(np.float32): "f4", np.dtype(np.int32): "i4", np.dtype(np.uint8): "u1",
           np.dtype(np.float16): "f2"}
_NAMES = {"f4": "<f4", "i4": "<i4", "u1": "u1", "f2": "<f2"}


class Scaled(NamedTuple):
    """A quantised array and how to read it: value = (``data`` − ``zero``) × ``scale``.

    ``scale`` is one number for the whole array, or one per row (the first axis) as a sequence.
    ``data`` is uint8 (``u1``) or float16 (``f2``); see ``quantise.py`` for how they are made.
    """

    data: np.ndarray
    scale: float | list
    zero: float = 0.0


def dumps(obj) -> str:
    """Strict JSON: NaN or infinity raise instead of reaching a browser."""
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def pack(arrays: dict, offset: int = 0) -> tuple[dict, bytes]:
    """The arrays' table and bytes: each little-endian, C order, at a 4-aligned offset from ``offset``.

    A value may be a ``Scaled`` array: its table entry then carries ``scale`` (and ``zero`` when not 0).
    Raises ValueError for a float array holding NaN or infinity (nothing non-finite reaches a browser).
    """
    table, chunks = {}, []
    for name, arr in arrays.items():
        extra = None
        if isinstance(arr, Scaled):
            extra = {"scale": arr.scale}
            if arr.zero:
                extra["zero"] = arr.zero
            arr = arr.data
        arr = np.asarray(arr)
        if arr.dtype not in _DTYPES:
            arr = arr.astype(np.float32)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"array {name} holds NaN or infinity")
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        table[name] = {"dtype": _DTYPES[arr.dtype], "shape": list(arr.shape), "offset": offset}
        if extra:
            table[name].update(extra)
        pad = (-len(raw)) % 4
        chunks.append(raw)
        if pad:
            chunks.append(b"\0" * pad)
        offset += len(raw) + pad
    return table, b"".join(chunks)


def envelope(header: dict, table: dict, *blobs: bytes) -> bytes:
    """uint32 header length, header JSON (with ``arrays`` = ``table``), padding to 4, then the blobs."""
    return envelope_json(dumps(header)[:-1], table, *blobs)


def envelope_json(fields: str, table: dict, *blobs: bytes) -> bytes:
    """``envelope`` for a header already encoded: ``fields`` is a JSON object without its closing brace."""
    sep = "" if fields.endswith("{") else ","
    return envelope_head(fields + sep + '"arrays":' + dumps(table) + "}", *blobs)


def envelope_head(header_json: str, *blobs: bytes) -> bytes:
    """The envelope of a complete header (JSON text, ``arrays`` included) and the array bytes."""
    head = header_json.encode()
    head += b" " * ((-(4 + len(head))) % 4)  # JSON ignores trailing spaces; keeps the data 4-aligned
    return b"".join((struct.pack("<I", len(head)), head, *blobs))


def encode(header: dict, arrays: dict) -> bytes:
    """One envelope: the header, then each array at a 4-aligned offset (see docs/protocol.md)."""
    table, blob = pack(arrays)
    return envelope(header, table, blob)


def decode(data: bytes, raw: bool = False) -> tuple[dict, dict[str, np.ndarray]]:
    """The inverse of ``encode`` (for tests and Python clients). A scaled array comes back as the float32
    values it stands for (``raw=True``: as sent, with the table left in the header as ``arrays``)."""
    (n,) = struct.unpack_from("<I", data, 0)
    header = json.loads(data[4 : 4 + n])
    base = 4 + n
    base += (-base) % 4
    arrays = {}
    table = header["arrays"] if raw else header.pop("arrays")
    for name, spec in table.items():
        dtype = np.dtype(_NAMES[spec["dtype"]])
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        a = np.frombuffer(data, dtype=dtype, count=count, offset=base + spec["offset"]).reshape(spec["shape"])
        if "scale" in spec and not raw:
            a = dequantise(a, spec["scale"], spec.get("zero", 0))
        arrays[name] = a
    return header, arrays


def dequantise(data: np.ndarray, scale, zero=0) -> np.ndarray:
    """float32 values of a scaled array (as a client computes them)."""
    s = np.asarray(scale, np.float64)
    if s.ndim:
        s = s.reshape((-1,) + (1,) * (data.ndim - 1))
    return ((data.astype(np.float64) - zero) * s).astype(np.float32)
