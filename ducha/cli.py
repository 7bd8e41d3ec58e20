"""``ducha`` command line: one subcommand per pipeline stage, one workspace.

Exit codes: 0 success, 1 user error (a ``DuchaError``, message in Chinese),
2 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from ducha import commands
from ducha.errors import DuchaError

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ducha", description="驻村工作队和第一书记到村履职情况专项督查")
    parser.add_argument("--workspace", help="工作区目录（默认 $DUCHA_HOME 或 ./ducha-data）")
    parser.add_argument("--db", help="数据库地址，例如 postgresql+psycopg://user@host/db（默认工作区内的 SQLite）")
    subparsers = parser.add_subparsers(dest="command", metavar="命令", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ducha.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
        return int(result or EXIT_OK)
    except DuchaError as error:
        print(f"错误：{error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("已中断。已完成的部分已保存，重新运行同一命令即可继续。", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    except Exception:  # noqa: BLE001 - the last line of defence reports, it does not hide
        traceback.print_exc()
        print("内部错误：请将以上信息发给维护人员。", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
