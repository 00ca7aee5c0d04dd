"""Issue 15's benchmark: small worlds. Every number measured in this one run.

    .venv/bin/python bench/dataset_bench.py [--seconds 1.5] [--rounds 5]

1. Headless training of the live session (`python -m server --port 0` in its own process, no viewer,
   flat out, batch 10): the toy network [2,8,8,8,3] (spiral, 3 arms, ReLU/softmax/cross-entropy) and
   the MNIST default [784,16,16,10] (sigmoid, quadratic), in alternating windows; medians, the ratio,
   and mini-batches per CPU-second of the training thread (which other processes do not change).
2. The engine alone, as `train` runs it: µs per fused step (CPU time of this thread) for both.
3. Generating 1,000 points of each plane dataset.
4. Per-neuron maps of [2,8,8,8,3] over a 64×64 grid: the engine's batched forward pass (+ uint8), the
   whole `POST /api/maps` round trip, and the bytes of the maps against the weights every frame carries.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from server_bench import Server, command, window, ws  # noqa: E402
from server.engine.batches import BatchStream  # noqa: E402
from server.engine.blas import limit_blas  # noqa: E402
from server.engine.data import load_dataset  # noqa: E402
from server.engine.datasets import registry  # noqa: E402
from server.engine.maps import neuron_maps, plane_grid, quantize  # noqa: E402
from server.engine.network import Network  # noqa: E402

TOY = {"name": "toy [2,8,8,8,3] spiral", "hidden": [8, 8, 8], "activation": "relu", "output_activation": "softmax",
       "cost": "cross_entropy", "learning_rate": 0.1, "dataset": "spiral", "dataset_options": {"classes": 3}}
MNIST = {"name": "MNIST default [784,16,16,10]", "hidden": [16, 16], "activation": "sigmoid",
         "output_activation": "sigmoid", "cost": "quadratic", "learning_rate": 3.0, "dataset": "mnist"}


def session_throughput(seconds: float, rounds: int) -> None:
    print(f"\n1. Headless live session (server process, no viewer), batch 10, flat out: {rounds} alternating "
          f"rounds of {seconds:g} s per configuration, medians")
    srv = Server()
    results = {TOY["name"]: [], MNIST["name"]: []}
    try:
        control = ws(srv.ws_url)
        for _ in range(rounds):
            for cfg in (TOY, MNIST):
                msg = {k: v for k, v in cfg.items() if k != "name"}
                command(control, {"type": "reset", "seed": 0, "batch_size": 10, **msg})
                command(control, {"type": "play"})
                time.sleep(0.3)  # warm up
                results[cfg["name"]].append(window(srv, seconds))
                command(control, {"type": "pause"})
        control.close()
    finally:
        srv.close()
    medians = {}
    for name, runs in results.items():
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        medians[name] = (wall, cpu)
        print(f"  {name:30s} {wall:8,.0f} mini-batches/s   {cpu:8,.0f} per training-thread CPU-second   "
              f"(rounds: {', '.join(f'{r[0]:,.0f}' for r in runs)})")
    (tw, tc), (mw, mc) = medians[TOY["name"]], medians[MNIST["name"]]
    print(f"  ratio toy / MNIST default: {tw / mw:.2f} (wall), {tc / mc:.2f} (CPU)   target: toy ≥ 15,000/s")


def engine_steps() -> None:
    print("\n2. The engine alone (Network.sgd_step on a fixed batch of 10, one BLAS thread): µs per step, "
          "CPU time, best of 7")
    spiral = registry.make("spiral", {"classes": 3})
    mnist = load_dataset()
    for name, data, cfg in (("toy [2,8,8,8,3]", spiral, TOY), ("MNIST [784,16,16,10]", mnist, MNIST)):
        net = Network([data.input_size, *cfg["hidden"], data.n_classes], cfg["activation"], cfg["output_activation"],
                      cfg["cost"], seed=0)
        x, y, _, _ = BatchStream.for_dataset(data, 10, net.dtype, seed=0).next()
        x, y = x.copy(), y.copy()
        best = 1e9
        with limit_blas(10):
            for _ in range(7):
                t = time.thread_time()
                for _ in range(3000):
                    net.sgd_step(x, y, 0.01)
                best = min(best, (time.thread_time() - t) / 3000)
        print(f"  {name:22s} {best * 1e6:6.1f} µs/step  ({1 / best:,.0f} steps per CPU-second)")


def generation() -> None:
    print("\n3. Generating 1,000 points (median of 21, wall clock; target ≤ 50 ms)")
    for name in ("circle", "xor", "gauss", "spiral", "checkerboard"):
        registry.make(name, {})
        times = []
        for seed in range(21):
            t = time.perf_counter()
            registry.make(name, {"points": 1000, "seed": seed, "classes": 3} if name in ("gauss", "spiral", "checkerboard")
                          else {"points": 1000, "seed": seed})
            times.append(time.perf_counter() - t)
        print(f"  {name:13s} {statistics.median(times) * 1e3:6.3f} ms (max {max(times) * 1e3:.3f})")


def maps(requests: int) -> None:
    print("\n4. Per-neuron maps of [2,8,8,8,3] over 64×64 (target ≤ 10 ms)")
    net = Network([2, 8, 8, 8, 3], "relu", "softmax", "cross_entropy", seed=0)
    grid = plane_grid(64)
    forward, full = [], []
    for _ in range(51):
        t = time.perf_counter()
        m = neuron_maps(net, grid)
        forward.append(time.perf_counter() - t)
        u8, _, _ = quantize(m)
        full.append(time.perf_counter() - t)
    print(f"  engine: forward pass {statistics.median(forward) * 1e3:.3f} ms, + uint8 per neuron "
          f"{statistics.median(full) * 1e3:.3f} ms (medians of 51)")
    map_bytes = sum(a.nbytes for a in u8)
    weight_bytes = sum(w.nbytes + b.nbytes for w, b in zip(net.weights, net.biases))
    srv = Server()
    try:
        control = ws(srv.ws_url)
        command(control, {"type": "reset", "seed": 0, "batch_size": 10, **{k: v for k, v in TOY.items() if k != "name"}})
        command(control, {"type": "play"})
        times, size = [], 0
        for _ in range(requests):
            t = time.perf_counter()
            r = srv.http.post("/api/maps", content=json.dumps({"size": 64}),
                              headers={"content-type": "application/json"})
            times.append(time.perf_counter() - t)
            size = len(r.content)
            time.sleep(0.03)
        command(control, {"type": "pause"})
        control.close()
    finally:
        srv.close()
    print(f"  POST /api/maps while training flat out: p50 {np.percentile(times, 50) * 1e3:.2f} ms, "
          f"p95 {np.percentile(times, 95) * 1e3:.2f} ms ({requests} requests)")
    print(f"  bytes: uint8 maps {map_bytes:,} (envelope {size:,}); the weights and biases every frame already "
          f"carries {weight_bytes:,} (float32) — computing the maps in the page costs no bytes at all")
    print(f"  at 30 maps/s the route would add {size * 30 / 1e6:.1f} MB/s per tab; at 5/s {size * 5 / 1e6:.2f} MB/s")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=1.5, help="length of each throughput window")
    p.add_argument("--rounds", type=int, default=5, help="alternating toy/MNIST windows")
    p.add_argument("--requests", type=int, default=100, help="POST /api/maps requests")
    args = p.parse_args()
    print(f"Backprop Lab dataset benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"numpy {np.__version__}, load average {os.getloadavg()[0]:.1f}")
    session_throughput(args.seconds, args.rounds)
    engine_steps()
    generation()
    maps(args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
