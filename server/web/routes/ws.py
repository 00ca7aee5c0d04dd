"""The websocket endpoint: checks who connects, streams the session, and applies validated commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..stream.broadcast import Broadcaster, StreamSettings, Viewer, ViewerStalled
from ..stream.link import probe_of
from ..schemas import MAX_MESSAGE_BYTES, MessageError, parse_client_message
from ..calls import settle
from ..classroom import Connected
from ...training.remote import SessionLost
from ..inputs import backprop_payload, classify_request
from ..guard import TOKEN_HEADER, RateLimit

log = logging.getLogger("backprop_lab")
router = APIRouter()
TOKEN_REFUSED = 4401  # close code: the token is not this server's (the page stops reconnecting)


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
    classroom = ws.app.state.classroom
    if classroom is None:
        place = Connected(ws.app.state.session, ws.app.state.broadcaster, [RateLimit()])
    else:
        place = await classroom.connect(ws)  # the visitor's own session and stream
        if not isinstance(place, Connected):
            code, reason = place
            await ws.close(code=code, reason=reason)
            return
    broadcaster = place.broadcaster
    settings, refused = stream_from_query(ws.query_params, broadcaster)
    viewer = Viewer(ws, broadcaster.stall_limit, settings, probe_of(ws.scope), asyncio.get_running_loop().time())
    holds = ws.app.state.holds
    viewer.connection = holds.connect()
    if refused:  # the stream it asked for in the URL: refused, and it gets the default one
        await viewer.send_text({"type": "error", "message": refused, "request": "stream"})
    sender = asyncio.create_task(serve(broadcaster, viewer, place), name="viewer-send")
    receiver = asyncio.create_task(receive_loop(ws, viewer, place), name="viewer-receive")
    if place.seat is not None:
        place.seat.connections += 1  # a visitor with a page open is never idle
    member = await classroom.join(place, viewer) if classroom is not None else None
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        # asyncio.wait, not gather: a cancellation of this task must reach the server unaltered
        await asyncio.wait({sender, receiver})
        holds.disconnect(viewer.connection)  # its walkthrough holds end (after a grace for a reconnect)
        if place.seat is not None:
            place.seat.connections -= 1
            place.seat.touch()
        if member is not None:
            await classroom.leave(member)
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


async def serve(broadcaster, viewer: Viewer, place: Connected) -> None:
    """Stream the session to the viewer; a notice for this visitor (its session was restored) follows the
    hello."""
    if place.notice:
        async def tell():
            while not viewer.helloed:
                await asyncio.sleep(0.05)
            await viewer.send_text({"type": "event", "kind": "error", "message": place.notice, "iteration": None})
        notice = asyncio.create_task(tell())
        try:
            await broadcaster.serve(viewer)
        finally:
            notice.cancel()
        return
    await broadcaster.serve(viewer)


async def receive_loop(ws: WebSocket, viewer: Viewer, place: Connected) -> None:
    """Read and handle client messages, in order, until the client goes away."""
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
        if not place.allow():
            await viewer.send_text({"type": "error", "message": "too many messages: slow down", "request": None})
            continue
        await handle(place.session, viewer, text, place.read_only, place.refusal(), place.broadcaster)


READS = ("predict", "backprop", "stream")  # what a read-only viewer (a follower) may still ask (its own stream)


async def handle(session, viewer: Viewer, text: str, read_only: bool = False, refusal: str | None = None,
                 broadcaster: Broadcaster | None = None) -> None:
    """Validate one message and apply it; any refusal goes back as an error and changes nothing.
    ``refusal``: why commands are refused on this socket (a follower's, a locked student's), else None;
    ``broadcaster``: the stream this viewer is on (for ``stream``)."""
    try:
        msg = parse_client_message(text)
    except MessageError as e:
        await viewer.send_text({"type": "error", "message": str(e), "request": e.request})
        return
    if (read_only or refusal) and msg.type not in READS:
        await viewer.send_text({"type": "error", "message": refusal or "you are following another session: it "
                                "cannot be changed from here", "request": msg.type})
        return
    try:
        if msg.type == "play":
            await settle(session.play())
        elif msg.type == "pause":
            await settle(session.pause())
        elif msg.type == "step":
            await settle(session.step(msg.unit))
        elif msg.type == "set_params":
            fields = msg.model_fields_set
            await settle(session.set_params(
                learning_rate=msg.learning_rate,
                batch_size=msg.batch_size,
                **({"steps_per_second": msg.steps_per_second} if "steps_per_second" in fields else {}),
                warmup=msg.warmup,
            ))
        elif msg.type == "reset":
            # off the event loop: an image dataset asked for the first time is read from disk
            await settle(await asyncio.to_thread(
                session.reset, msg.hidden, msg.activation, msg.output_activation, msg.cost, msg.seed,
                msg.learning_rate, msg.batch_size, msg.dataset, msg.dataset_options))
        elif msg.type == "set_points":
            await settle(session.set_points(msg.points))
        elif msg.type == "restore_good":
            await settle(session.restore_good())
        elif msg.type == "select_example":
            await settle(session.select_example(msg.source, msg.index))
        elif msg.type == "stream":
            if broadcaster is None:
                raise ValueError("this connection has no stream to change")
            broadcaster.restream(viewer, stream_settings(broadcaster, viewer, msg))
        elif msg.type == "predict":
            body = await classify_request(session, msg)
            await viewer.send_text({"type": "prediction", "id": msg.id, **body})
            return
        elif msg.type == "backprop":
            body = await backprop_payload(session, msg)
            await viewer.send_text({"type": "backprop", "id": msg.id, **body})
            return
    except (ValueError, SessionLost) as e:  # (a MessageError too: it is a ValueError)
        await viewer.send_text({"type": "error", "message": str(e), "request": msg.type})
        return
    await viewer.send_text({"type": "ack", "request": msg.type})
