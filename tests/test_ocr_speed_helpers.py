"""Fast replacements must give exactly what the slow originals gave."""

from __future__ import annotations

import numpy as np

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
