"""`python -m server bench`: training throughput of the engine against two baselines, measured in one run.

For each configuration the same mini-batches (a seeded ``BatchStream``, float32) are fed to

* **engine**   ``Network.sgd_step`` inside ``limit_blas(batch_size)``, as the CLI and the live session train;
* **loop**     the textbook structure (Nielsen's ``network.py``): every example of the mini-batch is
  backpropagated alone as a column vector and the gradients are summed, in NumPy, same dtype;
* **torch**    PyTorch eager on the CPU, same layers/activations/cost/dtype, autograd + manual SGD
  (``p -= η p.grad`` under ``no_grad``), run with 1 and with 2 threads; the faster one is reported.

Only the training step is timed (the batch is drawn just before, outside the clock, so it is warm in
the cache as in real training); the cost of drawing a batch is shown separately. Every baseline is
checked first to make exactly the same update as the engine from the same weights. Other processes
on a shared machine make single timings noisy, so each engine runs in several interleaved rounds and
the best round counts (the median is printed too).

Finally: seconds of training (evaluation excluded) until [784,100,10] relu/softmax/cross-entropy,
batch 32, η = 0.2 first reaches 97% on the full test set.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from .args import positive_float
from ..engine.blas import SINGLE_THREAD_BELOW, blas_threads_for, limit_blas
from ..engine.data import load_dataset
from ..engine.network import Network
from ..engine.batches import BatchStream, evaluate


@dataclass(frozen=True)
class Cell:
    sizes: tuple[int, ...]
    activation: str
    output_activation: str
    cost: str
    batch_size: int
    lr: float

    @property
    def label(self) -> str:
        sizes = ",".join(map(str, self.sizes))
        return f"[{sizes}] {self.activation}/{self.output_activation} {self.cost}"


CELLS = (
    Cell((784, 30, 10), "sigmoid", "sigmoid", "quadratic", 10, 1.5),
    Cell((784, 100, 10), "relu", "softmax", "cross_entropy", 32, 0.2),
    Cell((784, 100, 10), "relu", "softmax", "cross_entropy", 128, 0.2),
)
TARGETS = {10: (10.0, 5.0), 32: (10.0, 2.0), 128: (10.0, 1.5)}  # batch → (× loop, × torch)
DTYPE = "float32"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a short, noisier run (about 15 s)")
    parser.add_argument("--seconds", type=positive_float,
                        help="timed seconds per engine and configuration (default 2, quick 0.3)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column even if torch is installed")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the time-to-97%% run")
    parser.add_argument("--data-dir", help="folder with the four IDX files (default: the bundled MNIST)")


# ----- baseline 1: one example at a time, as in the textbook -------------------------------------------
class PerExampleLoop:
    """Nielsen's structure: backprop each example as a column vector, sum the gradients, then step.

    The activation functions are the textbook one-liners (``1 / (1 + e^−z)`` etc.), which are cheaper
    than the engine's overflow-safe forms, so the comparison does not flatter the engine.
    """

    FUNCTIONS = {  # name → (σ(z), σ'(z) given z and a = σ(z))
        "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z, a: a * (1 - a)),
        "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(z.dtype)),
        "tanh": (np.tanh, lambda z, a: 1 - a * a),
    }

    def __init__(self, net: Network):
        self.dtype = net.dtype
        self.weights = [np.ascontiguousarray(w) for w in net.weights]  # copies, (n_out, n_in)
        self.biases = [b.reshape(-1, 1).copy() for b in net.biases]  # column vectors
        self.hidden, self.hidden_prime = self.FUNCTIONS[net.activation_name]
        self.output_name = net.output_activation_name
        if self.output_name != "softmax":
            self.output, self.output_prime = self.FUNCTIONS[self.output_name]
        self.cost_name = net.cost_name
        if self.cost_name == "cross_entropy" and self.output_name != "softmax":
            raise ValueError("the loop baseline does cross-entropy with softmax only")

    def backprop(self, x, y):
        """(∇_W C0, ∇_b C0, C0) of one example; x and y are column vectors."""
        activation, activations, zs = x, [x], []
        last = len(self.weights) - 1
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = np.dot(w, activation) + b
            zs.append(z)
            if l < last:
                activation = self.hidden(z)
            elif self.output_name == "softmax":
                e = np.exp(z - z.max())
                activation = e / e.sum()
            else:
                activation = self.output(z)
            activations.append(activation)
        a = activations[-1]
        if self.cost_name == "quadratic":
            cost = float(((a - y) ** 2).sum())
            if self.output_name == "softmax":
                g = 2 * (a - y)
                delta = a * (g - (a * g).sum())
            else:
                delta = 2 * (a - y) * self.output_prime(zs[-1], a)
        else:  # cross-entropy with softmax: δ = a − y
            cost = float(-(y * np.log(np.maximum(a, np.finfo(a.dtype).tiny))).sum())
            delta = a - y
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].T)
        for l in range(2, len(self.weights) + 1):
            delta = np.dot(self.weights[-l + 1].T, delta) * self.hidden_prime(zs[-l], activations[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)
        return nabla_w, nabla_b, cost

    def step(self, x, y, lr: float) -> float:
        nabla_w = [np.zeros_like(w) for w in self.weights]
        nabla_b = [np.zeros_like(b) for b in self.biases]
        total = 0.0
        with np.errstate(over="ignore"):  # 1 / (1 + e^−z) overflows harmlessly to 0 for z ≪ 0
            for i in range(len(x)):
                dnw, dnb, cost = self.backprop(x[i].reshape(-1, 1), y[i].reshape(-1, 1))
                for nw, d in zip(nabla_w, dnw):
                    nw += d
                for nb, d in zip(nabla_b, dnb):
                    nb += d
                total += cost
        eta = self.dtype.type(lr / len(x))
        for w, nw in zip(self.weights, nabla_w):
            w -= eta * nw
        for b, nb in zip(self.biases, nabla_b):
            b -= eta * nb
        return total / len(x)

    def parameters(self):
        return self.weights, [b.ravel() for b in self.biases]


# ----- baseline 2: PyTorch eager -----------------------------------------------------------------------
class TorchSGD:
    """The same network in PyTorch eager mode: autograd for the gradients, a manual SGD update."""

    def __init__(self, net: Network, torch):
        self.torch = torch
        self.F = torch.nn.functional
        self.weights = [torch.tensor(np.ascontiguousarray(w), requires_grad=True) for w in net.weights]
        self.biases = [torch.tensor(b.copy(), requires_grad=True) for b in net.biases]
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        acts = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh,
                "leaky_relu": lambda z: self.F.leaky_relu(z, 0.01)}
        self.hidden = acts[net.activation_name]
        self.output_name = net.output_activation_name
        self.output = acts.get(net.output_activation_name)
        self.cost_name = net.cost_name
        if self.cost_name == "cross_entropy" and self.output_name != "softmax":
            raise ValueError("the torch baseline does cross-entropy with softmax only")

    def step(self, x, y, lr: float) -> float:
        torch, F = self.torch, self.F
        a = torch.from_numpy(x)
        y = torch.from_numpy(y)
        last = len(self.weights) - 1
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = F.linear(a, w, b)
            if l < last:
                a = self.hidden(z)
        if self.cost_name == "cross_entropy":  # softmax + C0 = −Σ y ln a, fused as torch does it
            loss = F.cross_entropy(z, y)
        else:
            a = torch.softmax(z, dim=1) if self.output_name == "softmax" else self.output(z)
            loss = ((a - y) ** 2).sum(dim=1).mean()
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p.sub_(p.grad, alpha=lr)
                p.grad = None
        return loss.item()

    def parameters(self):
        return [w.detach().numpy() for w in self.weights], [b.detach().numpy() for b in self.biases]


def blas_description() -> str:
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not info:
        return "BLAS unknown"
    i = info[0]
    text = (f"{i.get('internal_api')} {i.get('version')}, {i.get('architecture')} kernels, "
            f"{i.get('num_threads')} threads")
    if os.environ.get("OPENBLAS_CORETYPE"):
        text += f", OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}"
    return text


def _try_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


# ----- timing -----------------------------------------------------------------------------------------
class Runner:
    """One engine on its own seeded BatchStream; ``run(seconds)`` times only the training steps."""

    def __init__(self, name, step, data, cell: Cell, before=None, blas_limit=True, blas_threads=None):
        self.name, self.step, self.cell, self.before = name, step, cell, before
        self.blas_limit = blas_limit  # torch sets its own threads
        self.blas_threads = blas_threads  # None: the engine's own rule, limit_blas(batch_size)
        self.stream = BatchStream(data.train_images, data.train_labels, cell.batch_size, DTYPE, seed=1)
        self.rounds: list[float] = []  # seconds per step, one value per round

    def run(self, seconds: float, record: bool = True) -> None:
        if self.before:
            self.before()
        lr, nxt, step, clock = self.cell.lr, self.stream.next, self.step, time.perf_counter
        spent, steps, deadline = 0.0, 0, clock() + seconds
        if not self.blas_limit:
            limit = contextlib.nullcontext()
        elif self.blas_threads:
            limit = threadpool_limits(limits=self.blas_threads, user_api="blas")
        else:
            limit = limit_blas(self.cell.batch_size)
        with limit:
            while True:
                x, y, _, _ = nxt()
                t0 = clock()
                step(x, y, lr)
                t1 = clock()
                spent += t1 - t0
                steps += 1
                if t1 >= deadline and steps >= 3:
                    break
        if record:
            self.rounds.append(spent / steps)

    @property
    def best(self) -> float:
        return min(self.rounds)

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)


def data_cost(data, batch_size: int, seconds: float = 0.2) -> float:
    """Seconds per ``BatchStream.next`` (gather, uint8 → float, one-hot targets)."""
    stream = BatchStream(data.train_images, data.train_labels, batch_size, DTYPE, seed=1)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        stream.next()
        n += 1
    return (time.perf_counter() - start) / n


def check_same_update(cell: Cell, data, torch) -> None:
    """Each baseline, from the engine's weights, must make the engine's update on the same batch."""
    net = Network(cell.sizes, cell.activation, cell.output_activation, cell.cost, seed=0, dtype=DTYPE)
    baselines = [PerExampleLoop(net)] + ([TorchSGD(net, torch)] if torch else [])
    x, y, _, _ = BatchStream(data.train_images, data.train_labels, cell.batch_size, DTYPE, seed=2).next()
    cost = net.sgd_step(x, y, cell.lr)
    for base in baselines:
        base_cost = base.step(x, y, cell.lr)
        weights, biases = base.parameters()
        for mine, theirs in zip(net.weights + net.biases, list(weights) + list(biases)):
            if not np.allclose(mine, theirs, rtol=1e-4, atol=1e-6):
                raise AssertionError(f"{type(base).__name__} does not make the engine's update for {cell.label}")
        if not math.isclose(cost, base_cost, rel_tol=1e-4):
            raise AssertionError(f"{type(base).__name__} cost {base_cost} != engine's {cost} for {cell.label}")


def bench_cell(cell: Cell, data, torch, seconds: float, rounds: int) -> dict:
    def network():
        return Network(cell.sizes, cell.activation, cell.output_activation, cell.cost, seed=0, dtype=DTYPE)

    runners = [Runner("engine", network().sgd_step, data, cell),
               Runner("loop", PerExampleLoop(network()).step, data, cell)]
    if cell.batch_size >= 64 and blas_threads_for(cell.batch_size) == 1:
        # what the thread rule gives up here: the engine again, with 2 BLAS threads (shown as a note)
        runners.append(Runner("engine_2threads", network().sgd_step, data, cell, blas_threads=2))
    if torch:
        for threads in (1, 2):
            runners.append(Runner(f"torch{threads}", TorchSGD(network(), torch).step, data, cell,
                                  before=lambda t=threads: torch.set_num_threads(t), blas_limit=False))
    per_round = seconds / rounds
    for r in runners:
        r.run(min(0.3, per_round), record=False)  # warm up: caches, BLAS buffers, torch's allocator
    for _ in range(rounds):
        for r in runners:
            r.run(per_round)
    result = {r.name: r for r in runners}
    if torch:
        result["torch"] = min(result["torch1"], result["torch2"], key=lambda r: r.best)
    result["data"] = data_cost(data, cell.batch_size)
    return result


def time_to_accuracy(data, target: float = 0.97, max_epochs: int = 10, evals_per_epoch: int = 5):
    """Training seconds (evaluation excluded) until the full test set reaches ``target``."""
    cell = CELLS[1]
    net = Network(cell.sizes, cell.activation, cell.output_activation, cell.cost, seed=0, dtype=DTYPE)
    stream = BatchStream(data.train_images, data.train_labels, cell.batch_size, DTYPE, seed=0)
    steps_per_epoch = math.ceil(len(data.train_images) / cell.batch_size)
    chunk = math.ceil(steps_per_epoch / evals_per_epoch)
    trained, steps, accuracy = 0.0, 0, 0.0
    while steps < max_epochs * steps_per_epoch:
        start = time.perf_counter()
        with limit_blas(cell.batch_size):
            for _ in range(chunk):
                x, y, _, _ = stream.next()
                net.sgd_step(x, y, cell.lr)
        trained += time.perf_counter() - start
        steps += chunk
        accuracy = evaluate(net, data.test_images, data.test_labels)
        if accuracy >= target:
            return trained, steps / steps_per_epoch, accuracy
    return None, steps / steps_per_epoch, accuracy


def run(args) -> int:
    quick = getattr(args, "quick", False)
    seconds = args.seconds if getattr(args, "seconds", None) else (0.3 if quick else 2.0)
    rounds = 3 if quick else 8
    torch = None if getattr(args, "no_torch", False) else _try_torch()
    data = load_dataset(getattr(args, "data_dir", None))
    if torch:
        torch_note = f"torch {torch.__version__} (best of 1 and 2 threads)"
    else:
        torch_note = "torch not installed: column skipped" if not getattr(args, "no_torch", False) else "torch skipped"
    print(f"float32, numpy {np.__version__} ({blas_description()}), {torch_note}")
    print(f"{seconds:g} s per engine and configuration, in {rounds} interleaved rounds; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    results = []
    for cell in CELLS:
        check_same_update(cell, data, torch)
        results.append((cell, bench_cell(cell, data, torch, seconds, rounds)))
    print("baselines checked: same update as the engine from the same weights")
    print()
    header = (f"{'configuration':<44} {'batch':>5} {'BLAS thr':>8} {'engine samples/s':>16} {'µs/step':>8} "
              f"{'× loop':>7} {'× torch':>8} {'(thr)':>5} {'× torch 1thr':>12} {'data µs':>7}")
    print(header)
    print("-" * len(header))
    missed = []
    for cell, r in results:
        engine = r["engine"].best
        ratio_loop = r["loop"].best / engine
        threads = blas_threads_for(cell.batch_size) or "all"
        line = (f"{cell.label:<44} {cell.batch_size:>5} {threads!s:>8} {cell.batch_size / engine:>16,.0f} "
                f"{engine * 1e6:>8.1f} {ratio_loop:>6.1f}×")
        want_loop, want_torch = TARGETS[cell.batch_size]
        if ratio_loop < want_loop:
            missed.append(f"batch {cell.batch_size}: {ratio_loop:.1f}× the loop (target {want_loop:g}×)")
        if torch:
            ratio_torch = r["torch"].best / engine  # against torch's faster thread setting: the fair bar
            line += f" {ratio_torch:>7.2f}× {r['torch'].name[5:]:>5} {r['torch1'].best / engine:>11.2f}×"
            if ratio_torch < want_torch:
                missed.append(f"batch {cell.batch_size}: {ratio_torch:.2f}× torch (target {want_torch:g}×)")
        else:
            line += f" {'–':>8} {'–':>5} {'–':>12}"
        line += f" {r['data'] * 1e6:>7.1f}"
        print(line)
    print()
    print("× torch: against torch's faster thread setting (thr); × torch 1thr: against torch on one thread.")
    print("µs/step: best of the rounds; medians (engine / loop / torch µs):")
    for cell, r in results:
        meds = [r["engine"].median, r["loop"].median] + ([r["torch"].median] if torch else [])
        print(f"  {cell.label} batch {cell.batch_size}: " + " / ".join(f"{m * 1e6:.1f}" for m in meds))
    for cell, r in results:
        if "engine_2threads" in r:
            two = r["engine_2threads"]
            line = (f"  batch {cell.batch_size} with 2 BLAS threads instead of 1: {two.best * 1e6:.1f} µs/step "
                    f"(median {two.median * 1e6:.1f})")
            if torch:
                line += f", {r['torch'].best / two.best:.2f}× torch"
            print(line + f"; server/blas.py keeps 1 thread below batch {SINGLE_THREAD_BELOW}")
    if missed:
        print("below target: " + "; ".join(missed))
    else:
        print("all targets met (≥10× loop; ≥5×, 2×, 1.5× torch at batch 10, 32, 128)" if torch else
              "loop targets met (torch not measured)")
    print(f"load average after the timings: {os.getloadavg()[0]:.1f} (other processes on the machine skew timings)")
    if not getattr(args, "no_accuracy", False):
        print()
        seconds97, epochs, accuracy = time_to_accuracy(data)
        cell = CELLS[1]
        what = f"{cell.label}, batch {cell.batch_size}, η = {cell.lr}"
        if seconds97 is None:
            print(f"time to 97%: not reached in {epochs:g} epochs ({what}; last {accuracy:.4f})")
        else:
            print(f"time to 97%: {seconds97:.2f} s of training, {epochs:.1f} epochs, "
                  f"test accuracy {accuracy:.4f} ({what}, seed 0, evaluation excluded)")
    return 0
