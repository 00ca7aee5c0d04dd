"""Who may talk to the server: Host and Origin checks (DNS rebinding, cross-site sockets) and the token."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_BIND = ("127.0.0.1", "localhost", "::1")
TOKEN_HEADER = "x-backprop-token"


@dataclass
class Guard:
    """Decides whether a request's Host, Origin and token are acceptable.

    ``port`` None accepts any port (used by the in-process test client); ``token`` None means
    loopback-only mode, where the Host must name this machine.
    """

    port: int | None = None
    token: str | None = None
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def for_bind(cls, host: str, port: int | None) -> "Guard":
        """Loopback binds are protected by Host/Origin checks; any other bind needs a random token too."""
        token = None if host in LOOPBACK_BIND else secrets.token_urlsafe(24)
        return cls(port=port, token=token)

    def host_ok(self, host: str | None) -> bool:
        if not host:
            return False
        if self.token is not None:  # bound beyond loopback: the token is the gate
            return True
        if host in self.extra_hosts:
            return True
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name:
            name, port = host, ""
        if name not in LOOPBACK_NAMES:
            return False
        return self.port is None or port == str(self.port)

    def origin_ok(self, origins: list[str], host: str | None) -> bool:
        """No Origin (not a browser) is fine; otherwise exactly one, same scheme-less origin as Host."""
        if not origins:
            return True
        if len(origins) != 1:
            return False
        parts = urlsplit(origins[0])
        return parts.scheme in ("http", "https") and parts.netloc == host and not parts.path.strip("/")

    def token_ok(self, presented: str | None) -> bool:
        if self.token is None:
            return True
        return presented is not None and hmac.compare_digest(presented.encode(), self.token.encode())
