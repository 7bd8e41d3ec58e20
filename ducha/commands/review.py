"""``ducha review``: list open review items; ``ducha review set``: settle one."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from rich.table import Table

from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.review import AUDIT_SETTLE, audit_label, open_items, resolve_field
from forms.record_sheet import field_label
from forms.values import display_value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("review", help="查看待复核项目；review set 填写复核结果")
    parser.add_argument("--round", help="只看这一轮（YYYY-MM）")
    parser.add_argument("--limit", type=int, metavar="N", help="只显示前 N 项")
    add_json_flag(parser)
    parser.set_defaults(handler=run_list)
    sub = parser.add_subparsers(dest="review_command", metavar="操作")
    set_ = sub.add_parser("set", help="填写一个栏目的复核结果（覆盖机器读数，机器读数保留）")
    set_.add_argument("form", metavar="纪实表编号", help="例如 2015-08-511902101201")
    set_.add_argument("field", metavar="栏目", help="例如 team_3、poverty_fund、village_head、rect_1、page")
    set_.add_argument("value", metavar="值", help="是/否/未填、数字、已签/未签、已整改/未整改、已核对")
    set_.add_argument("--by", help="复核人姓名（默认为当前登录用户）")
    set_.set_defaults(handler=run_set)


def run_list(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        items = open_items(session, args.round)
    rows = [
        {
            "id": i.id,
            "form_id": i.form_id,
            "field": i.field_key,
            "field_label": field_label(i.field_key),
            "reason": i.reason,
            "machine_value": i.machine_value,
            "machine_value_label": display_value(i.machine_value),
            "crop": str(workspace.root / i.crop_path) if i.crop_path else None,
        }
        for i in items
    ]
    if args.json:
        print_json({"items": rows})
        return 0
    out = console()
    if not rows:
        out.print("没有待复核的项目。")
        return 0
    shown = rows if args.limit is None else rows[: max(args.limit, 0)]
    table = Table(title=f"待复核项目（{len(rows)} 项）")
    for header in ("纪实表", "栏目", "栏目代码", "机器读数", "原因", "证据图像"):
        table.add_column(header)
    for row in shown:
        # Stored codes (yes, blank, signed ...) are shown by their Chinese names, an unread value as 未读出.
        table.add_row(
            *(str(row[k] or "-") for k in ("form_id", "field_label", "field")),
            str(row["machine_value_label"]),
            *(str(row[k] or "-") for k in ("reason", "crop")),
        )
    out.print(table)
    if len(shown) < len(rows):
        out.print(f"另有 {len(rows) - len(shown)} 项未显示，去掉 --limit 可查看全部。")
    out.print("核对后运行：ducha review set 纪实表编号 栏目 值 --by 姓名")
    return 0


def run_set(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    by = args.by or getpass.getuser()
    from ducha.desk.audit import audit

    with transaction(workspace) as session:
        settled = resolve_field(session, args.form, args.field, args.value, by)
        for done in settled:
            audit(session, by, AUDIT_SETTLE, done.target, audit_label(done.before), audit_label(done.after))
    console().print(
        f"已记录：{args.form} 的 {field_label(args.field)}（{args.field}）为 {display_value(args.value)}"
        f"（复核人 {by}，{len(settled)} 项）"
    )
    return 0
