"""Growing past one machine (issue 16): two classroom replicas behind Debian's nginx, on loopback.

nginx runs as the test user with a prefix of its own (no root, nothing outside tmp_path), with the
shipped example ``deploy/nginx/backprop-lab.conf`` (its ports and listen address substituted, and a
header naming the replica that answered, for the test to see). The replicas share one checkpoint
folder and accept the Host nginx forwards through ``--allowed-hosts``. Shown: a visitor stays on one
replica (page, API and websocket); two visitors have separate sessions; stopping one replica loses
only its live sessions, which resume from their saves on the other, while the other replica's visitors
keep theirs (never saved: ``--save-every`` is an hour). Mandatory under CI (``.ci/run`` installs nginx).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from browser_helpers import free_port, wait_until
from conftest_server import TIMEOUT, ws_connect

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "nginx" / "backprop-lab.conf"
NGINX = "/usr/sbin/nginx"
COOKIE = "bpl_visitor"


def require_nginx() -> str:
    path = NGINX if os.access(NGINX, os.X_OK) else shutil.which("nginx")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("the nginx test is mandatory in CI: install Debian's nginx")
        pytest.skip("nginx is not installed (Debian's nginx package): the two-replica test is skipped")
    return path


class Replica:
    def __init__(self, port: int, folder: Path, front: int, data_dir: Path, log: Path):
        self.port, self.log = port, log
        self.args = [sys.executable, "-m", "server", "--classroom", "--port", str(port), "--checkpoint-dir", str(folder),
                     "--allowed-hosts", f"127.0.0.1:{front}", "--data-dir", str(data_dir), "--save-every", "3600",
                     "--flat-out"]
        self.proc = None

    def start(self) -> "Replica":
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return self

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"replica on {self.port} exited: {self.log.read_text()}")
        return "running at" in self.log.read_text()

    def stop(self) -> int:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: every session is saved
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(5)
        return self.proc.returncode if self.proc else 0


class Nginx:
    def __init__(self, binary: str, prefix: Path, port: int, upstreams: list[int]):
        self.binary, self.prefix, self.port = binary, prefix, port
        prefix.mkdir(parents=True, exist_ok=True)
        site = EXAMPLE.read_text()
        site = site.replace("server 127.0.0.1:8001", f"server 127.0.0.1:{upstreams[0]}")
        site = site.replace("server 127.0.0.1:8002", f"server 127.0.0.1:{upstreams[1]}")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
        site = site.replace("location / {", "location / {\n        add_header X-Upstream $upstream_addr always;")
        assert f"127.0.0.1:{upstreams[1]}" in site and "hash $cookie_bpl_visitor consistent" in site
        temp = "".join(f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                                 "uwsgi", "scgi"))
        (prefix / "nginx.conf").write_text(
            f"worker_processes 1;\nerror_log {prefix}/error.log;\npid {prefix}/nginx.pid;\n"
            f"events {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {prefix}/access.log;\n{temp}{site}\n}}\n")
        self.proc = None

    def start(self) -> "Nginx":
        check = subprocess.run([self.binary, "-t", "-p", str(self.prefix), "-e", str(self.prefix / "error.log"),
                                "-c", str(self.prefix / "nginx.conf")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen([self.binary, "-p", str(self.prefix), "-e", str(self.prefix / "error.log"),
                                      "-c", str(self.prefix / "nginx.conf"), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Visitor:
    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, follow_redirects=True, timeout=TIMEOUT)
        self.base = base

    def get(self, path: str) -> httpx.Response:
        r = self.http.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r

    @property
    def replica(self) -> str:
        return answered_by(self.get("/api/state"))

    def ws(self):
        url = self.base.replace("http://", "ws://") + "/ws"
        return ws_connect(url, additional_headers={"Cookie": f"{COOKIE}={self.http.cookies[COOKIE]}"})


def test_two_replicas_behind_nginx_keep_each_visitor_on_one_and_survive_losing_one(tmp_path, tiny_dataset):
    binary = require_nginx()
    data_dir, _ = tiny_dataset
    shared = tmp_path / "shared-checkpoints"
    front, ports = free_port(), [free_port(), free_port()]
    replicas = {f"127.0.0.1:{p}": Replica(p, shared, front, data_dir, tmp_path / f"replica-{p}.log") for p in ports}
    nginx = Nginx(binary, tmp_path / "nginx", front, ports)
    visitors: list[Visitor] = []
    try:
        for r in replicas.values():
            r.start()
        for r in replicas.values():
            wait_until(r.ready, 60, 0.1, f"the replica on {r.port} to start")
        nginx.start()
        base = f"http://127.0.0.1:{front}"
        wait_until(lambda: _answers(base), 10, 0.05, "nginx to answer")

        # Visitors arrive until each replica has two. Each stays on its replica: the page, the API, the socket.
        on: dict[str, list[Visitor]] = {addr: [] for addr in replicas}
        while min(len(v) for v in on.values()) < 2:
            assert len(visitors) < 40, f"the hash never picked both replicas: {on}"
            v = Visitor(base)
            page = v.get("/")
            assert "<canvas" in page.text
            where = answered_by(page)
            assert all(v.replica == where for _ in range(4))
            visitors.append(v)
            on[where].append(v)

        # Each trains its own session, through nginx's websocket proxying: k mini-batches for visitor k.
        trained = {}
        for k, v in enumerate(visitors, start=1):
            with v.ws() as ws:
                hello = ws.next(type="hello")
                assert hello["state"]["iteration"] == 0  # a session of its own, even on a shared replica
                for _ in range(k):
                    assert ws.command({"type": "step"})["type"] == "ack"
                ws.next(lambda m, k=k: m["type"] == "frame" and m["state"]["iteration"] == k)
            trained[v] = k
        for v, k in trained.items():
            assert v.get("/api/state").json()["iteration"] == k

        # One replica stops (gracefully: its sessions are saved). Only its visitors move, and they resume.
        gone, stays = list(replicas)
        assert replicas[gone].stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
        saved = sorted(p.parent.name for p in (shared / "visitors").glob("*/autosave.npz"))
        assert len(saved) == len(on[gone])  # the other replica's sessions were never saved (--save-every 1 h)
        for v in on[gone]:
            r = v.get("/api/state")
            assert answered_by(r) == stays and r.json()["iteration"] == trained[v]
            with v.ws() as ws:
                assert ws.next(type="hello")["state"]["iteration"] == trained[v]
        for v in on[stays]:  # their live sessions: untouched, still on their replica
            r = v.get("/api/state")
            assert r.headers["x-upstream"] == stays and r.json()["iteration"] == trained[v]  # tried no other
        saved_after = sorted(p.parent.name for p in (shared / "visitors").glob("*/autosave.npz"))
        assert saved_after == saved  # none of them was restarted from a save
    finally:
        for v in visitors:
            v.http.close()
        nginx.stop()
        for r in replicas.values():
            r.stop()


def answered_by(response: httpx.Response) -> str:
    """The replica that answered (nginx lists every one it tried, the one that answered last)."""
    return response.headers["x-upstream"].split(", ")[-1]


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/", timeout=2).status_code in (303, 200)
    except httpx.HTTPError:
        return False
