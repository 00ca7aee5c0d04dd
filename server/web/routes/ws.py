"""The websocket endpoint: checks who connects, streams the session, and applies validated commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..stream.broadcast import Broadcaster, StreamSettings, Viewer, ViewerStalled
from ..stream.link import probe_of
from ..schemas import MAX_MESSAGE_BYTES, MessageError, parse_client_message
from ..inputs import backprop_payload, classify_request
from ..guard import TOKEN_HEADER

log = logging.getLogger("backprop_lab")
router = APIRouter()
RATE_PER_SECOND = 50.0  # sustained client messages per second
RATE_BURST = 100.0
TOKEN_REFUSED = 4401  # close code: the token is not this server's (the page stops reconnecting)


class RateLimit:
    """A token bucket: ``RATE_BURST`` messages at once, refilled at ``RATE_PER_SECOND``."""

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


@router.websocket("/ws")
async def websocket_endpoint(ws: WebSocket):
    guard = ws.app.state.guard
    host = ws.headers.get("host")
    origins = [v.decode("latin-1") for k, v in ws.scope["headers"] if k == b"origin"]
    token = ws.query_params.get("token") or ws.headers.get(TOKEN_HEADER)
    if not guard.host_ok(host) or not guard.origin_ok(origins, host):
        await ws.close(code=1008, reason="origin or host refused")
        return
    if not guard.token_ok(token):
        # Host and Origin are fine, so this is the page of a server that restarted with another token:
        # accept, then close with a code the page can read (a refused handshake is an anonymous 1006 in
        # a browser), so that it says what to do instead of reconnecting forever. Nothing is sent first.
        await ws.accept()
        await ws.close(code=TOKEN_REFUSED, reason="token refused: this server has a new token")
        return
    await ws.accept()
    broadcaster = ws.app.state.broadcaster
    settings, refused = stream_from_query(ws.query_params, broadcaster)
    viewer = Viewer(ws, broadcaster.stall_limit, settings, probe_of(ws.scope), asyncio.get_running_loop().time())
    if refused:  # the stream it asked for in the URL: refused, and it gets the default one
        await viewer.send_text({"type": "error", "message": refused, "request": "stream"})
    sender = asyncio.create_task(broadcaster.serve(viewer), name="viewer-send")
    receiver = asyncio.create_task(receive_loop(ws, viewer), name="viewer-receive")
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        # asyncio.wait, not gather: a cancellation of this task must reach the server unaltered
        await asyncio.wait({sender, receiver})
    send_error = _failure(sender)
    receive_error = _failure(receiver)
    if isinstance(send_error, ViewerStalled):
        log.info("viewer disconnected: %s", send_error)
        with contextlib.suppress(Exception):  # the close frame may not get through a stalled socket either
            await asyncio.wait_for(ws.close(code=1013, reason="stalled: not reading"), 1.0)
    elif send_error is not None or receive_error is not None:
        log.error("viewer connection failed", exc_info=send_error or receive_error)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=1011, reason="server error"), 1.0)


STREAM_QUERY = ("detail", "budget", "neurons")


def stream_from_query(params, broadcaster: Broadcaster) -> tuple[StreamSettings, str | None]:
    """The stream a connection asks for in its URL (``/ws?detail=summary&budget=500000``): its settings,
    or the default ones and why they were refused."""
    asked = {k: params.get(k) for k in STREAM_QUERY if params.get(k) is not None}
    if not asked:
        return broadcaster.settings(), None
    fields = {}
    for k, v in asked.items():
        if k == "detail":
            fields[k] = v
        else:
            try:
                fields[k] = int(v)
            except ValueError:
                return broadcaster.settings(), f"{k}: must be a whole number, got {v!r}"
    try:
        return stream_settings(broadcaster, None, parse_client_message(json.dumps({"type": "stream", **fields}))), None
    except MessageError as e:
        return broadcaster.settings(), str(e)


def stream_settings(broadcaster: Broadcaster, viewer: Viewer | None, msg) -> StreamSettings:
    """A viewer's new stream settings from a ``stream`` message (its current ones for omitted fields), or
    MessageError (the server's budget limit included)."""
    given = {k: getattr(msg, k) for k in msg.model_fields_set if k != "type"}
    if "budget" in given and given["budget"] > broadcaster.max_budget:
        raise MessageError(f"budget: at most {broadcaster.max_budget} bytes per second on this server "
                           f"(--max-viewer-bytes), got {given['budget']}", "stream")
    current = viewer.settings if viewer is not None else broadcaster.settings()
    return StreamSettings(**{**current.__dict__, **given})


def _failure(task: asyncio.Task) -> BaseException | None:
    """The task's exception, unless it was cancelled or the peer simply went away."""
    if task.cancelled():
        return None
    e = task.exception()
    return None if e is None or _is_disconnect(e) and not isinstance(e, ViewerStalled) else e


def _is_disconnect(e: BaseException) -> bool:
    """The peer went away (reset, closed, or the socket was already closing): nothing to report."""
    # uvicorn's ClientDisconnected is an OSError
    return isinstance(e, (WebSocketDisconnect, OSError, asyncio.CancelledError)) or (
        isinstance(e, RuntimeError) and ("close" in str(e) or "disconnect" in str(e)))


async def receive_loop(ws: WebSocket, viewer: Viewer) -> None:
    """Read and handle client messages, in order, until the client goes away."""
    limit = RateLimit()
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            await viewer.send_text({"type": "error", "message": "binary frames are not accepted; send JSON text",
                                    "request": None})
            continue
        if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
            await ws.close(code=1009, reason=f"message over {MAX_MESSAGE_BYTES} bytes")
            return
        if not limit.allow():
            await viewer.send_text({"type": "error", "message": "too many messages: slow down", "request": None})
            continue
        await handle(ws, viewer, text)


async def handle(ws: WebSocket, viewer: Viewer, text: str) -> None:
    """Validate one message and apply it; any refusal goes back as an error and changes nothing."""
    session = ws.app.state.session
    try:
        msg = parse_client_message(text)
    except MessageError as e:
        await viewer.send_text({"type": "error", "message": str(e), "request": e.request})
        return
    try:
        if msg.type == "play":
            session.play()
        elif msg.type == "pause":
            session.pause()
        elif msg.type == "step":
            session.step(msg.unit)
        elif msg.type == "set_params":
            fields = msg.model_fields_set
            session.set_params(
                learning_rate=msg.learning_rate,
                batch_size=msg.batch_size,
                **({"steps_per_second": msg.steps_per_second} if "steps_per_second" in fields else {}),
                warmup=msg.warmup,
            )
        elif msg.type == "reset":
            # off the event loop: an image dataset asked for the first time is read from disk
            await asyncio.to_thread(session.reset, msg.hidden, msg.activation, msg.output_activation, msg.cost,
                                    msg.seed, msg.learning_rate, msg.batch_size, msg.dataset, msg.dataset_options)
        elif msg.type == "set_points":
            session.set_points(msg.points)
        elif msg.type == "restore_good":
            session.restore_good()
        elif msg.type == "select_example":
            session.select_example(msg.source, msg.index)
        elif msg.type == "stream":
            broadcaster = ws.app.state.broadcaster
            broadcaster.restream(viewer, stream_settings(broadcaster, viewer, msg))
        elif msg.type == "predict":
            body = await classify_request(session, msg)
            await viewer.send_text({"type": "prediction", "id": msg.id, **body})
            return
        elif msg.type == "backprop":
            body = await backprop_payload(session, msg)
            await viewer.send_text({"type": "backprop", "id": msg.id, **body})
            return
    except ValueError as e:  # (a MessageError too: it is a ValueError)
        await viewer.send_text({"type": "error", "message": str(e), "request": msg.type})
        return
    await viewer.send_text({"type": "ack", "request": msg.type})
