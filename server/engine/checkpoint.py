"""Checkpoints: an .npz of plain float arrays plus the configuration as JSON, never a pickle."""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from .network import Network, validate_config

FORMAT = "backprop-lab/1"
MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024  # uncompressed members beyond this are refused
MAX_META_BYTES = 64 * 1024 * 1024  # the configuration and history JSON
META_RATIO = 16  # the meta member may hold at most this many times the file's size (+1 MiB): no zip bombs


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


def save(path: str | Path, net: Network, extra: dict | None = None, overwrite: bool = True) -> None:
    """Write atomically: a temporary file in the same folder, fsync, then rename over ``path``.

    With ``overwrite=False`` an existing ``path`` is never replaced: FileExistsError, even when another
    process creates it meanwhile (the temporary file is hard-linked into place, which fails if the
    name is taken).
    """
    path = Path(path)
    data = to_bytes(net, extra)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _link_new(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` unless that name exists (FileExistsError)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "a file of that name exists", str(path)) from None
    except OSError:  # a file system without hard links: check, then rename (a small race remains)
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "a file of that name exists", str(path)) from None
        os.replace(tmp, path)


def load(path: str | Path, fits: Callable[[list], None] | None = None) -> tuple[Network, dict]:
    """Read a checkpoint file; returns the network and the extra state saved with it (see ``from_bytes``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    return from_bytes(path.read_bytes(), name=str(path), fits=fits)


def from_bytes(data: bytes, name: str = "checkpoint", fits: Callable[[list], None] | None = None) -> tuple[Network, dict]:
    """Parse and validate checkpoint bytes, and only then allocate the network.

    In order, before any array is read: the zip's member sizes, the ``meta`` member (bounded, no
    pickle), the configuration and format, ``fits(sizes)`` (the caller's limits, e.g. the live
    session's: a ValueError there refuses the file), the member names, then every array's dtype and
    shape from its ``.npy`` header. Then the arrays are read (exactly the sizes the configuration
    gives) and become the network's parameters (``Network.from_parameters``: no random weights are
    drawn). Memory is thus bounded by the file plus the network it really holds.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise CheckpointError(f"{name}: not a readable .npz file ({e})") from None
    with zf:
        infos = zf.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"{name}: members claim {total} bytes uncompressed, limit {MAX_CHECKPOINT_BYTES}")
        members = {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i for i in infos}
        if len(members) != len(infos):
            raise CheckpointError(f"{name}: a member name appears twice")
        if "meta" not in members:
            raise CheckpointError(f"{name}: missing the 'meta' member with the configuration")
        meta = _read_meta(zf, members["meta"], name, limit=min(MAX_META_BYTES, META_RATIO * len(data) + 2**20))
        try:
            config = meta["config"]
            extra = meta.get("extra") or {}
            sizes = config["sizes"]
            validate_config(sizes, config["activation"], config["output_activation"], config["cost"],
                            config.get("dtype", "float32"))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CheckpointError(f"{name}: bad configuration ({e})") from None
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{name}: unknown format {meta.get('format')!r}, expected {FORMAT!r}")
        if fits is not None:
            try:
                fits(list(sizes))
            except ValueError as e:
                raise CheckpointError(f"{name}: {e}") from None
        n = len(sizes) - 1
        expected = {f"W{l}" for l in range(n)} | {f"b{l}" for l in range(n)} | {"meta"}
        if set(members) != expected:
            missing, unexpected = expected - set(members), set(members) - expected
            raise CheckpointError(f"{name}: members do not match the configuration "
                                  f"(missing {sorted(missing)}, unexpected {sorted(unexpected)})")
        headers = {key: _read_header(zf, members[key], name) for key in sorted(expected - {"meta"})}
        for key, (shape, dtype) in headers.items():
            if dtype.hasobject:
                raise CheckpointError(f"{name}: not a plain-array checkpoint ({key} holds Python objects)")
            if dtype.kind != "f":
                raise CheckpointError(f"{name}: {key} must hold floats, not {dtype}")
        for l in range(n):
            (w, _), (b, _) = headers[f"W{l}"], headers[f"b{l}"]
            want_w, want_b = (sizes[l + 1], sizes[l]), (sizes[l + 1],)
            if w != want_w or b != want_b:
                raise CheckpointError(f"{name}: layer {l}: weights {w} and biases {b} do not match {want_w} and {want_b}")
        arrays = {key: _read_array(zf, members[key], name) for key in headers}
    if not isinstance(extra, dict):
        raise CheckpointError(f"{name}: 'extra' must be an object")
    seed = config.get("seed")
    config = {**config, "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None}
    try:
        net = Network.from_parameters(config, [arrays[f"W{l}"] for l in range(n)], [arrays[f"b{l}"] for l in range(n)],
                                      copy=False)
    except ValueError as e:
        raise CheckpointError(f"{name}: {e}") from None
    return net, extra


def read_meta(data: bytes, name: str = "checkpoint") -> dict:
    """Only the configuration/extra JSON of a checkpoint (for listings; ``from_bytes`` validates fully)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise CheckpointError(f"{name}: not a readable .npz file ({e})") from None
    with zf:
        try:
            info = zf.getinfo("meta.npy")
        except KeyError:
            raise CheckpointError(f"{name}: missing the 'meta' member with the configuration") from None
        return _read_meta(zf, info, name, limit=min(MAX_META_BYTES, META_RATIO * len(data) + 2**20))


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> tuple[tuple, np.dtype]:
    """(shape, dtype) from a member's .npy header, without reading its data."""
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{name}: not a readable .npz file ({info.filename}: {e})") from None
    return tuple(shape), dtype


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    try:
        with zf.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{name}: not a readable .npz file ({info.filename}: {e})") from None


def _read_meta(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limit: int) -> dict:
    """The ``meta`` member: a 1-D uint8 array of UTF-8 JSON, at most ``limit`` bytes, as a dict."""
    shape, dtype = _read_header(zf, info, name)
    if dtype.hasobject:
        raise CheckpointError(f"{name}: not a plain-array checkpoint (meta holds Python objects)")
    if len(shape) != 1 or dtype != np.uint8:
        raise CheckpointError(f"{name}: bad configuration (meta must be bytes of JSON, not {dtype} {shape})")
    if shape[0] > limit:
        raise CheckpointError(f"{name}: the meta member claims {shape[0]} bytes, over the limit of {limit} "
                              "for a file of this size")
    raw = _read_array(zf, info, name)
    try:
        meta = json.loads(raw.tobytes().decode())
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{name}: bad configuration ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{name}: bad configuration (meta is not a JSON object)")
    return meta
