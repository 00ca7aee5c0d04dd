"""Pydantic models for every message the server accepts, over the websocket and over HTTP, and the
one-line description of a refusal."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ..engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ..engine.costs import COSTS
from ..training.edits import PARAMETER_LIMIT
from ..training.limits import LIMITS
from ..training.store import NAME_RE
from .refusals import describe_errors

MAX_MESSAGE_BYTES = 64 * 1024
MAX_DRAWING_SIDE = 1024
MAX_INPUT_VALUES = 4096  # a sanity cap: the exact count is the dataset's input size (checked in inputs.py)
MAX_INPUTS = MAX_INPUT_VALUES  # values in a walked example's input (checked against the network when used)
STREAM_LIMITS = {"budget": (20_000, None), "neurons": (8, 512)}  # the budget's upper end: the server's limit


class Strict(BaseModel):
    """No extra fields, no type coercion (a string is not a number), no NaN/Infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


Unit = Literal["batch", "example", "epoch"]
Activation = Literal[HIDDEN_ACTIVATIONS]  # type: ignore[valid-type]
OutputActivation = Literal[OUTPUT_ACTIVATIONS]  # type: ignore[valid-type]
CostName = Literal[COSTS]  # type: ignore[valid-type]
LearningRate = Annotated[float, Field(gt=0, le=LIMITS["learning_rate"][1])]
BatchSize = Annotated[int, Field(ge=LIMITS["batch_size"][0], le=LIMITS["batch_size"][1])]
Speed = Annotated[float, Field(ge=LIMITS["steps_per_second"][0], le=LIMITS["steps_per_second"][1])]
Neurons = Annotated[int, Field(ge=LIMITS["neurons"][0], le=LIMITS["neurons"][1])]
Pixel = Annotated[float, Field(ge=0, le=1)]
Label = Annotated[int, Field(ge=0, le=255)]  # below the dataset's class count: checked in inputs.py
DatasetName = Annotated[str, Field(min_length=1, max_length=64)]  # one of GET /api/datasets: checked there


class Drawing(Strict):
    width: Annotated[int, Field(ge=1, le=MAX_DRAWING_SIDE)]
    height: Annotated[int, Field(ge=1, le=MAX_DRAWING_SIDE)]
    pixels: list[Pixel]

    @model_validator(mode="after")
    def _size(self):
        if len(self.pixels) != self.width * self.height:
            raise ValueError(f"image needs width × height = {self.width * self.height} pixels, got {len(self.pixels)}")
        return self


class PixelsOrImage(Strict):
    """One example for the network, exactly one of: ``input`` (the network's inputs, as many as the
    dataset has: [x, y] on the plane), ``pixels`` (an image dataset's pixels in 0..1) or ``image`` (a raw
    drawing, made into the image dataset's format). Lengths are checked against the dataset in inputs.py."""

    pixels: Annotated[list[Pixel], Field(max_length=MAX_INPUT_VALUES)] | None = None
    image: Drawing | None = None
    input: Annotated[list[float], Field(min_length=1, max_length=MAX_INPUT_VALUES)] | None = None

    @model_validator(mode="after")
    def _one(self):
        if sum(v is not None for v in (self.pixels, self.image, self.input)) != 1:
            raise ValueError("give either 'input' (the dataset's inputs, e.g. [x, y]), 'pixels' (an image dataset's "
                             "pixels) or 'image' ({width, height, pixels}): exactly one, not both")
        return self


class PredictRequest(PixelsOrImage):
    pass


class BackpropRequest(PixelsOrImage):
    label: Label


# ----- HTTP request bodies (each declared on its route) ----------------------------------------
class SaveRequest(Strict):
    name: Annotated[str, Field(pattern=NAME_RE.pattern)]
    overwrite: bool = False  # replace a checkpoint of that name (without it: 409)
    snapshots: bool = False  # "with history": also the recorded snapshots, to scrub back after loading it


class Param(Strict):
    """One parameter of the network: the weight w_jk of matrix ``layer``, or the bias b_j when k is null."""

    layer: Annotated[int, Field(ge=0)]
    j: Annotated[int, Field(ge=0)]
    k: Annotated[int, Field(ge=0)] | None = None


MAX_TABLE_PARAMS = 256  # enough for every parameter of a small network (a [2,8,8,8,3] one has 195)


class WalkedExample(Strict):
    """The walkthrough's example as the network sees it (an image's pixels in 0..1, a point of the plane
    within ±10; its length is checked against the network when used) and its label: column 1 of the
    mini-batch."""

    pixels: Annotated[list[Annotated[float, Field(ge=-10, le=10)]], Field(min_length=1, max_length=MAX_INPUTS)]
    label: Annotated[int, Field(ge=0)]


class BatchRequest(Strict):
    size: Annotated[int, Field(ge=1, le=32)] = 10
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    params: Annotated[list[Param], Field(max_length=MAX_TABLE_PARAMS)] | None = None
    example: WalkedExample | None = None  # column 1; then size − 1 random training images follow it

    @model_validator(mode="after")
    def _room(self):
        if self.example is not None and self.size < 2:
            raise ValueError("size counts the example too: give at least 2 for the example and one training image")
        return self


class StepRequest(Strict):
    indices: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1, max_length=32)]
    params: Annotated[list[Param], Field(max_length=MAX_TABLE_PARAMS)] | None = None
    learning_rate: LearningRate | None = None
    example: WalkedExample | None = None  # the batch's first column (as given to walkthrough/batch)

    @model_validator(mode="after")
    def _size(self):
        if len(self.indices) + (self.example is not None) > 32:
            raise ValueError("a mini-batch has at most 32 examples, the walked example included")
        return self


ParameterValue = Annotated[float, Field(ge=-PARAMETER_LIMIT, le=PARAMETER_LIMIT)]


class SetParameterRequest(Strict):
    """One weight or bias set by hand (the walkthrough's experiment beside the gradient check, the simple
    example's slider). ``merge_undo``: when the last undoable change was a set of this same parameter, this
    one joins it (one Undo restores the value from before the first: a slider's drag is one change)."""

    param: Param
    value: ParameterValue
    merge_undo: bool = False


CURVE_POINTS = (2, 401)


class CurveRequest(BackpropRequest):
    """C0 of one example as one parameter runs from ``low`` to ``high`` in ``points`` even steps."""

    param: Param
    low: ParameterValue
    high: ParameterValue
    points: Annotated[int, Field(ge=CURVE_POINTS[0], le=CURVE_POINTS[1])] = 101

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low {self.low:g} and high {self.high:g}")
        return self


class TeachRequest(BackpropRequest):
    learning_rate: LearningRate | None = None


# ----- the Descent view (documented limits: out of range is a 422) ----------------------------
DESCENT_LIMITS = {"examples": (1, 5000), "points": (3, 201), "resolution": (3, 81), "steps": (1, 500),
                  "max_step": 100.0, "span": 100.0}
Examples = Annotated[int, Field(ge=DESCENT_LIMITS["examples"][0], le=DESCENT_LIMITS["examples"][1])]
Tab = Annotated[str, Field(min_length=1, max_length=64)]


class LineRequest(Strict):
    examples: Examples = 1000
    max_step: Annotated[float, Field(gt=0, le=DESCENT_LIMITS["max_step"])] = 6.0
    points: Annotated[int, Field(ge=DESCENT_LIMITS["points"][0], le=DESCENT_LIMITS["points"][1])] = 41
    tab: Tab | None = None  # a newer request with the same tab replaces this one


class SurfaceRequest(Strict):
    plane: Literal["pca", "random", "weights"] = "pca"
    resolution: Annotated[int, Field(ge=DESCENT_LIMITS["resolution"][0], le=DESCENT_LIMITS["resolution"][1])] = 41
    # the grid covers ±span and always the whole projected path; None: pca and weights fit the path, random ±1
    span: Annotated[float, Field(gt=0, le=DESCENT_LIMITS["span"])] | None = None
    examples: Examples = 1000
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    weights: Annotated[list[Param], Field(min_length=2, max_length=2)] | None = None
    stream: bool = False
    tab: Tab | None = None


class RunnersRequest(Strict):
    steps: Annotated[int, Field(ge=DESCENT_LIMITS["steps"][0], le=DESCENT_LIMITS["steps"][1])] = 50
    learning_rate: LearningRate | None = None  # omitted: the session's η
    examples: Examples = 1000
    batch_sizes: Annotated[list[Annotated[int, Field(ge=1, le=1000)]], Field(max_length=4)] = [1, 10, 100]
    start: Literal["current", "fresh"] = "current"
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    momentum: Annotated[float, Field(ge=0, lt=1)] | None = None  # adds a gradient-descent runner with momentum μ
    tab: Tab | None = None


class BranchRequest(Strict):
    iteration: Annotated[int, Field(ge=0)]
    learning_rate: LearningRate | None = None
    batch_size: BatchSize | None = None


MAX_LINK_CHARS = 2048  # a lesson link's fragment (links.py); a v1 link of every field is under 300


class LinkRequest(Strict):
    """A lesson link to check (``POST /api/link``): its fragment, with or without the leading ``#``."""

    link: Annotated[str, Field(max_length=MAX_LINK_CHARS)]


class OpenRequest(Strict):
    """``POST /api/walkthrough/open``: who owns the hold (holds.py), and an existing hold to claim or renew."""

    connection: Annotated[str, Field(min_length=1, max_length=64)] | None = None  # from this tab's hello
    hold: Annotated[str, Field(min_length=1, max_length=64)] | None = None  # from an earlier open


class CloseRequest(Strict):
    hold: Annotated[str, Field(min_length=1, max_length=64)] | None = None  # from walkthrough/open


class GradCheckRequest(BackpropRequest):
    param: Param
    eps: Annotated[float, Field(gt=0, le=0.1)] = 1e-4


class MapsRequest(Strict):
    """Per-neuron maps of the plane (2-input datasets)."""

    size: Annotated[int, Field(ge=2, le=256)] = 64
    extent: Annotated[float, Field(gt=0, le=10)] = 1.0
    values: Literal["a", "z", "dC_da", "delta"] = "a"
    # the cost's gradient maps only: the class every grid point is scored against (omitted: the class of
    # the nearest training point); checked against the network's outputs when used
    label: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _label_for_gradients(self):
        if self.label is not None and self.values in ("a", "z"):
            raise ValueError("label: only the cost's gradient maps (values 'dC_da' or 'delta') take a label")
        return self


# ----- websocket messages ---------------------------------------------------------------------
class Play(Strict):
    type: Literal["play"]


class Pause(Strict):
    type: Literal["pause"]


class Step(Strict):
    type: Literal["step"]
    unit: Unit = "batch"


class SetParams(Strict):
    type: Literal["set_params"]
    learning_rate: LearningRate = None  # omitted: unchanged (null is refused: it is not a number)
    batch_size: BatchSize = None
    steps_per_second: Speed | None = None  # null: flat out
    warmup: bool = None  # true: the slow start again (the pace rises by itself); omitted: unchanged

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set - {"type"}:
            raise ValueError("set_params needs learning_rate, batch_size, steps_per_second or warmup")
        if self.warmup and "steps_per_second" in self.model_fields_set:
            raise ValueError("give steps_per_second or warmup: true, not both (the slow start sets the pace itself)")
        return self


class Reset(Strict):
    type: Literal["reset"]
    hidden: Annotated[list[Neurons], Field(max_length=LIMITS["hidden_layers"][1])]
    activation: Activation = "sigmoid"
    output_activation: OutputActivation = "sigmoid"
    cost: CostName = "quadratic"
    seed: Annotated[int, Field(ge=LIMITS["seed"][0], le=LIMITS["seed"][1])] = 0
    learning_rate: LearningRate = None  # omitted: unchanged
    batch_size: BatchSize = None
    dataset: DatasetName = "mnist"
    dataset_options: dict[str, Any] | None = None


class SetPoints(Strict):
    """Replace the custom set's points (the network is kept): [[x, y, class], ...]."""

    type: Literal["set_points"]
    points: list[Any]


class Predict(PixelsOrImage):
    type: Literal["predict"]
    id: Annotated[int, Field(ge=0, le=2**53)] | None = None


class Backprop(BackpropRequest):
    """The walkthrough's numbers for one example (as POST /api/backprop)."""

    type: Literal["backprop"]
    id: Annotated[int, Field(ge=0, le=2**53)] | None = None


class RestoreGood(Strict):
    """Put back the best weights seen so far (after a ``stalled`` event)."""

    type: Literal["restore_good"]


class SelectExample(Strict):
    type: Literal["select_example"]
    source: Literal["train", "test", "follow"]
    index: Annotated[int, Field(ge=0)] | None = None


class Stream(Strict):
    """How this connection streams (docs/protocol.md, "Detail levels"): ``detail`` "full" (every weight as
    float32, the default) or "summary" (what the view draws, within a byte budget); ``budget`` in bytes
    per second (at most the server's limit: checked where the limit is known); ``neurons``: the most
    neurons of one layer the view shows. Omitted fields are unchanged."""

    type: Literal["stream"]
    detail: Literal["full", "summary"] = None
    budget: Annotated[int, Field(ge=STREAM_LIMITS["budget"][0])] = None
    neurons: Annotated[int, Field(ge=STREAM_LIMITS["neurons"][0], le=STREAM_LIMITS["neurons"][1])] = None

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set - {"type"}:
            raise ValueError("stream needs detail, budget or neurons")
        return self


ClientMessage = Annotated[
    Union[Play, Pause, Step, SetParams, Reset, Predict, SelectExample, Backprop, RestoreGood, SetPoints, Stream],
    Field(discriminator="type"),
]
_client_adapter = TypeAdapter(ClientMessage)
KNOWN_TYPES = ("play", "pause", "step", "set_params", "reset", "predict", "select_example", "backprop",
               "restore_good", "set_points", "stream")


class MessageError(ValueError):
    """A client message that is refused; ``request`` is its type when one could be read."""

    def __init__(self, message: str, request: str | None = None):
        super().__init__(message)
        self.request = request


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed in JSON")


def parse_json(text: str):
    """json.loads that refuses NaN/Infinity literals and absurd nesting with a ValueError."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def parse_client_message(text: str):
    """Parse and validate one websocket text message, or raise MessageError with a plain reason."""
    try:
        raw = parse_json(text)
    except ValueError as e:
        raise MessageError(f"invalid JSON: {e}") from None
    if not isinstance(raw, dict):
        raise MessageError("a message must be a JSON object with a 'type'")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise MessageError("a message needs a string 'type'")
    if kind not in KNOWN_TYPES:
        raise MessageError(f"unknown message type {kind!r}; known: {', '.join(KNOWN_TYPES)}", None)
    try:
        return _client_adapter.validate_python(raw)
    except ValidationError as e:
        raise MessageError(describe(e, skip=1), kind) from None


def describe(e: ValidationError, skip: int = 0) -> str:
    """A pydantic error as one readable line: 'The learning rate η must be above 0, not 0' (refusals.py).

    ``skip`` drops leading path parts (the union tag pydantic puts first for websocket messages).
    """
    return describe_errors(e.errors(include_url=False), skip)
