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


def default_parameters(net: Network) -> list[dict]:
    """A few interesting parameters for the mini-batch table: the output layer's strongest weights and a bias."""
    last = len(net.weights) - 1
    w = np.abs(net.weights[last])
    picks = np.argsort(w, axis=None)[::-1][:3]
    params = [{"layer": last, "j": int(i // w.shape[1]), "k": int(i % w.shape[1])} for i in picks]
    params.append({"layer": last, "j": params[0]["j"], "k": None})
    if last > 0:
        w0 = np.abs(net.weights[last - 1])
        i = int(np.argmax(w0))
        params.append({"layer": last - 1, "j": i // w0.shape[1], "k": i % w0.shape[1]})
    return params


def batch_table(net: Network, x: np.ndarray, labels: np.ndarray, params: list[dict]) -> dict:
    """Each example's nudge ∂C0/∂p for the selected parameters, and the average (= the batch gradient).

    Rows are parameters, columns examples, as in the lectures' table; per-example values come from one
    backprop per example, the average column from one backprop of the whole batch.
    """
    x = net.as_input(x)
    y = one_hot(labels, net.sizes[-1], net.dtype)
    per_example = []
    for i in range(len(x)):  # the table shows each example's own gradient: one backprop each
        g = net.backprop(x[i : i + 1], y[i : i + 1], input_gradient=False)
        per_example.append([_pick(g, p) for p in params])
    batch = net.backprop(x, y, input_gradient=False)
    rows = []
    for r, p in enumerate(params):
        rows.append({
            "param": p,
            "value": parameter_value(net, p),
            "per_example": [per_example[i][r] for i in range(len(x))],
            "average": _pick(batch, p),
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


def gradient_check(net: Network, x: np.ndarray, label: int, p: dict, eps: float = 1e-4) -> dict:
    """∂C0/∂p by backprop next to the central difference (C(p+ε) − C(p−ε)) / 2ε, both in float64."""
    net64 = Network(**{k: v for k, v in net.config.items() if k != "dtype"}, dtype="float64")
    net64.set_parameters(net.weights, net.biases)
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
