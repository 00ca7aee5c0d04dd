"""The datasets this server offers: the engine's registry, with the image datasets read from disk once
(and kept), and what is not available remembered with its reason.

Any thread may call it: an image dataset is read under a lock, so two requests for it read it once.
With ``cache_dir`` (classroom mode), image datasets are kept there as memory-mapped files and mapped
from there, so that every process sharing the folder shares one copy (the first to need one reads it
and writes it, under a file lock).
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

from ..engine.datasets import DataError, Dataset, mapped, registry
from ..engine.datasets.idx import FILES
from ..engine.datasets.images import FASHION_DIR, load_fashion, load_mnist


class Catalog:
    def __init__(self, mnist: Dataset | None = None, mnist_dir: str | Path | None = None,
                 fashion_dir: str | Path | None = None, cache_dir: str | Path | None = None):
        """``mnist``: an already loaded MNIST (tests, benchmarks; ``--data-dir``'s dataset); ``mnist_dir``
        and ``fashion_dir``: where to read them otherwise; ``cache_dir``: the shared memory-mapped copies."""
        self.mnist_dir = mnist_dir
        self.fashion_dir = Path(fashion_dir) if fashion_dir is not None else FASHION_DIR
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._lock = threading.Lock()
        self._images: dict[str, Dataset] = {}
        self._failed: dict[str, tuple] = {}  # name → (the files' signature when it failed, reason)
        if mnist is not None:
            self._images[mnist.name] = self._shared(mnist.name, lambda: mnist) if self.cache_dir else mnist

    def _folder(self, name: str) -> Path | None:
        if name == "fashion-mnist":
            return self.fashion_dir
        return Path(self.mnist_dir) if self.mnist_dir is not None else None

    def _signature(self, name: str) -> tuple:
        """Sizes and times of the files (so a package installed or repaired later is noticed)."""
        folder = self._folder(name)
        if folder is None:
            return ()
        out = []
        for file in FILES.values():
            for path in (folder / f"{file}.gz", folder / file):
                try:
                    st = path.stat()
                    out.append((str(path), st.st_size, st.st_mtime_ns))
                except OSError:
                    out.append((str(path), None))
        return tuple(out)

    def _image(self, name: str) -> Dataset:
        with self._lock:
            if name in self._images:
                return self._images[name]
            signature = self._signature(name)
            failed = self._failed.get(name)
            if failed is not None and failed[0] == signature:
                raise DataError(f"dataset: {name} is not available here: {failed[1]}")
            try:
                def load():
                    return load_fashion(self.fashion_dir) if name == "fashion-mnist" else load_mnist(self.mnist_dir)
                data = self._shared(name, load) if self.cache_dir else load()
            except DataError as e:
                self._failed[name] = (signature, str(e))
                raise DataError(f"dataset: {name} is not available here: {e}") from None
            self._images[name] = data
            self._failed.pop(name, None)
            return data

    def _shared(self, name: str, load) -> Dataset:
        """The dataset mapped from the cache folder; the first process to need it loads and writes it."""
        found = mapped.read(self.cache_dir, name)
        if found is not None:
            return found
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = mapped.read(self.cache_dir, name)  # another process wrote it meanwhile
            if found is None:
                mapped.write(load(), self.cache_dir)
                found = mapped.read(self.cache_dir, name)
        return found

    def open(self, name, options=None) -> Dataset:
        """The dataset ``name`` made with ``options``: ValueError (DataError when it is not available) with
        a reason that names the field (``dataset`` or ``dataset_options.X``)."""
        spec = registry.spec(name)
        if spec.kind == "image":
            registry.check_options(name, options)  # none: anything given is refused, naming it
            return self._image(name)
        return registry.make(name, options)

    def availability(self, name: str) -> tuple[bool, str | None, tuple | None]:
        """(available, reason when not, (train size, test size) when read)."""
        if registry.spec(name).kind != "image":
            return True, None, None
        try:
            data = self._image(name)
        except DataError as e:
            return False, self._failed.get(name, (None, str(e)))[1], None
        return True, None, (data.train_size, data.test_size)

    def describe_all(self) -> list[dict]:
        """Every dataset, as ``GET /api/datasets`` lists them (reading an image dataset that was not read yet)."""
        out = []
        for name in registry.NAMES:
            available, reason, sizes = self.availability(name)
            out.append(registry.describe(name, available, reason, sizes))
        return out
