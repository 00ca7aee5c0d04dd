"""How much of what was sent to one viewer has not reached it yet: the link's backlog.

A frame handed to the socket is not delivered: it waits in the transport's buffer, then in the
kernel's send queue until the peer acknowledges it. On a slow link (Wi-Fi, a projector laptop) that
queue is where latency builds up, so the broadcaster looks at it before each frame (``budget.py``).
``LinkProbe.queued()`` = the transport's buffer + the kernel's unacknowledged bytes (``SIOCOUTQ``, Linux).
uvicorn does not tell an app its socket, so ``websocket_protocol()`` is uvicorn's websocket protocol
with a probe put in each connection's scope (``scope["extensions"]["backprop.link"]``). Elsewhere (a test
client, another server) there is no probe, and a viewer is paced by its budget and send times alone.
"""

from __future__ import annotations

import logging
import struct

log = logging.getLogger("backprop_lab")
EXTENSION = "backprop.link"

try:  # POSIX; SIOCOUTQ is TIOCOUTQ on Linux (elsewhere the ioctl fails and only the buffer is counted)
    import fcntl
    import termios

    _OUTQ = getattr(termios, "TIOCOUTQ", None)
except ImportError:  # pragma: no cover (Windows)
    fcntl = None
    _OUTQ = None


class LinkProbe:
    """Bytes written to one connection and not yet delivered (None when it cannot be told)."""

    def __init__(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        self.fd = sock.fileno() if sock is not None and fcntl is not None and _OUTQ is not None else None

    def queued(self) -> int | None:
        try:
            n = self.transport.get_write_buffer_size()
        except Exception:  # a closed transport
            return None
        if self.fd is not None:
            try:
                n += struct.unpack("i", fcntl.ioctl(self.fd, _OUTQ, b"\0\0\0\0"))[0]
            except OSError:
                self.fd = None  # not a TCP socket here (or not Linux): the buffer alone
        return n


def probe_of(scope) -> LinkProbe | None:
    return (scope.get("extensions") or {}).get(EXTENSION, {}).get("probe")


def websocket_protocol():
    """uvicorn's websocket protocol class, with a ``LinkProbe`` in every connection's scope ("auto" when
    this uvicorn has no sans-I/O protocol to extend)."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # pragma: no cover
        return "auto"

    class ProbedWebSocketProtocol(WebSocketsSansIOProtocol):
        def handle_connect(self, event) -> None:
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            if scope is not None:  # the app's task is created but has not run yet: it sees the probe
                scope.setdefault("extensions", {})[EXTENSION] = {"probe": LinkProbe(self.transport)}

    return ProbedWebSocketProtocol
