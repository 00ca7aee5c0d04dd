"""Checkpoints: an .npz of plain float arrays plus the configuration as JSON, never a pickle.

Format ``backprop-lab/1``: ``W0..Wn``, ``b0..bn`` and ``meta`` (UTF-8 JSON as bytes: ``{format, config,
extra}``). Format ``backprop-lab/2`` is the same followed by the recorded snapshots (saved_snapshots.py;
``meta.snapshots`` = ``{count, bytes}``); a file without snapshots is still written as ``/1``, so that
earlier versions read it. Both are read; a damaged snapshot part is dropped and the network still loads.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import saved_snapshots
from .network import Network, validate_config
from .salvage import salvage
from .saved_snapshots import SavedHistory

FORMAT = "backprop-lab/1"  # the network, its configuration and extra
FORMAT_SNAPSHOTS = "backprop-lab/2"  # the same, then the recorded snapshots
FORMATS = (FORMAT, FORMAT_SNAPSHOTS)
MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024  # uncompressed members beyond this are refused
MAX_META_BYTES = 64 * 1024 * 1024  # the configuration and history JSON
META_RATIO = 16  # the meta member may hold at most this many times the file's size (+1 MiB): no zip bombs


class CheckpointError(Exception):
    """A checkpoint file that cannot be trusted or does not fit."""


class Unreadable(CheckpointError):
    """A member whose bytes cannot be read (a bad CRC, cut short, a broken .npy header)."""

    def __init__(self, name: str, info: zipfile.ZipInfo, error: Exception):
        super().__init__(f"{name}: not a readable .npz file ({info.filename}: {error})")
        self.member = info.filename.removesuffix(".npy")
        self.reason = str(error)


@dataclass
class Loaded:
    """A checkpoint as read: the network, ``extra``, and its recorded history (empty for a ``/1`` file)."""

    net: Network
    extra: dict
    history: SavedHistory = field(default_factory=SavedHistory)
    dropped: str | None = None  # why the file's snapshots were not loaded (None: loaded, or there were none)


def to_bytes(net: Network, extra: dict | None = None, history: SavedHistory | None = None) -> bytes:
    """The checkpoint of ``net`` as bytes: W0..Wn, b0..bn and a JSON ``config`` (plus ``extra`` state),
    then, when ``history`` has snapshots, the snapshot part (format ``backprop-lab/2``)."""
    arrays = {}
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"] = w
        arrays[f"b{l}"] = b
    meta = {"format": FORMAT, "config": net.config, "extra": extra or {}}
    part = {}
    if history is not None and history.snapshots:
        part, meta["snapshots"] = saved_snapshots.to_members(history.snapshots, history.diagnostics,
                                                            net.config["sizes"])
        meta["format"] = FORMAT_SNAPSHOTS
    arrays["meta"] = np.frombuffer(json.dumps(meta, allow_nan=False).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays, **part)  # in this order: a file cut in the snapshot part keeps its network
    return buf.getvalue()


def save(path: str | Path, net: Network, extra: dict | None = None, overwrite: bool = True,
         history: SavedHistory | None = None) -> None:
    """Write atomically: a temporary file in the same folder, fsync, then rename over ``path``.

    With ``overwrite=False`` an existing ``path`` is never replaced: FileExistsError, even when another
    process creates it meanwhile (the temporary file is hard-linked into place, which fails if the
    name is taken).
    """
    path = Path(path)
    data = to_bytes(net, extra, history)
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
    loaded = read_file(path, fits, snapshots=False)
    return loaded.net, loaded.extra


def read_file(path: str | Path, fits: Callable[[list], None] | None = None, snapshots: bool = True) -> Loaded:
    """``read`` of a file's bytes."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    return read(path.read_bytes(), name=str(path), fits=fits, snapshots=snapshots)


def from_bytes(data: bytes, name: str = "checkpoint", fits: Callable[[list], None] | None = None) -> tuple[Network, dict]:
    """(network, extra) of checkpoint bytes (``read`` without the snapshots)."""
    loaded = read(data, name, fits, snapshots=False)
    return loaded.net, loaded.extra


def read(data: bytes, name: str = "checkpoint", fits: Callable[[list], None] | None = None,
         snapshots: bool = True) -> Loaded:
    """Parse and validate checkpoint bytes, and only then allocate the network; then its snapshots.

    In order, before any array is read: the zip's member sizes, the ``meta`` member (bounded, no
    pickle), the configuration and format, ``fits(sizes)`` (the caller's limits, e.g. the live
    session's: a ValueError there refuses the file), the member names, then every array's dtype and
    shape from its ``.npy`` header. Then the arrays are read (exactly the sizes the configuration
    gives) and become the network's parameters (``Network.from_parameters``: no random weights are
    drawn). Memory is thus bounded by the file plus the network it really holds.

    Anything wrong there raises CheckpointError. The snapshot part of a ``/2`` file is read last (with
    ``snapshots``), and anything wrong with it only drops it (``Loaded.dropped`` says why). A ``/2``
    file cut short keeps the members before the cut (``salvage``): the network, if it is all there.
    """
    zf, cut = _open_zip(data, name)
    with zf:
        infos = zf.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"{name}: its arrays claim {total:,} bytes unpacked, over the limit of {MAX_CHECKPOINT_BYTES:,}")
        members = {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i for i in infos}
        if len(members) != len(infos):
            raise CheckpointError(f"{name}: an array name appears twice")
        if "meta" not in members:
            if cut:
                raise cut
            raise CheckpointError(f"{name}: not a Backprop Lab checkpoint: the description of its network (its 'meta' array) is missing")
        meta = _read_meta(zf, members["meta"], name, limit=min(MAX_META_BYTES, META_RATIO * len(data) + 2**20))
        if cut and meta.get("format") != FORMAT_SNAPSHOTS:
            raise cut  # only a file with snapshots has a part that can be lost without losing the network
        try:
            config = meta["config"]
            extra = meta.get("extra") or {}
            sizes = config["sizes"]
            validate_config(sizes, config["activation"], config["output_activation"], config["cost"],
                            config.get("dtype", "float32"))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CheckpointError(f"{name}: bad configuration ({e})") from None
        if meta.get("format") not in FORMATS:
            raise CheckpointError(f"{name}: unknown format {meta.get('format')!r}, expected {FORMAT!r} or "
                                  f"{FORMAT_SNAPSHOTS!r}")
        if fits is not None:
            try:
                fits(list(sizes))
            except ValueError as e:
                raise CheckpointError(f"{name}: {e}") from None
        n = len(sizes) - 1
        expected = {f"W{l}" for l in range(n)} | {f"b{l}" for l in range(n)} | {"meta"}
        allowed = expected | (saved_snapshots.member_names(n) if meta["format"] == FORMAT_SNAPSHOTS else set())
        if not expected <= set(members) <= allowed:
            missing, unexpected = expected - set(members), set(members) - allowed
            if cut and missing:
                raise cut
            raise CheckpointError(f"{name}: its arrays do not match the network it describes "
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
            net = Network.from_parameters(config, [arrays[f"W{l}"] for l in range(n)],
                                          [arrays[f"b{l}"] for l in range(n)], copy=False)
        except ValueError as e:
            raise CheckpointError(f"{name}: {e}") from None
        loaded = Loaded(net, extra)
        if snapshots and meta["format"] == FORMAT_SNAPSHOTS:
            try:
                loaded.history = saved_snapshots.read(
                    set(members), sizes, lambda key: _read_header(zf, members[key], name),
                    lambda key: _read_array(zf, members[key], name),
                    lambda key, limit: _read_bytes(zf, members[key], name, limit))
            except Unreadable as e:
                loaded.dropped = f"{e.member} is damaged ({e.reason})"
            except (saved_snapshots.Dropped, CheckpointError) as e:
                loaded.dropped = str(e).removeprefix(f"{name}: ")
            if cut and loaded.dropped:
                loaded.dropped = f"the file is cut short ({loaded.dropped})"
    return loaded


def _open_zip(data: bytes, name: str) -> tuple[zipfile.ZipFile, CheckpointError | None]:
    """The zip of ``data``; for one cut short, a zip of the complete members at its start and the error
    that the whole file gave (raised unless what is left is a ``/2`` file's whole network)."""
    try:
        return zipfile.ZipFile(io.BytesIO(data)), None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        error = CheckpointError(f"{name}: not a readable .npz file ({e})")
    rescued = salvage(data, MAX_CHECKPOINT_BYTES)
    if rescued is None:
        raise error
    return zipfile.ZipFile(io.BytesIO(rescued[0])), error


def read_meta(data: bytes, name: str = "checkpoint") -> dict:
    """Only the configuration/extra JSON of a checkpoint (for listings; ``read`` validates fully). For a
    ``/2`` file cut short (its network intact), ``cut_short`` is added: what reading the whole said."""
    zf, cut = _open_zip(data, name)
    with zf:
        try:
            info = zf.getinfo("meta.npy")
        except KeyError:
            if cut:
                raise cut from None
            raise CheckpointError(f"{name}: not a Backprop Lab checkpoint: the description of its network (its 'meta' array) is missing") from None
        meta = _read_meta(zf, info, name, limit=min(MAX_META_BYTES, META_RATIO * len(data) + 2**20))
    if cut:
        if meta.get("format") != FORMAT_SNAPSHOTS:
            raise cut
        meta["cut_short"] = str(cut).removeprefix(f"{name}: ")
    return meta


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
        raise Unreadable(name, info, e) from None
    return tuple(shape), dtype


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    try:
        with zf.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as e:
        raise Unreadable(name, info, e) from None


def _read_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limit: int) -> bytes:
    """A member that is a 1-D uint8 array (JSON as bytes) of at most ``limit`` bytes, as bytes."""
    shape, dtype = _read_header(zf, info, name)
    key = info.filename.removesuffix(".npy")
    if dtype.hasobject:
        raise CheckpointError(f"{name}: not a plain-array checkpoint ({key} holds Python objects)")
    if len(shape) != 1 or dtype != np.uint8:
        raise CheckpointError(f"{name}: bad configuration ({key} must be bytes of JSON, not {dtype} {shape})")
    if shape[0] > limit:
        raise CheckpointError(f"{name}: the {key} array claims {shape[0]:,} bytes, over the limit of {limit:,} "
                              "for a file of this size")
    return _read_array(zf, info, name).tobytes()


def _read_meta(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limit: int) -> dict:
    """The ``meta`` member: a 1-D uint8 array of UTF-8 JSON, at most ``limit`` bytes, as a dict."""
    raw = _read_bytes(zf, info, name, limit)
    try:
        meta = json.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{name}: bad configuration ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{name}: bad configuration (meta is not a JSON object)")
    return meta
