"""Fast replacements must give exactly what the slow originals gave."""

from __future__ import annotations

import numpy as np

from ocr.digits import _sorted_median, _sorted_percentile
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
