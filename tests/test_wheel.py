"""Installs like a real package: the wheel carries everything the app needs, and nothing else, and the
installed app runs from any folder without writing into it (issue 18).

The wheel is built once per run (``pip wheel . --no-deps``), installed into a fresh venv, and started
as ``backprop-lab serve`` from an empty temporary folder. Mandatory in CI; elsewhere it skips when the
fresh venv cannot get the dependencies (no network and no pip cache).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest
from websockets.sync.client import connect

from browser_helpers import free_port, wait_until

REPO = Path(__file__).resolve().parents[1]
PACKAGES_PLACED = {"static": "server/static", "templates": "server/templates"}  # pyproject's package-dir


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def tracked_files() -> list[str]:
    return run(["git", "ls-files"], cwd=REPO, check=True).stdout.split()


def checkout_state() -> str:
    """Every file git sees in the checkout, ignored ones included (for 'nothing was written here')."""
    out = run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=REPO, check=True).stdout
    return "\n".join(line for line in out.splitlines() if not line[3:].startswith(("test-artifacts/", ".pytest_cache/")))


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The tracked files as they are in the working tree, copied: building writes build/ and *.egg-info
    into the folder it builds, and the checkout must stay as it is."""
    src = tmp_path_factory.mktemp("src")
    for f in tracked_files():
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, src / f)
    return src


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", out], cwd=source)
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("backprop_lab-*.whl")
    return path


def expected_contents() -> set[str]:
    """What the wheel must hold: every tracked file of the package, the page and MNIST, where the
    package puts them, and nothing else (no tests, benches, docs, caches or compiled files)."""
    want = set()
    for f in tracked_files():
        top, _, rest = f.partition("/")
        if top == "server" and (f.endswith(".py") or f.startswith("server/data/mnist/")):
            want.add(f)
        elif top in PACKAGES_PLACED and f.endswith((".js", ".css", ".html")):
            want.add(f"{PACKAGES_PLACED[top]}/{rest}")
    return want


def test_the_wheel_holds_the_app_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = sorted(zf.namelist())
    listing = REPO / "test-artifacts" / "wheel-contents.txt"
    listing.parent.mkdir(exist_ok=True)
    listing.write_text("\n".join(names) + "\n")  # the sorted list, to read
    files = {n for n in names if not n.startswith("backprop_lab-") and not n.endswith("/")}
    assert files == expected_contents(), (sorted(files - expected_contents()), sorted(expected_contents() - files))
    assert not [n for n in names if n.startswith(("tests/", "bench/", "docs/")) or "__pycache__" in n
                or n.endswith((".pyc", ".npz"))]
    for needed in ("server/static/js/main.js", "server/templates/index.html",
                   "server/data/mnist/train-images-idx3-ubyte.gz", "server/__main__.py"):
        assert needed in files
    # every package of the tree is in the wheel (pyproject names them one by one)
    packages = {str(p.parent.relative_to(REPO)) for p in (REPO / "server").rglob("__init__.py")}
    assert {p + "/__init__.py" for p in packages} <= files


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    assert run([sys.executable, "-m", "venv", venv]).returncode == 0
    pip = run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    if pip.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"the wheel did not install into a fresh venv: {pip.stderr[-2000:]}")
        pytest.skip(f"no dependencies for a fresh venv here (offline?): {pip.stderr[-300:]}")
    return venv


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.headers.get("content-type", ""), r.read()


def test_the_installed_app_runs_from_any_folder_and_writes_nothing_there(installed, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    data_home = tmp_path / "xdg-data"  # where the per-user data folder goes for this test
    before = checkout_state()
    version = run([installed / "bin" / "backprop-lab", "--version"], cwd=work)
    assert version.returncode == 0 and version.stdout.split()[-1] == __import__("server").__version__
    port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(data_home), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.Popen([installed / "bin" / "backprop-lab", "serve", "--port", str(port)], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: get(f"{base}/api/state")[0] == 200, 60, 0.2, "the installed server to answer")
        status, kind, page = get(f"{base}/")
        assert status == 200 and b"Backprop Lab" in page and "text/html" in kind
        status, kind, js = get(f"{base}/static/js/main.js")
        assert status == 200 and "javascript" in kind and b"import" in js
        state = json.loads(get(f"{base}/api/state")[2])
        assert state["sizes"] == [784, 16, 16, 10] and state["iteration"] == 0
        with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
            data = ws.recv(timeout=10)
        (n,) = __import__("struct").unpack_from("<I", data, 0)
        assert json.loads(data[4:4 + n])["type"] == "hello"
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0]
    assert proc.returncode in (0, -signal.SIGTERM), output  # uvicorn re-raises the signal after its shutdown
    # It ran from the wheel (not from this checkout), said where its files go, and wrote nothing here.
    site = run([installed / "bin" / "python", "-c", "import server; print(server.__file__)"], cwd=work).stdout
    assert str(installed) in site and str(REPO) not in site
    assert f"checkpoints and autosaves: {data_home / 'backprop-lab' / 'checkpoints'}" in output, output
    assert list(work.iterdir()) == []
    assert checkout_state() == before


def test_python_dash_m_server_works_from_any_folder_too(installed, tmp_path):
    r = run([installed / "bin" / "python", "-m", "server", "--version"], cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("backprop-lab ")


def test_the_sdist_builds_the_same_wheel(source, wheel, tmp_path):
    """``pip install`` of the sdist (pipx, or a mirror) gets the same files as the wheel."""
    sdist_dir, wheel_dir = tmp_path / "sdist", tmp_path / "from-sdist"
    built = run([sys.executable, "-m", "build", "--sdist", "--outdir", sdist_dir], cwd=source)
    assert built.returncode == 0, built.stderr[-2000:]
    (sdist,) = sdist_dir.glob("backprop_lab-*.tar.gz")
    rebuilt = run([sys.executable, "-m", "pip", "wheel", sdist, "--no-deps", "-q", "-w", wheel_dir])
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    (again,) = wheel_dir.glob("backprop_lab-*.whl")
    with zipfile.ZipFile(wheel) as a, zipfile.ZipFile(again) as b:
        files = lambda zf: {n for n in zf.namelist() if not n.startswith("backprop_lab-")}  # noqa: E731
        assert files(a) == files(b)
