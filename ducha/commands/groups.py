"""``ducha groups import|show``: the inspection groups' roster for a round."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.groups import Roster, effective_roster, import_roster
from ducha.rounds import parse_round_id


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("groups", help="督查组名单（每轮可调整）")
    sub = parser.add_subparsers(dest="groups_command", metavar="操作", required=True)

    imp = sub.add_parser("import", help="导入某一轮的督查组名单")
    imp.add_argument("files", nargs="+", type=Path, metavar="文件")
    imp.add_argument("--round", required=True, help="轮次，例如 2015-08")
    add_json_flag(imp)
    imp.set_defaults(handler=run_import)

    show = sub.add_parser("show", help="显示某一轮的督查组名单")
    show.add_argument("--round", required=True, help="轮次，例如 2015-08")
    add_json_flag(show)
    show.set_defaults(handler=run_show)


def roster_json(roster: Roster) -> dict[str, Any]:
    return {
        "round": roster.round,
        "source_round": roster.source_round,
        "groups": [
            {
                "no": g.no,
                "label": g.label,
                "counties": g.counties,
                "members": [{"role": m.role, "name": m.name, "title": m.title, "phone": m.phone} for m in g.members],
            }
            for g in roster.groups
        ],
    }


def print_roster(roster: Roster) -> None:
    out = console()
    title = f"{roster.round} 专项督查组人员名单"
    if roster.source_round != roster.round:
        title += f"（沿用 {roster.source_round} 轮）"
    table = Table(title=title)
    for header in ("组别", "督查县（区）", "职务", "姓名", "单位及职务", "联系电话"):
        table.add_column(header, overflow="fold")
    for group in roster.groups:
        for index, member in enumerate(group.members):
            table.add_row(
                group.label if index == 0 else "",
                group.counties_label if index == 0 else "",
                member.role_label,
                member.name,
                member.title or "",
                member.phone or "",
            )
        table.add_section()
    out.print(table)


def run_import(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        roster = import_roster(session, args.round, list(args.files))
    if args.json:
        print_json(roster_json(roster))
        return 0
    console().print(
        f"已导入 {args.round} 轮督查组名单：{len(roster.groups)} 个组，"
        f"{sum(len(g.members) for g in roster.groups)} 人。"
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        roster = effective_roster(session, args.round)
    if args.json:
        print_json(roster_json(roster))
    else:
        print_roster(roster)
    return 0
