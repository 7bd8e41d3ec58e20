"""``ducha surveys 2015-08 [--group N]``: print the awareness surveys (知晓率调查表)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.rounds import parse_round_id
from ducha.surveys import issue_forms
from generator.record_sheet import group_label


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("surveys", help="印制知晓率调查表：每村一页，每组一份 PDF（与纪实表一同带到村里）")
    parser.add_argument("round", metavar="轮次", help="例如 2015-08")
    parser.add_argument("--group", type=int, help="只印某一组（组号，例如 1）")
    parser.add_argument("--out", type=Path, help="输出目录（默认：工作区/sheets/轮次）")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        report = issue_forms(workspace, session, args.round, group=args.group, out_dir=args.out)
    if args.json:
        print_json(report.to_json())
        return 0
    out = console()
    out.print(f"[bold]{args.round} 轮知晓率调查表已生成：{len(report.forms)} 个村[/bold]")
    for grp, pdf in sorted(report.group_pdfs.items()):
        count = sum(1 for f in report.forms if f.group == grp)
        out.print(f"  {group_label(grp)}：{count} 页：{pdf}", soft_wrap=True)
    return 0
