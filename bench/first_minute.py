"""Issue 11's first minute, measured in real time: what a newcomer who presses Play sees.

    .venv/bin/python bench/first_minute.py [--flat-out] [--seed 0]

Runs the live session exactly as `python -m server` starts it (the slow start on; `--flat-out` without
it), presses play, and prints every 2 s the iteration, the pace, the mean cost of the mini-batches since
the previous line and the test accuracy the page shows; then the seconds until that accuracy first
passes 90%. (tests/test_first_minute.py checks the same from the pace's schedule, without waiting.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.engine.data import load_dataset  # noqa: E402
from server.training.limits import DEFAULT_CONFIG  # noqa: E402
from server.training.session import TrainingSession  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flat-out", action="store_true", help="without the slow start (the old default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=float, default=90.0, help="give up after this many seconds")
    args = parser.parse_args()
    session = TrainingSession(load_dataset(), config={**DEFAULT_CONFIG, "seed": args.seed}, warmup=not args.flat_out)
    session.start()
    session.play()
    start = time.perf_counter()
    reached = None
    shown = 0.0
    costs_seen = 0
    print("     s  iteration  pace (mini-batches/s)  mean cost  test accuracy")
    try:
        while time.perf_counter() - start < args.limit:
            time.sleep(0.02)
            now = time.perf_counter() - start
            acc = session.accuracy()
            if reached is None and acc is not None and acc >= 0.9:
                reached = now
            if now - shown >= 2.0 or (reached is not None and reached == now):
                shown = now
                with session.lock:
                    values = session.cost_history.values()[costs_seen:]
                    costs_seen += len(values)
                    sps, it = session.steps_per_second, session.iteration
                mean = f"{values.mean():.4f}" if len(values) else "—"
                pace = "flat out" if sps is None else f"{sps:g}"
                print(f"{now:6.1f}  {it:9,}  {pace:>21}  {mean:>9}  {acc if acc is None else f'{acc:.1%}'}")
            if reached is not None:
                break
    finally:
        session.stop()
    if reached is None:
        print(f"test accuracy did not pass 90% within {args.limit:g} s")
        return 1
    print(f"test accuracy passed 90% after {reached:.1f} s (iteration {session.iteration:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
