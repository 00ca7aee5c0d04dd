"""The complete members at the start of a cut-short .npz (a zip whose end, with its directory, is lost).

A zip keeps its directory at the end, so a file cut short anywhere is unreadable as a whole, although
the members before the cut are intact. Each member starts with a local header that gives its name,
its size and its CRC-32: ``salvage`` walks these from the start and rebuilds a zip of the members that
are complete and whose CRC matches, stopping at the first that is not. checkpoint.py uses it for files
of format ``backprop-lab/2``, whose network members come before the snapshots: a cut in the snapshot
part loses only the snapshots.

Only stored members (no compression: what ``np.savez`` writes) are taken; sizes are checked against
the bytes really there, so a header claiming more cannot make this read or allocate more.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

LOCAL = b"PK\x03\x04"
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # signature … name length, extra length: 30 bytes
_ZIP64 = 0x0001
_DATA_DESCRIPTOR = 0x08  # flag: sizes follow the data instead of being in the header
_UTF8 = 0x800


def salvage(data: bytes, limit: int) -> tuple[bytes, list[str]] | None:
    """(a zip of the complete members at the start of ``data``, their names), or None when ``data`` does
    not start with a member. At most ``limit`` bytes of members are taken."""
    pos, found, total = 0, {}, 0
    while pos + _LOCAL_HEADER.size <= len(data) and data[pos : pos + 4] == LOCAL:
        (_, _, flags, method, _, _, crc, csize, usize, name_len, extra_len) = _LOCAL_HEADER.unpack_from(data, pos)
        start = pos + _LOCAL_HEADER.size + name_len + extra_len
        if start > len(data) or flags & _DATA_DESCRIPTOR or method != zipfile.ZIP_STORED:
            break
        raw_name = data[pos + _LOCAL_HEADER.size : pos + _LOCAL_HEADER.size + name_len]
        name = raw_name.decode("utf-8" if flags & _UTF8 else "cp437", errors="replace")
        if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF:
            sizes = _zip64_sizes(data[start - extra_len : start])
            if sizes is None:
                break
            usize, csize = sizes
        end = start + csize
        if csize != usize or end > len(data) or total + csize > limit or name in found:
            break
        member = data[start:end]
        if zlib.crc32(member) != crc:
            break
        found[name] = member
        total += csize
        pos = end
    if not found:
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, member in found.items():
            zf.writestr(name, member)
    return buf.getvalue(), list(found)


def _zip64_sizes(extra: bytes) -> tuple[int, int] | None:
    """(uncompressed, compressed) sizes from a local header's zip64 extra field."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, pos)
        if kind == _ZIP64 and size >= 16 and pos + 4 + 16 <= len(extra):
            return struct.unpack_from("<QQ", extra, pos + 4)
        pos += 4 + size
    return None
