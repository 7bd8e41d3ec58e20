"""``ducha notice 2015-08 --number 126``: the monthly red-header 通报 (.docx and PDF)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from ducha.cli_helpers import add_json_flag, console, output_dir, print_json, transaction, workspace_of
from ducha.errors import RoundError
from ducha.notice import write_notice
from ducha.rounds import parse_round_id


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期“{text}”格式不对，应为 YYYY-MM-DD，例如 2015-09-05") from exc


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("notice", help="生成专项督查情况通报（红头文件 .docx 和 PDF）")
    parser.add_argument("round", help="轮次，例如 2015-08")
    parser.add_argument("--number", type=int, help="发文字号的顺序号，例如 126（巴市组办〔2015〕126号）；正式通报必填，草稿不编号")
    parser.add_argument("--date", type=_date, help="成文日期 YYYY-MM-DD（默认今天）")
    parser.add_argument("--out", type=Path, help="输出目录（默认工作区的 notices 目录）")
    parser.add_argument("--joint", action="store_true", help="四部门联合发文")
    parser.add_argument("--draft", action="store_true",
                        help="生成草稿：每页标注“草稿”，不编发文字号，不登记整改事项；仍有待复核的记实表时也可生成")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    if args.number is None and not args.draft:
        raise RoundError("正式通报须给出发文字号的顺序号，例如 --number 126；草稿请加 --draft")
    if args.number is not None and args.number <= 0:
        raise RoundError("发文字号的顺序号应为正整数，不加“第”，不补零")
    if args.out is not None:
        output_dir(args.out)
    workspace = workspace_of(args)
    date = args.date or dt.date.today()
    with transaction(workspace) as session:
        out = write_notice(
            session, workspace, args.round, number=args.number, date=date, joint=args.joint,
            out_dir=args.out, draft=args.draft,
        )
    if args.json:
        print_json({
            "docx": str(out.docx), "pdf": str(out.pdf), "pages": out.pages, "body_pages": out.body_pages,
            "detail_xlsx": str(out.detail_xlsx), "detail_pdf": str(out.detail_pdf),
            "criticised": out.criticised, "invalid": out.invalid,
        })
        return 0
    con = console()
    kind = "通报草稿" if args.draft else "通报"
    con.print(f"{kind}已生成（共 {out.pages} 页，正文 {out.body_pages} 页）：")
    con.print(f"  Word：{out.docx}")
    con.print(f"  PDF ：{out.pdf}")
    con.print(f"各村明细（内部用，不随通报印发）：{out.detail_xlsx}，{out.detail_pdf}")
    t = out.findings.total
    con.print(f"督查 {t.villages} 个村：有效 {t.valid}，无效 {t.invalid}，未收回 {t.missing}；存在问题 {t.problem_villages} 个村")
    if out.criticised:
        con.print(f"通报批评：{'、'.join(out.criticised)}")
    return 0
