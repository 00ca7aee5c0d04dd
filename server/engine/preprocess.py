"""Turn a raw browser drawing into an MNIST-style 28×28 input, the way MNIST itself was made.

Pure NumPy, no I/O.  The steps follow LeCun et al.'s description of the dataset:

1. validate the request (sizes first, so an oversized one is refused before any allocation);
2. find the ink's bounding box (pixels > ``INK_THRESHOLD``) and crop it out;
3. scale the crop so its longer side is 20 px, keeping the aspect ratio, with anti-aliasing
   (area averaging when shrinking, bilinear when enlarging a tiny drawing);
4. paste it into the middle of a 28×28 field by its bounding box;
5. shift it by whole pixels, with zero fill, so its intensity-weighted centre of mass lands on
   (14, 14) in 0-based pixel-centre coordinates — where the centre of mass of real MNIST digits
   sits (test-set mean 13.99 rows, 14.01 columns).  The shift is clipped so no ink leaves the frame.

``to_mnist(pixels, width, height)`` returns a :class:`Preprocessed` holding the network input and
every intermediate stage as ``{"width", "height", "pixels"}`` dicts the page can draw.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

MAX_SIDE = 1024          # largest accepted drawing side, in pixels
INK_THRESHOLD = 0.05     # a pixel brighter than this counts as ink for the bounding box
FIELD = 28               # MNIST image side
BOX = 20                 # MNIST digits are size-normalised to fit a 20×20 box
TARGET_COM = 14.0        # centre of mass target (x and y), 0-based pixel-centre coordinates
PREVIEW_MAX = 56         # the "cropped" stage is shrunk to at most this many pixels a side


class PreprocessError(ValueError):
    """The drawing cannot be preprocessed: bad sizes, wrong pixel count or out-of-range values."""


@dataclass(frozen=True)
class Preprocessed:
    """The result of :func:`to_mnist`.

    ``input``  float32 (784,) in [0, 1], 28×28 row-major: what the network receives.
    ``stages`` ``{"cropped", "scaled", "boxed", "centered"}`` → ``{"width", "height", "pixels"}``
               (pixels a flat row-major list of floats in [0, 1]); empty when there is no ink.
    ``empty``  True when the drawing has no ink (``input`` is then all zeros).
    ``bbox``   ``(x0, y0, x1, y1)`` of the ink in the original drawing, half-open like a slice
               (the ink occupies columns x0..x1-1 and rows y0..y1-1), or None when empty.
    ``shift``  ``(dx, dy)`` in whole pixels applied to move the centre of mass to (14, 14).
    """

    input: np.ndarray
    stages: dict = field(default_factory=dict)
    empty: bool = False
    bbox: tuple[int, int, int, int] | None = None
    shift: tuple[int, int] = (0, 0)


# ---------------------------------------------------------------------------------------------
# Validation


def _check_side(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise PreprocessError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not 1 <= value <= MAX_SIDE:
        raise PreprocessError(f"{name} must be between 1 and {MAX_SIDE}, got {value}")
    return value


def _validate(pixels, width, height) -> np.ndarray:
    """The drawing as a float64 (height, width) array, or a PreprocessError saying what is wrong."""
    width = _check_side("width", width)
    height = _check_side("height", height)
    expected = width * height
    if isinstance(pixels, np.ndarray):
        if pixels.ndim == 2 and pixels.shape == (height, width):
            pixels = pixels.reshape(-1)
        elif pixels.ndim != 1:
            raise PreprocessError(
                f"pixels must be a flat array of {expected} values (or {height}×{width}), "
                f"got an array of shape {pixels.shape}"
            )
    elif isinstance(pixels, (str, bytes)) or not hasattr(pixels, "__len__"):
        raise PreprocessError(f"pixels must be a flat sequence of numbers, got {type(pixels).__name__}")
    count = len(pixels)
    if count != expected:
        raise PreprocessError(f"expected {expected} pixels ({width}×{height}), got {count}")
    try:
        arr = np.asarray(pixels, dtype=np.float64)
    except (TypeError, ValueError):
        raise PreprocessError("pixels must all be numbers") from None
    if arr.shape != (expected,):
        raise PreprocessError(f"pixels must be a flat sequence of {expected} numbers")
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise PreprocessError(
            f"pixels must be finite: {int((~finite).sum())} are NaN or infinite "
            f"(first at index {bad}: {arr[bad]})"
        )
    outside = (arr < 0.0) | (arr > 1.0)
    if outside.any():
        bad = int(np.flatnonzero(outside)[0])
        raise PreprocessError(
            f"pixel values must be within [0, 1]: {int(outside.sum())} are not "
            f"(first at index {bad}: {arr[bad]:g})"
        )
    return arr.reshape(height, width)


# ---------------------------------------------------------------------------------------------
# Resampling


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights: output pixel i averages the input interval [i·s, (i+1)·s), s = n_in/n_out.

    Each input pixel j covers [j, j+1); its weight is its fractional overlap with the interval
    divided by the interval's length, so every row sums to 1 (a box filter — proper anti-aliasing
    when shrinking; when enlarging it is nearest-neighbour with blended boundaries).
    """
    scale = n_in / n_out
    lo = np.arange(n_out)[:, None] * scale
    hi = lo + scale
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / scale


def bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) linear-interpolation weights, pixel centres aligned, edges clamped."""
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    j0 = np.floor(src).astype(int)
    j1 = np.minimum(j0 + 1, n_in - 1)
    frac = src - j0
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(m, (rows, j0), 1.0 - frac)
    np.add.at(m, (rows, j1), frac)
    return m


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Area averaging when shrinking (or keeping) an axis, bilinear when enlarging it."""
    return area_matrix(n_in, n_out) if n_out <= n_in else bilinear_matrix(n_in, n_out)


def resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Separable resampling of a 2-D image: R_y @ img @ R_x.T."""
    h, w = img.shape
    if (h, w) == (out_h, out_w):
        return img.copy()
    ry = resample_matrix(h, out_h)
    rx = resample_matrix(w, out_w)
    # Multiply the smaller intermediate first.
    if out_h * w <= h * out_w:
        return (ry @ img) @ rx.T
    return ry @ (img @ rx.T)


def fit_size(h: int, w: int, longest: int) -> tuple[int, int]:
    """(h, w) scaled so the longer side is ``longest``, the other rounded (at least 1)."""
    if h >= w:
        return longest, max(1, min(longest, int(math.floor(w * longest / h + 0.5))))
    return max(1, min(longest, int(math.floor(h * longest / w + 0.5)))), longest


# ---------------------------------------------------------------------------------------------
# Centring


def center_of_mass(img: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (x, y) centre, 0-based pixel-centre coordinates (image must have ink)."""
    total = img.sum()
    ys = np.arange(img.shape[0])
    xs = np.arange(img.shape[1])
    return float(img.sum(axis=0) @ xs / total), float(img.sum(axis=1) @ ys / total)


def shift_image(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Translate by whole pixels (positive = right/down) with zero fill, no wrap-around."""
    h, w = img.shape
    out = np.zeros_like(img)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    out[max(dy, 0): h + min(dy, 0), max(dx, 0): w + min(dx, 0)] = \
        img[max(-dy, 0): h - max(dy, 0), max(-dx, 0): w - max(dx, 0)]
    return out


def _ink_span(mask_1d: np.ndarray) -> tuple[int, int]:
    idx = np.flatnonzero(mask_1d)
    return int(idx[0]), int(idx[-1]) + 1


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def _stage(img: np.ndarray) -> dict:
    return {"width": int(img.shape[1]), "height": int(img.shape[0]),
            "pixels": np.clip(img, 0.0, 1.0).ravel().tolist()}


# ---------------------------------------------------------------------------------------------


def to_mnist(pixels, width: int, height: int, *, normalize: bool = True) -> Preprocessed:
    """Preprocess a drawing (``width*height`` floats in [0, 1], row-major, ink = 1) like MNIST.

    With ``normalize`` (default) the scaled digit is stretched so its brightest pixel is 1.0, as
    MNIST strokes are saturated.  Raises :class:`PreprocessError` for an invalid request.
    """
    img = _validate(pixels, width, height)

    mask = img > INK_THRESHOLD
    rows = mask.any(axis=1)
    if not rows.any():
        return Preprocessed(input=np.zeros(FIELD * FIELD, dtype=np.float32), stages={},
                            empty=True, bbox=None, shift=(0, 0))
    y0, y1 = _ink_span(rows)
    x0, x1 = _ink_span(mask[y0:y1].any(axis=0))
    crop = img[y0:y1, x0:x1]
    ch, cw = crop.shape

    # The "cropped" stage is only for display: shrink it if it is large.
    preview = crop if max(ch, cw) <= PREVIEW_MAX else resize(crop, *fit_size(ch, cw, PREVIEW_MAX))

    # Scale from the full-resolution crop (not the preview) so nothing is resampled twice.
    sh, sw = fit_size(ch, cw, BOX)
    scaled = np.clip(resize(crop, sh, sw), 0.0, 1.0)
    peak = scaled.max()
    if normalize and peak > 0:
        scaled = np.clip(scaled / peak, 0.0, 1.0)

    boxed = np.zeros((FIELD, FIELD))
    top, left = (FIELD - sh) // 2, (FIELD - sw) // 2
    boxed[top: top + sh, left: left + sw] = scaled

    if peak > 0:
        cx, cy = center_of_mass(boxed)
        # Keep every non-zero pixel inside the frame.
        nz = boxed > 0
        by0, by1 = _ink_span(nz.any(axis=1))
        bx0, bx1 = _ink_span(nz.any(axis=0))
        dx = _clamp(int(math.floor(TARGET_COM - cx + 0.5)), -bx0, FIELD - bx1)
        dy = _clamp(int(math.floor(TARGET_COM - cy + 0.5)), -by0, FIELD - by1)
    else:  # unreachable for ink > threshold, kept for safety
        dx = dy = 0
    centered = np.clip(shift_image(boxed, dx, dy), 0.0, 1.0).astype(np.float32)

    stages = {
        "cropped": _stage(preview),
        "scaled": _stage(scaled),
        "boxed": _stage(boxed),
        "centered": {"width": FIELD, "height": FIELD, "pixels": centered.ravel().tolist()},
    }
    return Preprocessed(input=centered.ravel(), stages=stages, empty=False,
                        bbox=(x0, y0, x1, y1), shift=(dx, dy))
