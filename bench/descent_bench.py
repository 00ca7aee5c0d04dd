"""What the Descent view's live line costs the training session (issue 14: at most 10%).

    .venv/bin/python bench/descent_bench.py [--rounds 6] [--seconds 4]

Interleaved A/B rounds in one run, through the real app (an in-process client): the default session
trains flat out for the same time, with (A) and without (B) a ``POST /api/descent/line`` (41 points, 1,000
images) once per second, as the page sends it while the view is open. Prints each side's median
mini-batches per second, the spread, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from server.engine.data import load_dataset  # noqa: E402
from server.web.app import Settings, create_app  # noqa: E402
from server.web.guard import Guard  # noqa: E402


def one_round(data, with_line: bool, seconds: float) -> tuple[float, float]:
    settings = Settings(guard=Guard(extra_hosts=("testserver",)), dataset=data, autosave=False,
                        checkpoint_dir=Path("/tmp/descent-bench"))
    with TestClient(create_app(settings)) as c:
        session = c.app.state.session
        session.play()
        session.read(lambda: None).result()
        start_it, start = session.iteration, time.perf_counter()
        line_seconds = []
        next_line = start
        while (now := time.perf_counter()) - start < seconds:
            if with_line and now >= next_line:
                t = time.perf_counter()
                r = c.post("/api/descent/line", json={"examples": 1000, "points": 41, "tab": "bench"})
                assert r.status_code == 200, r.text
                line_seconds.append(time.perf_counter() - t)
                next_line += 1.0
            time.sleep(0.01)
        done = session.read(lambda: session.iteration).result()
        elapsed = time.perf_counter() - start
        session.pause()
    return (done - start_it) / elapsed, statistics.median(line_seconds) if line_seconds else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    data = load_dataset()
    with_line, without, latencies = [], [], []
    for r in range(args.rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        for flag in order:
            rate, latency = one_round(data, flag, args.seconds)
            (with_line if flag else without).append(rate)
            if flag:
                latencies.append(latency)
    ratio = statistics.median(with_line) / statistics.median(without)
    print(f"default network, flat out: with the line once a second {statistics.median(with_line):,.0f} mini-batches/s "
          f"(spread {min(with_line):,.0f}–{max(with_line):,.0f}), without {statistics.median(without):,.0f} "
          f"(spread {min(without):,.0f}–{max(without):,.0f}); ratio {ratio:.3f} ({(1 - ratio) * 100:+.1f}%); "
          f"line request median {statistics.median(latencies) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
