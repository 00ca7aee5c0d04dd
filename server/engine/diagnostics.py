"""Why isn't it learning? Per-layer measurements of a network on a fixed probe set, and the confusion matrix.

The notes say "the further back we go, the less we affect the cost". These numbers show it on the real
network: the size of ∂C/∂W in each layer, how big a step η ∇W is next to W itself, how many sigmoid or
tanh units sit on their flat tails (σ′ < 0.01) and how many ReLUs never fire, and how the weights and
activations of each layer are spread. ``notes`` turns them into plain-language warnings.
"""

from __future__ import annotations

import numpy as np

from .network import Network

PERCENTILES = (5, 25, 50, 75, 95)
SATURATED = 0.01  # σ′ below this: the unit barely passes a gradient
RATIO_BAND = (1e-4, 1e-2)  # update-to-weight ratios outside this band usually mean η is off (about 1e-3 is typical)
VANISHING = 100.0  # a first layer whose gradient is this many times smaller than the last's


def measure(net: Network, x: np.ndarray, y: np.ndarray, learning_rate: float) -> list[dict]:
    """One dict per weight matrix l (feeding layer l + 1) with: ``grad_norm`` ‖∂C/∂W‖ (mean over the
    probe set), ``weight_norm`` ‖W‖, ``update_ratio`` η‖∂C/∂W‖/‖W‖, ``saturated`` (the share of the
    layer's sigmoid/tanh activations with σ′ < 0.01; None for other activations), ``dead`` (the share of
    its ReLUs that output 0 for every probe example; None for other activations), and the percentiles of
    its weights and of its activations on the probe set."""
    grads = net.backprop(x, y, input_gradient=False)
    acts = grads.trace.activations
    out = []
    for l, (w, gw) in enumerate(zip(net.weights, grads.nabla_w)):
        act = net.activation_for(l)
        a, z = acts[l + 1], grads.trace.zs[l]
        g = float(np.linalg.norm(gw))
        wn = float(np.linalg.norm(w))
        row = {
            "layer": l,
            "grad_norm": g,
            "weight_norm": wn,
            "update_ratio": learning_rate * g / wn if wn > 0 else None,
            "saturated": None,
            "dead": None,
            "weights": np.percentile(w, PERCENTILES).tolist(),
            "activations": np.percentile(a, PERCENTILES).tolist(),
        }
        if act.name in ("sigmoid", "tanh"):
            row["saturated"] = float(np.mean(act.derivative(z, a) < SATURATED))
        elif act.name == "relu":
            row["dead"] = float(np.mean(~np.any(a > 0, axis=0)))
        out.append(row)
    return out


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def layer_name(m: int, count: int) -> str:
    """The layer fed by weight matrix ``m`` of ``count``, as the page's network view names it: "hidden 1",
    "hidden" (the only hidden layer) or "output"."""
    if m == count - 1:
        return "output"
    return f"hidden {m + 1}" if count > 2 else "hidden"


def matrix_name(m: int) -> str:
    """Weight matrix ``m`` (0-based) as the lecture notes and the walkthrough write it: W⁽ᵐ⁺¹⁾."""
    return f"W⁽{str(m + 1).translate(_SUPERSCRIPT)}⁾"


def notes(rows: list[dict]) -> list[dict]:
    """Plain-language warnings for one measurement: ``{"kind", "layer", "text"}``; layers and weight
    matrices named as everywhere on the page (``layer_name``, ``matrix_name``)."""
    found = []
    count = len(rows)
    first, last = rows[0]["grad_norm"], rows[-1]["grad_norm"]
    if count > 1 and first > 0 and last / first >= VANISHING:
        found.append({"kind": "vanishing", "layer": 0, "text": (
            f"{matrix_name(0)} (into {layer_name(0, count)}) learns {last / first:,.0f}× slower than "
            f"{matrix_name(count - 1)} (into the output): a vanishing gradient — "
            "each layer back multiplies the gradient by σ′ and the weights, and it shrinks on the way")})
    for r in rows:
        name, matrix = layer_name(r["layer"], count), matrix_name(r["layer"])
        if r["saturated"] is not None and r["saturated"] >= 0.5:
            found.append({"kind": "saturated", "layer": r["layer"], "text": (
                f"{r['saturated']:.0%} of the {name} layer's activations sit on the flat tails of the curve "
                "(σ′ < 0.01): they barely pass any gradient back")})
        if r["dead"] is not None and r["dead"] >= 0.5:
            found.append({"kind": "dead", "layer": r["layer"], "text": (
                f"{r['dead']:.0%} of the {name} layer's ReLUs never fire on the probe images: they learn nothing")})
        ratio = r["update_ratio"]
        if ratio is not None and ratio > RATIO_BAND[1]:
            found.append({"kind": "big_steps", "layer": r["layer"], "text": (
                f"each step changes {matrix} (into {name}) by {ratio:.1%} of its size: η is probably too large")})
        elif ratio is not None and 0 < ratio < RATIO_BAND[0]:
            found.append({"kind": "small_steps", "layer": r["layer"], "text": (
                f"each step changes {matrix} (into {name}) by only {ratio:.0e} of its size: it learns slowly")})
    return found


MAX_MEASUREMENTS = 10_000
_ROW_NUMBERS = ("grad_norm", "weight_norm", "update_ratio", "saturated", "dead")


def check_measurements(items, layers: int) -> list[dict]:
    """Measurements read back from a checkpoint, checked: ``[{iteration, layers: [one row per weight
    matrix, as ``measure`` makes], notes: [{kind, layer, text}]}]``, iterations never decreasing. A
    number may be null (a network about to diverge). ValueError says what is wrong."""
    if not isinstance(items, list) or len(items) > MAX_MEASUREMENTS:
        raise ValueError(f"must be a list of at most {MAX_MEASUREMENTS} measurements")
    out, last = [], -1
    for i, m in enumerate(items):
        if not isinstance(m, dict) or not _whole(m.get("iteration")) or m["iteration"] < last:
            raise ValueError(f"measurement {i}: needs an iteration, a whole number, not before the previous one")
        last = m["iteration"]
        rows, notes = m.get("layers"), m.get("notes", [])
        if not isinstance(rows, list) or len(rows) != layers:
            raise ValueError(f"measurement {i}: needs one row per weight matrix ({layers})")
        for l, r in enumerate(rows):
            if not isinstance(r, dict) or r.get("layer") != l or not all(_number_or_none(r.get(k)) for k in _ROW_NUMBERS):
                raise ValueError(f"measurement {i}, layer {l}: a malformed row")
            for key in ("weights", "activations"):
                q = r.get(key)
                if not isinstance(q, list) or len(q) != len(PERCENTILES) or not all(_number_or_none(v) for v in q):
                    raise ValueError(f"measurement {i}, layer {l}: {key} must be {len(PERCENTILES)} percentiles")
        if not isinstance(notes, list) or not all(
            isinstance(n, dict) and isinstance(n.get("kind"), str) and isinstance(n.get("text"), str)
            and _whole(n.get("layer")) and n["layer"] < layers for n in notes
        ):
            raise ValueError(f"measurement {i}: notes must be [{{kind, layer, text}}]")
        out.append({"iteration": m["iteration"],
                    "layers": [{k: r[k] for k in ("layer", *_ROW_NUMBERS, "weights", "activations")} for r in rows],
                    "notes": [{"kind": n["kind"], "layer": n["layer"], "text": n["text"]} for n in notes]})
    return out


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _number_or_none(v) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v))


def confusion(net: Network, x: np.ndarray, labels: np.ndarray, n_classes: int, chunk: int = 5000) -> np.ndarray:
    """Counts of (true label, prediction): row = the true class, column = what the network says."""
    matrix = np.zeros((n_classes, n_classes), np.int64)
    for start in range(0, len(x), chunk):
        predicted = net.predict(x[start : start + chunk])
        np.add.at(matrix, (np.asarray(labels[start : start + chunk], np.int64), predicted), 1)
    return matrix
