"""``ducha scan PATH...``: read returned record sheets in bulk."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ducha.cli_helpers import add_json_flag, console, err_console, print_json, workspace_of
from ducha.cli_parser import positive_int
from ducha.scan import STOP_AFTER_ENV, ScanReport, scan

STATUS_LABELS = {"recorded": "已入库", "review": "待复核", "rejected": "已拒收"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="读取交回的纪实表扫描件（PDF、TIFF、JPEG、PNG 或文件夹）",
        description=(
            "读取扫描件的每一页：识别二维码、对齐、读取勾选、数字和签名。"
            "每页结果为“已入库”“待复核”或“已拒收”之一。中断后重新运行同一命令即可继续。"
            f"（测试用：环境变量 {STOP_AFTER_ENV}=N 或 --stop-after N 在存入 N 页后立即退出，模拟中断。）"
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="路径", help="扫描文件或文件夹（递归读取）")
    parser.add_argument("--round", help="只接收这一轮（YYYY-MM）的纪实表，其他轮次的页面拒收")
    parser.add_argument("--workers", type=positive_int, help="并行进程数（默认为 CPU 核数）")
    parser.add_argument(
        "--retry-rejected", action="store_true",
        help="把此前拒收的页面全部重新读取（原结果保留在历史记录中）；"
        "因轮次不符、识别工具出错或读表程序更新而拒收的页面，不加此项也会重新读取",
    )
    parser.add_argument("--stop-after", type=int, help=argparse.SUPPRESS)
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with Progress(
        TextColumn("读取扫描页"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = scan(
            workspace,
            list(args.paths),
            round_id=args.round,
            workers=args.workers,
            progress=progress,
            stop_after_pages=args.stop_after,
            retry_rejected=args.retry_rejected,
        )
    if args.json:
        print_json(report.to_json())
    else:
        print_summary(report)
    return 0


def print_summary(report: ScanReport) -> None:
    out = console()
    problems = [p for p in report.pages if p["status"] != "recorded"]
    if problems:
        detail = Table(title="需要处理的页面")
        for header in ("文件", "页", "状态", "纪实表", "原因"):
            detail.add_column(header)
        for page in problems:
            detail.add_row(
                page["source"], str(page["page"]), STATUS_LABELS[page["status"]], page["form_id"] or "-", page["reason"] or ""
            )
        out.print(detail)
    for note in report.notes:
        out.print(f"说明：{note}")
    summary = report.summary
    table = Table(title="扫描汇总")
    for header in ("输入页数", "已入库", "待复核", "已拒收"):
        table.add_column(header, justify="right")
    table.add_row(
        str(summary["input_pages"]), str(summary["recorded"]), str(summary["review"]), str(summary["rejected"])
    )
    out.print(table)
    if report.review_reasons:
        reasons = Table(title=f"待复核页面按原因（共 {summary['review']} 页，一页可有多个原因）")
        reasons.add_column("原因")
        reasons.add_column("页数", justify="right")
        for reason, count in report.review_reasons.items():
            reasons.add_row(reason, str(count))
        out.print(reasons)
    if summary["review"]:
        out.print("请运行 ducha review 查看待复核的项目。")
