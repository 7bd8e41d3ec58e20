"""Train the HOG + MLP digit classifier (the earlier model; the shipped one is two convnets from train_digit_convnets.py).

Deterministic from SEED. Uses only the allowed MNIST rows (per digit
0..399; rows 400..499 are reserved for an independent evaluation and are
never read): 0..339 train, 340..399 validate. Every training row is drawn
into comb boxes the way the simulator does (random pen, size, slant,
stroke width, elastic distortion, border, scan degradation, misaligned
crop) and goes through the reader's own preprocessing, so the classifier
learns exactly what it will see.

Usage: .venv/bin/python scripts/train_digits.py [--variants N] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np
from sklearn.neural_network import MLPClassifier

from generator.handwriting import (
    MNIST_SIMULATION_ROWS,
    MNIST_TRAIN_ROWS,
    digit_box_specimen,
    elastic_distort,
    mnist_rows,
)
from ocr.digits import (
    DIGIT_ACCEPT_MIN_CONFIDENCE,
    MODEL_PATH,
    DigitModel,
    Mlp,
    features,
    load_model,
    prepare_crop,
    prepare_mnist,
)

SEED = 20150801
VARIANTS_PER_ROW = 8
ELASTIC_PROBABILITY = 0.5
HIDDEN_UNITS = 256
ENSEMBLE_MEMBERS = 3
EPOCHS = 25
L2_PENALTY = 3e-3
VALIDATION_DEGRADED_PER_ROW = 5
THRESHOLDS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)


def render(images: np.ndarray, labels: np.ndarray, per_row: int, rng: np.random.Generator,
           degrade_scan: bool, elastic: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """Box crops as the reader gets them, ``per_row`` for each MNIST image."""
    crops, out_labels = [], []
    for image, label in zip(images, labels):
        for _ in range(per_row):
            source = image
            if elastic and rng.random() < ELASTIC_PROBABILITY:
                source = elastic_distort(image.astype(np.float32), rng, alpha_px=rng.uniform(1.0, 2.5),
                                         sigma_px=rng.uniform(3.5, 5.0)).clip(0, 255).astype(np.uint8)
            crops.append(digit_box_specimen(source, rng, degrade_scan=degrade_scan))
            out_labels.append(label)
    return crops, np.asarray(out_labels)


def prepared(crops: list[np.ndarray], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Normalised images of the crops the reader can read, their labels, and how many it could not."""
    images, kept = [], []
    for crop, label in zip(crops, labels):
        result = prepare_crop(crop)
        if result.image is not None:
            images.append(result.image)
            kept.append(label)
    return np.stack(images), np.asarray(kept), len(crops) - len(kept)


def save_crops(path: Path, crops: list[np.ndarray], labels: np.ndarray) -> None:
    shapes = np.array([c.shape for c in crops], dtype=np.int64)
    np.savez(path, flat=np.concatenate([c.ravel() for c in crops]), shapes=shapes, labels=labels)


def load_crops(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        flat, shapes, labels = data["flat"], data["shapes"], data["labels"]
    ends = np.cumsum(shapes[:, 0] * shapes[:, 1])
    starts = ends - shapes[:, 0] * shapes[:, 1]
    return [flat[a:b].reshape(shape) for a, b, shape in zip(starts, ends, shapes)], labels


def training_crops(images: np.ndarray, labels: np.ndarray, variants: int, cache: Path | None,
                   rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """Rendering is the slow part; a cache lets the classifier be retrained alone."""
    if cache is not None and cache.exists():
        print(f"training crops from cache {cache}")
        return load_crops(cache)
    degraded, degraded_labels = render(images, labels, variants, rng, degrade_scan=True, elastic=True)
    clean, clean_labels = render(images, labels, 1, rng, degrade_scan=False, elastic=True)
    # Raw MNIST rows too, as dark-on-white crops without a border.
    raw = [255 - image for image in images]
    crops = degraded + clean + raw
    all_labels = np.concatenate([degraded_labels, clean_labels, labels])
    if cache is not None:
        save_crops(cache, crops, all_labels)
    return crops, all_labels


def gate_report(name: str, model: DigitModel, images: np.ndarray, labels: np.ndarray, lost: int) -> None:
    """Accuracy, then coverage and silent errors at each threshold.

    ``lost`` counts rendered boxes the reader could not read at all (they
    go to review, so they count against coverage, not as errors).
    """
    probs, confidence = model.predict(images)
    total = len(labels) + lost
    right = probs.argmax(axis=1) == labels
    print(f"{name}: {len(labels)} read of {total}, top-1 accuracy {right.mean():.4f} "
          f"(over all rendered {right.sum() / total:.4f})")
    for threshold in THRESHOLDS:
        accepted = confidence >= threshold
        wrong = accepted & ~right
        marker = " <- DIGIT_ACCEPT_MIN_CONFIDENCE" if abs(threshold - DIGIT_ACCEPT_MIN_CONFIDENCE) < 1e-9 else ""
        print(f"  gate {threshold:.2f}: accepted {accepted.sum() / total:.4f}, "
              f"accuracy on accepted {right[accepted].mean():.4f}, "
              f"silent errors {wrong.sum()} = {wrong.sum() / max(1, accepted.sum()):.4f} of accepted{marker}")


def main() -> int:
    parser = argparse.ArgumentParser(description="训练手写数字分类器（仅用 MNIST 允许的行）")
    parser.add_argument("--variants", type=int, default=VARIANTS_PER_ROW, help="每个训练样本渲染的方格数")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="模型输出路径")
    parser.add_argument("--cache", type=Path, default=None, help="训练方格图像缓存（.npz），有则直接读取")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()

    train_images, train_labels = mnist_rows(MNIST_TRAIN_ROWS)
    val_images, val_labels = mnist_rows(MNIST_SIMULATION_ROWS)
    print(f"MNIST allowed rows: {len(train_images)} train, {len(val_images)} validation")

    crops, crop_labels = training_crops(train_images, train_labels, args.variants, args.cache, rng)
    x_images, y, lost = prepared(crops, crop_labels)
    x = features(x_images)
    print(f"training set: {len(y)} samples ({lost} rendered boxes unreadable), {x.shape[1]} features, "
          f"ready in {time.perf_counter() - started:.0f} s")

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    standardised = (x - mean) / scale
    members = []
    for m in range(ENSEMBLE_MEMBERS):
        classifier = MLPClassifier(hidden_layer_sizes=(HIDDEN_UNITS,), alpha=L2_PENALTY, batch_size=256,
                                   learning_rate_init=1e-3, max_iter=EPOCHS, random_state=SEED + m,
                                   early_stopping=False, n_iter_no_change=EPOCHS, tol=0.0)
        classifier.fit(standardised, y)
        members.append(Mlp(tuple(w.astype(np.float32) for w in classifier.coefs_),
                           tuple(b.astype(np.float32) for b in classifier.intercepts_)))
        print(f"member {m + 1}/{ENSEMBLE_MEMBERS} trained at {time.perf_counter() - started:.0f} s")
    DigitModel(mean=mean.astype(np.float32), scale=scale.astype(np.float32), members=tuple(members)).save(args.out)
    # Evaluate what ships: the saved file, int8 weights and all.
    model = load_model(args.out)

    val_rng = np.random.default_rng(SEED + 1)
    gate_report("validation, raw MNIST", model, prepare_mnist(val_images), val_labels, 0)
    clean_val = prepared(*render(val_images, val_labels, 1, val_rng, degrade_scan=False, elastic=False))
    gate_report("validation, clean boxes (300 dpi, no scan)", model, *clean_val)
    degraded_val = prepared(*render(val_images, val_labels, VALIDATION_DEGRADED_PER_ROW, val_rng,
                                    degrade_scan=True, elastic=False))
    gate_report("validation, degraded scans (100-300 dpi, blur, noise, JPEG/1-bit, ±0.5 mm)", model, *degraded_val)
    print(f"model written to {args.out}: {args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
