"""Who may talk to the server, and how much: Host and Origin checks (DNS rebinding, cross-site
requests and sockets), the token, and the size of request bodies. Checked on every HTTP request by
``GuardMiddleware`` before any route runs; websockets are checked in ``routes/ws.py`` before accept."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.datastructures import Headers, QueryParams

from ..training.store import MAX_FILE_BYTES as UPLOAD_LIMIT

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_BIND = ("127.0.0.1", "localhost", "::1")
TOKEN_HEADER = "x-backprop-token"
MAX_BODY_BYTES = 16 * 1024 * 1024  # a 1024×1024 drawing as JSON floats fits; anything larger is refused
UPLOAD_PATH = "/api/checkpoints/upload"  # the one route with a larger limit (a checkpoint file)


RATE_PER_SECOND = 50.0  # sustained websocket messages per second (per connection, and per visitor in a classroom)
RATE_BURST = 100.0


class RateLimit:
    """A token bucket: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, rate=RATE_PER_SECOND, burst=RATE_BURST):
        self.rate, self.burst, self.tokens, self.t = rate, burst, burst, time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def body_limit(path: str) -> int:
    return UPLOAD_LIMIT if path == UPLOAD_PATH else MAX_BODY_BYTES


@dataclass
class Guard:
    """Decides whether a request's Host, Origin and token are acceptable.

    ``port`` None accepts any port (used by the in-process test client); ``token`` None means
    loopback-only mode, where the Host must name this machine or one of ``extra_hosts`` (``--allowed-hosts``:
    the names a reverse proxy forwards; one without a port allows any port).
    """

    port: int | None = None
    token: str | None = None
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def for_bind(cls, host: str, port: int | None, token: str | None = None) -> "Guard":
        """Loopback binds are protected by Host/Origin checks; any other bind needs a token too (``token``,
        else a random one). A ``token`` given for a loopback bind is required there as well."""
        if token is None and host not in LOOPBACK_BIND:
            token = secrets.token_urlsafe(24)
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
        if name in self.extra_hosts:  # an allowed host named without a port: any port
            return True
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


class GuardMiddleware:
    """Host, Origin, token and body-size checks on every HTTP request, before any route runs.

    A plain ASGI middleware (Starlette's ``@app.middleware("http")`` costs about a millisecond per
    request). A declared Content-Length over the limit is refused at once; a body without one is
    counted as it arrives (``routes`` read it through ``bodies.LimitedRequest``).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        response = self.refusal(scope)
        if response is not None:
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)

    @staticmethod
    def refusal(scope):
        guard: Guard = scope["app"].state.guard
        headers = Headers(scope=scope)
        host = headers.get("host")
        if not guard.host_ok(host):
            return PlainTextResponse(f"Host {host!r} is not allowed (this server answers only on loopback)", 403)
        if scope["method"] not in ("GET", "HEAD") and not guard.origin_ok(headers.getlist("origin"), host):
            return JSONResponse({"detail": "cross-site request refused"}, 403)
        if scope["path"].startswith("/api/") and not guard.token_ok(
            headers.get(TOKEN_HEADER) or QueryParams(scope.get("query_string", b"")).get("token")
        ):
            return JSONResponse({"detail": "missing or wrong token"}, 401)
        length = headers.get("content-length")
        limit = body_limit(scope["path"])
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse({"detail": f"request body over {limit} bytes"}, 413)
        return None
