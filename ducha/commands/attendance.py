"""``ducha attendance template|import|check``: first secretaries' days in the village."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from ducha.attendance import attendance_findings, import_attendance, write_template
from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.rounds import parse_round_id


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("attendance", help="第一书记考勤：模板、导入、2/3 驻村天数核对")
    sub = parser.add_subparsers(dest="attendance_command", metavar="操作", required=True)

    tpl = sub.add_parser("template", help="生成考勤模板 .xlsx（给出 --round 时列出本轮督查村）")
    tpl.add_argument("file", type=Path, metavar="文件")
    tpl.add_argument("--round", help="轮次，例如 2015-08；须已安排")
    tpl.set_defaults(handler=run_template)

    imp = sub.add_parser("import", help="导入某月考勤（月汇总或逐日在村/不在村；全部正确才导入）")
    imp.add_argument("files", nargs="+", type=Path, metavar="文件")
    imp.add_argument("--round", required=True, help="轮次，例如 2015-08")
    add_json_flag(imp)
    imp.set_defaults(handler=run_import)

    check = sub.add_parser("check", help="按本轮督查村核对 2/3 驻村天数")
    check.add_argument("round", metavar="轮次", help="例如 2015-08")
    add_json_flag(check)
    check.set_defaults(handler=run_check)


def run_template(args: argparse.Namespace) -> int:
    if args.round is None:
        path = write_template(args.file)
    else:
        parse_round_id(args.round)
        with transaction(workspace_of(args)) as session:
            path = write_template(args.file, session, args.round)
    console().print(f"已生成考勤模板：{path}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        report = import_attendance(session, workspace.root, list(args.files), args.round)
    if args.json:
        print_json(
            {
                "round": report.round, "workdays": report.workdays, "required": report.required,
                "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                "records": [{"code": r.code, "secretary": r.secretary, "days": r.days} for r in report.records],
            }
        )
        return 0
    out = console()
    out.print(
        f"{report.round}：本月工作日 {report.workdays} 天，第一书记应在村不少于 {report.required} 天。"
        f"导入 {len(report.records)} 人：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}；"
        f"其中 {len(report.short)} 人不足 {report.required} 天。"
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        found = attendance_findings(session, workspace.root, args.round)
    if args.json:
        print_json(found.to_json())
        return 0
    out = console()
    out.print(
        f"{found.round}：本月工作日 {found.workdays} 天，应在村不少于 {found.required} 天；"
        f"已导入考勤 {found.checked} 村，未提供 {len(found.missing)} 村，不足 {len(found.short)} 人。"
    )
    if found.short:
        table = Table(title="驻村天数不足 2/3")
        for header in ("村", "第一书记", "在村天数", "帮扶单位"):
            table.add_column(header, overflow="fold")
        for s in found.short:
            table.add_row(s.place, s.secretary or "", str(s.days), "、".join(s.units))
        out.print(table)
    if found.missing:
        out.print("未提供考勤：" + "、".join(s.place for s in found.missing))
    return 0
