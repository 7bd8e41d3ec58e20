"""``ducha counties receive|status``: the counties' monthly self-inspection reports."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from rich.table import Table

from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.county_reports import CountyReportError, county_reports_status, receive_report


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CountyReportError(f"日期应为 年-月-日，例如 2015-09-04，实际为“{text}”") from exc


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("counties", help="各县（区）每月自查自纠报告：登记收到、报送情况")
    sub = parser.add_subparsers(dest="counties_command", metavar="操作", required=True)

    rec = sub.add_parser("receive", help="登记收到某县（区）的自查报告（文件复制到工作区，记录日期和 SHA-256）")
    rec.add_argument("round", metavar="轮次", help="例如 2015-08")
    rec.add_argument("county", metavar="县区", help="例如 巴州区、经开区")
    rec.add_argument("file", type=Path, metavar="文件")
    rec.add_argument("--date", help="收到日期（默认今天），例如 2015-09-04")
    add_json_flag(rec)
    rec.set_defaults(handler=run_receive)

    status = sub.add_parser("status", help="按次月5日的期限列出按时、逾期和未报送的县（区）")
    status.add_argument("round", metavar="轮次", help="例如 2015-08")
    status.add_argument("--as-of", help="按哪一天判断未报送（默认今天）")
    add_json_flag(status)
    status.set_defaults(handler=run_status)


def run_receive(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        got = receive_report(session, workspace.root, args.round, args.county, args.file, _date(args.date))
    if args.json:
        print_json(
            {
                "round": got.round, "county": got.county, "received_on": got.received_on.isoformat(),
                "sha256": got.sha256, "path": str(got.path), "duplicate": got.duplicate,
            }
        )
        return 0
    if got.duplicate:
        console().print(f"{got.county} {got.round} 的这份报告已于 {got.received_on.isoformat()} 登记过，未重复登记。")
    else:
        console().print(
            f"已登记 {got.county} {got.round} 自查报告，收到日期 {got.received_on.isoformat()}，"
            f"SHA-256 {got.sha256}，已存入 {got.path}"
        )
    return 0


def run_status(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        status = county_reports_status(session, workspace.root, args.round, _date(args.as_of))
    if args.json:
        print_json(status.to_json())
        return 0
    table = Table(title=f"{status.round} 各县（区）自查报告（应于 {status.due.isoformat()} 前报送）")
    for header in ("县（区）", "情况", "收到日期", "文件数", "文件（收到日期 SHA-256 前 12 位）"):
        table.add_column(header)
    for c in status.counties:
        files = "\n".join(f"{r.original_name} {r.received_on.isoformat()} {r.sha256_short}" for r in c.reports)
        table.add_row(
            c.county, c.label, c.first_received_on.isoformat() if c.first_received_on else "", str(c.files or ""),
            files,
        )
    console().print(table)
    return 0

