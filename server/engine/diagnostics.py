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


def notes(rows: list[dict]) -> list[dict]:
    """Plain-language warnings for one measurement: ``{"kind", "layer", "text"}``."""
    found = []
    first, last = rows[0]["grad_norm"], rows[-1]["grad_norm"]
    if len(rows) > 1 and first > 0 and last / first >= VANISHING:
        found.append({"kind": "vanishing", "layer": 0, "text": (
            f"layer 1 learns {last / first:,.0f}× slower than layer {len(rows)}: a vanishing gradient — "
            "each layer back multiplies the gradient by σ′ and the weights, and it shrinks on the way")})
    for r in rows:
        n = r["layer"] + 1
        if r["saturated"] is not None and r["saturated"] >= 0.5:
            found.append({"kind": "saturated", "layer": r["layer"], "text": (
                f"{r['saturated']:.0%} of layer {n}'s activations sit on the flat tails of the curve "
                "(σ′ < 0.01): they barely pass any gradient back")})
        if r["dead"] is not None and r["dead"] >= 0.5:
            found.append({"kind": "dead", "layer": r["layer"], "text": (
                f"{r['dead']:.0%} of layer {n}'s ReLUs never fire on the probe images: they learn nothing")})
        ratio = r["update_ratio"]
        if ratio is not None and ratio > RATIO_BAND[1]:
            found.append({"kind": "big_steps", "layer": r["layer"], "text": (
                f"each step changes layer {n}'s weights by {ratio:.1%} of their size: η is probably too large")})
        elif ratio is not None and 0 < ratio < RATIO_BAND[0]:
            found.append({"kind": "small_steps", "layer": r["layer"], "text": (
                f"each step changes layer {n}'s weights by only {ratio:.0e} of their size: it learns slowly")})
    return found


def confusion(net: Network, x: np.ndarray, labels: np.ndarray, n_classes: int, chunk: int = 5000) -> np.ndarray:
    """Counts of (true label, prediction): row = the true class, column = what the network says."""
    matrix = np.zeros((n_classes, n_classes), np.int64)
    for start in range(0, len(x), chunk):
        predicted = net.predict(x[start : start + chunk])
        np.add.at(matrix, (np.asarray(labels[start : start + chunk], np.int64), predicted), 1)
    return matrix
