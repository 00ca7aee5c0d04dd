"""The tree shows the architecture: engine ← training ← web ← cli, no import cycles.

Each package may import only from the packages below it (and from itself). The check reads every
import in ``server/`` with ``ast`` (imports inside functions included), so it needs no import-time
side effects and catches a lazy import that hides a cycle.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"
LAYERS = ["engine", "training", "web", "cli"]  # lowest first
# What each layer must not import from outside the project, whatever the layer rule says.
FORBIDDEN_THIRD_PARTY = {
    "engine": {"fastapi", "starlette", "uvicorn", "pydantic", "threading", "asyncio", "socket", "http"},
    "training": {"fastapi", "starlette", "uvicorn", "asyncio", "socket", "http"},
}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> set[str]:
    """Every module (of the project or not) that ``path`` imports, as absolute dotted names."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` may import the submodule x
            for alias in node.names:
                found.add(f"{target}.{alias.name}")
    return found


def project_graph(root: Path) -> dict[str, set[str]]:
    """module → the project's modules it imports (only names that are real modules of ``root``)."""
    files = {module_name(root, p): p for p in root.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in imports_of(root, path) if m in files and m != name}
    return graph


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def layer_violations(root: Path) -> list[str]:
    problems = []
    files = {module_name(root, p): p for p in root.rglob("*.py")}
    for name, path in sorted(files.items()):
        layer = layer_of(name)
        if layer is None:
            continue
        for target in sorted(imports_of(root, path)):
            other = layer_of(target) if target.split(".")[0] == root.name else None
            if other is not None and LAYERS.index(other) > LAYERS.index(layer):
                problems.append(f"{name} ({layer}) imports {target} ({other}): a layer imports only from below")
            top = target.split(".")[0]
            if top in FORBIDDEN_THIRD_PARTY.get(layer, ()):
                problems.append(f"{name} ({layer}) imports {top}, which the {layer} layer must not use")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def without_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` that re-exports a submodule is not a cycle of its own: drop edges from a
    package to its own submodules."""
    return {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in graph.items()}


def test_every_module_lives_in_a_layer():
    loose = [module_name(SERVER, p) for p in SERVER.glob("*.py")]
    # The top level holds only the package marker, `python -m server` and the public re-export.
    assert sorted(loose) == ["server", "server.__main__", "server.network"]
    assert {p.name for p in SERVER.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(LAYERS)


def test_layers_import_only_from_below():
    assert layer_violations(SERVER) == []


def test_no_import_cycles():
    assert cycles(without_packages(project_graph(SERVER))) == []


def test_the_check_catches_a_violation_and_a_cycle(tmp_path):
    """A deliberate upward import and a deliberate cycle, in a copy of the tree, are both reported."""
    copy = tmp_path / "server"
    shutil.copytree(SERVER, copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    network = copy / "engine" / "network.py"
    network.write_text(network.read_text() + "\n\ndef _late():\n    from ..web import app  # noqa\n")
    problems = layer_violations(copy)
    assert any("server.engine.network (engine) imports server.web.app (web)" in p for p in problems), problems
    # engine importing FastAPI is refused even without a project import
    costs = copy / "engine" / "costs.py"
    costs.write_text("import fastapi\n" + costs.read_text())
    assert any("server.engine.costs (engine) imports fastapi" in p for p in layer_violations(copy))
    # a cycle inside one layer: activations → costs → activations
    (copy / "engine" / "activations.py").write_text(
        (copy / "engine" / "activations.py").read_text() + "\nfrom . import costs  # noqa\n")
    costs.write_text(costs.read_text() + "\nfrom . import activations  # noqa\n")
    found = cycles(without_packages(project_graph(copy)))
    assert any({"server.engine.activations", "server.engine.costs"} <= set(c) for c in found), found


@pytest.mark.parametrize("public", ["server.network", "server.cli", "server.__main__"])
def test_public_entry_points_still_exist(public):
    assert (SERVER.parent / (public.replace(".", "/") + ".py")).exists() or \
        (SERVER.parent / public.replace(".", "/") / "__init__.py").exists()
