"""Issue 17's benchmark: the summary stream's byte budget at every network size; every number in one run.

    .venv/bin/python bench/budget_bench.py [--rounds 5] [--seconds 2] [--no-page] [--no-16]

The server runs in its own process (`python -m server --port 0 --flat-out`), training ReLU/softmax/
cross-entropy, η 0.05, batch 32, flat out. Viewers are websocket clients in another process (asyncio, every
frame decoded, as a page would) on the opt-in summary stream (`/ws?detail=summary`, default budget).

1. For [784,16,16,10], [784,100,10] and [784,512,512,512,512,10], with 0, 1 and 4 viewers, in interleaved
   rounds (the order rotates each round): training mini-batches/s, median and spread, as a ratio to the
   headless median (and per CPU-second of the training thread); bytes/s and frames/s per viewer; frame age
   (received − captured) p50/p99. For reference, one viewer of the classic `full` stream.
2. 16 viewers on the biggest network, rounds alternating with headless.
3. A viewer whose link carries 200 KB/s (tests/paced_reader.py) on the biggest network: frames/s, age.
4. The page in headless Chromium (1280×720) at each size: animation frames per second while training runs
   (and with `?detail=full`, the stream before budgets), median and range over windows of 120 frames.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

ARCHS = {"[784,16,16,10]": [16, 16], "[784,100,10]": [100], "[784,512,512,512,512,10]": [512, 512, 512, 512]}
NET = {"activation": "relu", "output_activation": "softmax", "cost": "cross_entropy", "seed": 0,
       "learning_rate": 0.05, "batch_size": 32}


# ----- the viewers' process ----------------------------------------------------------------------------
async def _viewer(url: str, stop_at: float, out: list) -> None:
    import websockets

    from server.web.stream import wire

    async with websockets.connect(url, max_size=None) as ws:
        while time.time() < stop_at:
            try:
                msg = await asyncio.wait_for(ws.recv(), 0.5)
            except asyncio.TimeoutError:
                continue
            now = time.time()
            if isinstance(msg, bytes):
                header, _ = wire.decode(msg, raw=True)  # header and array views (a page's decoder is in JS)
                if header["type"] == "frame":
                    out.append((now, header["time"], len(msg), header["seq"]))


async def _viewers(url: str, n: int, seconds: float) -> list:
    stop_at = time.time() + seconds
    outs = [[] for _ in range(n)]
    await asyncio.gather(*(_viewer(url, stop_at, o) for o in outs))
    return outs


def viewers_child(url: str, n: int, seconds: float) -> None:
    print(json.dumps(asyncio.run(_viewers(url, n, seconds))), flush=True)


class Viewers:
    """``n`` viewers in a process of their own, for ``seconds``; ``result()`` = per viewer [(received,
    captured, bytes, seq)]."""

    def __init__(self, url: str, n: int, seconds: float):
        self.proc = subprocess.Popen([sys.executable, __file__, "--viewers-child", url, str(n), str(seconds)],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def result(self) -> list:
        out, _ = self.proc.communicate(timeout=120)
        return json.loads(out)


def per_viewer(frames: list, t0: float, t1: float) -> dict:
    """bytes/s, frames/s and ages of one viewer's frames received within [t0, t1]."""
    inside = [f for f in frames if t0 <= f[0] <= t1]
    span = t1 - t0
    return {"bytes": sum(f[2] for f in inside) / span, "fps": len(inside) / span,
            "ages": [f[0] - f[1] for f in inside]}


# ----- the server ----------------------------------------------------------------------------------------
def start_server(*extra):
    from server_bench import Server

    return Server("--flat-out", *extra)


def set_network(srv, hidden) -> None:
    from server_bench import command, ws

    c = ws(srv.ws_url)
    command(c, {"type": "reset", "hidden": hidden, **NET})
    command(c, {"type": "play"})
    c.close()


def window(srv, seconds: float) -> tuple[float, float, float, float]:
    """(batches/s, batches per training-thread CPU-second, start, end) over ``seconds``."""
    from server_bench import window as measure

    t0 = time.time()
    rate, per_cpu = measure(srv, seconds)
    return rate, per_cpu, t0, time.time()


def spread(values) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


def pct(ages, q) -> float:
    return float(np.percentile(np.asarray(ages) * 1000, q)) if ages else float("nan")


def training_and_viewers(srv, rounds: int, seconds: float, counts=(0, 1, 4), detail="summary",
                         archs=ARCHS) -> dict:
    results = {}
    for name, hidden in archs.items():
        set_network(srv, hidden)
        time.sleep(2.0)  # warm up (the BLAS, the first evaluations)
        runs = {n: [] for n in counts}
        stats = {n: [] for n in counts}
        for r in range(rounds):
            order = list(counts[r % len(counts):]) + list(counts[: r % len(counts)])  # rotate: interleave
            for n in order:
                viewers = Viewers(f"{srv.ws_url}?detail={detail}", n, seconds + 1.5) if n else None
                time.sleep(0.8)  # they connect, get their hello, settle
                rate, per_cpu, t0, t1 = window(srv, seconds)
                runs[n].append((rate, per_cpu))
                if viewers:
                    stats[n].extend(per_viewer(v, t0, t1) for v in viewers.result())
                else:
                    time.sleep(0.7)
        results[name] = (runs, stats)
        headless = statistics.median(r for r, _ in runs[0])
        headless_cpu = statistics.median(c for _, c in runs[0])
        for n in counts:
            rates = [r for r, _ in runs[n]]
            line = (f"  {name:26s} {n:2d} viewer{'s' if n != 1 else ' '} {detail:7s}: {spread(rates)} batches/s, "
                    f"ratio {statistics.median(rates) / headless:.3f} "
                    f"({min(rates) / headless:.2f}–{max(rates) / headless:.2f}), "
                    f"per CPU-s {statistics.median(c for _, c in runs[n]) / headless_cpu:.3f}")
            if n:
                s = stats[n]
                ages = [a for v in s for a in v["ages"]]
                line += (f"; per viewer {statistics.median(v['bytes'] for v in s) / 1e3:.0f} KB/s "
                         f"(max {max(v['bytes'] for v in s) / 1e3:.0f}), "
                         f"{statistics.median(v['fps'] for v in s):.1f} frames/s, age p50 {pct(ages, 50):.0f} ms "
                         f"p99 {pct(ages, 99):.0f} ms")
            print(line, flush=True)
    return results


def slow_reader(srv, seconds: float, rate: float = 200_000) -> None:
    from paced_reader import PacedReader

    set_network(srv, ARCHS["[784,512,512,512,512,10]"])
    time.sleep(2.0)
    reader = PacedReader(f"{srv.ws_url}?detail=summary", rate)
    it0 = srv.state()["iteration"]
    t0 = time.time()
    reader.read_for(seconds)
    t1 = time.time()
    it1 = srv.state()["iteration"]
    reader.close()
    frames = [f for f in reader.frames() if f.at >= t0 + 2.0]  # past the first two seconds (it learns the link)
    first = [f for f in reader.frames() if f.at < t0 + 2.0]
    ages = [f.age for f in frames]
    times = [f.header["time"] for f in reader.frames()]
    print(f"  reading {rate / 1e3:.0f} KB/s for {seconds:g} s: {reader.bytes / (t1 - t0) / 1e3:.0f} KB/s read, "
          f"{len(frames) / (t1 - t0 - 2.0):.1f} frames/s, age p50 {pct(ages, 50):.0f} ms p99 {pct(ages, 99):.0f} ms "
          f"max {max(ages) * 1000:.0f} ms (first 2 s: {len(first)} frames, age max "
          f"{max((f.age for f in first), default=0) * 1000:.0f} ms); every frame newer than the last: "
          f"{all(a < b for a, b in zip(times, times[1:]))}; training {(it1 - it0) / (t1 - t0):.0f} batches/s",
          flush=True)


def page_fps(srv, windows: int) -> None:
    from playwright.sync_api import sync_playwright

    from browser_helpers import CHROMIUM_ARGS, find_chromium, wait_connected

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        for name, hidden in ARCHS.items():
            set_network(srv, hidden)
            line = f"  {name:26s}"
            for query in ("", "?detail=full"):
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(srv.url + query)
                wait_connected(page)
                page.wait_for_function(f"window.__lab.store.sizes.length === {len(hidden) + 2}")
                page.wait_for_function("window.__lab.store.state.running")
                time.sleep(2.0)
                fps, work, rates = [], [], []
                for _ in range(windows):
                    a, t0 = srv.state()["iteration"], time.perf_counter()
                    page.evaluate("() => new Promise(done => { let n = 120; const f = () => --n ? requestAnimationFrame(f) : done(); requestAnimationFrame(f); })")
                    rates.append((srv.state()["iteration"] - a) / (time.perf_counter() - t0))
                    stats = page.evaluate("window.__lab.fps(120)")
                    fps.append(stats["fps"])
                    work.append(stats["workMs"])
                label = "summary" if not query else "full   "
                line += (f"  {label}: {statistics.median(fps):.1f} fps ({min(fps):.1f}–{max(fps):.1f}), "
                         f"page work {statistics.median(work):.1f} ms/frame, training {statistics.median(rates):.0f}/s")
                page.close()
            print(line, flush=True)
        browser.close()


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--viewers-child":
        viewers_child(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each measuring window")
    ap.add_argument("--no-page", action="store_true", help="skip the browser's frame rate")
    ap.add_argument("--no-16", action="store_true", help="skip the 16 viewers")
    ap.add_argument("--only", choices=["viewers", "full", "16", "slow", "page"], help="one part only")
    args = ap.parse_args()
    import numpy
    print(f"Backprop Lab budget benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, numpy "
          f"{numpy.__version__}; load average at start {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    srv = start_server()
    try:
        if args.only in (None, "viewers"):
            print("\n1. Training with 0, 1 and 4 summary viewers (default budget 1 MB/s)", flush=True)
            training_and_viewers(srv, args.rounds, args.seconds)
        if args.only in (None, "full"):
            print("\n   For reference, one viewer of the classic full stream (every weight, float32):", flush=True)
            training_and_viewers(srv, args.rounds, args.seconds, counts=(0, 1), detail="full")
        if args.only in (None, "16") and not args.no_16:
            print("\n2. 16 summary viewers on the biggest network", flush=True)
            training_and_viewers(srv, args.rounds, args.seconds + 1, counts=(0, 16),
                                 archs={"[784,512,512,512,512,10]": ARCHS["[784,512,512,512,512,10]"]})
        if args.only in (None, "slow"):
            print("\n3. A viewer on a 200 KB/s link, biggest network", flush=True)
            slow_reader(srv, 12.0)
        if args.only in (None, "page") and not args.no_page:
            print("\n4. The page in headless Chromium, 1280×720, training flat out", flush=True)
            page_fps(srv, 3)
    finally:
        srv.close()
    print(f"\nload average at the end {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
