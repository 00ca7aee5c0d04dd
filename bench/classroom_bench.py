"""Issue 16's classroom benchmarks: sessions in worker processes, on this machine's cores.

    .venv/bin/python bench/classroom_bench.py fairness [--sessions 8] [--seconds 5] [--rounds 3]
    .venv/bin/python bench/classroom_bench.py room [--sessions 30] [--seconds 30] [--pace 50]
    .venv/bin/python bench/classroom_bench.py memory [--sessions 8]

fairness: N sessions (default network on MNIST, batch 10) train flat out, each in its worker process,
against one session flat out alone, in interleaved rounds (alone, together, alone, together...), each
phase from the same new network. Prints
each session's mini-batches/s, the fairness ratio (fastest ÷ slowest; target ≤ 1.5) and the total of the
N ÷ one alone (target ≥ 0.8), median and spread over the rounds.

room: ``python -m server --classroom`` with N visitors (each a cookie, a page load, a websocket viewer
counting frames) training at ``--pace`` mini-batches/s, each asking for a prediction twice a second
over its websocket (as the page's draw pad does). Prints frames/s per viewer (min, median; target ≥ 10) and the latency of predict (p50, p95;
target p95 < 50 ms), and the CPU the web process and the workers used.

memory: N idle sessions and N training ones: each worker's memory (RSS, PSS, and private anonymous
memory, i.e. what it costs beyond what the processes share), the web process's, and what the shared
MNIST costs (once). Linux only (/proc).

Numbers depend on what else runs: the lines start with the load average (uptime).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.training.catalog import Catalog  # noqa: E402
from server.training.remote import RemoteSession, WorkerSpec  # noqa: E402
from server.web.routes.history import state  # noqa: E402  (a module-level read the workers can import)


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def sessions(n: int, folder: Path, nice: int = 10, **kwargs) -> list[RemoteSession]:
    cache = folder / "cache"
    Catalog(cache_dir=cache).open("mnist")
    spec = dict(cache_dir=str(cache), save_every=0, nice=nice, session_kwargs={"warmup": False, "max_blas_threads": 1,
                                                                    "snapshot_budget": 32 << 20, **kwargs})
    out = [RemoteSession(WorkerSpec(folder=str(folder / f"v{i}"), label=f"bench-{i}", **spec),
                         preload=["server.web.app"]) for i in range(n)]
    for s in out:
        s.ready.result(60)
    return out


def iterations(group) -> list[int]:
    return [f.result(30)["iteration"] for f in [s.read(state, s) for s in group]]


def rates(group, seconds: float, cpu: list | None = None) -> list[float]:
    """Mini-batches/s of each session training flat out together for ``seconds`` (``cpu``: gets the share
    of a core each worker had). Each starts from the same new network: a session's mini-batches get
    cheaper or dearer as it learns, and the comparison is between equals."""
    for s in group:
        s.reset([16, 16], "sigmoid", "sigmoid", "quadratic", 0).result(30)
    for s in group:
        s.play().result(30)
    time.sleep(0.5)  # settle
    cpu0 = [cpu_seconds(s.pid) for s in group]
    before, t0 = iterations(group), time.perf_counter()
    time.sleep(seconds)
    after, t1 = iterations(group), time.perf_counter()
    if cpu is not None:
        cpu[:] = [(cpu_seconds(s.pid) - c) / (t1 - t0) for s, c in zip(group, cpu0)]
    for s in group:
        s.pause().result(30)
    return [(b - a) / (t1 - t0) for a, b in zip(before, after)]


def fairness(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        group = sessions(args.sessions, Path(tmp), args.nice)
        try:
            ratios, totals = [], []
            for r in range(args.rounds):
                alone = rates(group[:1], args.seconds)[0]
                cpu = []
                together = rates(group, args.seconds, cpu)
                ratio, total = max(together) / min(together), sum(together) / alone
                ratios.append(ratio)
                totals.append(total)
                print(f"round {r + 1}: one alone {alone:,.0f} mini-batches/s; {args.sessions} together "
                      f"{', '.join(f'{x:,.0f}' for x in together)} (sum {sum(together):,.0f}); fastest/slowest "
                      f"{ratio:.2f}, sum/alone {total:.2f}; CPU share of each worker {', '.join(f'{c:.0%}' for c in cpu)}",
                      flush=True)
        finally:
            for s in group:
                s.stop(save=False)
    print(f"[{load()}] {args.sessions} sessions flat out on {os.cpu_count()} cores: fairness ratio median "
          f"{statistics.median(ratios):.2f} (range {min(ratios):.2f}–{max(ratios):.2f}; target ≤ 1.5); total ÷ one "
          f"alone median {statistics.median(totals):.2f} (range {min(totals):.2f}–{max(totals):.2f}; target ≥ 0.8)")
    return 0


# ----- memory ----------------------------------------------------------------------------------------
def smaps(pid: int) -> dict[str, int]:
    """kB: Rss, Pss (pages shared by k processes count 1/k), Pss_Anon (its heap and arrays), Pss_File (code and
    the mapped dataset, shared), USS (pages no other process maps)."""
    out = {"USS": 0}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Pss_Anon", "Pss_File"):
                out[key] = int(rest.split()[0])
            if key in ("Private_Clean", "Private_Dirty"):
                out["USS"] += int(rest.split()[0])
    return out


def memory(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        group = sessions(args.sessions, Path(tmp))
        try:
            time.sleep(1)
            idle = [smaps(s.pid) for s in group]
            rates(group, args.seconds)  # trained flat out for a while: snapshots, gradients, the whole dataset read
            busy = [smaps(s.pid) for s in group]
            web = smaps(os.getpid())
        finally:
            for s in group:
                s.stop(save=False)
    mb = lambda rows, k: statistics.median(r[k] for r in rows) / 1024  # noqa: E731
    print(f"[{load()}] {args.sessions} worker processes (median per worker, MB):")
    for name, rows in (("just made", idle), (f"after {args.seconds:g} s flat out", busy)):
        print(f"  {name}: RSS {mb(rows, 'Rss'):.0f}, PSS {mb(rows, 'Pss'):.0f} = anonymous {mb(rows, 'Pss_Anon'):.0f} "
              f"(heap, network, snapshots) + file-backed {mb(rows, 'Pss_File'):.0f} (its share of code and the "
              f"mapped dataset); USS {mb(rows, 'USS'):.0f}")
    total_pss = sum(r["Pss"] for r in busy) / 1024
    print(f"  all {args.sessions} together: PSS {total_pss:.0f} MB; this (web-like) process: RSS "
          f"{web['Rss'] / 1024:.0f} MB")
    return 0


# ----- a full room ------------------------------------------------------------------------------------
async def visitor(base: str, i: int, seconds: float, pace: float, frames: list, latencies: list, ready) -> None:
    """One student: a page load (the cookie), a websocket viewer counting frames, training at ``pace``, and
    a prediction twice a second over the same websocket (as the page's draw pad asks for them)."""
    import json

    import httpx
    import websockets

    async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=30) as http:
        page = await http.get("/")
        assert page.status_code == 200, page.text[:200]
        cookie = f"bpl_visitor={http.cookies['bpl_visitor']}"
    pixels = [((j * 7 + i) % 13) / 12 for j in range(784)]
    async with websockets.connect(base.replace("http", "ws") + "/ws", additional_headers={"Cookie": cookie},
                                  max_size=None) as ws:
        await ws.send('{"type": "set_params", "steps_per_second": %g}' % pace)
        await ws.send('{"type": "play"}')
        ready.append(i)
        while len(ready) < ready.want:
            await ws.recv()
        count, t0 = 0, time.perf_counter()
        asked: dict[int, float] = {}

        async def predicts():
            n, next_at = 0, t0 + (i % 10) / 20
            while time.perf_counter() - t0 < seconds:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                asked[n] = time.perf_counter()
                await ws.send(json.dumps({"type": "predict", "id": n, "pixels": pixels}))
                n += 1
                next_at += 0.5

        task = asyncio.create_task(predicts())
        while time.perf_counter() - t0 < seconds:
            try:
                message = await asyncio.wait_for(ws.recv(), 1.0)
            except asyncio.TimeoutError:
                continue
            if isinstance(message, bytes):
                count += 1
            elif message.startswith('{"type":"prediction"'):
                answer = json.loads(message)
                latencies.append(time.perf_counter() - asked.pop(answer["id"]))
        frames.append(count / (time.perf_counter() - t0))
        await task


class Ready(list):
    want = 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu(pid: int) -> float:
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
                if " bpl" in text or text.split(")")[0].endswith("python"):
                    pass
                cmd = open(f"/proc/{entry}/cmdline", "rb").read()
                if b"forkserver" in cmd or (int(entry) != pid and _parent_is_forkserver(int(entry))):
                    total += cpu_seconds(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return total


def _parent_is_forkserver(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    try:
        return b"forkserver" in open(f"/proc/{ppid}/cmdline", "rb").read()
    except OSError:
        return False


def room(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "server", "--classroom", "--port", "0", "--max-sessions",
                                 str(args.sessions), "--checkpoint-dir", tmp, "--flat-out", "--worker-nice",
                                 str(args.nice)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            line = proc.stdout.readline()
            port = re.search(r":(\d+)/", line).group(1)
            base = f"http://127.0.0.1:{port}"
            frames, latencies, ready = [], [], Ready()
            ready.want = args.sessions

            async def main():
                await asyncio.gather(*[visitor(base, i, args.seconds, args.pace, frames, latencies, ready)
                                       for i in range(args.sessions)])

            web0, workers0, t0 = cpu_seconds(proc.pid), children_cpu(proc.pid), time.perf_counter()
            me0 = time.process_time()
            asyncio.run(main())
            elapsed = time.perf_counter() - t0
            web = (cpu_seconds(proc.pid) - web0) / elapsed
            workers = (children_cpu(proc.pid) - workers0) / elapsed
            clients = (time.process_time() - me0) / elapsed
        finally:
            proc.terminate()
            proc.wait(30)
    lat = sorted(latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    print(f"[{load()}] {args.sessions} sessions at {args.pace:g} mini-batches/s, one viewer each, "
          f"{len(lat)} predicts: frames/s per viewer min {min(frames):.1f}, median {statistics.median(frames):.1f} "
          f"(target ≥ 10); predict p50 {p(0.5):.1f} ms, p95 {p(0.95):.1f} ms, max {lat[-1] * 1000:.0f} ms "
          f"(target p95 < 50); CPU: web process {web:.0%} of a core, workers {workers:.0%}, the {args.sessions} "
          f"clients (this process) {clients:.0%}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    f = sub.add_parser("fairness")
    f.add_argument("--sessions", type=int, default=8)
    f.add_argument("--seconds", type=float, default=5.0)
    f.add_argument("--rounds", type=int, default=3)
    f.add_argument("--nice", type=int, default=10, help="the workers' niceness (--worker-nice)")
    r = sub.add_parser("room")
    r.add_argument("--sessions", type=int, default=30)
    r.add_argument("--seconds", type=float, default=30.0)
    r.add_argument("--pace", type=float, default=50.0)
    r.add_argument("--nice", type=int, default=10, help="the workers' niceness (--worker-nice)")
    m = sub.add_parser("memory")
    m.add_argument("--sessions", type=int, default=8)
    m.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    return {"fairness": fairness, "room": room, "memory": memory}[args.what](args)


if __name__ == "__main__":
    raise SystemExit(main())
