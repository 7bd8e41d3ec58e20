"""Fast replacements must give exactly what the slow originals gave."""

from __future__ import annotations

import numpy as np

from generator.handwriting import digit_box_specimen, mnist_rows
from ocr.digits import _sorted_median, _sorted_percentile, prepare_crop, prepare_crops
from ocr.marks import percentile_u8


def test_histogram_percentile_equals_numpy_percentile() -> None:
    rng = np.random.default_rng(7)
    for i in range(400):
        h, w = (int(v) for v in rng.integers(1, 120, 2))
        if i % 2:
            image = rng.integers(0, 256, (h, w)).astype(np.uint8)
        else:
            # Paper-like: mostly light with dark ink, the case paper_level_of sees.
            image = np.clip(rng.normal(225, 12, (h, w)), 0, 255).astype(np.uint8)
            image[rng.random((h, w)) < 0.1] = 30
        for q in (10.0, 50.0, 90.0):
            assert percentile_u8(image[::3, ::2], q) == float(np.percentile(image[::3, ::2], q))


def test_sorted_median_and_percentile_equal_numpy() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        values = np.sort(rng.integers(0, 40, int(rng.integers(1, 60))))
        assert _sorted_median(values) == float(np.median(values))
        assert abs(_sorted_percentile(values, 25.0) - float(np.percentile(values, 25.0))) < 1e-9


def test_crops_prepared_together_equal_crops_prepared_alone() -> None:
    rng = np.random.default_rng(5)
    images, _labels = mnist_rows(range(340, 343))
    crops = [digit_box_specimen(image, rng) for image in images]
    crops += [digit_box_specimen(None, rng) for _ in range(5)]
    # Odd ones in the same batch: too small to read, dark paper, a speck.
    speck = np.full((80, 70), 250, np.uint8)
    speck[40:42, 30:32] = 30
    crops += [np.full((5, 5), 255, np.uint8), np.full((40, 30), 40, np.uint8), speck]
    assert len({crop.shape for crop in crops}) > 3
    together = prepare_crops(crops)
    for crop, batched in zip(crops, together):
        alone = prepare_crop(crop)
        assert (alone.blank, alone.ink_ratio, alone.ink_height_ratio) == \
            (batched.blank, batched.ink_ratio, batched.ink_height_ratio)
        assert (alone.image is None) == (batched.image is None)
        if alone.image is not None:
            np.testing.assert_array_equal(alone.image, batched.image)
