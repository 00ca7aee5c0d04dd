"""Issue 3's server benchmark: every number measured in this one run.

    .venv/bin/python bench/server_bench.py [--seconds 4] [--rounds 3] [--requests 300]

1. Training throughput with one viewer streaming (30 frames/s, every frame decoded) ÷ headless
   throughput (the same server with no viewer), for [784,16,16,10] and [784,100,10], batch 10.
   The server runs in its own process (`python -m server --port 0`), as it does for a browser.
2. Bytes per frame for [784,16,16,10] and [784,100,10], with and without the 784×n first layer.
3. p95 latency of `predict` on loopback over HTTP and over the websocket, while training runs flat out
   and while it is paused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_test import thread_cpu  # noqa: E402
from server.web.stream import frames
from server.web.stream import wire  # noqa: E402
from server.engine.data import load_dataset  # noqa: E402
from server.training.session import TrainingSession  # noqa: E402

ARCHS = {"[784,16,16,10]": [16, 16], "[784,100,10]": [100]}


class Server:
    """`python -m server --port 0` in a subprocess; the URL comes from its first line."""

    def __init__(self, *extra):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.folder = tempfile.mkdtemp(prefix="backprop-bench-")
        self.proc = subprocess.Popen([sys.executable, "-m", "server", "--port", "0", "--no-autosave",
                                      "--checkpoint-dir", self.folder, *extra], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        m = None
        for _ in range(20):  # the URL line, after any notes
            line = self.proc.stdout.readline()
            m = re.search(r"http://([\d.]+):(\d+)/", line)
            if m or not line:
                break
        if not m:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {self.proc.stdout.read()}")
        self.url = f"http://{m.group(1)}:{m.group(2)}"
        self.ws_url = f"ws://{m.group(1)}:{m.group(2)}/ws"
        self.http = httpx.Client(base_url=self.url, timeout=10)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            sys.stderr.write("  server: " + line)

    def state(self) -> dict:
        return self.http.get("/api/state").json()

    def close(self):
        self.http.close()
        self.proc.terminate()
        self.proc.wait(10)


def ws(url):
    return connect(url, max_size=None, open_timeout=10).__enter__()


def command(conn, msg: dict) -> None:
    conn.send(json.dumps(msg))
    while True:
        m = conn.recv(timeout=10)
        if isinstance(m, str) and json.loads(m)["type"] in ("ack", "error"):
            reply = json.loads(m)
            if reply["type"] == "error":
                raise RuntimeError(reply["message"])
            return


class Viewer(threading.Thread):
    """Reads and decodes every message, as a page would; counts frames."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.conn = ws(url)
        self.frames = 0
        self.bytes = 0
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                m = self.conn.recv(timeout=0.5)
            except TimeoutError:
                continue
            except Exception:
                return
            if isinstance(m, bytes):
                header, _ = wire.decode(m)
                if header["type"] == "frame":
                    self.frames += 1
                    self.bytes += len(m)

    def close(self):
        self.stop = True
        self.join(2)
        self.conn.close()


def window(srv: Server, seconds: float) -> tuple[float, float]:
    """(mini-batches per second, mini-batches per CPU-second of the training thread) over ``seconds``.

    The second number does not depend on how much CPU other processes take from the training thread
    (this machine is shared); what a viewer costs the training thread itself shows in both."""
    a, cpu_a, t0 = srv.state()["iteration"], thread_cpu(srv.proc.pid).get("training", 0.0), time.perf_counter()
    time.sleep(seconds)
    b, cpu_b, t1 = srv.state()["iteration"], thread_cpu(srv.proc.pid).get("training", 0.0), time.perf_counter()
    return (b - a) / (t1 - t0), (b - a) / max(cpu_b - cpu_a, 1e-9)


def throughput(seconds: float, rounds: int) -> None:
    print("\n1. Training throughput, one viewer at 30 frames/s vs none (server in its own process)")
    print(f"   {rounds} alternating pairs of {seconds:g} s windows, medians; batch 10, flat out")
    srv = Server()
    try:
        for name, hidden in ARCHS.items():
            control = ws(srv.ws_url)
            command(control, {"type": "reset", "hidden": hidden, "seed": 0, "learning_rate": 3.0, "batch_size": 10})
            command(control, {"type": "play"})
            control.close()  # the session keeps training; only the measured viewer may stream
            time.sleep(1.0)  # warm up
            alone, viewed, fps = [], [], []
            for _ in range(rounds):  # alternate, so drift (thermal, other load) hits both alike
                alone.append(window(srv, seconds))
                v = Viewer(srv.ws_url)
                v.start()
                time.sleep(0.3)
                f0, t0 = v.frames, time.perf_counter()
                viewed.append(window(srv, seconds))
                fps.append((v.frames - f0) / (time.perf_counter() - t0))
                v.close()
                time.sleep(0.2)
            control = ws(srv.ws_url)
            command(control, {"type": "pause"})
            control.close()
            a, b = statistics.median(x for x, _ in alone), statistics.median(x for x, _ in viewed)
            ac, bc = statistics.median(y for _, y in alone), statistics.median(y for _, y in viewed)
            print(f"  {name:16s} headless {a:6.0f} batches/s, one viewer {b:6.0f}: ratio {b / a:.3f} "
                  f"(target ≥ 0.85)   per training-thread CPU-second {ac:6.0f} vs {bc:6.0f}: {bc / ac:.3f}   "
                  f"viewer got {statistics.median(fps):.1f} frames/s")
    finally:
        srv.close()


def bytes_per_frame() -> None:
    print("\n2. Bytes per frame (binary envelope; costs of one 30 fps frame interval at ~3000 batches/s)")
    data = load_dataset()
    for name, hidden in ARCHS.items():
        s = TrainingSession(data, config={"sizes": [784, *hidden, 10], "activation": "sigmoid",
                                          "output_activation": "sigmoid", "cost": "quadratic", "seed": 0})
        s.run_steps(200)
        hello, _ = frames.hello(s)
        start = s.iteration - 100 + 1  # ~100 new costs per frame
        with_first = frames.frame(frames.prepare(s.snapshot(start, True)), 1, start, 0, 0)
        without = frames.frame(frames.prepare(s.snapshot(start, False)), 2, start, 0, 0)
        n_params = sum(w.size + b.size for w, b in zip(s.net.weights, s.net.biases))
        print(f"  {name:16s} frame with first layer {len(with_first):8,d} B   without {len(without):7,d} B   "
              f"hello {len(hello):8,d} B   ({n_params:,d} parameters)")


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000, q))


def predict_latency(n: int) -> None:
    print("\n3. predict latency on loopback (ms), 784 pixels, [784,16,16,10]")
    srv = Server()
    data = load_dataset()
    try:
        control = ws(srv.ws_url)
        client = ws(srv.ws_url)
        pixels = [(data.test_images[i] / 255).round(4).tolist() for i in range(50)]
        for label, running in (("paused", False), ("training flat out", True)):
            command(control, {"type": "play" if running else "pause"})
            time.sleep(0.5)
            http_t, ws_t = [], []
            for i in range(n):
                time.sleep(0.025)  # a person's pace, and under the server's 50 messages/s per connection
                body = {"pixels": pixels[i % 50]}
                t0 = time.perf_counter()
                r = srv.http.post("/api/predict", json=body)
                http_t.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
                t0 = time.perf_counter()
                client.send(json.dumps({"type": "predict", "id": i, **body}))
                while True:
                    m = client.recv(timeout=10)
                    if isinstance(m, str) and '"prediction"' in m[:40]:
                        break
                    if isinstance(m, str) and '"error"' in m[:40]:
                        raise RuntimeError(m)
                ws_t.append(time.perf_counter() - t0)
            for kind, t in (("HTTP", http_t), ("websocket", ws_t)):
                print(f"  {label:18s} {kind:9s} p50 {percentile(t, 50):6.2f}   p95 {percentile(t, 95):6.2f}   "
                      f"p99 {percentile(t, 99):6.2f}   (target p95 < 20)")
        command(control, {"type": "pause"})
        client.close()
        control.close()
    finally:
        srv.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=1.5, help="length of each throughput window")
    p.add_argument("--rounds", type=int, default=10, help="alternating headless/viewer window pairs")
    p.add_argument("--requests", type=int, default=300, help="predict requests per case")
    args = p.parse_args()
    print(f"Backprop Lab server benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"numpy {np.__version__}")
    throughput(args.seconds, args.rounds)
    bytes_per_frame()
    predict_latency(args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
