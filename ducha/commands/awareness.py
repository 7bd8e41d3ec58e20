"""``ducha awareness 2015-08``: 知晓率 per village from the returned surveys."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from ducha.awareness import awareness_findings
from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.rounds import parse_round_id

STATUS_LABELS = {"measured": "已读", "review": "待复核", "missing": "未交回", "empty": "无调查对象"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("awareness", help="知晓率：各村调查结果、低于 60%% 的村、与记实表满意度的对照")
    parser.add_argument("round", metavar="轮次", help="例如 2015-08")
    parser.add_argument("--all", action="store_true", help="列出所有村（默认只列低于标准、待复核或与记实表不一致的村）")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    with transaction(workspace_of(args)) as session:
        found = awareness_findings(session, args.round)
    if args.json:
        print_json(found.to_json())
        return 0
    out = console()
    overall = "—" if found.overall_pct is None else f"{found.overall_pct:g}%"
    out.print(
        f"{found.round}：调查 {found.respondents} 人，知晓 {found.aware} 人，总体知晓率 {overall}；"
        f"低于 {found.min_pct:g}% 的村 {len(found.below)} 个，待复核 {len(found.of_status('review'))} 个，"
        f"未交回 {len(found.of_status('missing'))} 个。"
    )
    table = Table(title="各村知晓率（满意度与记实表对照，仅供复核，不作修改）")
    for header in ("村", "状态", "调查人数", "知晓率", "满意/基本满意/不满意", "与记实表对照"):
        table.add_column(header, overflow="fold")
    shown = [v for v in found.villages if args.all or v.below_min or v.status == "review" or v.difference]
    for v in shown:
        rate = "" if v.rate_pct is None else f"{v.rate_pct:g}%" + ("（低于标准）" if v.below_min else "")
        sat = "/".join(str(v.satisfaction.get(k, 0)) for k in ("satisfied", "fair", "dissatisfied"))
        table.add_row(v.place, STATUS_LABELS[v.status], str(v.respondents or ""), rate,
                      sat if v.status == "measured" else "", v.difference or "")
    out.print(table)
    return 0
