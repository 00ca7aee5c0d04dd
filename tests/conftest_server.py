"""Fixtures and helpers for the server tests (loaded with ``pytest_plugins = ["conftest_server"]``).

- ``server_data``: MNIST, loaded once per test run (tests/conftest.py's ``mnist`` when present).
- ``small_data``: the first 1000 training and 1000 test images (fast epochs).
- ``trained_checkpoint``: a [784, 16, 16, 10] network trained for one epoch, saved as a checkpoint.
- ``test_client(**settings)``: a FastAPI TestClient (lifespan running) for the app.
- ``live_server(**settings)``: a real uvicorn on 127.0.0.1, port 0, in a background thread.
- ``ws_connect(server)``: a ``websockets`` sync client; ``Conn.next(...)`` decodes text and envelopes.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient
from websockets.sync.client import connect

from server.engine import checkpoint
from server.web.stream import wire
from server.web.app import Settings, create_app
from server.cli.serve import uvicorn_config
from server.engine.blas import limit_blas
from server.engine.data import Dataset, load_dataset
from server.network import Network
from server.web.guard import Guard
from server.engine.batches import BatchStream, evaluate

TIMEOUT = 10.0


# ----- data and models ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def server_data(request) -> Dataset:
    """The suite's shared MNIST (tests/conftest.py's ``mnist``) when there is one, else loaded here."""
    try:
        return request.getfixturevalue("mnist")
    except pytest.FixtureLookupError:
        return load_dataset()


@pytest.fixture(scope="session")
def small_data(server_data) -> Dataset:
    return server_data.subset(1000, 1000)


@pytest.fixture(scope="session")
def trained_checkpoint(server_data, tmp_path_factory):
    """(path, network, test accuracy) of the default architecture after one epoch."""
    net = Network([784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic", seed=1)
    stream = BatchStream(server_data.train_images, server_data.train_labels, 10, net.dtype, seed=1)
    with limit_blas(10):
        for _ in range(len(server_data.train_images) // 10):
            x, y, _, _ = stream.next()
            net.sgd_step(x, y, 3.0)
    acc = evaluate(net, server_data.test_images, server_data.test_labels)
    path = tmp_path_factory.mktemp("ckpt") / "trained.npz"
    checkpoint.save(path, net, {"test_accuracy": acc})
    return path, net, acc


# ----- apps -----------------------------------------------------------------------------------
def make_settings(tmp_path=None, **overrides) -> Settings:
    base = Settings(guard=Guard(extra_hosts=("testserver",)))
    if tmp_path is not None:
        base.checkpoint_dir = tmp_path / "checkpoints"
    return replace(base, **overrides)


@pytest.fixture
def test_client(server_data, tmp_path):
    """A context manager: ``with test_client(**settings) as c`` runs the app's lifespan."""

    @contextlib.contextmanager
    def make(**overrides):
        overrides.setdefault("dataset", server_data)
        with TestClient(create_app(make_settings(tmp_path=tmp_path, **overrides))) as c:
            yield c

    return make


class LiveServer:
    """uvicorn with the production settings (ws size limit, pings) on 127.0.0.1, port 0, in a thread."""

    def __init__(self, settings: Settings, **uvicorn_overrides):
        self.app = create_app(settings)
        self.guard = settings.guard
        uvicorn_overrides.setdefault("log_config", None)  # uvicorn's records reach pytest's caplog
        self.server = uvicorn.Server(uvicorn_config(self.app, "127.0.0.1", 0, **uvicorn_overrides))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + TIMEOUT
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.guard.port = self.port  # as the CLI does: other local ports are other origins
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.ws_url = f"ws://{self.host}/ws"
        return self

    @property
    def session(self):
        return self.app.state.session

    @property
    def loop(self):
        owner = self.app.state.broadcaster or self.app.state.classroom  # classroom mode has no broadcaster of its own
        return owner._task.get_loop()

    def call(self, coro_fn, timeout: float = TIMEOUT):
        """Run ``await coro_fn()`` on the server's event loop and return its result."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro_fn(), self.loop).result(timeout)

    @property
    def broadcaster(self):
        return self.app.state.broadcaster

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(TIMEOUT)


@pytest.fixture
def live_server(server_data, tmp_path):
    """A factory: ``srv = live_server(**settings)``; every server started is stopped after the test."""
    started = []

    def make(uvicorn_overrides: dict | None = None, **overrides):
        overrides.setdefault("dataset", server_data)
        settings = make_settings(tmp_path=tmp_path, **overrides)
        settings.guard = Guard()  # the real thing: loopback names, this port (set once started)
        srv = LiveServer(settings, **(uvicorn_overrides or {})).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


# ----- websocket clients ----------------------------------------------------------------------
def decode(message) -> dict:
    """A server message as a dict; envelopes get their arrays under ``"_arrays"``."""
    if isinstance(message, str):
        out = json.loads(message)
        out["_arrays"] = {}
        return out
    header, arrays = wire.decode(message)
    header["_arrays"] = arrays
    return header


class Conn:
    """A websockets sync client with helpers that wait with a timeout (never forever)."""

    def __init__(self, ws):
        self.ws = ws
        self.log: list[dict] = []

    def send(self, obj) -> None:
        self.ws.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))

    def recv(self, timeout: float = TIMEOUT) -> dict:
        msg = decode(self.ws.recv(timeout=timeout))
        msg["_t"] = time.monotonic()
        self.log.append(msg)
        return msg

    def next(self, pred=None, timeout: float = TIMEOUT, **match) -> dict:
        """The next message satisfying ``pred`` and all ``match`` items (e.g. ``type="ack"``)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no message matching {match or pred} within {timeout} s")
            msg = self.recv(left)
            if all(msg.get(k) == v for k, v in match.items()) and (pred is None or pred(msg)):
                return msg

    def command(self, obj, timeout: float = TIMEOUT) -> dict:
        """Send a command and return its ack or error (without the helper's private keys)."""
        self.send(obj)
        msg = self.next(lambda m: m["type"] in ("ack", "error"), timeout)
        return {k: v for k, v in msg.items() if not k.startswith("_")}

    def close(self) -> None:
        self.ws.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def ws_connect(srv_or_url, **kw) -> Conn:
    url = srv_or_url if isinstance(srv_or_url, str) else srv_or_url.ws_url
    kw.setdefault("open_timeout", TIMEOUT)
    kw.setdefault("max_size", None)
    return Conn(connect(url, **kw).__enter__())  # entered: the non-context-manager form is deprecated


def poll(fn, timeout: float = TIMEOUT, interval: float = 0.01, what: str = "condition"):
    """Call ``fn`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def raw_http(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send raw HTTP bytes to 127.0.0.1:port and return the response head (for forged Host headers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def ws_upgrade_request(host: str, origin: str | None = None, extra: str = "") -> bytes:
    lines = [
        "GET /ws HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_digit_image(data: Dataset, index: int, scale: int = 10) -> dict:
    """A test digit upscaled ``scale`` times as a raw drawing payload (ink = 1)."""
    img = data.test_images[index].reshape(28, 28).astype(np.float64) / 255
    big = np.kron(img, np.ones((scale, scale)))
    return {"width": 28 * scale, "height": 28 * scale, "pixels": np.round(big, 3).ravel().tolist()}


test_digit_image.__test__ = False  # not a test
