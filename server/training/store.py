"""Named checkpoints in one folder: save, list, load, download, delete (no I/O outside that folder).

Names match ``^[A-Za-z0-9_-]{1,64}$`` and map to ``FOLDER/NAME.npz``; the folder is resolved once and
a name can never reach outside it (no separators, no dots, and symlinks are refused, so none can
point out). Writes are atomic (``checkpoint.save``: a temporary file, flush, fsync, ``os.replace``,
then the folder is fsynced): a crash mid-save leaves the previous checkpoint intact. Files are read
with ``allow_pickle=False`` and fully validated (``checkpoint.from_bytes``) before anything uses them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..engine import checkpoint
from ..engine.checkpoint import CheckpointError, Loaded
from ..engine.datasets.registry import dataset_record
from ..engine.network import Network
from ..engine.saved_snapshots import SavedHistory

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SUFFIX = ".npz"
MAX_FILE_BYTES = 64 * 1024 * 1024  # the largest checkpoint file accepted (upload or load)
AUTOSAVE = "autosave"  # the single autosave of earlier versions: still read by --resume, never rotated away
AUTOSAVE_RE = re.compile(r"^autosave-(\d{8}-\d{6})(?:-(\d+))?$")  # autosave-YYYYMMDD-HHMMSS[-n], local time
AUTOSAVES_KEPT = 5
# The recorded snapshots a checkpoint carries at most (the autosave, or a save "with history"): their
# parameters within 32 MiB and 10,000 of them, thinned evenly past that, so that the file stays well
# within MAX_FILE_BYTES (the network itself is at most about 5 MB, the cost history 11 MB).
SAVED_SNAPSHOT_BYTES = 32 * 1024 * 1024
SAVED_SNAPSHOTS_MAX = 10_000


class NotFound(CheckpointError):
    """No checkpoint of that name."""


class Exists(CheckpointError):
    """A checkpoint of that name exists and replacing it was not asked for."""


def is_autosave(name: str) -> bool:
    return name == AUTOSAVE or bool(AUTOSAVE_RE.match(name))


@dataclass
class Frozen:
    """A copy of a network's parameters and configuration: what ``checkpoint.save`` writes (and, for a
    checkpoint with history, the recorded snapshots and diagnostics)."""

    weights: list
    biases: list
    config: dict
    history: SavedHistory | None = None


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise CheckpointError(f"checkpoint names are 1 to 64 letters, digits, '_' or '-'; got {name!r}")
    return name


def freeze(net) -> Frozen:
    """Copy a network's parameters (call it where the network is consistent: ``session.read``)."""
    return Frozen([w.copy() for w in net.weights], [b.copy() for b in net.biases], dict(net.config))


def thaw(frozen: Frozen):
    """A working network from a ``Frozen`` copy (its own arrays: the live network is not touched)."""
    return Network.from_parameters(frozen.config, frozen.weights, frozen.biases)


def fingerprint(net) -> str:
    """A digest of a network's configuration and parameters (a Network or a ``Frozen`` copy)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(net.config, sort_keys=True).encode())
    for a in list(net.weights) + list(net.biases):
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def worth_autosaving(frozen: Frozen, at_start: str | None) -> bool:
    """Whether a session is worth an autosave at shutdown: its network changed since the server started
    (``at_start`` = its ``fingerprint`` then; None: the server never finished starting) and it is not
    an untrained one (the initial weights of its configuration and seed, e.g. after a reset)."""
    if at_start is None:
        return False
    now = fingerprint(frozen)
    if now == at_start:
        return False  # nothing trained since it started (or since it was resumed)
    c = frozen.config
    if isinstance(c.get("seed"), int):
        fresh = Network(c["sizes"], c["activation"], c["output_activation"], c["cost"], seed=c["seed"],
                        dtype=c.get("dtype", "float32"))
        if fingerprint(fresh) == now:
            return False  # never trained
    return True


def export(session, snapshots: bool = False) -> tuple[Frozen, dict]:
    """The session's network and everything ``--resume`` needs, consistent (run it via ``session.read``):
    ``extra`` = ``{iteration, params: {learning_rate, batch_size, steps_per_second}, history, dataset:
    {name, options}}`` (a custom set's options hold its points). With ``snapshots`` (the autosave, a save
    "with history"), ``Frozen.history`` holds the recorded snapshots (within ``SAVED_SNAPSHOT_BYTES``)
    and diagnostics, so that a restarted server can scrub back through the whole training."""
    with session.lock:
        frozen = freeze(session.net)
        if snapshots:
            frozen.history = session.recorder.saved(SAVED_SNAPSHOT_BYTES, SAVED_SNAPSHOTS_MAX)
        return frozen, {"iteration": session.iteration, "params": session.params(),
                        "history": session.history_state(), "dataset": dataset_record(session.data)}


class CheckpointStore:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).expanduser().resolve()

    # ----- paths ----------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """``FOLDER/NAME.npz``; the name is checked, so the path is always directly inside the folder."""
        path = self.folder / f"{check_name(name)}{SUFFIX}"
        assert path.parent == self.folder  # guaranteed by the name pattern
        return path

    def _regular_file(self, name: str) -> Path:
        path = self.path(name)
        try:
            st = path.lstat()
        except FileNotFoundError:
            raise NotFound(f"no checkpoint named {name!r}") from None
        if stat.S_ISLNK(st.st_mode):
            raise CheckpointError(f"{name!r} is a symbolic link; only plain files in the checkpoint folder are used")
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{name!r} is not a regular file")
        return path

    def read_bytes(self, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """The file's bytes, opened without following symlinks (no race between check and open)."""
        path = self._regular_file(name)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            raise NotFound(f"no checkpoint named {name!r}") from None
        except OSError as e:
            raise CheckpointError(f"{name!r} cannot be opened ({e.strerror})") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise CheckpointError(f"{name!r} is not a regular file")
            data = f.read(limit + 1)
        if len(data) > limit:
            raise CheckpointError(f"{name!r} is over {limit} bytes")
        return data

    # ----- operations -----------------------------------------------------------------------------
    def save(self, name: str, net, extra: dict | None = None, overwrite: bool = True,
             history: SavedHistory | None = None) -> dict:
        """Write ``net`` (a Network or a ``Frozen`` copy) as ``name``, atomically; returns its listing entry.
        ``history``: the snapshots to save with it (by default a ``Frozen`` copy's own, if any).

        ``overwrite=False``: an existing ``name`` is left as it is and ``Exists`` is raised."""
        if history is None:
            history = getattr(net, "history", None)
        path = self.path(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            raise CheckpointError(f"{name!r} is a symbolic link; refusing to write through it")
        try:
            checkpoint.save(path, net, extra, overwrite=overwrite, history=history)
        except FileExistsError:
            raise Exists(f"a checkpoint named {name!r} exists; send overwrite: true to replace it") from None
        _fsync_dir(self.folder)
        return self.info(name)

    # ----- autosaves --------------------------------------------------------------------------------
    def autosave(self, net, extra: dict | None = None, now: datetime | None = None,
                 keep: int = AUTOSAVES_KEPT) -> str:
        """Save as ``autosave-YYYYMMDD-HHMMSS`` (``-2``, ``-3``… within one second), never replacing a
        file, then delete the oldest timestamped autosaves beyond ``keep``. Returns the name."""
        base = f"{AUTOSAVE}-{(now or datetime.now()):%Y%m%d-%H%M%S}"
        for n in range(1, 1000):
            name = base if n == 1 else f"{base}-{n}"
            try:
                self.save(name, net, extra, overwrite=False)
                break
            except Exists:
                continue
        else:
            raise CheckpointError(f"no free autosave name for {base}")
        for old in [a for a in self.autosaves() if a != AUTOSAVE][keep:]:
            try:
                self.delete(old)
            except CheckpointError:
                pass  # gone already (another server sharing the folder)
        return name

    def autosaves(self) -> list[str]:
        """The autosaves (timestamped, and the old single ``autosave``), newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for entry in os.scandir(self.folder):
            name = entry.name[: -len(SUFFIX)]
            if entry.name.endswith(SUFFIX) and is_autosave(name) and entry.is_file(follow_symlinks=False):
                m = AUTOSAVE_RE.match(name)
                order = (m.group(1), int(m.group(2) or 1)) if m else ("", 0)
                found.append((entry.stat(follow_symlinks=False).st_mtime, order, name))
        return [name for *_, name in sorted(found, reverse=True)]

    def newest_autosave(self) -> str | None:
        """What ``--resume`` continues: the newest autosave (or None)."""
        names = self.autosaves()
        return names[0] if names else None

    def load(self, name: str, fits=None):
        """(network, extra) of a stored checkpoint, validated (``fits``: the caller's limits on its sizes,
        checked before the arrays are read); raises CheckpointError with the reason."""
        return checkpoint.from_bytes(self.read_bytes(name), name=name, fits=fits)

    def read(self, name: str, fits=None) -> Loaded:
        """``load`` with the checkpoint's recorded snapshots (``Loaded.dropped``: why they were not loaded)."""
        return checkpoint.read(self.read_bytes(name), name=name, fits=fits)

    def delete(self, name: str) -> None:
        path = self.path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            raise NotFound(f"no checkpoint named {name!r}") from None

    def exists(self, name: str) -> bool:
        try:
            self._regular_file(name)
            return True
        except CheckpointError:
            return False

    def list(self) -> list[dict]:
        """Every ``*.npz`` with a valid name, newest first: name, size, mtime, iteration, config, dataset
        (or ``error`` for a file that cannot be read)."""
        if not self.folder.is_dir():
            return []
        out = []
        for entry in os.scandir(self.folder):
            if not entry.name.endswith(SUFFIX) or not NAME_RE.match(entry.name[: -len(SUFFIX)]):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            out.append(self.info(entry.name[: -len(SUFFIX)]))
        return sorted(out, key=lambda e: e["mtime"], reverse=True)

    def info(self, name: str) -> dict:
        path = self._regular_file(name)
        st = path.stat()
        entry = {"name": name, "size": st.st_size, "mtime": st.st_mtime, "iteration": None, "config": None,
                 "autosave": is_autosave(name)}
        try:
            meta = read_meta(self.read_bytes(name))
            extra = meta.get("extra") or {}
            history = extra.get("history") if isinstance(extra, dict) else None
            iteration = history.get("iteration") if isinstance(history, dict) else extra.get("iteration")
            config = meta.get("config") or {}
            entry["iteration"] = iteration if isinstance(iteration, int) else None
            entry["config"] = {k: config.get(k) for k in ("sizes", "activation", "output_activation", "cost", "seed")}
            entry["has_history"] = isinstance(history, dict)
            saved = meta.get("snapshots")
            entry["snapshots"] = saved.get("count", 0) if isinstance(saved, dict) else 0
            if meta.get("cut_short"):
                entry["cut_short"] = meta["cut_short"]
            record = extra.get("dataset") if isinstance(extra, dict) else None
            entry["dataset"] = record.get("name") if isinstance(record, dict) else "mnist"  # older files: MNIST
        except (CheckpointError, ValueError, KeyError, TypeError, AttributeError) as e:
            entry["error"] = str(e)
        return entry


def read_meta(data: bytes) -> dict:
    """Only the configuration/extra JSON of a checkpoint (for listings; ``from_bytes`` validates fully)."""
    return checkpoint.read_meta(data, name="checkpoint")


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable too (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
