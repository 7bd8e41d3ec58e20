"""``ducha report group N 2015-08``: a group's written report (.docx and PDF)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ducha.cli_helpers import add_json_flag, console, output_dir, print_json, transaction, workspace_of
from ducha.group_report import write_group_report
from ducha.rounds import parse_round_id


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="督查报告")
    sub = parser.add_subparsers(dest="report_command", metavar="类型", required=True)
    group = sub.add_parser("group", help="督查组书面报告（专项督查结束后2天内报送）")
    group.add_argument("group_no", type=int, help="督查组编号，例如 1")
    group.add_argument("round", help="轮次，例如 2015-08")
    group.add_argument("--out", type=Path, help="输出目录（默认工作区的 reports 目录）")
    add_json_flag(group)
    group.set_defaults(handler=run_group)


def run_group(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    if args.out is not None:
        output_dir(args.out)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        out = write_group_report(session, workspace, args.group_no, args.round, out_dir=args.out)
    if args.json:
        print_json({"docx": str(out.docx), "pdf": str(out.pdf), "pages": out.pages, "villages": out.villages})
        return 0
    con = console()
    con.print(f"督查组书面报告已生成（{out.villages} 个村，{out.pages} 页）：")
    con.print(f"  Word：{out.docx}")
    con.print(f"  PDF ：{out.pdf}")
    return 0
