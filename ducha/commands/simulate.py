"""``ducha simulate ROUND --out DIR``: simulated returned scans for testing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ducha.cli_helpers import console, output_dir, transaction, workspace_of
from ducha.cli_parser import positive_int
from ducha.simulate import simulate_round


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("simulate", help="模拟交回的纪实表扫描件（填写、盖章、扫描失真），并写出标准答案")
    parser.add_argument("round", metavar="轮次", help="例如 2015-08")
    parser.add_argument("--out", type=Path, required=True, help="输出目录")
    parser.add_argument("--seed", type=int, default=0, help="随机种子（默认 0），同一种子结果相同")
    parser.add_argument("--limit", type=int, help="只模拟前 N 份纪实表")
    parser.add_argument("--workers", type=positive_int, help="并行进程数（默认为 CPU 核数）")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    output_dir(args.out)
    workspace = workspace_of(args)
    with transaction(workspace) as session:
        truth = simulate_round(session, args.round, args.out, seed=args.seed, limit_sheets=args.limit,
                               workers=args.workers)
    console().print(f"已生成模拟扫描件：{args.out}（标准答案：{truth}）")
    return 0
