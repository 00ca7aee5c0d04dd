"""Checkpoints: an .npz of plain float arrays plus the configuration as JSON, never a pickle."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .network import Network, validate_config

FORMAT = "backprop-lab/1"
MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024  # uncompressed members beyond this are refused


class CheckpointError(Exception):
    """A checkpoint file that cannot be trusted or does not fit."""


def to_bytes(net: Network, extra: dict | None = None) -> bytes:
    """The checkpoint of ``net`` as bytes: W0..Wn, b0..bn and a JSON ``config`` (plus ``extra`` state)."""
    arrays = {}
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"] = w
        arrays[f"b{l}"] = b
    meta = {"format": FORMAT, "config": net.config, "extra": extra or {}}
    arrays["meta"] = np.frombuffer(json.dumps(meta, allow_nan=False).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def save(path: str | Path, net: Network, extra: dict | None = None) -> None:
    """Write atomically: a temporary file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    data = to_bytes(net, extra)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path) -> tuple[Network, dict]:
    """Read a checkpoint file; returns the network and the extra state saved with it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    return from_bytes(path.read_bytes(), name=str(path))


def from_bytes(data: bytes, name: str = "checkpoint") -> tuple[Network, dict]:
    """Parse and validate checkpoint bytes: member sizes, no pickle, config, shapes, finiteness."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(info.file_size for info in zf.infolist())
            if total > MAX_CHECKPOINT_BYTES:
                raise CheckpointError(f"{name}: members claim {total} bytes uncompressed, limit {MAX_CHECKPOINT_BYTES}")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            files = {k: npz[k] for k in npz.files}
    except CheckpointError:
        raise
    except ValueError as e:  # numpy refuses object arrays when allow_pickle is False
        raise CheckpointError(f"{name}: not a plain-array checkpoint ({e})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"{name}: not a readable .npz file ({e})") from None
    if "meta" not in files:
        raise CheckpointError(f"{name}: missing the 'meta' member with the configuration")
    try:
        meta = json.loads(files["meta"].tobytes().decode())
        config = meta["config"]
        extra = meta.get("extra") or {}
        net_args = {k: config[k] for k in ("sizes", "activation", "output_activation", "cost")}
        seed, dtype = config.get("seed"), config.get("dtype", "float32")
        validate_config(net_args["sizes"], net_args["activation"], net_args["output_activation"], net_args["cost"], dtype)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{name}: bad configuration ({e})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{name}: unknown format {meta.get('format')!r}, expected {FORMAT!r}")
    net = Network(**net_args, seed=seed if isinstance(seed, int) else None, dtype=dtype)
    n = len(net.weights)
    expected = {f"W{l}" for l in range(n)} | {f"b{l}" for l in range(n)} | {"meta"}
    if set(files) != expected:
        missing, unexpected = expected - set(files), set(files) - expected
        raise CheckpointError(f"{name}: members do not match the configuration (missing {sorted(missing)}, unexpected {sorted(unexpected)})")
    for key in expected - {"meta"}:
        if files[key].dtype.kind != "f":
            raise CheckpointError(f"{name}: {key} must hold floats, not {files[key].dtype}")
    try:
        net.set_parameters([files[f"W{l}"] for l in range(n)], [files[f"b{l}"] for l in range(n)])
    except ValueError as e:
        raise CheckpointError(f"{name}: {e}") from None
    if not isinstance(extra, dict):
        raise CheckpointError(f"{name}: 'extra' must be an object")
    return net, extra
