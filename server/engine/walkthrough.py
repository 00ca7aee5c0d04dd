"""Backpropagation, step by step: the engine's numbers for one example, a mini-batch and one step.

Pure functions over a Network (no I/O, no session). Every number comes from ``Network.backprop``;
this module only arranges them the way the lectures present them.
"""

from __future__ import annotations

import numpy as np

from .network import Network, one_hot


def _rows(a: np.ndarray) -> list:
    return a.astype(np.float64).tolist()


def example_breakdown(net: Network, x: np.ndarray, label: int) -> dict:
    """One example through the network and back: every layer's z, a, σ'(z), ∂C0/∂a, δ and nudges.

    ``layers[i]`` is the layer after weight matrix i (``layers[0]`` the first hidden layer, the last
    the output), with the weights ``w`` (n_out × n_in) and biases ``b`` that produced it, so the page can
    list the terms w_jk·a_k and w_jk·δ_j of the very network that was differentiated; ``input_dC_da``
    is ∂C0/∂a of the inputs (for an image, the first layer's nudge map over its pixels).
    """
    x = net.as_input(x)
    y = one_hot([label], net.sizes[-1], net.dtype)
    grads = net.backprop(x, y)
    trace = grads.trace
    layers = []
    for l in range(len(net.weights)):
        z, a = trace.zs[l], trace.activations[l + 1]
        act = net.activation_for(l)
        layers.append({
            "z": _rows(z[0]),
            "a": _rows(a[0]),
            "sigma_prime": _rows(act.derivative(z, a)[0]),
            "dC_da": _rows(grads.dC_da[l + 1][0]),
            "delta": _rows(grads.deltas[l][0]),
            "nabla_w": _rows(grads.nabla_w[l]),  # batch of one: the mean is this example's gradient
            "nabla_b": _rows(grads.nabla_b[l]),
            "w": _rows(net.weights[l]),
            "b": _rows(net.biases[l]),
        })
    a_out = trace.activations[-1][0].astype(np.float64)
    y0 = y[0].astype(np.float64)
    tiny = float(np.finfo(trace.activations[-1].dtype).tiny)  # the engine's clamp (server/costs.py): Σ terms = C0
    if net.cost_name == "quadratic":
        terms = (a_out - y0) ** 2  # (a_j − y_j)²
    elif net.output_activation_name == "softmax":
        terms = -y0 * np.log(np.maximum(a_out, tiny))  # −y_j ln a_j
    else:
        terms = -(y0 * np.log(np.maximum(a_out, tiny)) + (1 - y0) * np.log(np.maximum(1 - a_out, tiny)))
    return {
        "label": int(label),
        "target": _rows(y0),
        "input": _rows(x[0]),
        "layers": layers,
        "input_dC_da": _rows(grads.dC_da[0][0]),
        "cost": float(grads.costs[0]),
        "cost_terms": terms.tolist(),
        "prediction": int(np.argmax(a_out)),
        "probabilities": net.probabilities(a_out),
        "config": net.config,
    }


def parameter_value(net: Network, p: dict) -> float:
    """The current value of a selected parameter {layer, j, k} (weight) or {layer, j} (bias)."""
    if p.get("k") is None:
        return float(net.biases[p["layer"]][p["j"]])
    return float(net.weights[p["layer"]][p["j"], p["k"]])


def check_parameter(net: Network, p: dict) -> dict:
    """Validate a parameter reference against the network's shapes (ValueError if it does not exist)."""
    layer, j, k = p.get("layer"), p.get("j"), p.get("k")
    if not isinstance(layer, int) or not 0 <= layer < len(net.weights):
        raise ValueError(f"layer must be from 0 to {len(net.weights) - 1}")
    n_out, n_in = net.weights[layer].shape
    if not isinstance(j, int) or not 0 <= j < n_out:
        raise ValueError(f"j must be from 0 to {n_out - 1} in layer {layer}")
    if k is not None and (not isinstance(k, int) or not 0 <= k < n_in):
        raise ValueError(f"k must be from 0 to {n_in - 1} in layer {layer}")
    return {"layer": layer, "j": j, "k": k}


def _largest(a: np.ndarray, skip=()) -> tuple:
    """The index of the largest |value| of ``a`` that is not in ``skip``."""
    order = np.argsort(np.abs(a), axis=None)[::-1]
    for flat in order[: len(skip) + 1]:
        index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        if index not in skip:
            return index
    return tuple(int(i) for i in np.unravel_index(order[0], a.shape))


def batch_parameters(net: Network, batch, example=None) -> list[dict]:
    """The parameters that matter for this mini-batch: in each weight matrix (the output layer first) the
    weight with the largest |average ∂C/∂w|, the output bias with the largest |average ∂C/∂b|, and — when
    ``example`` (that example's own gradients) is given — its biggest weight nudge in the output layer,
    marked ``"why": "example"`` (the others ``"batch"``)."""
    last = len(net.weights) - 1
    out_w = _largest(batch.nabla_w[last])
    params = [
        {"layer": last, "j": out_w[0], "k": out_w[1], "why": "batch"},
        {"layer": last, "j": _largest(batch.nabla_b[last])[0], "k": None, "why": "batch"},
    ]
    if example is not None:
        j, k = _largest(example.nabla_w[last], skip={out_w})
        params.insert(1, {"layer": last, "j": j, "k": k, "why": "example"})
    for l in range(last - 1, -1, -1):
        j, k = _largest(batch.nabla_w[l])
        params.append({"layer": l, "j": j, "k": k, "why": "batch"})
    if last == 0:  # no hidden layer: a second output weight instead
        taken = {(p["j"], p["k"]) for p in params}
        j, k = _largest(batch.nabla_w[0], skip=taken)
        params.append({"layer": 0, "j": j, "k": k, "why": "batch"})
    return params


def label_outputs(net: Network, x: np.ndarray, labels) -> tuple[list[float], list[float]]:
    """Each example's output for its own label, a_y (a probability with softmax), and its cost C0."""
    a = net.feedforward(x)
    y = one_hot(labels, net.sizes[-1], net.dtype)
    costs = net.cost_fn.per_example(a, y)
    return ([float(a[i, int(label)]) for i, label in enumerate(labels)],
            np.asarray(costs, dtype=np.float64).tolist())


def batch_table(net: Network, x: np.ndarray, labels: np.ndarray, params: list[dict] | None,
                example_first: bool = False) -> dict:
    """Each example's nudge ∂C0/∂p for the selected parameters, and the average (= the batch gradient).

    Rows are parameters, columns examples, as in the lectures' table; per-example values come from one
    backprop per example, the average column from one backprop of the whole batch. Without ``params`` the
    rows are the ones that matter for this batch (``batch_parameters``; with ``example_first`` the first
    column is the walked example, and its own biggest nudge is one of them).
    """
    x = net.as_input(x)
    y = one_hot(labels, net.sizes[-1], net.dtype)
    each = [net.backprop(x[i : i + 1], y[i : i + 1], input_gradient=False) for i in range(len(x))]
    batch = net.backprop(x, y, input_gradient=False)
    if not params:
        params = batch_parameters(net, batch, each[0] if example_first else None)
    rows = []
    for p in params:
        ref = {"layer": p["layer"], "j": p["j"], "k": p.get("k")}
        rows.append({
            "param": ref,
            **({"why": p["why"]} if "why" in p else {}),
            "value": parameter_value(net, ref),
            "per_example": [_pick(g, ref) for g in each],  # the table shows each example's own gradient
            "average": _pick(batch, ref),
        })
    return {
        "labels": [int(v) for v in labels],
        "predictions": [int(v) for v in batch.trace.activations[-1].argmax(axis=1)],
        "costs": batch.costs.astype(np.float64).tolist(),
        "cost": batch.cost,
        "rows": rows,
    }


def _pick(grads, p: dict) -> float:
    if p.get("k") is None:
        return float(grads.nabla_b[p["layer"]][p["j"]])
    return float(grads.nabla_w[p["layer"]][p["j"], p["k"]])


def _float64(net: Network) -> Network:
    """A float64 copy of ``net`` (the same parameters, rounded nowhere)."""
    net64 = Network(**{k: v for k, v in net.config.items() if k != "dtype"}, dtype="float64")
    net64.set_parameters(net.weights, net.biases)
    return net64


def gradient_check(net: Network, x: np.ndarray, label: int, p: dict, eps: float = 1e-4) -> dict:
    """∂C0/∂p by backprop next to the central difference (C(p+ε) − C(p−ε)) / 2ε, both in float64."""
    net64 = _float64(net)
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    y = one_hot([label], net.sizes[-1], "float64")
    backprop = _pick(net64.backprop(x, y, input_gradient=False), p)
    target = net64.biases[p["layer"]] if p.get("k") is None else net64.weights[p["layer"]]
    index = (p["j"],) if p.get("k") is None else (p["j"], p["k"])
    original = target[index]
    target[index] = original + eps
    c_plus = net64.cost(x, y)
    target[index] = original - eps
    c_minus = net64.cost(x, y)
    target[index] = original
    numeric = (c_plus - c_minus) / (2 * eps)
    scale = max(abs(numeric), abs(backprop), 1e-12)
    return {"param": p, "eps": eps, "cost_plus": c_plus, "cost_minus": c_minus, "numeric": numeric,
            "backprop": backprop, "relative_error": abs(numeric - backprop) / scale}


def cost_curve(net: Network, x: np.ndarray, label: int, p: dict, values) -> dict:
    """C0 of one example as the parameter ``p`` ({layer, j, k}; k None = the bias b_j) takes each of
    ``values``, every other parameter as it is: the curve C0(w) whose tangent at the current w has the
    slope ∂C0/∂w. In float64 on a copy (``net`` is not touched), all values at once: the layers before
    ``p``'s are computed once, then its layer and those after it for the whole batch of values.

    Returns ``values`` and ``costs`` (None where the cost overflows), and at the parameter's current value:
    ``value``, ``cost`` (C0) and ``slope`` (∂C0/∂p by backprop, float64)."""
    net64 = _float64(net)
    layer, j, k = p["layer"], p["j"], p.get("k")
    values = np.asarray(values, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    y = one_hot([label], net.sizes[-1], "float64")
    a = x
    for l in range(layer):
        a = net64.activation_for(l)(a @ net64.weights[l].T + net64.biases[l])
    current = parameter_value(net64, p)
    z = np.repeat(a @ net64.weights[layer].T + net64.biases[layer], len(values), axis=0)
    # z_j = Σ_k' w_jk' a_k' + b_j: with w_jk (or b_j) replaced by each value, the other terms unchanged
    z[:, j] += (values - current) * (a[0, k] if k is not None else 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        a = net64.activation_for(layer)(z)
        for l in range(layer + 1, len(net64.weights)):
            a = net64.activation_for(l)(a @ net64.weights[l].T + net64.biases[l])
        costs = np.asarray(net64.cost_fn.per_example(a, np.repeat(y, len(values), axis=0)), dtype=np.float64)
    grads = net64.backprop(x, y, input_gradient=False)
    return {"param": {"layer": layer, "j": j, "k": k}, "values": values.tolist(),
            "costs": [float(c) if np.isfinite(c) else None for c in costs],
            "value": current, "cost": float(grads.costs[0]), "slope": _pick(grads, p)}


def rank_examples(net: Network, x: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each example's cost C0, the network's answer and the length of its own gradient ‖∇C0‖ (over every
    weight and bias), for picking one worth walking through. One backprop of the whole batch: example i's
    gradient for W(l) is the outer product δ(l)_i a(l−1)_iᵀ, whose length is ‖δ(l)_i‖·‖a(l−1)_i‖, so
    ‖∇C0‖² = Σ_l ‖δ(l)_i‖² (‖a(l−1)_i‖² + 1) — the +1 for the biases."""
    x = net.as_input(x)
    grads = net.backprop(x, one_hot(labels, net.sizes[-1], net.dtype), input_gradient=False)
    activations = grads.trace.activations
    squared = np.zeros(len(x))
    for l, delta in enumerate(grads.deltas):
        d = np.einsum("ij,ij->i", delta, delta, dtype=np.float64)
        a = np.einsum("ij,ij->i", activations[l], activations[l], dtype=np.float64)
        squared += d * (a + 1.0)
    costs = np.asarray(grads.costs, dtype=np.float64)
    return costs, activations[-1].argmax(axis=1), np.sqrt(squared)


def pick_example(costs: np.ndarray, predictions: np.ndarray, labels, kind: str, rng,
                 norms: np.ndarray | None = None) -> int | None:
    """Which of the ranked examples to walk through: ``hard`` of those classified wrong (of all, when none
    is) the one with the largest gradient ‖∇C0‖ (``norms``; without them, the highest cost) — the one the
    weights learn most from: the highest cost alone is, on a trained sigmoid network, a confident mistake
    whose saturated output (σ′(z) ≈ 0) barely moves anything; ``easy`` the lowest cost of those classified
    right; ``mistake`` one classified wrong, at random (None when there is none)."""
    labels = np.asarray(labels)
    if kind == "hard":
        wrong = np.nonzero(predictions != labels)[0]
        pool = wrong if len(wrong) else np.arange(len(costs))
        score = costs if norms is None else norms
        return int(pool[np.argmax(score[pool])])
    if kind == "easy":
        right = np.nonzero(predictions == labels)[0]
        pool = right if len(right) else np.arange(len(costs))
        return int(pool[np.argmin(costs[pool])])
    if kind == "mistake":
        wrong = np.nonzero(predictions != labels)[0]
        return int(rng.choice(wrong)) if len(wrong) else None
    raise ValueError(f"kind must be easy, hard or mistake, got {kind!r}")
