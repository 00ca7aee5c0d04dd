"""server.preprocess: a raw drawing → MNIST-style 28×28 input."""

import math
import time

import numpy as np
import pytest

from server.engine.preprocess import (
    PreprocessError,
    area_matrix,
    bilinear_matrix,
    center_of_mass,
    resize,
    shift_image,
    to_mnist,
)


def canvas(w=280, h=280):
    return np.zeros((h, w))


def ink_bbox(img28, threshold=0.0):
    ys, xs = np.nonzero(img28 > threshold)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


@pytest.fixture(scope="module")
def mnist_test():
    from server.engine.data import load_dataset

    d = load_dataset()
    return d.test_images[:200].reshape(-1, 28, 28).astype(np.float64) / 255.0


# --- real behaviour -----------------------------------------------------------------------------


def test_mnist_digit_upscaled_comes_back_as_itself(mnist_test):
    corr, mad = [], []
    for x in mnist_test:
        big = np.repeat(np.repeat(x, 10, axis=0), 10, axis=1)  # 280×280 drawing
        r = to_mnist(big.ravel(), 280, 280)
        assert not r.empty
        corr.append(np.corrcoef(r.input, x.ravel())[0, 1])
        mad.append(np.abs(r.input - x.ravel()).mean())
    assert min(corr) > 0.99
    assert np.mean(mad) < 0.005


def test_mnist_digit_smoothly_upscaled_by_odd_factor_stays_close(mnist_test):
    # A non-integer, blurring enlargement (28 → 300, bilinear), fed back as a list.
    up = bilinear_matrix(28, 300)
    corr = []
    for x in mnist_test[:50]:
        big = np.clip(up @ x @ up.T, 0, 1)
        r = to_mnist(big.ravel().tolist(), 300, 300)
        corr.append(np.corrcoef(r.input, x.ravel())[0, 1])
    assert min(corr) > 0.65
    assert np.median(corr) > 0.9


def test_off_centre_square_is_scaled_to_20_and_centred():
    img = canvas(300, 200)
    img[20:60, 230:290] = 1.0  # 60 wide × 40 tall, in the top-right corner
    r = to_mnist(img.ravel(), 300, 200)
    assert r.bbox == (230, 20, 290, 60)
    out = r.input.reshape(28, 28)
    x0, y0, x1, y1 = ink_bbox(out)
    assert (x1 - x0, y1 - y0) == (20, 13)  # 40·20/60 = 13.3 → 13
    cx, cy = center_of_mass(out)
    assert abs(cx - 14) <= 1 and abs(cy - 14) <= 1
    assert out.max() == pytest.approx(1.0)


def test_tall_thin_stroke_keeps_its_aspect_ratio():
    img = canvas()
    img[30:250, 60:82] = 1.0  # a "1": 220 tall × 22 wide, off-centre
    r = to_mnist(img.ravel(), 280, 280)
    assert r.stages["scaled"]["height"] == 20 and r.stages["scaled"]["width"] == 2
    out = r.input.reshape(28, 28)
    x0, y0, x1, y1 = ink_bbox(out)
    assert y1 - y0 == 20
    assert x1 - x0 <= 3
    cx, cy = center_of_mass(out)
    assert abs(cx - 14) <= 1 and abs(cy - 14) <= 1


def test_centre_of_mass_shift_moves_ink_towards_heavy_side():
    # An "L": the heavy bottom bar pulls the centre of mass down and right of the box centre.
    img = canvas(200, 200)
    img[10:190, 10:30] = 1.0
    img[150:190, 10:190] = 1.0
    r = to_mnist(img.ravel(), 200, 200)
    boxed = np.array(r.stages["boxed"]["pixels"]).reshape(28, 28)
    bcx, bcy = center_of_mass(boxed)
    assert bcx < 13.5 and bcy > 14.5
    dx, dy = r.shift
    assert dx > 0 and dy < 0
    cx, cy = center_of_mass(r.input.reshape(28, 28))
    assert abs(cx - 14) <= 0.5 and abs(cy - 14) <= 0.5
    np.testing.assert_allclose(r.input.reshape(28, 28), shift_image(boxed, dx, dy), atol=1e-6)


def test_shift_is_clipped_so_no_ink_leaves_the_frame():
    # A "Γ" with a heavy top-left block: its centre of mass lands near (8, 8) in the boxed field, so
    # centring would want a shift of (6, 6), but the 20 px digit only has 4 px of margin each side.
    img = canvas(100, 100)
    img[0:100, 0:5] = 1.0
    img[0:5, 0:100] = 1.0
    img[0:30, 0:30] = 1.0
    r = to_mnist(img.ravel(), 100, 100)
    boxed = np.array(r.stages["boxed"]["pixels"])
    cx, cy = center_of_mass(boxed.reshape(28, 28))
    assert round(14 - cx) == 6 and round(14 - cy) == 6
    assert r.shift == (4, 4)
    assert r.input.sum() == pytest.approx(boxed.sum(), rel=1e-5)
    x0, y0, x1, y1 = ink_bbox(r.input.reshape(28, 28))
    assert x0 >= 0 and y0 >= 0 and x1 <= 28 and y1 <= 28


def test_tiny_drawing_is_enlarged_to_20():
    img = canvas(50, 50)
    img[10:13, 20:24] = 1.0  # 4 wide × 3 tall
    r = to_mnist(img.ravel(), 50, 50)
    assert (r.stages["scaled"]["width"], r.stages["scaled"]["height"]) == (20, 15)
    assert r.stages["cropped"]["width"] == 4 and r.stages["cropped"]["height"] == 3
    x0, y0, x1, y1 = ink_bbox(r.input.reshape(28, 28))
    assert (x1 - x0, y1 - y0) == (20, 15)


def test_single_pixel_drawing():
    r = to_mnist([0.0, 0.0, 0.0, 1.0], 2, 2)
    assert r.bbox == (1, 1, 2, 2)
    assert not r.empty and r.input.max() == pytest.approx(1.0)


def test_faint_drawing_is_normalised_to_full_ink():
    img = canvas(100, 100)
    img[20:80, 40:60] = 0.4
    r = to_mnist(img.ravel(), 100, 100)
    assert r.input.max() == pytest.approx(1.0)
    r_raw = to_mnist(img.ravel(), 100, 100, normalize=False)
    assert r_raw.input.max() == pytest.approx(0.4)


def test_ink_below_threshold_does_not_count():
    img = canvas(100, 100)
    img[:, :] = 0.03  # paper noise
    img[40:60, 45:55] = 1.0
    r = to_mnist(img.ravel(), 100, 100)
    assert r.bbox == (45, 40, 55, 60)


@pytest.mark.parametrize("values", [np.zeros(784), [0.0] * 784, np.full(784, 0.05)])
def test_empty_drawing(values):
    r = to_mnist(values, 28, 28)
    assert r.empty is True
    assert r.bbox is None
    assert r.shift == (0, 0)
    assert r.input.dtype == np.float32 and r.input.shape == (784,)
    assert not r.input.any()


# --- stages and output format --------------------------------------------------------------------


def test_stages_have_documented_sizes_and_centered_equals_input():
    img = canvas(400, 300)
    img[50:250, 100:180] = 1.0  # 80 × 200
    r = to_mnist(img.ravel(), 400, 300)
    s = r.stages
    assert set(s) == {"cropped", "scaled", "boxed", "centered"}
    for st in s.values():
        assert set(st) == {"width", "height", "pixels"}
        assert isinstance(st["pixels"], list) and len(st["pixels"]) == st["width"] * st["height"]
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in st["pixels"])
    assert (s["cropped"]["width"], s["cropped"]["height"]) == (22, 56)  # 80×200 shrunk to ≤ 56
    assert (s["scaled"]["width"], s["scaled"]["height"]) == (8, 20)
    assert (s["boxed"]["width"], s["boxed"]["height"]) == (28, 28)
    assert (s["centered"]["width"], s["centered"]["height"]) == (28, 28)
    assert s["centered"]["pixels"] == r.input.tolist()
    # "boxed" is the scaled digit pasted in the middle by its bounding box.
    boxed = np.array(s["boxed"]["pixels"]).reshape(28, 28)
    assert ink_bbox(boxed) == (10, 4, 18, 24)


def test_small_crop_is_shown_unscaled():
    img = canvas(100, 100)
    img[10:40, 20:70] = np.linspace(0.1, 1.0, 50)
    r = to_mnist(img.ravel(), 100, 100)
    c = r.stages["cropped"]
    assert (c["width"], c["height"]) == (50, 30)
    np.testing.assert_allclose(np.array(c["pixels"]).reshape(30, 50), img[10:40, 20:70])


def test_output_dtype_and_range_for_random_scribbles():
    rng = np.random.default_rng(0)
    for w, h in [(28, 28), (280, 280), (1, 500), (640, 33), (1024, 1024)]:
        r = to_mnist(rng.random(w * h), w, h)
        assert r.input.dtype == np.float32 and r.input.shape == (784,)
        assert r.input.min() >= 0.0 and r.input.max() <= 1.0
        assert np.isfinite(r.input).all()


def test_accepts_2d_array_and_integer_like_sizes():
    img = canvas(60, 40)
    img[5:30, 10:20] = 1
    a = to_mnist(img, np.int64(60), 40)
    b = to_mnist(img.ravel().tolist(), 60, 40)
    np.testing.assert_array_equal(a.input, b.input)
    c = to_mnist(img.ravel().astype(np.float32), 60, 40)
    np.testing.assert_allclose(a.input, c.input, atol=1e-6)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pixels, width, height, message",
    [
        ([0.0] * 783, 28, 28, "expected 784 pixels (28×28), got 783"),
        ([0.0] * 785, 28, 28, "expected 784 pixels (28×28), got 785"),
        ([0.0] * 3 + [float("nan")], 2, 2, "NaN or infinite"),
        ([0.0] * 3 + [float("inf")], 2, 2, "NaN or infinite"),
        ([0.0, -0.1, 0.0, 0.0], 2, 2, "within [0, 1]"),
        ([0.0, 0.0, 1.5, 0.0], 2, 2, "within [0, 1]"),
        ([0.0, "x", 0.0, 0.0], 2, 2, "numbers"),
        ([], 0, 28, "width must be between 1 and 1024, got 0"),
        ([0.0], 1, 0, "height must be between 1 and 1024, got 0"),
        ([0.0], -3, 1, "width must be between 1 and 1024"),
        ([0.0] * 784, 28.0, 28, "width must be an integer"),
        ([0.0] * 784, True, 28, "width must be an integer"),
        ([0.0] * 784, "28", 28, "width must be an integer"),
        (np.zeros((28, 27)), 28, 28, "shape"),
        (42, 1, 1, "sequence"),
    ],
)
def test_invalid_requests_are_refused_clearly(pixels, width, height, message):
    with pytest.raises(PreprocessError) as e:
        to_mnist(pixels, width, height)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)


def test_oversized_request_is_refused_before_touching_pixels():
    class Huge:
        """Pretends to be 4096×4096 pixels; any access means validation came too late."""

        def __len__(self):
            raise AssertionError("len() called before the size check")

        def __iter__(self):
            raise AssertionError("iterated before the size check")

    for w, h in [(4096, 4096), (4096, 28), (28, 4096), (1025, 1)]:
        with pytest.raises(PreprocessError, match="between 1 and 1024"):
            to_mnist(Huge(), w, h)


def test_error_reports_first_bad_pixel():
    px = [0.0] * 10
    px[7] = 2.0
    with pytest.raises(PreprocessError, match=r"index 7: 2"):
        to_mnist(px, 5, 2)


# --- resampling building blocks ----------------------------------------------------------------


@pytest.mark.parametrize("n_in, n_out", [(100, 20), (7, 3), (20, 20), (3, 20), (1, 20), (1024, 56)])
def test_area_matrix_rows_are_averages(n_in, n_out):
    m = area_matrix(n_in, n_out)
    assert m.shape == (n_out, n_in)
    assert (m >= 0).all()
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    # Every input pixel contributes in proportion to its share: column sums are n_out / n_in.
    np.testing.assert_allclose(m.sum(axis=0), n_out / n_in)


def test_area_downscale_preserves_mean_and_antialiases():
    # A 1-px checkerboard must average to flat grey, not alias into stripes.
    board = (np.indices((200, 200)).sum(axis=0) % 2).astype(float)
    small = resize(board, 20, 20)
    np.testing.assert_allclose(small, 0.5, atol=1e-12)
    # Fractional overlap: 7 → 3 keeps the mean exactly.
    x = np.random.default_rng(1).random((7, 7))
    assert resize(x, 3, 3).mean() == pytest.approx(x.mean())


@pytest.mark.parametrize("n_in, n_out", [(1, 20), (3, 20), (28, 300)])
def test_bilinear_matrix_interpolates(n_in, n_out):
    m = bilinear_matrix(n_in, n_out)
    assert m.shape == (n_out, n_in) and (m >= 0).all()
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    ramp = np.arange(n_in, dtype=float)
    out = m @ ramp
    assert (np.diff(out) >= -1e-12).all()  # monotone input stays monotone


def test_shift_image_fills_with_zeros_without_wrapping():
    img = np.arange(1, 26, dtype=float).reshape(5, 5)
    s = shift_image(img, 2, -1)
    assert (s[:, :2] == 0).all() and (s[-1, :] == 0).all()
    np.testing.assert_array_equal(s[:4, 2:], img[1:, :3])
    assert not shift_image(img, 5, 0).any()


# --- performance -------------------------------------------------------------------------------


def large_drawing() -> np.ndarray:
    rng = np.random.default_rng(2)
    img = np.zeros((1024, 1024))
    img[100:900, 300:700] = rng.random((800, 400))
    return img


def test_large_drawing_becomes_a_centred_28x28_input():
    img = large_drawing()
    r = to_mnist(img.ravel(), 1024, 1024)
    assert not r.empty and r.bbox == (300, 100, 700, 900)
    out = r.input.reshape(28, 28)
    assert r.input.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    # the 400×800 block's longer side becomes 20 px, and its centre of mass lands in the middle
    x0, y0, x1, y1 = ink_bbox(out)
    assert (x1 - x0, y1 - y0) == (10, 20)
    cx, cy = center_of_mass(out)
    assert abs(cx - 14) <= 1 and abs(cy - 14) <= 1


@pytest.mark.perf
def test_large_drawing_is_fast():
    """Under 100 ms for the largest drawing the page may send (a timing: only with --perf)."""
    flat = large_drawing().ravel()
    to_mnist(flat, 1024, 1024)  # warm-up
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        r = to_mnist(flat, 1024, 1024)
        best = min(best, time.perf_counter() - t)
    assert not r.empty
    assert best < 0.1, f"1024×1024 took {best * 1000:.0f} ms"
