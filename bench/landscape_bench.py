"""Cost-landscape speed (issue 14): the stacked grid against one network at a time, on one core.

    .venv/bin/python bench/landscape_bench.py          # about a minute

For each case it times the engine (``landscape.costs_at``: the grid points as stacked matrix products)
and the baseline (``landscape.cost_one_by_one``: the engine's forward pass one grid point at a time, on
a sample of the points, scaled to the whole grid) in the same run, and prints the speed-up. It also
measures this machine's single-thread float32 GEMM rate and says how far each case is from that bound
(the FLOPs the stacked computation must do, at that rate). For the surfaces it also times the path
drawn on them (``landscape.path_on_plane``, 64 points), which the surface route computes too.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.engine import landscape as ls  # noqa: E402
from server.engine.data import load_dataset, to_float  # noqa: E402
from server.network import Network, one_hot  # noqa: E402

TARGETS = {"surface 41×41, [784,16,16,10]": 1.0, "surface 21×21, [784,100,10]": 2.0, "line 41 points, [784,16,16,10]": 0.1}


def best_of(fn, rounds=3) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def gemm_rate() -> float:
    """FLOP/s of a large single-thread float32 matrix product here."""
    a = np.random.default_rng(0).standard_normal((2048, 1024)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((1024, 512)).astype(np.float32)
    seconds = best_of(lambda: a @ b, 5)
    return 2 * 2048 * 1024 * 512 / seconds


def stacked_flops(sizes, n: int, points: int, m: int) -> float:
    """Multiply-adds the stacked computation does: the first layer's products once (1 + m of them),
    every later layer's (1 + m) products per point, and the combinations (m per first-layer output)."""
    first = 2 * n * sizes[0] * sizes[1] * (1 + m) + 2 * points * n * sizes[1] * m
    later = sum(2 * points * n * a * b * (1 + m) for a, b in zip(sizes[1:-1], sizes[2:]))
    return first + later


def main() -> int:
    data = load_dataset()
    x = to_float(data.train_images[:1000])
    y = one_hot(data.train_labels[:1000], 10, "float32")
    peak = gemm_rate()
    print(f"single-thread float32 GEMM here: {peak / 1e9:.1f} GFLOP/s")
    rows, paths = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        for name, sizes, act, out, cost, r, m in [
            ("surface 41×41, [784,16,16,10]", [784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic", 41, 2),
            ("surface 21×21, [784,100,10]", [784, 100, 10], "relu", "softmax", "cross_entropy", 21, 2),
            ("line 41 points, [784,16,16,10]", [784, 16, 16, 10], "sigmoid", "sigmoid", "quadratic", 41, 1),
        ]:
            net = Network(sizes, act, out, cost, seed=0)
            origin = (net.weights, net.biases)
            if m == 2:
                dirs = ls.random_directions(net, 0)
                g = np.linspace(-1, 1, r)
                aa, bb = np.meshgrid(g, g)
                coefficients = np.stack([aa.ravel(), bb.ravel()], axis=1)
                engine = best_of(lambda: ls.surface(net, x, y, dirs, g, g))
            else:
                engine = best_of(lambda: ls.line(net, x, y, 6.0, r))
                grads = net.backprop(x, y, input_gradient=False)
                dirs = [(grads.nabla_w, grads.nabla_b)]
                coefficients = -np.linspace(0, 6.0, r)[:, None]
            sample = coefficients[:: max(1, len(coefficients) // 40)]
            per_point = statistics.median(
                best_of(lambda c=c: ls.cost_one_by_one(net, x, y, origin, dirs, c[None, :]), 1) for c in sample)
            baseline = per_point * len(coefficients)
            flops = stacked_flops(sizes, len(x), len(coefficients), m)
            rows.append((name, engine, baseline, flops / peak))
            if m == 2:  # the surface's path: 64 points, each with its own cost and the slice's under it
                theta = ls.flatten(*origin)
                walk = theta + np.cumsum(np.random.default_rng(1).standard_normal((64, len(theta))) * 0.01, axis=0)
                paths.append((name, best_of(lambda: ls.path_on_plane(net, x, y, walk, theta, dirs)), engine))
    print(f"{'case':34} {'engine':>9} {'target':>7} {'one by one':>11} {'speed-up':>9} {'GEMM bound':>11} {'× bound':>8}")
    ok = True
    for name, engine, baseline, bound in rows:
        target = TARGETS[name]
        ok &= engine <= target
        print(f"{name:34} {engine * 1000:7.0f} ms {target * 1000:5.0f} ms {baseline * 1000:8.0f} ms "
              f"{baseline / engine:8.1f}× {bound * 1000:8.0f} ms {engine / bound:7.1f}×")
    for name, path, engine in paths:
        target = TARGETS[name]
        ok &= engine + path <= target
        print(f"{name} + its 64-point path (own cost and slice cost of each): {path * 1000:.0f} ms more, "
              f"{(engine + path) * 1000:.0f} ms in all (target {target * 1000:.0f} ms)")
    print("all targets met" if ok else "a target was missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
