"""Links that carry a lesson: the URL fragment ``#v=1&dataset=circle&hidden=8&…&mode=walkthrough&phase=4``.

A link is read here field by field and checked against the same limits as any message (the ``reset``
message's model in ``schemas.py``, the dataset registry's options, the engine's activation/cost rules).
A refusal is a ``LinkError`` whose text starts with the link's own field name (``lr: …``, ``hidden: …``),
so the page can say which part of the link is wrong. The answer is normalised: every network field
filled in, and the ``reset`` / ``set_params`` messages that would make the session match the link.
docs/protocol.md ("Links that carry a lesson") is the reference for the format.
"""

from __future__ import annotations

import math
import re
from urllib.parse import unquote

from pydantic import ValidationError

from ..engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ..engine.costs import COSTS
from ..engine.datasets import registry
from ..engine.network import validate_config
from ..training.limits import DEFAULT_HIDDEN, DEFAULT_NETWORK, LIMITS
from .refusals import reason
from .schemas import MAX_LINK_CHARS, Reset

VERSION = 1
MODES = ("live", "walkthrough", "descent")
PHASES = (1, 6)  # the walkthrough's phases (static/js/walkthrough/steps.js)
# Parts of the page a link can hide (static/js/screen/lesson-link.js has the same list, in this order).
HIDE_PARTS = ("training", "params", "editor", "checkpoints", "explainer", "controls", "history", "draw",
              "modes", "share")
# A dataset option's name in a link (the network's own seed is ``seed``, so the data's is ``data_seed``).
OPTION_KEYS = {"seed": "data_seed"}
OPTION_NAMES = {key: name for name, key in OPTION_KEYS.items()}
DATASET_OPTION_KEYS = ("noise", "points", "test_fraction", "classes", "data_seed")
NETWORK_KEYS = ("dataset", *DATASET_OPTION_KEYS, "hidden", "activation", "output", "cost", "seed")
# Every field of a v1 link, in the order a normalised link writes them.
KEYS = ("v", *NETWORK_KEYS, "lr", "batch", "mode", "phase", "hide", "present")
# link key → the reset message's field (for the limits and their messages)
RESET_FIELDS = {"hidden": "hidden", "activation": "activation", "output": "output_activation", "cost": "cost",
                "seed": "seed", "lr": "learning_rate", "batch": "batch_size"}
FIELD_OF = {v: k for k, v in RESET_FIELDS.items()}
INT_RE = re.compile(r"^[+-]?\d{1,12}$")


class LinkError(ValueError):
    """A link that is refused; the text starts with the link's field (``lr: must be …``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


# ----- reading --------------------------------------------------------------------------------------
def split(link: str) -> dict[str, str]:
    """``v=1&dataset=circle`` (a leading ``#`` or ``?`` allowed) → {key: value}, each key once."""
    if len(link) > MAX_LINK_CHARS:
        raise LinkError("link", f"at most {MAX_LINK_CHARS} characters, got {len(link)}")
    text = link[1:] if link[:1] in ("#", "?") else link
    fields: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        key = unquote(key)
        if not eq:
            raise LinkError(key or "link", "needs a value (key=value)")
        if key not in KEYS:
            raise LinkError(key, f"not a field of a v{VERSION} link (its fields: {', '.join(KEYS)})")
        if key in fields:
            raise LinkError(key, "given twice")
        fields[key] = unquote(value)
    return fields


def _int(key: str, text: str) -> int:
    if not INT_RE.match(text):
        raise LinkError(key, f"must be a whole number, got {text!r}")
    return int(text)


def _float(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LinkError(key, f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise LinkError(key, f"must be a finite number, got {text!r}")
    return value


def _choice(key: str, text: str, allowed) -> str:
    if text not in allowed:
        raise LinkError(key, f"{text!r} is not one of {', '.join(allowed)}")
    return text


def _hidden(text: str) -> list[int]:
    if text == "":
        return []  # no hidden layer: the inputs feed the outputs
    return [_int("hidden", part) for part in text.split(",")]


def _dataset(fields: dict) -> tuple[str, dict]:
    """(name, options with every default filled in; a custom set's points never: a link carries none)."""
    name = fields.get("dataset", registry.DEFAULT)
    try:
        spec = registry.spec(name)
    except ValueError:
        raise LinkError("dataset", f"unknown dataset {name!r}; known: {', '.join(registry.NAMES)}") from None
    types = {o.name: o.type for o in spec.options}
    options = {}
    for key in DATASET_OPTION_KEYS:
        if key not in fields:
            continue
        option = OPTION_NAMES.get(key, key)
        kind = types.get(option)
        if kind == "points":
            raise LinkError(key, "a link cannot carry a custom set's points: it keeps the current custom set's "
                                 "points (with as many classes), or starts from the starter set")
        value = fields[key]
        if kind == "float":
            options[option] = _float(key, value)
        elif kind == "int" or INT_RE.match(value):  # a fixed or unknown option: the registry says why not
            options[option] = _int(key, value)
        else:
            options[option] = value
    try:
        checked = registry.check_options(name, options)
    except ValueError as e:
        raise _option_error(str(e)) from None
    if name == "custom":
        checked.pop("points", None)
    return name, checked


def _option_error(text: str) -> LinkError:
    """``dataset_options.seed: …`` (the registry's words) → ``data_seed: …`` (the link's field)."""
    where, _, message = text.partition(": ")
    option = where.rpartition(".")[2] if where.startswith("dataset_options.") else ""
    key = OPTION_KEYS.get(option, option) or "dataset"
    message = message.replace(f"option {option!r}", f"option {key!r}") if option else text
    return LinkError(key, message)


def _reset_error(e: ValidationError) -> LinkError:
    """The reset message's refusal, in the link's words: its first error, named by the link's field."""
    err = e.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"]]
    key = FIELD_OF.get(loc[0], loc[0]) if loc else "link"
    where = f"layer {int(loc[1]) + 1}: " if key == "hidden" and len(loc) > 1 and loc[1].isdigit() else ""
    return LinkError(key, where + (reason(err) or err["msg"]))


def parse(link: str) -> dict:
    """A link checked and normalised, or ``LinkError``: ``{v, network, params, view, link}``.

    ``network`` is None when the link names no network field; otherwise every field is there, a missing
    one taking the default a ``reset`` would (MNIST, hidden 16,16, sigmoid, sigmoid, quadratic, seed 0).
    ``params`` holds ``learning_rate`` / ``batch_size`` when given (else: unchanged)."""
    fields = split(link)
    if "v" not in fields:
        raise LinkError("v", f"missing: a lesson link starts with v={VERSION}")
    if fields["v"] != str(VERSION):
        raise LinkError("v", f"this server reads links of version {VERSION}, not v={fields['v']!r} "
                             "(a link from another version of Backprop Lab?)")
    network = None
    message: dict = {"type": "reset"}
    if any(k in fields for k in NETWORK_KEYS):
        name, options = _dataset(fields)
        network = {
            "dataset": name, "dataset_options": options,
            "hidden": _hidden(fields["hidden"]) if "hidden" in fields else list(DEFAULT_HIDDEN),
            "activation": _choice("activation", fields.get("activation", DEFAULT_NETWORK["activation"]),
                                  HIDDEN_ACTIVATIONS),
            "output_activation": _choice("output", fields.get("output", DEFAULT_NETWORK["output_activation"]),
                                         OUTPUT_ACTIVATIONS),
            "cost": _choice("cost", fields.get("cost", DEFAULT_NETWORK["cost"]), COSTS),
            "seed": _int("seed", fields["seed"]) if "seed" in fields else DEFAULT_NETWORK["seed"],
        }
        message.update(network)
    else:
        message.update(hidden=list(DEFAULT_HIDDEN))  # only to check η and the batch size below
    params = {}
    if "lr" in fields:
        params["learning_rate"] = _float("lr", fields["lr"])
    if "batch" in fields:
        params["batch_size"] = _int("batch", fields["batch"])
    message.update(params)
    try:
        Reset.model_validate(message)  # the limits any reset message has
    except ValidationError as e:
        raise _reset_error(e) from None
    if network is not None:
        spec = registry.spec(network["dataset"])
        classes = len(spec.class_names(network["dataset_options"]))
        try:
            validate_config([spec.input_size, *network["hidden"], classes], network["activation"],
                            network["output_activation"], network["cost"], "float32")
        except ValueError as e:
            raise LinkError("cost", str(e)) from None
    view = _view(fields)
    out = {"v": VERSION, "network": network, "params": params, "view": view}
    out["link"] = write(out)
    return out


def _view(fields: dict) -> dict:
    mode = _choice("mode", fields.get("mode", "live"), MODES)
    phase = None
    if "phase" in fields:
        phase = _int("phase", fields["phase"])
        lo, hi = PHASES
        if not lo <= phase <= hi:
            raise LinkError("phase", f"the walkthrough has phases {lo} to {hi}, got {phase}")
        if mode != "walkthrough":
            raise LinkError("phase", "only with mode=walkthrough (the phase is a step of the walkthrough)")
    hide = []
    for part in (fields.get("hide") or "").split(","):
        if not part:
            continue
        if part not in HIDE_PARTS:
            raise LinkError("hide", f"unknown part {part!r}; parts: {', '.join(HIDE_PARTS)}")
        if part not in hide:
            hide.append(part)
    present = None
    if "present" in fields:
        present = {"1": True, "0": False}.get(fields["present"])
        if present is None:
            raise LinkError("present", f"must be 1 or 0, got {fields['present']!r}")
    return {"mode": mode, "phase": phase, "hide": [p for p in HIDE_PARTS if p in hide], "present": present}


# ----- writing --------------------------------------------------------------------------------------
def _num(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:.15g}"


def write(parsed: dict) -> str:
    """The normalised fragment (no ``#``) of a parsed link: its fields in the order of ``KEYS``."""
    parts = [f"v={VERSION}"]
    network = parsed.get("network")
    if network is not None:
        parts.append(f"dataset={network['dataset']}")
        spec = registry.spec(network["dataset"])
        for option in spec.options:
            if option.name in network["dataset_options"]:
                parts.append(f"{OPTION_KEYS.get(option.name, option.name)}={_num(network['dataset_options'][option.name])}")
        parts.append("hidden=" + ",".join(str(n) for n in network["hidden"]))
        parts += [f"activation={network['activation']}", f"output={network['output_activation']}",
                  f"cost={network['cost']}", f"seed={network['seed']}"]
    params = parsed.get("params") or {}
    if "learning_rate" in params:
        parts.append(f"lr={_num(params['learning_rate'])}")
    if "batch_size" in params:
        parts.append(f"batch={params['batch_size']}")
    view = parsed.get("view") or {}
    parts.append(f"mode={view.get('mode') or 'live'}")
    if view.get("phase") is not None:
        parts.append(f"phase={view['phase']}")
    if view.get("hide"):
        parts.append("hide=" + ",".join(view["hide"]))
    if view.get("present") is not None:
        parts.append(f"present={int(view['present'])}")
    return "&".join(parts)


# ----- against the session --------------------------------------------------------------------------
def compare(parsed: dict, current: dict) -> dict:
    """What opening ``parsed`` would change in a session described by ``current`` ({config, dataset,
    dataset_options, params, iteration}): ``{reset, set_params, changes}`` — the messages to send (None
    when nothing of theirs changes) and one line per change, for the page to ask with."""
    network, params = parsed["network"], parsed["params"]
    changes: list[str] = []
    reset = None
    config = current["config"]
    if network is not None:
        hidden_now = list(config["sizes"][1:-1])
        options_now = dict(current["dataset_options"])  # a custom set's points are never among them
        same = (network["dataset"] == current["dataset"] and network["dataset_options"] == options_now
                and network["hidden"] == hidden_now and network["activation"] == config["activation"]
                and network["output_activation"] == config["output_activation"]
                and network["cost"] == config["cost"] and network["seed"] == config["seed"])
        if not same:
            reset = {"type": "reset", **network, **params}
            if network["dataset"] != current["dataset"]:
                made = ", ".join(f"{OPTION_KEYS.get(k, k)} {_num(v)}" for k, v in network["dataset_options"].items())
                changes.append(f"dataset: {current['dataset']} → {network['dataset']}" + (f" ({made})" if made else ""))
            for key, before in options_now.items():
                after = network["dataset_options"].get(key)
                if network["dataset"] == current["dataset"] and after != before:
                    changes.append(f"{OPTION_KEYS.get(key, key)}: {_num(before)} → {_num(after)}")
            if network["hidden"] != hidden_now:
                changes.append(f"hidden layers: {_layers(hidden_now)} → {_layers(network['hidden'])}")
            for key, label in (("activation", "hidden σ"), ("output_activation", "output σ"), ("cost", "cost"),
                               ("seed", "seed")):
                if network[key] != config[key]:
                    changes.append(f"{label}: {config[key]} → {network[key]}")
            if not changes:
                changes.append("a new network with the same settings")
    now = current["params"]
    differing = {k: v for k, v in params.items() if v != now.get(k)}
    for key, label in (("learning_rate", "η"), ("batch_size", "batch size")):
        if key in differing:
            changes.append(f"{label}: {_num(now[key])} → {_num(differing[key])}")
    set_params = None
    if reset is None and differing:
        set_params = {"type": "set_params", **differing}
    return {"reset": reset, "set_params": set_params, "changes": changes}


def _layers(hidden: list[int]) -> str:
    return ", ".join(map(str, hidden)) if hidden else "none"
