"""Every dataset this project knows, by name: what each is, its options, and how to make it.

``describe`` gives the JSON the protocol sends (``GET /api/datasets``, ``hello``). Plane datasets, the
custom set and the notes' simple example are made here from their options; the image datasets are read
from disk by ``images.py`` (the training layer's catalog keeps them once loaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import custom, plane, simple
from .base import PLANE_EXTENT, PLANE_INPUT_NAMES, Dataset
from .images import IMAGE_DATASETS, IMAGE_SHAPE
from .options import check_options as _check_options

DEFAULT = "mnist"
FIELD = "dataset"


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    kind: str  # "image" | "plane" | "scalar"
    shape: tuple
    options: tuple  # of options.Option
    class_names: Callable[[dict], tuple]  # class names for checked options
    class_count: tuple  # (fewest, most) classes the options allow
    fixed: dict  # options this dataset does not let you choose, e.g. {"classes": 2}

    @property
    def input_size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


def _image_spec(name: str) -> Spec:
    title, names = IMAGE_DATASETS[name]
    return Spec(name, title, "image", IMAGE_SHAPE, (), lambda o, names=names: names, (len(names), len(names)), {})


def _plane_spec(name: str) -> Spec:
    title, _, _, chosen = plane.GENERATORS[name]
    count = (plane.CLASSES.min, plane.CLASSES.max) if chosen else (2, 2)
    return Spec(name, title, "plane", (2,), plane.option_specs(name),
                lambda o, name=name: plane.class_names(name, o.get("classes")), count,
                {} if chosen else {"classes": 2})


SPECS = {
    **{name: _image_spec(name) for name in IMAGE_DATASETS},
    **{name: _plane_spec(name) for name in plane.GENERATORS},
    "custom": Spec("custom", custom.TITLE, "plane", (2,), custom.SPECS, lambda o: custom.class_names(o.get("classes")),
                   (custom.CLASSES.min, custom.CLASSES.max), {}),
    simple.NAME: Spec(simple.NAME, simple.TITLE, "scalar", (1,), simple.SPECS, simple.class_names, (1, 1), {}),
}
NAMES = tuple(SPECS)


def spec(name) -> Spec:
    """The dataset called ``name``; ValueError naming the field and what exists otherwise."""
    if not isinstance(name, str) or name not in SPECS:
        raise ValueError(f"{FIELD}: unknown dataset {name!r}; known: {', '.join(NAMES)}")
    return SPECS[name]


def check_options(name: str, options) -> dict:
    """``options`` for dataset ``name``, checked, with every default filled in (ValueError naming the field)."""
    s = spec(name)
    checked = _check_options(name, s.options, options, s.fixed)
    if name == "custom" and checked.get("points") is not None:
        custom.check_points(checked["points"], checked["classes"])
    return checked


def make(name: str, options) -> Dataset:
    """A plane dataset, the custom set or the simple example from (unchecked) options. Image datasets come
    from disk."""
    s = spec(name)
    if s.kind == "image":
        raise ValueError(f"{FIELD}: {name} is read from disk, not generated")
    checked = check_options(name, options)
    if name == "custom":
        return custom.make(checked)
    if name == simple.NAME:
        return simple.make(checked)
    return plane.generate(name, checked)


def _sizes(s: Spec, options: dict) -> tuple[int | None, int | None]:
    if s.name == "custom":
        n = len(options["points"]) if options.get("points") else len(custom.STARTER)
        return n, n
    if s.name == simple.NAME:
        return 1, 1
    if s.kind == "plane":
        n = options["points"]
        n_test = min(max(1, round(n * options["test_fraction"])), n - 1)
        return n - n_test, n_test
    return None, None


def describe(name: str, available: bool = True, reason: str | None = None,
             sizes: tuple[int, int] | None = None) -> dict:
    """What ``GET /api/datasets`` lists for ``name`` (sizes at the default options; an image dataset's
    when it was read: ``sizes``)."""
    s = spec(name)
    defaults = check_options(name, None)
    train_size, test_size = sizes or _sizes(s, defaults)
    entry = {
        "name": s.name, "title": s.title, "kind": s.kind, "shape": list(s.shape), "input_size": s.input_size,
        "classes": list(s.class_names(defaults)), "class_count": list(s.class_count),
        "train_size": train_size, "test_size": test_size,
        "options": [o.describe() for o in s.options], "available": bool(available), "reason": reason,
    }
    if s.kind == "plane":
        entry["extent"] = PLANE_EXTENT
        entry["input_names"] = list(PLANE_INPUT_NAMES)
    elif s.kind == "scalar":
        entry["input_names"] = list(simple.INPUT_NAMES)
    return entry


def describe_dataset(data: Dataset) -> dict:
    """The description of a dataset in use (``hello``): as ``describe``, with its own classes, sizes and
    the option values it was made with (``values``; a custom set's points travel as arrays instead),
    and ``trivial`` when every training example has the same class."""
    entry = describe(data.name, sizes=(data.train_size, data.test_size))
    entry.update({
        "classes": list(data.class_names),
        "values": option_values(data),
        "trivial": data.trivial,
    })
    return entry


def option_values(data: Dataset) -> dict:
    """The options ``data`` was made with, for JSON: all of them, but a custom set's points (which travel
    as arrays) are left out."""
    if data.name == "custom":
        return {k: v for k, v in data.options.items() if k != "points"}
    return dict(data.options)


def dataset_record(data: Dataset) -> dict:
    """What a checkpoint records to make this dataset again: ``{name, options}``."""
    return {"name": data.name, "options": dict(data.options)}
