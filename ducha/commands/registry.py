"""``ducha registry import|template|export``: the registry of villages and units."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.progress import Progress

from ducha.cli_helpers import (
    add_json_flag,
    console,
    err_console,
    output_file,
    print_json,
    transaction,
    workspace_of,
)
from ducha.registry import import_files, write_registry_xlsx, write_template_xlsx

TEMPLATE_FILE_NAME = "帮扶村台账模板.xlsx"
EXPORT_FILE_NAME = "帮扶村台账.xlsx"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("registry", help="帮扶村台账：导入、模板、导出")
    sub = parser.add_subparsers(dest="registry_command", metavar="操作", required=True)

    imp = sub.add_parser("import", help="导入 .xlsx 或 .csv 台账（全部正确才导入）")
    imp.add_argument("files", nargs="+", type=Path, metavar="文件")
    add_json_flag(imp)
    imp.set_defaults(handler=run_import)

    tpl = sub.add_parser("template", help="生成空白台账模板（含填表说明）")
    tpl.add_argument("-o", "--output", type=Path, default=Path(TEMPLATE_FILE_NAME), help="输出文件")
    tpl.set_defaults(handler=run_template)

    exp = sub.add_parser("export", help="把台账导出为 .xlsx（可修改后再导入）")
    exp.add_argument("-o", "--output", type=Path, help="输出文件（默认工作区 reports 目录）")
    exp.set_defaults(handler=run_export)


def run_import(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with Progress(console=err_console(), transient=True, disable=args.json or not sys.stderr.isatty()) as progress:
        task = progress.add_task("导入台账", total=None)

        def tick(title: str, done: int, total: int) -> None:
            progress.update(task, description=f"写入“{title}”", completed=done, total=total)

        with transaction(workspace) as session:
            report = import_files(session, list(args.files), tick)
    if args.json:
        print_json(
            {
                "changed": report.changed,
                "sheets": {t: vars(c) for t, c in report.counts.items()},
            }
        )
        return 0
    out = console()
    for title, counts in report.counts.items():
        out.print(f"{title}：新增 {counts.created}，更新 {counts.updated}，未变 {counts.unchanged}")
    out.print("导入完成。" if report.changed else "导入完成：台账与文件一致，没有变化。")
    return 0


def run_template(args: argparse.Namespace) -> int:
    path = write_template_xlsx(output_file(args.output))
    console().print(f"已生成台账模板：{path}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    if args.output is not None:
        output_file(args.output)
    workspace = workspace_of(args)
    path = args.output or workspace.output_dir("reports") / EXPORT_FILE_NAME
    with transaction(workspace) as session:
        write_registry_xlsx(session, path)
    console().print(f"已导出台账：{path}")
    return 0
