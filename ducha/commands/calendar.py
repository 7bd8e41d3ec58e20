"""``ducha calendar ROUND``: a month's working days and the two-thirds minimum."""

from __future__ import annotations

import argparse
from typing import Any

from ducha.cli_helpers import add_json_flag, console, print_json, workspace_of
from ducha.rounds import parse_round_id
from ducha.workdays import holidays_path, month_workdays

WEEKDAY_NAMES = "一二三四五六日"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("calendar", help="某月的工作日和 2/3 驻村天数")
    parser.add_argument("round", metavar="轮次", help="例如 2015-08")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    year, month = parse_round_id(args.round)
    workspace = workspace_of(args)
    result = month_workdays(year, month, holidays_path(workspace.root))
    if args.json:
        print_json(
            {
                "round": args.round,
                "workdays": [d.isoformat() for d in result.days],
                "count": result.count,
                "two_thirds": result.two_thirds,
                "source": result.source,
            }
        )
        return 0
    out = console()
    out.print(f"{year}年{month}月共有 {result.count} 个工作日（数据来源：{result.source}）：")
    out.print("、".join(f"{d.day}日(周{WEEKDAY_NAMES[d.weekday()]})" for d in result.days))
    out.print(f"第一书记驻村工作日不少于 2/3，即至少 {result.two_thirds} 天。")
    return 0
