"""A dataset as memory-mapped files, so that many processes share one copy of it (classroom mode: one
worker process per visitor, and MNIST's 55 MB of uint8 pixels mapped, not copied, by each).

``write`` puts a dataset's four arrays in ``FOLDER/NAME.*.npy`` and what it is in ``FOLDER/NAME.json``
(written last, atomically: a reader never sees half a dataset); ``read`` maps them read-only. The pages
live in the OS's page cache, shared by every process that maps the files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .base import Dataset

ARRAYS = ("train_inputs", "train_labels", "test_inputs", "test_labels")


def _meta_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.json"


def write(data: Dataset, folder: str | os.PathLike) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for key in ARRAYS:
        path = folder / f"{data.name}.{key}.npy"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(getattr(data, key)), allow_pickle=False)
        os.replace(tmp, path)
    meta = {"name": data.name, "kind": data.kind, "shape": list(data.shape), "class_names": list(data.class_names),
            "options": data.options, "source": data.source, "title": data.title}
    tmp = _meta_path(folder, data.name).with_suffix(".tmp")
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, _meta_path(folder, data.name))


def read(folder: str | os.PathLike, name: str) -> Dataset | None:
    """The dataset ``name`` mapped from ``folder`` (read-only, shared), or None when it is not there."""
    folder = Path(folder)
    try:
        meta = json.loads(_meta_path(folder, name).read_text())
    except FileNotFoundError:
        return None
    arrays = {key: np.load(folder / f"{name}.{key}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)
              for key in ARRAYS}
    return Dataset(**arrays, name=meta["name"], kind=meta["kind"], shape=tuple(meta["shape"]),
                   class_names=tuple(meta["class_names"]), options=meta["options"], source=meta["source"],
                   title=meta["title"])
