"""Stress test: an EMPTY signature slot must never be read as signed.

For each case (a stray pen stroke; part of a seal reaching into the slot,
with or without a stroke; a seal on a 1-bit scan) it draws ``--seeds``
pages of the real printed sheet with every other slot signed, scans each
the harsh ways real returns come in (phone photos, copier copies, 1-bit,
150-300 dpi), reads it, and counts how the empty slot was read.

    .venv/bin/python benchmarks/bench_empty_slots.py [--seeds 1000] [--workdir DIR]

``--workdir`` may hold ``printed/`` from ``bench_scan.py``; it is reused.
Exit status 1 when any empty slot was read as signed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_scan import ROUND, WORKERS, prepare
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet
from ducha.pool import process_pool
from ducha.simulate import EmptySlotCase, empty_slot_reading
from ducha.workspace import open_workspace
from generator.simulate import EMPTY_SLOT_CASES

SHEETS = 6
# Progress is printed after each block of this many seeds (every case), so a run stopped early still says
# how far it got with none signed.
BLOCK_SEEDS = 60
_KEY = b""


def _init(key: bytes) -> None:
    global _KEY
    _KEY = key


def _read(item: EmptySlotCase) -> dict[str, object]:
    out = empty_slot_reading(item, _KEY)
    out.pop("signatures", None)
    return out


def _progress(results: list[dict[str, object]], cases: list[str], seconds: float) -> None:
    seeds = sorted({int(str(r["seed"])) for r in results})
    signed = {case: sum(1 for r in results if r["case"] == case and r["state"] == "signed") for case in cases}
    print(f"  进度：{len(results)} 页（种子 {seeds[0]}–{seeds[-1]}，每种情形 {len(results) // len(cases)} 页），"
          f"{seconds:.0f} 秒；读为已签 {signed}", flush=True)
    for r in results[-BLOCK_SEEDS * len(cases):]:
        if r["state"] == "signed":
            print(f"    已签（错误）：{r['case']} seed {r['seed']} {r['empty']} {r['notes']}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="每种情形的页数")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--cases", nargs="*", default=list(EMPTY_SLOT_CASES))
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-empty-"))
    root = workdir / "printed"
    ws = open_workspace(str(root)) if (root / "workspace.json").exists() else prepare(root)
    with Session(ws.engine()) as session:
        sheets = session.scalars(select(IssuedSheet).where(IssuedSheet.round == ROUND)
                                 .order_by(IssuedSheet.form_id)).all()[:SHEETS]
        pages = [(s.pdf_path, s.pdf_pages[0], s.layout_version) for s in sheets]
    # Seeds in blocks, so a run cut short has covered every case evenly; within a block ordered by
    # sheet, and one chunk a sheet, so a worker renders each sheet once a block.
    last = args.first_seed + args.seeds
    per_sheet = max(1, BLOCK_SEEDS // len(pages))
    items = [EmptySlotCase(path, page, layout, case, seed)
             for block in range(args.first_seed, last, BLOCK_SEEDS)
             for n, (path, page, layout) in enumerate(pages)
             for case in args.cases
             for seed in range(block, min(block + BLOCK_SEEDS, last)) if seed % len(pages) == n]
    start = time.perf_counter()
    results: list[dict[str, object]] = []
    with process_pool(WORKERS, initializer=_init, initargs=(ws.key(),)) as pool:
        for result in pool.map(_read, items, chunksize=per_sheet * len(args.cases)):
            results.append(result)
            if len(results) % (BLOCK_SEEDS * len(args.cases)) == 0:
                _progress(results, args.cases, time.perf_counter() - start)
    seconds = time.perf_counter() - start
    bad = 0
    print(f"空白签名栏压力测试：每种情形 {args.seeds} 页，{len(results)} 页共 {seconds:.0f} 秒"
          f"（{len(results) / seconds:.1f} 页/秒，{WORKERS} 个进程）")
    for case in args.cases:
        rows = [r for r in results if r["case"] == case]
        states = Counter(str(r["state"]) for r in rows)
        signed = [r for r in rows if r["state"] == "signed"]
        valid = [r for r in rows if r["validity"] == "valid"]
        bad += len(signed)
        print(f"  {case}: 读为已签 {len(signed)}，判为有效 {len(valid)}；读数 {dict(states)}")
        reasons = Counter(str(r["reason"]) for r in rows if r["state"] == "uncertain")
        print(f"    待核对原因：{dict(reasons)}")
        for r in signed[:10]:
            print(f"    已签（错误）：seed {r['seed']} {r['empty']} {r['notes']}")
    print("  [达标] 空白签名栏从未读为已签" if not bad else f"  [未达标] {bad} 个空白签名栏读为已签")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
