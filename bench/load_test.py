"""Issue 6's load test: many viewers on loopback while training runs flat out (bounded in time).

    .venv/bin/python bench/load_test.py [--viewers 16] [--duration 60] [--baseline 10]

Starts `python -m server --port 0` (its own process, as for a browser; no autosave), lets it train flat
out with no viewer for ``--baseline`` seconds, then with ``--viewers`` websocket viewers (one asyncio
client process, every frame decoded) for ``--duration`` seconds, then with none again. Reports:
every frame parsed, per-viewer sequence numbers strictly increasing, frames per second per viewer,
frame latency (server capture → decoded by the viewer) p50/p99/max, training throughput with viewers
÷ without (target drop ≤ 15%), and the server's resident memory over the run (should stay flat).
Exits 1 if a check fails. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.web.stream import wire  # noqa: E402


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds used so far by each of the server's threads, by thread name."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Stats:
    def __init__(self):
        self.frames = 0
        self.latencies: list[float] = []
        self.bad = 0
        self.seq_errors = 0
        self.last_seq = 0
        self.costs = 0
        self.costs_gaps = 0
        self.next_cost = None


async def viewer(url: str, stop: asyncio.Event, stats: Stats) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        while not stop.is_set():
            try:
                msg = await asyncio.wait_for(ws.recv(), 0.5)
            except asyncio.TimeoutError:
                continue
            now = time.time()
            try:
                if isinstance(msg, str):
                    json.loads(msg, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
                    continue
                header, arrays = wire.decode(msg)
            except Exception:
                stats.bad += 1
                continue
            if header["type"] == "hello":
                stats.next_cost = header["state"]["iteration"] + 1
                continue
            if header["type"] != "frame":
                continue
            stats.frames += 1
            stats.latencies.append(now - header["time"])
            if header["seq"] <= stats.last_seq:
                stats.seq_errors += 1
            stats.last_seq = header["seq"]
            if stats.next_cost is not None and header["costs_start"] != stats.next_cost:
                stats.costs_gaps += 1
            stats.next_cost = header["costs_start"] + len(arrays["costs"])
            stats.costs += len(arrays["costs"])
            if not all(np.isfinite(a).all() for a in arrays.values()):
                stats.bad += 1


async def run_viewers(url: str, n: int, seconds: float, sample) -> list[Stats]:
    stop = asyncio.Event()
    stats = [Stats() for _ in range(n)]
    tasks = [asyncio.create_task(viewer(url, stop, s)) for s in stats]
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        await asyncio.sleep(min(1.0, max(0.0, t_end - time.monotonic())))
        sample()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return stats


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--viewers", type=int, default=16)
    p.add_argument("--duration", type=float, default=60.0, help="seconds with viewers (default 60)")
    p.add_argument("--baseline", type=float, default=10.0, help="seconds without viewers, before and after")
    p.add_argument("--hidden", default="16,16", help="hidden layer sizes (default 16,16: the lectures' net)")
    args = p.parse_args()
    if not (1 <= args.viewers <= 64 and 1 <= args.duration <= 600 and 1 <= args.baseline <= 120):
        p.error("viewers 1..64, duration 1..600 s, baseline 1..120 s")
    hidden = [int(h) for h in args.hidden.split(",") if h]

    folder = tempfile.mkdtemp(prefix="backprop-load-")
    proc = subprocess.Popen([sys.executable, "-m", "server", "--port", "0", "--no-autosave",
                             "--checkpoint-dir", folder], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            print("server did not start:", line, proc.stderr.read(), file=sys.stderr)
            return 1
        base, ws_url = f"http://127.0.0.1:{m.group(1)}", f"ws://127.0.0.1:{m.group(1)}/ws"
        http = httpx.Client(base_url=base, timeout=10)

        async def control(*msgs):
            async with websockets.connect(ws_url, max_size=None) as ws:
                for msg in msgs:
                    await ws.send(json.dumps(msg))
                    while True:
                        reply = await ws.recv()
                        if isinstance(reply, str) and json.loads(reply)["type"] in ("ack", "error"):
                            break

        asyncio.run(control({"type": "reset", "hidden": hidden, "learning_rate": 3.0, "batch_size": 10},
                            {"type": "play"}))
        rss = [rss_mb(proc.pid)]

        def iteration():
            return http.get("/api/state").json()["iteration"]

        def training_cpu():
            return thread_cpu(proc.pid).get("training", 0.0)

        def rate(seconds):
            """(batches/s, batches per training-thread CPU-second)"""
            a, c, t0 = iteration(), training_cpu(), time.perf_counter()
            end = t0 + seconds
            while time.perf_counter() < end:
                time.sleep(min(1.0, end - time.perf_counter()))
                rss.append(rss_mb(proc.pid))
            n = iteration() - a
            return n / (time.perf_counter() - t0), n / max(training_cpu() - c, 1e-9)

        print(f"server pid {proc.pid}, network [784,{','.join(map(str, hidden))},10], batch 10, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        time.sleep(1.0)
        before = rate(args.baseline)
        a, t0 = iteration(), time.perf_counter()
        cpu0, own0 = thread_cpu(proc.pid), time.process_time()
        train0 = cpu0.get("training", 0.0)
        rss_viewers_from = len(rss)
        stats = asyncio.run(run_viewers(ws_url, args.viewers, args.duration, lambda: rss.append(rss_mb(proc.pid))))
        cpu1, own1 = thread_cpu(proc.pid), time.process_time()
        rss_viewers = rss[rss_viewers_from:]
        n = iteration() - a
        wall = time.perf_counter() - t0
        during = (n / wall, n / max(cpu1.get("training", 0.0) - train0, 1e-9))
        after = rate(args.baseline)
        rss.append(rss_mb(proc.pid))
        final_iteration = iteration()
        http.close()
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()

    lat = np.array([x for s in stats for x in s.latencies]) * 1000
    history_mb = 2 * 4 * final_iteration / 1e6  # the cost history's array after its last doubling
    half = rss_viewers[len(rss_viewers) // 2 :] or rss
    frames = [s.frames for s in stats]
    none = statistics.mean([before[0], after[0]])
    none_cpu = statistics.mean([before[1], after[1]])
    checks = {
        "every message parsed, nothing non-finite": sum(s.bad for s in stats) == 0,
        "per-viewer sequence numbers increase": sum(s.seq_errors for s in stats) == 0,
        "costs contiguous in every viewer": sum(s.costs_gaps for s in stats) == 0,
        "p99 frame latency < 100 ms": len(lat) > 0 and np.percentile(lat, 99) < 100,
        "training throughput drop ≤ 15%": during[0] >= 0.85 * none,
        "no traceback in the server log": "Traceback" not in err,
        # The cost history is kept whole by design (4 bytes a mini-batch, in an array that doubles when
        # full): allow for one doubling of it; anything beyond that is a leak.
        "memory flat while viewing (no growth in the second half beyond the cost history)":
            max(half) <= max(rss_viewers[: len(rss_viewers) // 2] or rss) + 5.0 + history_mb,
    }
    print(f"viewers {args.viewers} for {args.duration:g} s: frames per viewer {min(frames)}–{max(frames)} "
          f"({statistics.mean(frames) / args.duration:.1f}/s each), {len(lat)} frames in all")
    if len(lat):
        print(f"frame latency ms: p50 {np.percentile(lat, 50):.1f}  p95 {np.percentile(lat, 95):.1f}  "
              f"p99 {np.percentile(lat, 99):.1f}  max {lat.max():.1f}")
    print(f"training: {before[0]:.0f} batches/s before, {during[0]:.0f} with viewers, {after[0]:.0f} after "
          f"→ {during[0] / none:.3f} of the no-viewer rate (drop {100 * (1 - during[0] / none):.1f}%)")
    print(f"  per CPU-second of the training thread: {before[1]:.0f} before, {during[1]:.0f} with viewers, "
          f"{after[1]:.0f} after → {during[1] / none_cpu:.3f}")
    print(f"server RSS MB: start {rss[0]:.1f}, max {max(rss):.1f}, end {rss[-1]:.1f}; second half of the "
          f"viewer phase {min(half):.1f}–{max(half):.1f}")
    used = {k: (cpu1.get(k, 0) - cpu0.get(k, 0)) / wall for k in cpu1}
    training = used.pop("training", 0.0)
    print(f"CPU (cores) with viewers: server training thread {training:.2f}, server's other threads "
          f"{sum(used.values()):.2f}, the {args.viewers} viewers' process {(own1 - own0) / wall:.2f}")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    if err.strip():
        print("server stderr (last lines):\n  " + "\n  ".join(err.strip().splitlines()[-5:]))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
