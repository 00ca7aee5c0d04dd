"""`python -m server train` as a user runs it: output format, checkpoints, and one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from server.engine import checkpoint
from server.cli.bench import CELLS, check_same_update

ROOT = Path(__file__).resolve().parent.parent
EPOCH_LINE = re.compile(r"^epoch (\d+): training cost (\d+\.\d{4}), test accuracy (0\.\d{4}|1\.0000), (\d+\.\d) s$")
LAST_LINE = re.compile(r"^test accuracy: (0\.\d{4})$")


def server_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_a_short_training_run():
    run = server_cli("train", "--train-limit", "2000", "--epochs", "1")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no progress bar when stderr is not a terminal
    lines = run.stdout.strip().splitlines()
    assert lines[0] == ("network [784, 30, 10], sigmoid/sigmoid, quadratic cost, η = 1.5, batch 10, "
                        "2000 training images")
    epoch = EPOCH_LINE.match(lines[1])
    assert epoch and epoch.group(1) == "1", lines[1]
    last = LAST_LINE.match(lines[-1])
    assert last, lines[-1]
    assert last.group(1) == epoch.group(3)
    assert 0.5 < float(last.group(1)) < 1.0  # 200 steps on 2000 images already learn something
    assert len(lines) == 3


def test_save_then_load(tmp_path):
    path = tmp_path / "relu.npz"
    run = server_cli("train", "--train-limit", "2000", "--epochs", "2", "--sizes", "784,20,10",
                     "--activation", "relu", "--output-activation", "softmax", "--cost", "cross_entropy",
                     "--lr", "0.2", "--batch-size", "20", "--seed", "3", "--save", str(path))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert [bool(EPOCH_LINE.match(line)) for line in lines[1:3]] == [True, True]
    assert lines[-2] == f"saved {path}"
    accuracy = float(LAST_LINE.match(lines[-1]).group(1))
    net, extra = checkpoint.load(path)
    assert net.sizes == [784, 20, 10] and net.activation_name == "relu" and net.cost_name == "cross_entropy"
    assert extra["test_accuracy"] == pytest.approx(accuracy, abs=5e-5)

    # Loading: the checkpoint's network, not the command-line defaults; a negligible η keeps its accuracy.
    again = server_cli("train", "--load", str(path), "--train-limit", "50", "--epochs", "1", "--lr", "1e-12")
    assert again.returncode == 0, again.stderr
    lines = again.stdout.strip().splitlines()
    assert lines[0].startswith("network [784, 20, 10], relu/softmax, cross_entropy cost, η = 1e-12")
    assert float(LAST_LINE.match(lines[-1]).group(1)) == accuracy


def test_training_on_a_synthetic_data_dir(tiny_dataset):
    folder, arrays = tiny_dataset
    run = server_cli("train", "--data-dir", str(folder), "--epochs", "2", "--batch-size", "8")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].endswith(f"{len(arrays['train_labels'])} training images")
    assert [bool(EPOCH_LINE.match(line)) for line in lines[1:3]] == [True, True]
    assert LAST_LINE.match(lines[-1])


# The brief's examples run as real processes (started together); more cases run in-process below.
BAD_ARGUMENTS = [
    (["--lr", "-1"], "argument --lr: must be a finite number > 0, got -1"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got nan"),
    (["--sizes", "784,0,10"], "argument --sizes: '784,0,10': need at least two layers, each of size ≥ 1"),
    (["--activation", "foo"], "argument --activation: invalid choice: 'foo'"),
    (["--load", "/nonexistent"], "/nonexistent: no such checkpoint file"),
]


@pytest.fixture(scope="module")
def bad_runs():
    procs = {
        tuple(args): subprocess.Popen([sys.executable, "-m", "server", "train", *args, "--epochs", "1"], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args, _ in BAD_ARGUMENTS
    }
    results = {}
    for args, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        results[args] = (p.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("args,message", BAD_ARGUMENTS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_arguments_give_one_line_and_no_traceback(bad_runs, args, message):
    returncode, stdout, stderr = bad_runs[tuple(args)]
    assert returncode == 2
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert "test accuracy" not in stdout


@pytest.mark.parametrize("args,message", [
    (["--lr", "fast"], "argument --lr: 'fast' is not a number"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0, got inf"),
    (["--sizes", "784"], "need at least two layers"),
    (["--sizes", "784,x,10"], "must be comma-separated whole numbers"),
    (["--activation", "softmax"], "argument --activation: invalid choice: 'softmax'"),
    (["--batch-size", "0"], "argument --batch-size: must be ≥ 1, got 0"),
    (["--epochs", "-2"], "argument --epochs: must be ≥ 1, got -2"),
    (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    (["--sizes", "784,30,9"], "--sizes must start with 784 and end with 10"),
    (["--output-activation", "relu", "--cost", "cross_entropy"], "cross_entropy needs a softmax or sigmoid output"),
    (["--data-dir", "/nonexistent"], "/nonexistent: no such data folder"),
])
def test_more_bad_arguments_in_process(capsys, args, message):
    from server.cli import main

    try:
        extra = [] if "--epochs" in args else ["--epochs", "1", "--train-limit", "10"]
        status = main(["train", *args, *extra])
    except SystemExit as e:  # argparse's own checks
        status = e.code
    out, err = capsys.readouterr()
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert "test accuracy" not in out


def test_a_corrupt_checkpoint_is_one_line_too(tmp_path, capsys):
    from server.cli import main

    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    assert main(["train", "--load", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}: not a readable .npz file (File is not a zip file)\n"


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"batch{c.batch_size}")
def test_bench_loop_baseline_makes_the_engines_update(mnist, cell):
    """The benchmark compares like with like: its per-example loop computes the same step."""
    check_same_update(cell, mnist, torch=None)


def test_bench_help(capsys):
    from server.cli import main

    with pytest.raises(SystemExit) as e:
        main(["bench", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--no-torch" in out


def test_servers_started_by_the_tests_write_into_a_private_data_folder(private_data_home):
    """conftest's private XDG_DATA_HOME: a test run never writes checkpoints into the real user's folder."""
    from server.web.app import default_checkpoint_dir

    assert default_checkpoint_dir().is_relative_to(private_data_home)
