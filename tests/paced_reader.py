"""A websocket reader on a slow link: it reads its socket at a fixed number of bytes per second.

A browser on Wi-Fi, or a projector laptop on a busy LAN, can take only so many bytes a second. This
client simulates one on loopback: a raw TCP socket (no library reading ahead into a queue), paced by a
token bucket, with the websocket protocol done by ``websockets``' sans-I/O ``ClientProtocol``. Every
complete message is decoded and timed: a frame's age is the time it finished arriving minus the
``time`` it was captured at (one machine, one clock). Used by tests/test_stream_budget.py and
bench/budget_bench.py.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from server.web.stream import wire

MSS = 1448
RCVBUF = 32 * 1024  # (the kernel doubles it)


@dataclass
class Received:
    header: dict
    arrays: dict
    nbytes: int
    at: float  # time.time() when its last byte was read

    @property
    def age(self) -> float:
        return self.at - self.header["time"]


@dataclass
class PacedReader:
    url: str
    rate: float  # bytes per second it reads
    chunk: int = 4096
    received: list = field(default_factory=list)
    texts: list = field(default_factory=list)

    def __post_init__(self):
        uri = parse_uri(self.url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Segments of an Ethernet or Wi-Fi link (loopback's are 64 KB, so a receive window would open in
        # 64 KB steps, three times a second at 200 KB/s: no real link behaves like that)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
        # A modest receive buffer: on a real slow link the bytes that wait are in the network (sent, not yet
        # acknowledged: the server sees them), and a browser empties its socket at once. Here the reader is
        # the bottleneck, so what waits sits in this buffer, unseen by the server: keep it link-sized.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.settimeout(10)
        self.sock.connect((uri.host, uri.port))
        self.protocol = ClientProtocol(uri, max_size=None)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.bytes = 0
        self._pending: list[bytes] = []
        while self.protocol.handshake_exc is None and not self._open():
            self._read(65536)
        if self.protocol.handshake_exc is not None:
            raise self.protocol.handshake_exc

    def _open(self) -> bool:
        return getattr(self.protocol.state, "name", "") == "OPEN"

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _read(self, n: int) -> int:
        data = self.sock.recv(n)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.protocol.receive_data(data)
        self._flush()  # pongs
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                continue
            if isinstance(event, Frame):
                self._frame(event)
        return len(data)

    def _frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._opcode, self._pending = frame.opcode, []
        elif frame.opcode != Opcode.CONT:
            return  # ping, pong, close: the protocol answers them
        self._pending.append(bytes(frame.data))
        if not frame.fin:
            return
        data, self._pending = b"".join(self._pending), []
        if self._opcode == Opcode.TEXT:
            self.texts.append(json.loads(data))
        else:
            header, arrays = wire.decode(data)
            self.received.append(Received(header, arrays, len(data), time.time()))

    def send(self, message: dict) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    def read_for(self, seconds: float, rate: float | None = None) -> None:
        """Read for ``seconds`` at ``rate`` bytes/s (the reader's own, by default): never faster."""
        rate = rate or self.rate
        start = time.monotonic()
        allowed = 0.0
        last = start
        self.sock.settimeout(0.05)
        while (now := time.monotonic()) - start < seconds:
            allowed = min(allowed + (now - last) * rate, 2 * self.chunk)
            last = now
            if allowed < self.chunk:
                time.sleep((self.chunk - allowed) / rate)
                continue
            try:
                got = self._read(self.chunk)
            except TimeoutError:
                continue
            allowed -= got
            self.bytes += got

    def frames(self) -> list:
        return [r for r in self.received if r.header["type"] == "frame"]

    def close(self) -> None:
        try:
            self.protocol.send_close()
            self._flush()
        except OSError:
            pass
        self.sock.close()
