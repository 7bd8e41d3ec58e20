"""``ducha round plan|show``: plan a monthly round and show its plan."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from ducha.cli_helpers import add_json_flag, config_of, console, print_json, transaction, workspace_of
from ducha.counties import short_name
from ducha.rounds import RoundPlan, plan_round, round_plan


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("round", help="专项督查轮次：安排、查看")
    sub = parser.add_subparsers(dest="round_command", metavar="操作", required=True)

    plan = sub.add_parser("plan", help="安排一轮督查：日期、范围、摇号、分组")
    plan.add_argument("round", metavar="轮次", help="例如 2015-08")
    plan.add_argument("--seed", required=True, help="公开产生的摇号种子（必填，记录在案）")
    plan.add_argument("--replace", action="store_true", help="重新安排已安排的轮次（未印表时）")
    add_json_flag(plan)
    plan.set_defaults(handler=run_plan)

    show = sub.add_parser("show", help="查看一轮督查的安排")
    show.add_argument("round", metavar="轮次")
    add_json_flag(show)
    show.set_defaults(handler=run_show)


def print_plan(plan: RoundPlan) -> None:
    out = console()
    d = plan.dates
    out.print(f"[bold]{plan.round} 专项督查安排[/bold]")
    out.print(
        f"督查时间：{d.start:%Y年%m月%d日} 至 {d.end:%Y年%m月%d日}；"
        f"各组书面材料 {d.group_report_due:%m月%d日} 前报送；各县（区）自查报告 {d.self_inspection_due:%m月%d日} 前报送"
    )
    counts = {reason: sum(v.reason == reason for v in plan.villages) for reason in ("full", "lottery", "rectification")}
    out.print(
        f"共 {len(plan.villages)} 个村：全面督查 {counts['full']}，摇号抽查 {counts['lottery']}，整改复查 {counts['rectification']}"
    )
    lot = Table(title=f"摇号抽查（种子：{plan.lottery.seed}）")
    for header in ("县（区）", "县级单位帮扶村数", "抽取村数"):
        lot.add_column(header)
    for county, d_ in plan.lottery.per_county.items():
        lot.add_row(county, str(d_.population), str(len(d_.drawn)))
    out.print(lot)
    for group in plan.roster.groups:
        villages = plan.villages_of_group(group.no)
        leader = group.leader.name if group.leader else ""
        table = Table(title=f"{group.label}（{group.counties_label}）组长 {leader}，共 {len(villages)} 个村")
        for header in ("顺序", "县（区）", "乡镇", "村", "方式", "帮扶单位"):
            table.add_column(header, overflow="fold")
        for v in villages:
            table.add_row(str(v.visit_order), short_name(v.county), v.town, v.name, v.reason_label, "、".join(v.units))
        out.print(table)


def run_plan(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    config = config_of(workspace)
    with transaction(workspace) as session:
        plan = plan_round(session, args.round, args.seed, config, replace=args.replace)
    if args.json:
        print_json(plan.to_json())
    else:
        print_plan(plan)
        console().print(
            f"已安排 {plan.round} 轮。请公布摇号种子，并用 ducha lottery record {plan.round} 打印摇号记录。"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        plan = round_plan(session, args.round)
    if args.json:
        print_json(plan.to_json())
    else:
        print_plan(plan)
    return 0
