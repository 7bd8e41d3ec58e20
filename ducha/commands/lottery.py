"""``ducha lottery verify|record``: re-run a round's draw; print its record."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ducha.cli_helpers import add_json_flag, console, output_file, print_json, transaction, workspace_of
from ducha.lottery import record_path, verify
from ducha.rounds import parse_round_id

EXIT_MISMATCH = 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("lottery", help="摇号：复核、打印记录")
    sub = parser.add_subparsers(dest="lottery_command", metavar="操作", required=True)

    ver = sub.add_parser("verify", help="用记录的种子重新摇号，核对结果（不一致时退出码 1）")
    ver.add_argument("round", metavar="轮次")
    add_json_flag(ver)
    ver.set_defaults(handler=run_verify)

    rec = sub.add_parser("record", help="生成可打印的摇号记录（.docx，含见证人签字栏）")
    rec.add_argument("round", metavar="轮次")
    rec.add_argument("-o", "--output", type=Path, help="输出文件（默认工作区 lottery 目录）")
    rec.set_defaults(handler=run_record)


def run_verify(args: argparse.Namespace) -> int:
    parse_round_id(args.round)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        result = verify(session, args.round)
    if args.json:
        print_json(
            {
                "round": result.round,
                "ok": result.ok,
                "replay_matches": result.replay_matches,
                "population_unchanged": result.population_unchanged,
                "recorded_sha256": result.recorded_sha256,
                "current_sha256": result.current_sha256,
                "changed_counties": result.changed_counties,
            }
        )
        return 0 if result.ok else EXIT_MISMATCH
    out = console()
    out.print(f"用记录的种子对记录的抽签总体重新摇号：{'结果一致' if result.replay_matches else '结果不一致！'}")
    if result.population_unchanged:
        out.print(f"当前台账的抽签总体与摇号时相同（SHA-256 {result.current_sha256[:16]}…）")
    else:
        out.print(
            f"当前台账的抽签总体与摇号时不同：{'、'.join(result.changed_counties)}"
            f"（摇号时 {result.recorded_sha256[:16]}…，现在 {result.current_sha256[:16]}…）"
        )
    out.print(f"{args.round} 轮摇号复核{'通过' if result.ok else '未通过'}。")
    return 0 if result.ok else EXIT_MISMATCH


def run_record(args: argparse.Namespace) -> int:
    from ducha.lottery_record import write_lottery_record  # python-docx is slow to import

    parse_round_id(args.round)
    if args.output is not None:
        output_file(args.output)
    workspace = workspace_of(args)
    path = args.output or record_path(workspace, args.round)
    with transaction(workspace) as session:
        write_lottery_record(session, args.round, path)
    console().print(f"已生成摇号记录：{path}")
    return 0
