"""The live training session: one network, its data stream and history, trained on a worker thread.

No I/O here. The web layer reads ``snapshot()`` at its own pace and calls the command methods; every
command is validated in the caller's thread (a ValueError changes nothing) and then applied by the
worker between mini-batches, in the order received. The worker (``worker.py``), the event log
(``events.py``) and what a frame is built from (``snapshot.py``) are modules of their own.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from ..engine.blas import blas_threads_for
from ..engine.datasets import Dataset, custom, registry
from .catalog import Catalog
from .history import CostHistory
from .limits import (
    DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE, LIMITS,
    check_batch_size, check_fits, check_learning_rate, check_speed, default_config,
)
from .saved_history import check_history, check_params, check_snapshots, encode_history
from . import edits, pace
from .edits import UndoHistory
from .events import EventLog
from .health import WINDOW, HealthCheck, chance_levels
from .recorder import Recorder
from .snapshot import Detail, Snapshot, all_finite, capture, make_finite
from .worker import Worker
from ..engine.network import Network, validate_config
from ..engine.saved_snapshots import SavedHistory
from ..engine.batches import BatchStream, evaluate
from ..engine.fused import fused_sgd_step

log = logging.getLogger("backprop_lab")
EVAL_SUBSET = 1000  # test images used for the running accuracy
EVAL_EVERY_SECONDS = 0.5
PROBE_SIZE = 500  # training images whose hidden activations show a dead ReLU layer
BACKUP_EVERY_STEPS = 100  # how often the last finite weights are kept, for divergence recovery
COMPUTE_THREADS = 8  # threads for work on copies of the network (``compute``), shared by every session here
BURST_SECONDS = 0.002  # flat out, the worker trains mini-batches back to back for this long (or until a
# command or read arrives): the per-step bookkeeping of the worker loop is paid once per burst


class TrainingSession:
    def __init__(
        self,
        data: Dataset,
        config: dict | None = None,
        learning_rate: float = DEFAULT_LEARNING_RATE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        steps_per_second: float | None = None,
        net: Network | None = None,
        catalog: Catalog | None = None,
        record: bool = True,
        warmup: bool = False,
        warmup_until: float | None = None,
        max_blas_threads: int | None = None,
        snapshot_budget: int | None = None,
    ):
        """``warmup_until``: the pace (mini-batches/s) at which the slow start ends (None: it ends flat out);
        ``max_blas_threads``: at most this many BLAS threads (a worker process of classroom mode: 1);
        ``snapshot_budget``: bytes of weight snapshots kept for looking back (default 200 MB)."""
        self.data = data
        self.catalog = catalog or Catalog(mnist=data if data.name == "mnist" else None)
        self.worker = Worker("training", busy=self._busy, work=self._work, fault=self._fault,
                             interval=self._interval, after_command=self._after_command)
        self.lock = self.worker.lock
        self.log = EventLog()
        self._blas_threads: int | None = 0  # 0: not set yet; None: no limit
        self.learning_rate = check_learning_rate(learning_rate)
        self.batch_size = check_batch_size(batch_size)
        self.steps_per_second = check_speed(steps_per_second)
        self.warmup = bool(warmup)  # the slow start (pace.py): the pace rises by itself to flat out
        self.warmup_until = check_speed(warmup_until)  # ... or to this pace
        self.max_blas_threads = max_blas_threads
        self._warmup_from = 0  # the iteration the warm-up counts from
        if self.warmup:
            self.steps_per_second = pace.pace(0)
        self.version = 0  # bumps on every change a viewer could see
        self.structure_version = 0  # bumps when the network is replaced (a new hello is due)
        self.undo = UndoHistory()
        self.recorder = Recorder(**({"budget_bytes": snapshot_budget} if snapshot_budget else {}), enabled=record)  # snapshots, diagnostics, confusion (recorder.py)
        self._choices = 0  # counts play/pause/step commands: a walkthrough never overrides one of them
        self._holds: dict[str, None] = {}  # open walkthroughs that paused training (see hold/release)
        self._resume_after_holds = False
        self._choices_at_hold = 0
        if net is not None:
            check_fits(net.sizes, data)
        self._install(net or self._build(config or default_config(data), data), data)

    # ----- construction ------------------------------------------------------------------------
    @staticmethod
    def _build(config: dict, data: Dataset) -> Network:
        validate_config(config["sizes"], config["activation"], config["output_activation"], config["cost"], "float32")
        check_fits(config["sizes"], data)
        return Network(
            config["sizes"], config["activation"], config["output_activation"], config["cost"],
            seed=config.get("seed", 0), dtype="float32",
        )

    def _use_data(self, data: Dataset) -> None:
        """Train on ``data`` from now on (the network stays): a new stream, evaluation subset and probe."""
        self.data = data
        seed = self.net.seed if isinstance(self.net.seed, int) else 0
        epoch = self.stream.epoch if getattr(self, "stream", None) is not None else 0
        self.stream = BatchStream.for_dataset(data, self.batch_size, self.net.dtype, seed=seed)
        self.stream.epoch = epoch
        rng = np.random.default_rng(seed + 1)
        self._eval_idx = np.sort(rng.permutation(data.test_size)[:EVAL_SUBSET])
        self._probe = data.inputs(data.train_inputs[:PROBE_SIZE])
        self.recorder.confusion = None  # it described the test set of the data before
        self._pinned = None
        self._last_x = None  # the shown example belonged to the previous data
        self._last_label = None
        self._last_index = None
        relu_layers = [l for l in range(1, len(self.net.sizes) - 1) if self.net.activation_name == "relu"]
        self.health = HealthCheck(*chance_levels(data.train_labels, data.n_classes, self.net.cost_fn), relu_layers)

    def _install(self, net: Network, data: Dataset, history: dict | None = None) -> None:
        """Make ``net`` (trained on ``data``) the session's network and start its history afresh (or from
        ``history``)."""
        history = history or {}
        self.net = net
        self.stream = None
        self._use_data(data)
        self.iteration = int(history.get("iteration", 0))
        self.examples_seen = int(history.get("examples_seen", 0))
        self.stream.epoch = int(history.get("epoch", 0))
        self._warmup_from = self.iteration
        self.cost_history = CostHistory.from_array(history.get("costs", []))
        self.accuracy_history: list = [list(p) for p in history.get("accuracy_history", [])]
        self.markers: list = [dict(m) for m in history.get("markers", [])]
        self.running = False
        self._pending_steps = 0
        self._pending_unit = "batch"
        self._until_epoch_end = False
        self._last_grads = None
        self._want_grads = True  # the next step keeps its gradients (set again by every snapshot)
        self._last_eta = self.learning_rate
        self._backup = self.net.parameters()
        self._rate_window: deque = deque(maxlen=64)  # (time, examples) for samples/s
        self._last_eval_time = 0.0
        self._last_epoch_report = -math.inf  # when the last epoch event was sent
        self._epochs_unreported = 0
        self._good = (self.iteration, self.accuracy(), self.net.parameters())  # the best weights seen
        self.undo.clear("the network was replaced")
        self.recorder.start(self)
        self.structure_version += 1
        self.version += 1

    # ----- what the worker runs between commands ----------------------------------------------
    def _busy(self) -> bool:
        return bool(self.running or self._pending_steps > 0 or self._until_epoch_end)

    def _interval(self) -> float | None:
        """Seconds between mini-batches at the speed limit (None: flat out). A step of one whole epoch
        runs flat out: at a slow-motion speed it would take hours."""
        if self._until_epoch_end and not self.running:
            return None
        return 1.0 / self.steps_per_second if self.steps_per_second else None

    def _after_command(self) -> None:
        self.version += 1

    def _fault(self, what: str) -> None:
        self.running = False
        self._pending_steps = 0
        self._until_epoch_end = False
        self._event("error", f"{what} on the server (see its log); training is paused.")
        self.version += 1

    # ----- the worker: start, stop, commands and consistent reads ------------------------------
    def start(self) -> None:
        self.worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.worker.stop(timeout)

    def read(self, fn, *args):
        """A Future of ``fn(*args)``, run on the worker between two mini-batches (see ``Worker.read``)."""
        return self.worker.read(fn, *args)

    def _submit(self, fn) -> None:
        self.worker.submit(fn)

    def call(self, fn, *args):
        """A Future of ``fn(*args)``, run on the worker in order with the commands: for a change of the
        network whose caller needs the result (a walkthrough step, teach, undo)."""
        return self.worker.call(fn, *args)

    def compute(self, fn, *args):
        """A Future of ``fn(*args)`` run in a thread of the session's own process, off its training thread:
        work on copies of the network (a landscape, a search through the test set, preprocessing a
        drawing) that may itself ``read`` the session. Routes hand every piece of work that needs the
        session's data to it, so that the same code runs where the session lives (in classroom mode, a
        worker process: ``remote.py``). ``fn`` must be a module-level function and its result picklable."""
        return _compute_pool().submit(fn, *args)

    def run_steps(self, n: int) -> None:
        """Train ``n`` mini-batches synchronously in the caller's thread (tests and benchmarks)."""
        for _ in range(n):
            self._train_one(force=True)

    # ----- training ---------------------------------------------------------------------------
    def _work(self) -> None:
        """The worker's unit of work: one mini-batch, or, flat out, a burst of them that ends as soon as
        a command or a read is waiting (so each still runs between two mini-batches), training stops,
        or ``BURST_SECONDS`` have passed."""
        with self.lock, np.errstate(over="ignore", invalid="ignore"):  # overflow is detected and handled
            if self._interval() is not None or not (self.running or self._until_epoch_end):
                self._step()
                return
            deadline = time.perf_counter() + BURST_SECONDS
            waiting = self.worker.waiting
            while self._step() and not waiting() and time.perf_counter() < deadline:
                pass

    def _train_one(self, force: bool = False) -> None:
        with self.lock, np.errstate(over="ignore", invalid="ignore"):
            self._step(force)

    def _step(self, force: bool = False) -> bool:
        """One mini-batch (under the lock); False when none was trained or training must stop."""
        if not (force or self.running or self._pending_steps > 0 or self._until_epoch_end):
            return False  # paused since the worker looked (e.g. a snapshot found the weights diverged)
        size = 1 if (self._pending_steps > 0 and self._pending_unit == "example") else self.batch_size
        x, y, idx, epoch_ended = self.stream.next(size)
        self._set_blas_threads(size)
        net = self.net
        if self._want_grads:
            # A viewer will look: keep this mini-batch's gradients and first example for it.
            grads = net.backprop(x, y, input_gradient=False)
            cost = grads.cost
            if not math.isfinite(cost):
                self._diverged()
                return False
            net.apply_gradients(grads.nabla_w, grads.nabla_b, self.learning_rate)
            # apply_gradients scaled the gradients by η in place: remember η to show ∇C itself.
            self._last_grads, self._last_eta = grads, self.learning_rate
            self._last_x = x[0].copy()
            self._last_label = int(np.argmax(y[0]))
            self._last_index = int(idx[0])
            self._want_grads = False
        else:  # nobody looks at this one: the fused step, about 3× faster, keeps nothing (the stream's
            # batches have the network's dtype and shapes, so it is called without sgd_step's checks)
            cost = fused_sgd_step(net, x, y, self.learning_rate) if net.fused else net.sgd_step(x, y, self.learning_rate)
            if not math.isfinite(cost):
                self._diverged()
                return False
        self.iteration += 1
        self.examples_seen += len(x)
        self.cost_history.append(cost)
        if self.warmup:
            self._warm_up()
        now = time.perf_counter()
        self._rate_window.append((now, self.examples_seen))
        if self.iteration % BACKUP_EVERY_STEPS == 0:
            if net.is_finite():
                self._backup = net.parameters()
            else:
                self._diverged()
                return False
        if self._pending_steps > 0:
            self._pending_steps -= 1
        stepping_epoch = self._until_epoch_end and not self.running
        report = epoch_ended and (stepping_epoch or not self.running or now - self._last_epoch_report >= EVAL_EVERY_SECONDS)
        # an epoch end is kept as a snapshot when it is reported: every epoch of a real dataset, but at most
        # two a second for a tiny one (the notes' one example ends an epoch every mini-batch)
        self.recorder.after_step(self, report)
        if epoch_ended:
            self._until_epoch_end = False
            self._epochs_unreported += 1
        if report:
            # A small dataset ends many epochs a second: they are reported (and evaluated on the whole
            # test set) at most every EVAL_EVERY_SECONDS while training runs, each report counting them.
            acc = self.recorder.full_evaluation(self)  # the whole test set, with its confusion matrix
            self.accuracy_history.append([self.iteration, acc, True])
            n, epoch = self._epochs_unreported, self.stream.epoch
            done = f"epoch {epoch} done" if n == 1 else f"epochs {epoch - n + 1}–{epoch} done"
            self._event("epoch", f"{done}: test accuracy {acc:.2%}", accuracy=acc, epochs=n)
            self._epochs_unreported = 0
            self._last_epoch_report = self._last_eval_time = now
            self._evaluated(acc)
        elif (self.running or self._until_epoch_end) and now - self._last_eval_time >= EVAL_EVERY_SECONDS:
            acc = evaluate(net, self.data.test_inputs[self._eval_idx], self.data.test_labels[self._eval_idx])
            self.accuracy_history.append([self.iteration, acc, False])
            self._last_eval_time = time.perf_counter()
            self._evaluated(acc)
        elif not (epoch_ended or self.running or self._pending_steps or self._until_epoch_end):
            # A single step: evaluate on the subset so the counter shows where it stands.
            acc = evaluate(net, self.data.test_inputs[self._eval_idx], self.data.test_labels[self._eval_idx])
            self.accuracy_history.append([self.iteration, acc, False])
            self._evaluated(acc)
        self.version += 1
        return self.running or self._pending_steps > 0 or self._until_epoch_end

    def _warm_up(self) -> None:
        """The slow start: the pace for the mini-batches trained since it began; flat out ends it."""
        self.steps_per_second = pace.pace(self.iteration - self._warmup_from)
        if self.warmup_until is not None and (self.steps_per_second is None or self.steps_per_second >= self.warmup_until):
            self.steps_per_second = self.warmup_until
        if self.steps_per_second is None or self.steps_per_second == self.warmup_until:
            self.warmup = False

    def _evaluated(self, accuracy: float) -> None:
        """After each accuracy evaluation: check the network still learns, and keep the best healthy weights
        (a network that the checks find dead is never kept as "good", however it scores)."""
        self.recorder.evaluated(self)
        if not self.health.armed:  # it fired: nothing this network does is "good" until rearmed
            return
        recent = self.cost_history.values()[-WINDOW:]
        probe = self.net.forward(self._probe).activations if self.health.relu_layers else []
        alarm = self.health.check(self.iteration, accuracy, recent, probe)
        if alarm is None:
            if self._good[1] is None or accuracy >= self._good[1]:
                self._good = (self.iteration, accuracy, self.net.parameters())
            return
        self.running = False
        self._pending_steps = 0
        self._until_epoch_end = False
        it, acc, _ = self._good
        self._event("stalled", alarm.message, reason=alarm.kind, good_iteration=it, good_accuracy=acc)

    def _set_blas_threads(self, batch_size: int) -> None:
        """Limit BLAS threads for this batch size; only when it changes (a limit costs ~0.3 ms)."""
        n = blas_threads_for(batch_size)
        if self.max_blas_threads:
            n = min(n or self.max_blas_threads, self.max_blas_threads)
        if n != self._blas_threads:
            threadpool_limits(limits=n or os.cpu_count(), user_api="blas")
            self._blas_threads = n

    def _diverged(self) -> None:
        """Cost or weights went NaN/inf: restore the last finite weights and pause."""
        self.net.set_parameters(*self._backup)
        self._last_grads = None  # the gradients that blew up are not shown
        self.running = False
        self._pending_steps = 0
        self._until_epoch_end = False
        self._event(
            "diverged",
            f"Training diverged at iteration {self.iteration:,} (the cost became infinite or NaN) with learning rate "
            f"{self.learning_rate:g}. Training is paused and the last finite weights are restored; "
            "lower the learning rate and press play.",
        )
        self.version += 1

    def _event(self, kind: str, message: str, **extra) -> None:
        self.log.add(kind, message, self.iteration, **extra)

    @property
    def events(self) -> tuple:
        return self.log.all

    @property
    def event_seq(self) -> int:
        return self.log.seq

    def events_since(self, seq: int) -> list[dict]:
        """Events after ``seq`` (any thread, no lock)."""
        return self.log.since(seq)

    # ----- commands (validated here, applied on the worker between mini-batches) ---------------
    def play(self) -> None:
        def apply():
            self._choices += 1
            self.running = True
            self._last_eval_time = time.perf_counter()
        self._submit(apply)

    def pause(self) -> None:
        def apply():
            self._choices += 1
            self._pause()
        self._submit(apply)

    def _pause(self) -> None:
        self.running = False
        self._pending_steps = 0
        self._until_epoch_end = False

    def hold(self):
        """Pause training for a walkthrough: a Future of (hold id, whether training was running). On the worker,
        after the commands before it, so the answer is the state the walkthrough really interrupted."""
        hold_id = secrets.token_urlsafe(12)

        def apply():
            was_running = self._busy()
            if not self._holds:
                self._resume_after_holds = was_running
                self._choices_at_hold = self._choices
            self._holds[hold_id] = None
            self._pause()
            return hold_id, was_running
        return self.call(apply)

    def release(self, hold_id: str | None = None):
        """End a walkthrough's hold (the latest one when no id is given). When the last hold ends,
        training runs again exactly when it ran before the first one, unless someone pressed play,
        pause or step in between: their choice wins. A Future of whether training runs."""
        def apply():
            if hold_id is None and self._holds:
                self._holds.popitem()
            else:
                self._holds.pop(hold_id, None)
            if not self._holds and self._resume_after_holds and self._choices == self._choices_at_hold:
                self.running = True
                self._last_eval_time = time.perf_counter()
                self._resume_after_holds = False
            return self._busy()
        return self.call(apply)

    # ----- a lesson's hand-made changes (see edits.py): Futures of their results ---------------------
    def walk_step(self, indices, params, learning_rate: float | None = None, example: dict | None = None):
        return self.call(edits.walk_step, self, indices, params, learning_rate, example)

    def set_parameter(self, param: dict, value: float, merge_undo: bool = False):
        value = edits.check_value(value)  # a bad value is refused here; the parameter, against the network then
        return self.call(edits.set_parameter, self, param, value, merge_undo)

    def teach(self, x: np.ndarray, label: int, learning_rate: float | None = None):
        return self.call(edits.teach, self, x, label, learning_rate)

    def undo_step(self):
        return self.call(edits.undo, self)

    def _mark(self, text: str) -> None:
        """A marker on the descent curve (and a snapshot there, to scrub back to)."""
        self.markers.append({"iteration": self.iteration, "text": text})
        self.recorder.mark(self)

    def branch(self, iteration: int, learning_rate=None, batch_size=None) -> None:
        """Go back to the snapshot at or before ``iteration`` and continue from there, with new settings if
        given. The abandoned future is summarised in a marker; the history after the branch point goes."""
        if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
            raise ValueError(f"iteration must be a whole number ≥ 0, got {iteration!r}")
        lr = check_learning_rate(learning_rate) if learning_rate is not None else None
        bs = check_batch_size(batch_size) if batch_size is not None else None

        def apply():
            if iteration > self.iteration:
                raise ValueError(f"iteration {iteration:,} is after now ({self.iteration:,})")
            snap = self.recorder.snapshots.at_or_before(iteration)
            left, left_acc = self.iteration, self.accuracy()
            self._pause()
            self.net.set_parameters(snap.weights, snap.biases)
            self.recorder.snapshots.truncate_after(snap.iteration)
            self.iteration = snap.iteration
            self.examples_seen = min(self.examples_seen, snap.iteration * self.batch_size)
            self.stream.epoch = snap.epoch
            self.cost_history = CostHistory.from_array(self.cost_history.values()[: snap.iteration])
            self.accuracy_history = [p for p in self.accuracy_history if p[0] <= snap.iteration]
            self.markers = [m for m in self.markers if m["iteration"] <= snap.iteration]
            if lr is not None:
                self.learning_rate = lr
            if bs is not None:
                self.batch_size = bs
                self.stream.set_batch_size(bs)
            self._last_grads = None
            self.undo.clear("the session branched")
            self.health.rearm()
            old = f" (test accuracy {left_acc:.1%})" if left_acc is not None else ""
            self._mark(f"branched here from iteration {left:,}{old}; now η = {self.learning_rate:g}, "
                       f"batch {self.batch_size}")
            self.structure_version += 1  # the history was cut: every tab needs a new hello
            self._event("branched", f"Continued from iteration {snap.iteration:,}; the run that went on to "
                        f"iteration {left:,}{old} is summarised in a marker.")
        return self.call(apply)

    def restore_good(self) -> None:
        """Put back the best weights seen so far (by test accuracy) after the network stopped learning."""
        def apply():
            it, acc, (weights, biases) = self._good
            self.net.set_parameters(weights, biases)
            self._pause()
            self._last_grads = None
            self.health.rearm()
            shown = f" (test accuracy {acc:.1%})" if acc is not None else ""
            text = f"restored the weights of iteration {it:,}{shown}"
            self._mark(text)
            self._event("restored", f"{text[0].upper()}{text[1:]}; training is paused.")
        self._submit(apply)

    def step(self, unit: str = "batch") -> None:
        if unit not in ("batch", "example", "epoch"):
            raise ValueError(f"step unit must be batch, example or epoch, got {unit!r}")

        def apply():
            self._choices += 1
            self.running = False
            if unit == "epoch":
                self._until_epoch_end = True
            else:
                self._pending_steps += 1
                self._pending_unit = unit
        self._submit(apply)

    def set_params(self, learning_rate=None, batch_size=None, steps_per_second=..., warmup=None) -> None:
        """A pace chosen by hand (``steps_per_second``) ends the slow start; ``warmup`` True starts it again
        from the current iteration, False keeps the pace it has reached."""
        lr = check_learning_rate(learning_rate) if learning_rate is not None else None
        bs = check_batch_size(batch_size) if batch_size is not None else None
        sps = check_speed(steps_per_second) if steps_per_second is not ... else ...
        if warmup is not None and not isinstance(warmup, bool):
            raise ValueError(f"warmup must be true or false, got {warmup!r}")
        if warmup and sps is not ...:
            raise ValueError("give steps_per_second or warmup: true, not both (the slow start sets the pace itself)")

        def apply():
            changes = []
            if lr is not None and lr != self.learning_rate:
                self.learning_rate = lr
                changes.append(f"η = {lr:g}")
                if not self.health.armed:  # it fired, and the user changed η: watch afresh
                    self.health.rearm()
            if bs is not None and bs != self.batch_size:
                self.batch_size = bs
                self.stream.set_batch_size(bs)
                changes.append(f"batch {bs}")
            if sps is not ...:
                self.steps_per_second = sps
                self.warmup = False
            if warmup is not None:
                self.warmup = warmup
                if warmup:
                    self._warmup_from = self.iteration
                    self.steps_per_second = pace.pace(0)
            if changes:
                text = ", ".join(changes)
                self._mark(text)
                self._event("params", f"changed: {text}")
        self._submit(apply)

    def reset(self, hidden, activation, output_activation, cost, seed=0, learning_rate=None, batch_size=None,
              dataset: str | None = None, dataset_options: dict | None = None) -> None:
        """A new network of these hidden layers on ``dataset`` (default mnist) made with ``dataset_options``:
        its input layer is the dataset's input size and its output layer has one neuron per class.
        Reading an image dataset the first time takes a moment: call it off the event loop."""
        lo, hi = LIMITS["hidden_layers"]
        if not isinstance(hidden, (list, tuple)) or not lo <= len(hidden) <= hi:
            raise ValueError(f"hidden layers: give {lo} to {hi} sizes")
        nlo, nhi = LIMITS["neurons"]
        for n in hidden:
            if isinstance(n, bool) or not isinstance(n, int) or not nlo <= n <= nhi:
                raise ValueError(f"each hidden layer needs {nlo} to {nhi} neurons, got {n!r}")
        slo, shi = LIMITS["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not slo <= seed <= shi:
            raise ValueError(f"seed must be a whole number from {slo} to {shi}")
        lr = check_learning_rate(learning_rate) if learning_rate is not None else None
        bs = check_batch_size(batch_size) if batch_size is not None else None
        data = self._open_dataset(dataset or registry.DEFAULT, dataset_options)
        config = {"sizes": [data.input_size, *hidden, data.n_classes], "activation": activation,
                  "output_activation": output_activation, "cost": cost, "seed": seed}
        net = self._build(config, data)  # raises ValueError for a bad combination

        def apply():
            if lr is not None:
                self.learning_rate = lr
            if bs is not None:
                self.batch_size = bs
            self._install(net, data)
            self._event("reset", f"new network {net.sizes} on {data.title}, {activation}/{output_activation}, "
                                 f"{cost} cost", dataset=data.name)
            self._report_trivial()
        self._submit(apply)

    def _open_dataset(self, name, options) -> Dataset:
        """The dataset a reset asks for. A custom set asked for without points keeps the points of the
        current custom set (when it has as many classes); else it starts from the starter set."""
        if name == "custom" and isinstance(options, dict) and "points" not in options:
            current = self.data
            classes = registry.check_options("custom", options)["classes"]
            if current.name == "custom" and current.n_classes == classes:
                return current
        return self.catalog.open(name, options)

    def _report_trivial(self) -> None:
        if self.data.trivial and self.data.train_size:
            name = self.data.class_names[int(self.data.train_labels[0])]
            self._event("trivial", f"Every training example is of class '{name}': there is nothing to tell apart, "
                                   "so the network trains to always answer that class (100% accuracy, trivially).",
                        dataset=self.data.name)

    def set_points(self, points) -> None:
        """Replace the custom set's points without touching the network (the page adds and removes points
        while it trains). Refused unless the current dataset is a custom set; a point's class must be
        below its class count. Every tab gets an event ``points`` and a new hello (with the points)."""
        current = self.data
        if current.name != "custom":
            raise ValueError(f"points: set_points edits a custom set, and the current dataset is {current.name} "
                             "(reset with dataset 'custom' first)")
        data = custom.replace_points(current, points)

        def apply():
            if self.data.name != "custom" or self.data.n_classes != data.n_classes:
                self._event("points", "The point edit was dropped: the dataset changed before it arrived.",
                            dataset=self.data.name, dropped=True)
                return
            self._use_data(data)
            self._good = (self.iteration, None, self.net.parameters())  # best weights for the old points: moot
            self.structure_version += 1  # every tab gets a new hello, with the new points
            self._event("points", f"The custom set now has {data.train_size} points.", dataset="custom",
                        points=data.train_size, trivial=data.trivial)
            self._report_trivial()
        self._submit(apply)

    def select_example(self, source: str, index: int | None = None) -> None:
        if source == "follow":
            pinned = None
        elif source in ("train", "test"):
            n = self.data.train_size if source == "train" else self.data.test_size
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
                raise ValueError(f"index: the {source} set has {n} examples, so it must be from 0 to {n - 1}")
            pinned = (source, index)
        else:
            raise ValueError(f"source must be train, test or follow, got {source!r}")

        def apply():
            if pinned is not None:
                n = self.data.train_size if pinned[0] == "train" else self.data.test_size
                if pinned[1] >= n:
                    return  # the dataset changed in between: that example no longer exists
            self._pinned = pinned
        self._submit(apply)

    def load_network(self, net: Network, history: dict | None = None, message: str = "checkpoint loaded",
                     params: dict | None = None, dataset: dict | None = None, saved: SavedHistory | None = None,
                     dropped: str | None = None) -> str:
        """Replace the network (already validated) between mini-batches; training pauses.

        ``history`` (from ``history_state()``, e.g. a resumed autosave) restores the counters, the cost and
        accuracy history, the markers and the learning rate, batch size and speed. ``params`` (a
        checkpoint's ``extra.params``) restores the learning rate, batch size and speed without a history
        (a history's own params win). A malformed one raises ValueError and changes nothing; a sound value
        beyond the live limits is left out, and the message says so. Returns what was restored (the
        ``loaded`` event's message is ``message`` followed by it).

        ``dataset`` is the checkpoint's record ``{name, options}`` of the data it was trained on (none: an
        older checkpoint, MNIST); the session trains on that dataset from then on. A dataset that is not
        available here, or that the network does not fit, raises ValueError and changes nothing.

        ``saved`` (a checkpoint saved with history, e.g. the autosave) puts its recorded snapshots and
        diagnostics back, so that the scrubber reaches back through the whole training; snapshots after
        the checkpoint's iteration do not belong to it and are dropped. ``dropped`` (why the file's
        snapshots could not be read) and any such drop are said in the message; the network still loads.
        """
        data = self._checkpoint_dataset(dataset)
        check_fits(net.sizes, data)
        if not net.is_finite():
            raise ValueError("the weights or biases contain NaN or infinity")
        if net.dtype != np.float32:
            net = _as_float32(net)
        history = check_history(history) if history else None
        restored, notes = check_params(params)
        if history:
            from_history, history_notes = check_params(history.get("params"), strict=True)
            restored, notes = {**restored, **from_history}, history_notes or notes
        lr = restored.get("learning_rate")
        bs = restored.get("batch_size")
        sps = restored.get("steps_per_second", ...)
        parts = ([f"η {lr:g}"] if lr is not None else []) + ([f"batch {bs}"] if bs is not None else [])
        if history:
            parts.append(f"iteration {history['iteration']:,}")
        if data.name != self.data.name or data.options != self.data.options:
            parts.insert(0, f"dataset {data.name}")
        saved, dropped = check_snapshots(saved, dropped, history["iteration"] if history else 0)
        if dropped:
            notes = notes + [f"its snapshots were dropped: {dropped}"]
        elif saved is not None:
            count = len(saved.snapshots)
            parts.append(f"{count} snapshot{'s' if count != 1 else ''}")
        what = ", ".join(parts + notes)

        def apply():
            if lr is not None:
                self.learning_rate = lr
            if bs is not None:
                self.batch_size = bs
            if sps is not ...:
                self.steps_per_second = sps
                self.warmup = False  # the checkpoint's pace, not a slow start
            self._install(net, data, history)
            if saved is not None:
                self.recorder.restore(self, saved)
            same = ([f"η {self.learning_rate:g}"] if lr is None else []) + ([f"batch {self.batch_size}"] if bs is None else [])
            kept = f"{' and '.join(same)} unchanged" if same else ""
            if what:
                self._event("loaded", f"{message}: {what}" + (f"; {kept}" if kept else ""))
            else:
                self._event("loaded", f"{message}: weights only ({kept})")
        self._submit(apply)
        return what or "weights only"

    def _checkpoint_dataset(self, record) -> Dataset:
        """The dataset a checkpoint's ``extra.dataset`` names (None: MNIST, as every older checkpoint)."""
        if record is None:
            return self.catalog.open(registry.DEFAULT)
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            raise ValueError("its dataset record must be {name, options}")
        options = record.get("options") or {}
        if not isinstance(options, dict):
            raise ValueError("its dataset options must be an object")
        name = record["name"]
        if self.data.name == name and self.data.options == options:
            return self.data
        return self.catalog.open(name, options)

    # ----- reading (any thread) ---------------------------------------------------------------
    def example_input(self, source: str, index: int) -> tuple[np.ndarray, int]:
        return self.data.example("test" if source == "test" else "train", index)

    def samples_per_second(self) -> float:
        w = self._rate_window
        if len(w) < 2 or time.perf_counter() - w[-1][0] > 1.0:
            return 0.0
        dt = w[-1][0] - w[0][0]
        return (w[-1][1] - w[0][1]) / dt if dt > 0 else 0.0

    def accuracy(self) -> float | None:
        return self.accuracy_history[-1][1] if self.accuracy_history else None

    def params(self) -> dict:
        return {"learning_rate": self.learning_rate, "batch_size": self.batch_size,
                "steps_per_second": self.steps_per_second}

    def state(self) -> dict:
        with self.lock:
            n = len(self.cost_history)
            return {
                "iteration": self.iteration,
                "epoch": self.stream.epoch,
                "epoch_progress": round(self.stream.epoch_fraction, 4),
                "examples_seen": self.examples_seen,
                "running": bool(self.running or self._pending_steps or self._until_epoch_end),
                "epoch_step": bool(self._until_epoch_end and not self.running),
                "cost": float(self.cost_history.values()[-1]) if n else None,
                "accuracy": self.accuracy(),
                "chance_accuracy": self.health.chance_accuracy,  # always guessing the most frequent class
                "samples_per_second": round(self.samples_per_second(), 1),
                "train_size": self.data.train_size,
                "test_size": self.data.test_size,
                "dataset": self.data.name,
            }

    def config(self) -> dict:
        c = self.net.config
        return {k: c[k] for k in ("sizes", "activation", "output_activation", "cost", "seed")}

    def snapshot(self, costs_from: int | None = None, with_first_layer: bool = True,
                 accuracy_from: int = 0, markers_from: int = 0, detail: Detail | None = None) -> Snapshot:
        """Copies of everything a frame shows: every array finite (a diverged network is restored first).

        ``costs_from`` = the first iteration whose cost to include (None: none before the first);
        ``accuracy_from`` / ``markers_from`` = how many entries of those histories to leave out;
        ``detail``: which weights (snapshot.Detail; default: every matrix whole).
        """
        with self.lock, np.errstate(over="ignore", invalid="ignore"):
            snap = capture(self, costs_from, with_first_layer, accuracy_from, markers_from, detail)
            if all_finite(snap):
                return snap
            # The weights (or what they compute) overflowed between two divergence checks.
            self._diverged()
            snap = capture(self, costs_from, with_first_layer, accuracy_from, markers_from, detail)
            if not all_finite(snap):  # even the restored weights overflow on this example: never send it
                make_finite(snap)
            return snap

    def history_state(self) -> dict:
        """What --resume needs besides the weights: counters and the whole history (JSON-ready)."""
        with self.lock:
            return encode_history(self)

    # ----- classification (any thread; never disturbs training) --------------------------------
    def dataset_options(self) -> dict:
        """The current dataset's options (a custom set's points left out: they are in hello's arrays)."""
        return registry.option_values(self.data)

    def classify(self, x: np.ndarray) -> dict:
        """Feed one input (of the dataset's input size) forward: the class, probabilities (summing to 1)
        and every layer.

        Raises ValueError if the network's output is not finite (a diverged network is never shown).
        """
        with self.lock, np.errstate(over="ignore", invalid="ignore"):
            trace = self.net.forward(np.asarray(x, np.float32)[None, :])
        if not all(np.isfinite(a).all() for a in trace.activations):
            raise ValueError("the network's activations overflow for this input (its weights have grown huge): "
                             "lower the learning rate and reset")
        out = trace.activations[-1][0]
        predicted = int(np.argmax(out))
        names = self.data.class_names
        return {
            "digit": predicted,
            "class_name": names[predicted] if predicted < len(names) else str(predicted),
            "probabilities": self.net.probabilities(out),
            "activations": [a[0].astype(np.float64).tolist() for a in trace.activations],
        }


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _compute_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(COMPUTE_THREADS, thread_name_prefix="compute")
        return _pool


def _as_float32(net: Network) -> Network:
    return Network.from_parameters({**net.config, "dtype": "float32"}, net.weights, net.biases)
