"""Classroom mode in the web process: who a visitor is (a cookie), which session and stream are theirs,
the room's cap and idle eviction, per-visitor rate limits, and what a visitor is told when its session's
process crashed.

A visitor is a cookie ``bpl_visitor = ID.SIGNATURE``: ID is 192 random bits (``secrets``), SIGNATURE an
HMAC of it with the room's secret (``ROOT/classroom-secret``, made once, shared by every replica through
the checkpoint folder). Only a page load (``GET /``) mints one, and a session is made only by a page load
that comes with one; every other request with a cookie the room does not know, or did not sign, is
refused. Sessions live in worker processes (``training/room.py``, ``training/remote.py``); here each seat
gets a ``Broadcaster`` of its own, all sharing one send budget.

The presenter (``presenter.py``): a visitor who gave the presenter key. A page that asks to follow
(``/ws?follow=1``, and HTTP reads with ``X-Backprop-Follow: 1``), or any student while the class is locked,
streams and reads the presenter's session read-only (``Connected.read_only``); ``copy_session(src, dst)``
loads one session's network and history into another.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import os
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from fastapi import HTTPException, Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse

from ..training.remote import SAVE_NAME, RemoteSession, SessionLost
from ..training.room import Room, RoomFull, Seat
from ..training.store import CheckpointStore, export, thaw
from ..engine.checkpoint import CheckpointError
from .guard import RateLimit
from .presenter import FOLLOWING, LOCKED, Member, Presenter
from .stream.broadcast import DEFAULT_BUDGET, MAX_BUDGET, Broadcaster, SendBudget

log = logging.getLogger("backprop_lab")
COOKIE = "bpl_visitor"
SECRET_FILE = "classroom-secret"
COOKIES_CHECKED = "cookies"  # the query marker of the page load that follows the cookie's first setting
API_RATE, API_BURST = 30.0, 90.0  # HTTP API requests per visitor (a page load makes about 15 at once)
WS_RATE, WS_BURST = 50.0, 100.0  # websocket messages per visitor, all its tabs together
# Frames per second for every viewer of every session together. The web process does not train in
# classroom mode, so this is what its event loop can send: measured in bench/classroom_bench.py
# (docs/server-results.md); 30 viewers get 20 frames/s each.
CLASSROOM_SENDS_PER_SECOND = 600.0
MAINTAIN_EVERY = 5.0  # seconds between looks for idle and hung seats
NO_SESSION = "you have no session here (it ended, or the room was full when you came): reload the page for one"
CLOSE_LOST = 4000  # websocket close: your session's process stopped (reconnect: it is restored)
CLOSE_NO_SESSION = 4001  # websocket close: no session for this visitor (reload the page)
CLOSE_FULL = 4002  # websocket close: the room is full
FOLLOW_HEADER = "x-backprop-follow"  # "1": this HTTP request reads the presenter's session (a follower's page)
# What a follower's page may ask of the presenter's session over HTTP: every GET, and these reads.
FOLLOW_READS = {"/api/predict", "/api/backprop", "/api/walkthrough/batch", "/api/walkthrough/curve", "/api/gradcheck",
                "/api/maps", "/api/line", "/api/surface", "/api/runners"}
# Always the visitor's own session, even following or locked: the walkthrough's pause of its own session.
OWN_ALWAYS = {"/api/walkthrough/open", "/api/walkthrough/close"}


def load_secret(root: Path) -> bytes:
    """The room's signing key: made once (0600) in the checkpoint folder, so replicas sharing the folder
    share it; read from there afterwards. Made whole, then linked into place (two replicas starting at
    once: one link wins, both read the same key)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / SECRET_FILE
    if not path.exists():
        tmp = root / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip().encode()


class Cookies:
    """Mints and checks visitor cookies; a visitor's key (its folder's name) is a digest of its id."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def _sign(self, ident: str) -> str:
        return hmac.new(self.secret, ident.encode(), hashlib.sha256).hexdigest()[:32]

    def mint(self) -> str:
        ident = secrets.token_urlsafe(24)  # 192 random bits
        return f"{ident}.{self._sign(ident)}"

    def key(self, value: str | None) -> str | None:
        """The visitor's key for a cookie this room signed, else None."""
        if not value or len(value) > 100 or value.count(".") != 1:
            return None
        ident, signature = value.split(".")
        if len(ident) < 22 or not hmac.compare_digest(signature, self._sign(ident)):
            return None
        return hashlib.sha256(ident.encode()).hexdigest()[:32]


def cookie_header(value: str, secure: bool) -> str:
    return (f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={400 * 24 * 3600}"
            + ("; Secure" if secure else ""))


def cookie_of(headers) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar = SimpleCookie()
    with contextlib.suppress(Exception):
        jar.load(raw)
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


# ----- a visitor's checkpoints --------------------------------------------------------------------
class VisitorStore:
    """A visitor's checkpoints (its own folder), and the presenter's shared ones (read-only: listed with
    ``"shared": true``, loaded and downloaded like the visitor's own when the visitor has none of that
    name, never deleted or replaced from here). The surface of ``CheckpointStore`` the routes use."""

    reserved = (SAVE_NAME,)  # the session's own save: written by its worker only

    def __init__(self, own: Path, shared: Path):
        self.own = CheckpointStore(own)
        self.shared = CheckpointStore(shared)
        self.folder = own

    def list(self) -> list[dict]:
        mine = self.own.list()
        names = {e["name"] for e in mine}
        theirs = [{**e, "shared": True} for e in self.shared.list() if e["name"] not in names]
        return sorted(mine + theirs, key=lambda e: e["mtime"], reverse=True)

    def _owner(self, name: str) -> CheckpointStore:
        return self.own if self.own.exists(name) or not self.shared.exists(name) else self.shared

    def save(self, name, net, extra=None, overwrite=True, history=None):
        return self.own.save(name, net, extra, overwrite, history)

    def exists(self, name: str) -> bool:
        return self.own.exists(name)

    def load(self, name: str, fits=None):
        return self._owner(name).load(name, fits)

    def read(self, name: str, fits=None):
        return self._owner(name).read(name, fits)

    def read_bytes(self, name: str, *args):
        return self._owner(name).read_bytes(name, *args)

    def delete(self, name: str) -> None:
        if not self.own.exists(name) and self.shared.exists(name):
            raise CheckpointError(f"{name!r} is shared by the presenter: it cannot be deleted here")
        self.own.delete(name)


# ----- the room, seen from the web --------------------------------------------------------------
@dataclass
class Connected:
    """A websocket's place: the session it streams and commands, and its rate limits."""

    session: object
    broadcaster: Broadcaster
    limits: list = field(default_factory=list)
    read_only: bool = False  # a follower's view of another visitor's session (the presenter's): no commands
    notice: str | None = None  # said once, right after the hello
    seat: Seat | None = None  # the visitor's own seat (kept from idling while a page is open)
    visitor: str | None = None  # the visitor's key (classroom mode)
    asked_follow: bool = False  # the page asked to follow the presenter
    locked: object = None  # () -> bool: is this visitor locked to follow now (its commands refused)

    def allow(self) -> bool:
        return all([limit.allow() for limit in self.limits])

    def refusal(self) -> str | None:
        """Why this socket's commands are refused now (None: they are not)."""
        if self.locked is not None and self.locked():
            return LOCKED
        return FOLLOWING if self.read_only else None


class Classroom:
    def __init__(self, room: Room, cookies: Cookies, frame_rate: float = 30.0, stall_limit: float = 20.0,
                 sends_per_second: float = CLASSROOM_SENDS_PER_SECOND, secure_cookies: bool = False,
                 presenter_key: str | None = None, viewer_bytes: tuple[int, int] = (DEFAULT_BUDGET, MAX_BUDGET)):
        self.room = room
        self.viewer_bytes = viewer_bytes  # a summary viewer's byte budget per second, and the most it may ask
        self.presenter = Presenter(presenter_key)
        self.cookies = cookies
        self.frame_rate, self.stall_limit = frame_rate, stall_limit
        self.budget = SendBudget(sends_per_second)
        self.secure_cookies = secure_cookies
        self.streams: dict[str, Broadcaster] = {}
        self.api_limits: dict[str, RateLimit] = {}
        self.ws_limits: dict[str, RateLimit] = {}
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        room.on_lost = self._lost_from_thread

    # ----- life ----------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        from ..training import remote

        await asyncio.to_thread(remote.context, self.room.preload)  # the fork server, before the first visitor
        self._task = asyncio.create_task(self._maintain(), name="classroom")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for b in list(self.streams.values()):
            await b.close()
        self.streams.clear()
        await asyncio.to_thread(self.room.close)

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(MAINTAIN_EVERY)
            try:
                await self.tidy()
            except Exception:
                log.exception("classroom upkeep failed")

    async def tidy(self) -> None:
        """Put away idle seats (saving them) and end hung workers (restored at the next request)."""
        for seat in self.room.hung():
            log.warning("visitor %s: its session's process stopped answering; ending it", seat.key[:8])
            seat.session.kill()
        for seat in self.room.due():
            await self._put_away(seat)

    # ----- who is asking -------------------------------------------------------------------------
    def key_of(self, headers) -> str | None:
        return self.cookies.key(cookie_of(headers))

    async def seat_for(self, key: str, create: bool = False) -> Seat | None:
        """The visitor's seat with a live session (waiting for one being put away to finish first)."""
        seat = self.room.get(key)
        if seat is not None and seat.leaving is None and seat.session is not None and seat.session.alive:
            seat.touch()  # the common case, without a thread
            return seat
        for _ in range(3):
            seat = await asyncio.to_thread(self.room.seat, key, create)
            if seat is None or seat.leaving is None:
                return seat
            await asyncio.to_thread(seat.leaving.wait, 60)
        raise RoomFull()

    async def page(self, request: Request):
        """A page load: None (serve the page) or the response instead of it: the redirect that sets a new
        visitor's cookie, "cookies needed", or "the room is full"."""
        key = self.key_of(request.headers)
        if key is None:
            if request.query_params.get(COOKIES_CHECKED):
                response = HTMLResponse(needs_cookies_page(_without_marker(request)), 400)
            else:
                # Set the cookie, then load the page again with it: behind a proxy that routes by cookie,
                # that second request reaches the replica that will keep this visitor's session.
                query = str(request.query_params)
                url = "/?" + (query + "&" if query else "") + f"{COOKIES_CHECKED}=1"
                response = RedirectResponse(url, 303)
            secure = self.secure_cookies or request.url.scheme == "https" or \
                request.headers.get("x-forwarded-proto") == "https"  # behind a TLS proxy: the cookie only over https
            response.headers.append("set-cookie", cookie_header(self.cookies.mint(), secure))
            response.headers["cache-control"] = "no-store"
            return response
        try:
            seat = await self.seat_for(key, create=True)
        except RoomFull:
            seat = await self._make_room(key)
        if seat is None:
            return HTMLResponse(room_full_page(self.room.max_sessions, self.room.idle_seconds / 60), 503,
                                headers={"retry-after": "60", "cache-control": "no-store"})
        seat.touch()
        return None

    async def _make_room(self, key: str) -> Seat | None:
        """The room is full: put away the seat unused longest (saved; it resumes when its visitor returns)
        and seat this visitor, or None when every seat is in use."""
        idle = self.room.reclaimable()
        if idle is None:
            return None
        await self._put_away(idle)
        try:
            return await self.seat_for(key, create=True)
        except RoomFull:
            return None

    async def _put_away(self, seat: Seat) -> None:
        stream = self.streams.pop(seat.key, None)
        if stream is not None:
            await stream.close()
        self.api_limits.pop(seat.key, None)
        self.ws_limits.pop(seat.key, None)
        await asyncio.to_thread(self.room.evict, seat)

    async def visitor_seat(self, request: Request) -> tuple[str, Seat]:
        """The requesting visitor's key and seat (rate limited); a clear refusal otherwise."""
        key = self.key_of(request.headers)
        if key is None:
            raise HTTPException(401, "no session: open the page first (in classroom mode each visitor gets a "
                                     "session of their own when the page loads)")
        try:
            seat = await self.seat_for(key)
        except RoomFull:
            raise HTTPException(503, "the room is full: your session was put away, and every seat is taken now; "
                                     "try again in a minute") from None
        if seat is None:
            raise HTTPException(409, NO_SESSION)
        # per visitor with a seat (a limiter per cookie ever minted would let a flood of them fill memory)
        if not self.api_limits.setdefault(key, RateLimit(API_RATE, API_BURST)).allow():
            raise HTTPException(429, "too many requests: slow down")
        seat.touch()
        return key, seat

    async def session(self, request: Request) -> RemoteSession:
        """The requesting visitor's session (an API route's dependency), or the presenter's for a follower's
        reads; a clear refusal otherwise."""
        key, seat = await self.visitor_seat(request)
        path = request.url.path
        if path in OWN_ALWAYS or self.presenter.is_presenter(key):
            return seat.session
        theirs = self.presenter_seat()
        locked = self.presenter.is_locked(key, theirs is not None)
        if theirs is None or not (locked or request.headers.get(FOLLOW_HEADER) == "1"):
            return seat.session
        if request.method == "GET" or path in FOLLOW_READS:
            return theirs.session
        raise HTTPException(409, LOCKED if locked else FOLLOWING)

    def presenter_seat(self) -> Seat | None:
        """The presenter's seat when it has a live session in this room."""
        if self.presenter.visitor is None:
            return None
        seat = self.room.get(self.presenter.visitor)
        if seat is None or seat.leaving is not None or seat.session is None or not seat.session.alive:
            return None
        return seat

    def store(self, request: Request) -> VisitorStore:
        key = self.key_of(request.headers)
        if key is None:
            raise HTTPException(401, "no session: open the page first")
        return VisitorStore(self.room.folder(key), self.room.shared_folder)

    # ----- streams -------------------------------------------------------------------------------
    def stream_of(self, seat: Seat) -> Broadcaster:
        """The seat's broadcaster (a new one when its session was replaced, after a crash)."""
        stream = self.streams.get(seat.key)
        if stream is None or stream.session is not seat.session:
            if stream is not None:
                asyncio.create_task(stream.close())
            stream = Broadcaster(seat.session, self.frame_rate, self.stall_limit, budget=self.budget,
                                 viewer_bytes=self.viewer_bytes[0], max_viewer_bytes=self.viewer_bytes[1])
            stream.start()
            self.streams[seat.key] = stream
        return stream

    async def connect(self, ws: WebSocket) -> Connected | tuple[int, str]:
        """The websocket's session and stream, or (close code, reason)."""
        key = self.key_of(ws.headers)
        if key is None:
            return CLOSE_NO_SESSION, "no session: reload the page"
        try:
            seat = await self.seat_for(key)
        except RoomFull:
            return CLOSE_FULL, "the room is full: try again in a minute"
        if seat is None:
            return CLOSE_NO_SESSION, "no session: reload the page"
        seat.ever_connected = True
        limits = [RateLimit(), self.ws_limits.setdefault(key, RateLimit(WS_RATE, WS_BURST))]
        asked = ws.query_params.get("follow") == "1"
        theirs = self.presenter_seat()
        if theirs is not None and not self.presenter.is_presenter(key) and (
                asked or self.presenter.is_locked(key)):
            return Connected(theirs.session, self.stream_of(theirs), limits, read_only=True, seat=seat, visitor=key,
                             asked_follow=asked, locked=lambda: self.presenter.is_locked(key))
        notice, seat.notice = seat.notice, None
        return Connected(seat.session, self.stream_of(seat), limits, notice=notice, seat=seat, visitor=key,
                         asked_follow=asked,
                         locked=lambda: self.presenter.is_locked(key, self.presenter_seat() is not None))

    # ----- the presenter's class -----------------------------------------------------------------
    async def join(self, place: Connected, viewer) -> Member:
        """A classroom socket opened: once its hello is sent, it is told the room's state, and so is everyone
        (the follower count). Returns at once."""
        member = Member(place.visitor, viewer, place.asked_follow, place.read_only)

        async def greet():
            for _ in range(400):  # 20 s at most: a socket that never gets its hello is going away
                if viewer.helloed:
                    break
                await asyncio.sleep(0.05)
            self.presenter.members.add(member)
            await self.announce()

        member.greeting = asyncio.create_task(greet(), name="classroom-greet")
        return member

    async def leave(self, member: Member) -> None:
        member.greeting.cancel()
        self.presenter.members.discard(member)
        if member.following:
            await self.announce()

    async def announce(self) -> None:
        await self.presenter.announce(self.presenter_seat() is not None)

    async def set_lock(self, locked: bool) -> None:
        self.presenter.locked = locked
        await self.announce()
        await self.presenter.relock(self.presenter_seat() is not None)

    # ----- a crashed session ---------------------------------------------------------------------
    def _lost_from_thread(self, seat: Seat) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._lost(seat)))

    async def _lost(self, seat: Seat) -> None:
        """Tell the seat's viewers, then close their sockets: they reconnect to the restored session."""
        stream = self.streams.pop(seat.key, None)
        if stream is None:
            return
        message = (f"Your session stopped unexpectedly ({seat.lost}); it is being restored from its last "
                   "save. Reconnecting…")
        for viewer in list(stream.viewers):
            with contextlib.suppress(Exception):
                await viewer.send_text({"type": "event", "kind": "error", "message": message,
                                        "iteration": None})
                await viewer.ws.close(code=CLOSE_LOST, reason="your session stopped; it is being restored")
        await stream.close()


async def copy_session(source, target, message: str = "copied from the presenter") -> str:
    """Load ``source``'s network, history and hyper-parameters into ``target`` (any two sessions, local or
    in workers): what "copy the presenter's network" does. Returns what was restored."""
    from .calls import settle

    frozen, extra = await asyncio.wrap_future(source.read(export, source))
    return await settle(await asyncio.to_thread(target.load_network, thaw(frozen), extra.get("history"), message,
                                                extra.get("params"), extra.get("dataset")))


def _without_marker(request: Request) -> str:
    from urllib.parse import urlencode

    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != COOKIES_CHECKED])
    return "/" + (f"?{query}" if query else "")


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backprop Lab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#1d2430}</style>
</head><body>BODY</body></html>"""


def room_full_page(n: int, minutes: float) -> str:
    return _PAGE.replace("BODY", f"""<h1>The room is full</h1>
<p>All {n} sessions of this Backprop Lab are in use: each has its page open, or was used in the last minute.
A seat frees up a minute after its visitor closes the page (their session is saved, and resumes when they
come back; after {minutes:g} minutes away it is put away in any case).</p>
<p>Try again in a minute: <a href="">reload this page</a>.</p>""")


def needs_cookies_page(url: str) -> str:
    return _PAGE.replace("BODY", f"""<h1>This page needs a cookie</h1>
<p>In classroom mode, Backprop Lab keeps your own session with one cookie (and nothing else). Your browser
did not send it back: allow cookies for this site, then <a href="{html.escape(url)}">try again</a>.</p>""")
