"""``ducha sheets 2015-08 [--group N] [--out DIR] [--json]``: print the record sheets."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ducha.cli_helpers import add_json_flag, console, err_console, output_dir, print_json, transaction, workspace_of
from ducha.cli_parser import positive_int
from ducha.rounds import parse_round_id
from ducha.sheets import issue_sheets
from generator.record_sheet import group_label


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sheets", help="印制督查记实表：每村一份 Word，每组一份可打印 PDF")
    parser.add_argument("round", metavar="轮次", help="例如 2015-08")
    parser.add_argument("--group", type=int, help="只印某一组（组号，例如 1）")
    parser.add_argument("--out", type=Path, help="输出目录（默认：工作区/sheets/轮次）")
    parser.add_argument("--workers", type=positive_int, help="同时运行的 LibreOffice 进程数（默认每核一个）")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    if args.out is not None:
        output_dir(args.out)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        report = issue_sheets(workspace, session, args.round, group=args.group, out_dir=args.out, workers=args.workers)
    if args.json:
        print_json(report.to_json())
    else:
        out = console()
        out.print(f"[bold]{args.round} 轮督查记实表已生成：{len(report.sheets)} 个村[/bold]")
        for g in report.group_pdfs:
            count = sum(1 for s in report.sheets if s.group == g.group)
            out.print(f"  {group_label(g.group)}：{count} 张表，PDF 共 {g.pages} 页（双面打印）：{g.pdf}", soft_wrap=True)
        if report.sheets:
            out.print(f"  每村可编辑的 Word 文件在：{report.sheets[0].docx.parent.parent}", soft_wrap=True)
    for note in report.notes:
        err_console().print(f"[yellow]说明：{note}[/yellow]", soft_wrap=True)
    if report.warnings:
        warn = err_console()
        warn.print(f"[bold yellow]注意：{len(report.warnings)} 个村的台账数据不全，相应栏目在表上留空：[/bold yellow]")
        for line in report.warnings:
            warn.print(f"  - {line}", soft_wrap=True)
    return 0
