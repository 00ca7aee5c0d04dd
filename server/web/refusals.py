"""Validation errors as sentences a user can read: which field, in words, and what it must be.

pydantic says ``weights.0.j: Input should be greater than or equal to 0``; the page shows the server's
refusals to people, so they read ``Neuron j of weight 1 must be at least 0, not -1.`` One line per
refusal, as the protocol's ``{"detail": text}`` (or a websocket ``error``'s ``message``) carries it.
"""

from __future__ import annotations

import json

# A field's name in words (the rest: underscores become spaces, after "the").
FIELD_WORDS = {
    "learning_rate": "the learning rate η", "batch_size": "the mini-batch size",
    "steps_per_second": "the pace (mini-batches per second)", "warmup": "the slow start",
    "hidden": "the hidden layers", "activation": "the hidden layers' activation",
    "output_activation": "the output activation", "cost": "the cost function", "seed": "the seed",
    "dataset": "the dataset", "dataset_options": "the dataset's options", "points": "the points",
    "unit": "the step's unit", "source": "the example's source", "index": "the example's index",
    "pixels": "the pixels", "image": "the image", "input": "the input", "label": "the label",
    "indices": "the example indices", "params": "the parameters", "param": "the parameter",
    "layer": "the layer", "j": "neuron j", "k": "input k", "eps": "ε", "size": "the batch size",
    "iteration": "the iteration", "weights": "the weights", "examples": "the number of examples",
    "steps": "the number of steps", "batch_sizes": "the batch sizes", "resolution": "the resolution",
    "span": "the span", "plane": "the plane", "momentum": "the momentum", "name": "the name",
    "value": "the value", "low": "the lowest value", "high": "the highest value", "id": "the request id",
    "hold": "the hold", "connection": "the connection", "link": "the link", "example": "the example",
    "width": "the width", "height": "the height", "overwrite": "overwrite", "type": "the message type",
}
# An item of a list field, in words ("hidden", 0 → "hidden layer 1").
ITEM_WORDS = {
    "hidden": "hidden layer", "pixels": "pixel", "points": "point", "weights": "weight", "params": "parameter",
    "indices": "index", "batch_sizes": "batch size", "input": "input",
}
NAME_RULE = "may use only letters, digits, '-' and '_' (1 to 64 of them)"


def field_words(loc: tuple) -> str:
    """A location as words, innermost first: ("weights", 0, "j") → "neuron j of weight 1"."""
    words: list[str] = []
    parent = None
    for part in loc:
        if isinstance(part, int):
            item = ITEM_WORDS.get(parent, f"item of {words[-1]}" if words else "item")
            if words:
                words[-1] = f"{item} {part + 1}"
            else:
                words.append(f"{item} {part + 1}")
        elif not str(part).startswith("function-"):
            words.append(FIELD_WORDS.get(part, f"the {str(part).replace('_', ' ')}"))
            parent = part
    return " of ".join(reversed(words))


def _number(x) -> str:
    """A number as people write it: 1,000,000, 1.5, 0.001."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        x = int(x)
    if isinstance(x, int):
        return f"{x:,}" if abs(x) >= 10_000 else str(x)
    return f"{x:g}" if isinstance(x, float) else str(x)


def _shown(value, raw_text: bool = False) -> str:
    """The value that was sent, short: 11, -1, 1.5, "1", true, null, [1, 2] (``raw_text``: a query
    parameter, always text: shown as typed)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)
    if raw_text and isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def reason(err: dict) -> str | None:
    """What a field must be, after its name: "must be at most 10, not 11", "is missing"; None for an
    error kind not listed here (the caller falls back to pydantic's own words)."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    given = err.get("input")
    raw_text = tuple(err.get("loc", ("",)))[:1] in (("query",), ("path",))
    got = "" if kind == "missing" else f", not {_shown(given, raw_text=raw_text)}"
    reasons = {
        "missing": "is missing",
        "greater_than": f"must be above {_number(ctx.get('gt'))}",
        "greater_than_equal": f"must be at least {_number(ctx.get('ge'))}",
        "less_than": f"must be below {_number(ctx.get('lt'))}",
        "less_than_equal": f"must be at most {_number(ctx.get('le'))}",
        "int_type": "must be a whole number", "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number", "float_type": "must be a number",
        "float_parsing": "must be a number", "finite_number": "must be a finite number",
        "string_type": "must be text", "bool_type": "must be true or false", "bool_parsing": "must be true or false",
        "list_type": "must be a list", "dict_type": "must be an object", "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "literal_error": f"must be {ctx.get('expected')}", "enum": f"must be {ctx.get('expected')}",
        "too_short": f"must hold at least {ctx.get('min_length')} item{'' if ctx.get('min_length') == 1 else 's'}",
        "too_long": f"must hold at most {ctx.get('max_length')} items",
        "string_too_short": f"must be at least {ctx.get('min_length')} character{'' if ctx.get('min_length') == 1 else 's'} long",
        "string_too_long": f"must be at most {ctx.get('max_length')} characters long",
        "string_pattern_mismatch": NAME_RULE,
    }
    if kind in ("too_short", "too_long") and "actual_length" in ctx:
        got = f", not {_number(ctx['actual_length'])}"
    if kind in ("string_too_short", "string_too_long") and isinstance(given, str):
        got = f", not {_number(len(given))}"
    text = reasons.get(kind)
    return None if text is None else text + got


def sentence(err: dict, skip: int = 0) -> str:
    """One pydantic error as a sentence naming the field in words."""
    loc = tuple(err.get("loc", ()))[skip:]
    kind = err.get("type", "")
    msg = err.get("msg", "")
    if kind in ("value_error", "assertion_error"):  # our own validators already speak in sentences
        text = str((err.get("ctx") or {}).get("error") or msg.split(", ", 1)[-1])
        return text if not loc else f"{field_words(loc)}: {text}"
    if kind == "extra_forbidden":
        return f"“{loc[-1]}” is not something this request takes" if loc else "an unexpected field"
    what = field_words(loc) if loc else "the request"
    what = what[0].upper() + what[1:]
    why = reason(err)
    if why is None:  # a kind not listed: pydantic's words, after the field's
        return f"{what}: {msg[0].lower() + msg[1:] if msg else 'is not valid'}"
    return f"{what} {why}"


def describe_errors(errors: list, skip: int = 0) -> str:
    """At most three errors, one line: "The learning rate η must be above 0, not 0; …"."""
    parts = [sentence(err, skip) for err in errors[:3]]
    more = len(errors) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
