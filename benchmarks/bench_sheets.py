"""Sheets per second: the batched pipeline against the naive way, same run.

Batched: render every .docx, the sheets batched as flat ODT (prototypes
made from scratch), one LibreOffice process per core, every page's ID and
geometry checked, group PDFs assembled.
Naive: render, then one LibreOffice call per sheet (measured on a smaller
subset, reported per sheet). Prints rates, their ratio and the time 1,000
sheets would take at the batched rate.

    .venv/bin/python benchmarks/bench_sheets.py [--sheets 200] [--naive 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forms.record_sheet import INDICATORS
from generator.batch import render_and_convert
from generator.group_pdf import assemble
from generator.measure import sheet_differences
from generator.pdf_convert import convert_to_pdf, default_workers
from generator.record_sheet import RectificationLine, SheetData, render_sheet

BENCH_KEY = b"benchmark-key-not-a-workspace-key"
TOWNS = ("曾口镇", "清江镇", "化成镇", "三江镇", "水宁寺镇")
SURNAMES = "王李张刘陈杨赵黄周吴"
ROUND_TRIP_TARGET_RATIO = 15.0
TARGET_1000_SHEETS_S = 60.0


def fictional_sheets(count: int) -> list[SheetData]:
    """Sample-like villages: fictional names, every tenth with follow-up items."""
    sheets = []
    for i in range(count):
        items = tuple(
            RectificationLine(i * 10 + k, INDICATORS[(i + k) % len(INDICATORS)].key, "上月发现的问题，需复查", "2015-07")
            for k in range(1 + i % 3)
        ) if i % 10 == 0 else ()
        sheets.append(SheetData(
            round="2015-08", village_code=f"5119029{i:05d}", village=f"测试{i}村", county="巴州区",
            town=TOWNS[i % len(TOWNS)], group_no=1 + i % 5, sponsor_units=(f"巴中市测试局{i % 37}",),
            team_size=3, team_leader=f"{SURNAMES[i % 10]}队长", secretary=f"{SURNAMES[(i + 3) % 10]}书记",
            population=800 + i, poor_population=100 + i % 50, income_yuan=2800.0 + i, rectification=items,
        ))
    return sheets


def _cpu_s() -> tuple[float, float]:
    """CPU seconds of this process and of its finished children (LibreOffice)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def batched(sheets: list[SheetData], work: Path, workers: int) -> float:
    start = time.perf_counter()
    # A fresh prototype cache: making the flat ODT prototypes is timed too.
    outputs, _ = render_and_convert(
        sheets, BENCH_KEY, lambda d: work / "docx" / f"{d.village_code}.docx", work / "pdf", workers=workers,
        prototype_cache_dir=work / "prototypes",
    )
    for group in sorted({s.group_no for s in sheets}):
        parts = [(o.pdf, o.page_indices) for o in outputs if o.rendered.data.group_no == group]
        assemble(parts, work / f"group{group}.pdf")
    return time.perf_counter() - start


def naive(sheets: list[SheetData], work: Path) -> float:
    start = time.perf_counter()
    for data in sheets:
        rendered = render_sheet(data, BENCH_KEY, work / "docx" / f"{data.village_code}.docx")
        [pdf] = convert_to_pdf([rendered.docx], work / "pdf", workers=1, expected_pages={rendered.docx: rendered.pages})
        if sheet_differences(pdf, len(rendered.rectification_item_ids)):
            raise SystemExit(f"版面偏差：{data.village}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="纪实表印制速度：批量 vs 逐个调用 LibreOffice")
    parser.add_argument("--sheets", type=int, default=200)
    parser.add_argument("--naive", type=int, default=20)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    sheets = fictional_sheets(args.sheets)
    with tempfile.TemporaryDirectory(prefix="ducha-bench-") as tmp:
        work = Path(tmp)
        # Warm-up: profiles and font caches exist before either way is timed.
        convert_to_pdf(
            [render_sheet(sheets[0], BENCH_KEY, work / "warm" / "w.docx").docx], work / "warm", workers=args.workers
        )
        naive_s = naive(sheets[: args.naive], work / "naive")
        own_0, lo_0 = _cpu_s()
        batch_s = batched(sheets, work / "batch", args.workers)
        own_1, lo_1 = _cpu_s()
    naive_rate = args.naive / naive_s
    batch_rate = args.sheets / batch_s
    print(f"逐个调用（{args.naive} 张）：{naive_s:.1f} 秒，{naive_rate:.2f} 张/秒，每张 {naive_s / args.naive:.2f} 秒")
    print(f"批量（{args.sheets} 张，{args.workers} 个进程）：{batch_s:.1f} 秒，{batch_rate:.2f} 张/秒，"
          f"每张 {batch_s / args.sheets:.3f} 秒")
    print(f"批量所用 CPU：本进程 {own_1 - own_0:.1f} 秒，LibreOffice {lo_1 - lo_0:.1f} 秒"
          f"（共 {own_1 - own_0 + lo_1 - lo_0:.1f} 秒，{args.workers} 核上至少 "
          f"{(own_1 - own_0 + lo_1 - lo_0) / args.workers:.1f} 秒）")
    print(f"倍数：{batch_rate / naive_rate:.1f}×（目标 ≥ {ROUND_TRIP_TARGET_RATIO:.0f}×）")
    print(f"按此速度 1000 张约需 {1000 / batch_rate:.0f} 秒（目标 ≤ {TARGET_1000_SHEETS_S:.0f} 秒）")
    print(f"本机负载（1 分钟平均）：{os.getloadavg()[0]:.1f}，CPU 核数：{os.cpu_count()}")


if __name__ == "__main__":
    main()
