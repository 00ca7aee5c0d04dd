"""The access token of a server bound beyond loopback: given with ``--token``, or kept in the checkpoint
folder so that it survives a restart (students' open tabs and bookmarks keep working).

The file is ``server-token`` in the checkpoint folder, readable by its owner only (0600). It is created
atomically (a complete temporary file hard-linked into place, which fails if another server made one
first: then that one is used), so two servers sharing the folder agree on one token.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

TOKEN_FILE = "server-token"
PRESENTER_FILE = "presenter-key"  # classroom mode: the presenter's key, kept the same way (stable_token(…, name))
TOKEN_RE = re.compile(r"^[A-Za-z0-9_.~-]{8,128}$")  # URL-safe as it is: no escaping in ?token=…
TOKEN_RULE = "8 to 128 letters, digits, '-', '_', '.' or '~'"


def check_token(text: str) -> str:
    """``--token``'s value, or ValueError saying what a token may be."""
    if not TOKEN_RE.match(text):
        got = f"{len(text)} characters" if not 8 <= len(text) <= 128 else "other characters"
        raise ValueError(f"--token must be {TOKEN_RULE}; got {got}")
    return text


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def stable_token(folder: str | Path, name: str = TOKEN_FILE) -> tuple[str, Path | None, str | None]:
    """(token, the file that keeps it or None, a note for the terminal or None).

    Reuses the token in ``folder/server-token`` (tightening its permissions to 0600 if they were wider);
    otherwise makes one and keeps it there. When the folder cannot be written, the token is new and
    lasts until the server stops; the note says why."""
    folder = Path(folder)
    path = folder / name
    note = None
    try:
        existing = _read(path)
    except OSError as e:
        existing, note = None, f"could not read {path} ({e.strerror or e}): making a new token"
    if existing is not None:
        if TOKEN_RE.match(existing):
            return existing, path, _tighten(path)
        note = f"{path} does not hold a valid token: making a new one"
    token = new_token()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        kept = _create(path, token, replace=existing is not None)
    except OSError as e:
        return token, None, (f"the token is not kept: cannot write {path} ({e.strerror or e}); it changes at the "
                             "next start (--token fixes one)")
    if kept != token:  # another server sharing the folder made one first
        return kept, path, None
    return token, path, note


def _read(path: Path) -> str | None:
    try:
        if path.is_symlink():
            raise OSError(f"{path} is a symbolic link; refusing to read a token through it")
        return path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        return None


def _tighten(path: Path) -> str | None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(path, 0o600)
        except OSError as e:
            return f"{path} is readable by others (mode {mode:o}) and could not be made private: {e.strerror}"
        return f"{path} was readable by others (mode {mode:o}): now 0600"
    return None


def _create(path: Path, token: str, replace: bool) -> str:
    """Write ``token`` to ``path`` (0600, complete before it appears); the token that ends up there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(token + "\n")
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
            return token
        try:
            os.link(tmp, path)  # atomic, and refuses to replace one made meanwhile
        except FileExistsError:
            existing = _read(path)
            if existing and TOKEN_RE.match(existing):
                return existing
            os.replace(tmp, path)
        return token
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
