"""What recording snapshots and diagnostics costs the live session (issue 13: at most 5%).

    .venv/bin/python bench/recording_bench.py [--rounds 6] [--seconds 3]

Interleaved A/B rounds in one run: the same session configuration trains flat out on its worker for the
same time with recording on (A) and off (B), alternating, each round from a fresh network. The rate is
mini-batches per CPU-second of the training thread (what recording costs that thread, whatever else
loads the machine). Prints the median of each side, the spread, and the ratio A / B.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.engine.data import load_dataset  # noqa: E402
from server.training.session import TrainingSession  # noqa: E402


def thread_cpu(name: str) -> float:
    """CPU seconds used so far by this process's thread called ``name`` (Linux /proc; the worker names
    its OS thread): a rate per CPU-second does not depend on what else loads the machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == name:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        except OSError:
            continue
    raise RuntimeError(f"no thread named {name}")


def rate(data, record: bool, seconds: float, config: dict) -> float:
    """Mini-batches per CPU-second of the training thread, flat out for ``seconds``."""
    session = TrainingSession(data, config=config, record=record)
    session.start()
    try:
        session.play()
        session.read(lambda: None).result()
        start_it, start_cpu = session.iteration, thread_cpu("training")
        time.sleep(seconds)
        done, end_cpu = session.read(lambda: (session.iteration, thread_cpu("training"))).result()
        session.pause()
    finally:
        session.stop()
    return (done - start_it) / max(end_cpu - start_cpu, 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    data = load_dataset()
    for name, config in [
        ("default [784,16,16,10] sigmoid", {"sizes": [784, 16, 16, 10], "activation": "sigmoid",
                                            "output_activation": "sigmoid", "cost": "quadratic", "seed": 0}),
        ("[784,100,10] relu/softmax", {"sizes": [784, 100, 10], "activation": "relu",
                                       "output_activation": "softmax", "cost": "cross_entropy", "seed": 0}),
    ]:
        on, off = [], []
        for r in range(args.rounds):
            first, second = (True, False) if r % 2 == 0 else (False, True)  # alternate which goes first
            for record in (first, second):
                (on if record else off).append(rate(data, record, args.seconds, config))
        ratio = statistics.median(on) / statistics.median(off)
        print(f"{name}: recording on {statistics.median(on):,.0f} mini-batches per CPU-second of the training thread "
              f"(spread {min(on):,.0f}–{max(on):,.0f}), off {statistics.median(off):,.0f} "
              f"(spread {min(off):,.0f}–{max(off):,.0f}); on/off = {ratio:.3f} "
              f"({(1 - ratio) * 100:+.1f}% cost)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
