"""The binary envelope: a JSON header followed by raw little-endian arrays (see docs/protocol.md)."""

from __future__ import annotations

import json
import struct

import numpy as np

_DTYPES = {np.dtype(np.float32): "f4", np.dtype(np.int32): "i4", np.dtype(np.uint8): "u1"}


def dumps(obj) -> str:
    """Strict JSON: NaN or infinity raise instead of reaching a browser."""
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def pack(arrays: dict[str, np.ndarray], offset: int = 0) -> tuple[dict, bytes]:
    """The arrays' table and bytes: each little-endian, C order, at a 4-aligned offset from ``offset``.

    Raises ValueError for a float array holding NaN or infinity (nothing non-finite reaches a browser).
    """
    table, chunks = {}, []
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype not in _DTYPES:
            arr = arr.astype(np.float32)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"array {name} holds NaN or infinity")
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        table[name] = {"dtype": _DTYPES[arr.dtype], "shape": list(arr.shape), "offset": offset}
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


def encode(header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """One envelope: the header, then each array at a 4-aligned offset (see docs/protocol.md)."""
    table, blob = pack(arrays)
    return envelope(header, table, blob)


def decode(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The inverse of ``encode`` (for tests and Python clients)."""
    (n,) = struct.unpack_from("<I", data, 0)
    header = json.loads(data[4 : 4 + n])
    base = 4 + n
    base += (-base) % 4
    names = {"f4": "<f4", "i4": "<i4", "u1": "u1"}
    arrays = {}
    for name, spec in header.pop("arrays").items():
        dtype = np.dtype(names[spec["dtype"]])
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        arrays[name] = np.frombuffer(data, dtype=dtype, count=count, offset=base + spec["offset"]).reshape(spec["shape"])
    return header, arrays
