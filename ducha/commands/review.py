"""``ducha review``: list open review items; ``ducha review set``: settle one."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from rich.table import Table

from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.results import FormResult, load_form_results
from ducha.review import (
    AUDIT_SETTLE,
    CONFLICT_LABEL,
    KIND_LABELS,
    ReviewScope,
    audit_label,
    resolve_field,
    review_queue,
)
from forms.record_sheet import field_label
from forms.values import display_value

VALIDITY_LABELS = {"valid": "有效", "invalid": "无效（缺签名）", None: "待复核签名后确定"}


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


def _sheets(session: Any, round_id: str | None, forms: set[str]) -> list[FormResult]:
    """The results of the sheets with open items: what is settled already and what still waits."""
    from sqlalchemy import select

    from ducha.db.models import IssuedSheet

    rounds = [round_id] if round_id else sorted(set(session.scalars(
        select(IssuedSheet.round).where(IssuedSheet.form_id.in_(forms)))))
    return [r for rid in rounds for r in load_form_results(session, rid) if r.form_id in forms]


def _sheet_row(result: FormResult) -> dict[str, Any]:
    return {
        "form_id": result.form_id,
        "validity": result.validity,
        "validity_label": VALIDITY_LABELS[result.validity],
        "decided_ticks": result.decided_indicators(),
        "open_fields": sorted(result.open_fields),
        "only_amounts_open": result.only_amounts_open,
    }


def run_list(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        # One line per conflict: both copies of a sheet scanned twice carry it, and it is one decision.
        items = review_queue(session, ReviewScope(round_id=args.round))
        sheets = [_sheet_row(r) for r in _sheets(session, args.round, {i.form_id for i in items})]
    rows = [
        {
            "id": i.id,
            "form_id": i.form_id,
            "field": i.field_key,
            "field_label": i.field_label,
            "kind": "conflict" if i.conflict else i.kind,
            "reason": i.reason,
            "machine_value": i.machine_value,
            "machine_value_label": display_value(i.machine_value),
            "crop": str(workspace.root / i.crop_path) if i.crop_path else None,
        }
        for i in items
    ]
    if args.json:
        print_json({"items": rows, "sheets": sheets})
        return 0
    out = console()
    if not rows:
        out.print("没有待复核的项目。")
        return 0
    shown = rows if args.limit is None else rows[: max(args.limit, 0)]
    table = Table(title=f"待复核项目（{len(rows)} 项，涉及 {len(sheets)} 份纪实表）")
    for header in ("纪实表", "类别", "栏目", "栏目代码", "机器读数", "原因", "证据图像"):
        table.add_column(header)
    for row in shown:
        # Stored codes (yes, blank, signed ...) are shown by their Chinese names, an unread value as 未读出.
        kind = CONFLICT_LABEL if row["kind"] == "conflict" else KIND_LABELS[str(row["kind"])]
        table.add_row(
            str(row["form_id"]), kind, *(str(row[k] or "-") for k in ("field_label", "field")),
            str(row["machine_value_label"]),
            *(str(row[k] or "-") for k in ("reason", "crop")),
        )
    out.print(table)
    if len(shown) < len(rows):
        out.print(f"另有 {len(rows) - len(shown)} 项未显示，去掉 --limit 可查看全部。")
    amounts_only = [s for s in sheets if s["only_amounts_open"]]
    decided = [s for s in sheets if s["validity"] is not None]
    out.print(
        f"{len(sheets)} 份纪实表有待复核项目，其中 {len(decided)} 份的签字已确定"
        f"（有效 {sum(s['validity'] == 'valid' for s in decided)} 份，"
        f"无效 {sum(s['validity'] == 'invalid' for s in decided)} 份）；"
        f"{len(amounts_only)} 份只剩金额和人数待复核，勾选和签字均已确定。"
    )
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
