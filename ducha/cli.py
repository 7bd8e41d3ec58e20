"""``ducha`` command line: one subcommand per pipeline stage, one workspace.

Exit codes: 0 success, 1 user error (a ``DuchaError``, a wrong command
line, or a path or machine problem such as a missing folder or a full
disk), 2 internal error. Every message is Chinese and one line.

An internal error is a bug: the user sees one Chinese line naming a log
file, and the traceback goes to that file (``logs/`` in the workspace,
else the user's private cache folder), never to the terminal, unless
``DUCHA_DEBUG=1`` asks for it there.

Files ducha writes are private (umask 077 for the whole run: see
``ducha.workspace.private_umask``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from ducha import commands
from ducha.cli_parser import ChineseArgumentParser, UsageError
from ducha.errors import DuchaError
from ducha.os_errors import describe_os_error, is_user_os_error
from ducha.workspace import CONFIG_FILE_NAME, private_umask, resolve_root

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2
DEBUG_ENV = "DUCHA_DEBUG"
CRASH_LOG_DIR = "logs"


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="ducha", description="驻村工作队和第一书记到村履职情况专项督查")
    parser.add_argument("--workspace", help="工作区目录（默认 $DUCHA_HOME 或 ./ducha-data）")
    parser.add_argument("--db", help="数据库地址，例如 postgresql+psycopg://user@host/db（默认工作区内的 SQLite）")
    subparsers = parser.add_subparsers(dest="command", metavar="命令", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ducha.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with private_umask():
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"错误：{error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SystemExit as done:  # --help has been printed
        return done.code if isinstance(done.code, int) else EXIT_OK
    try:
        result = args.handler(args)
        return int(result or EXIT_OK)
    except DuchaError as error:
        print(f"错误：{error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("已中断。已完成的部分已保存，重新运行同一命令即可继续。", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    except OSError as error:
        if not is_user_os_error(error):
            return _internal_error(args, argv)
        print(f"错误：{describe_os_error(error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception:  # noqa: BLE001 - the last line of defence reports, it does not hide
        return _internal_error(args, argv)


def _internal_error(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    """A bug: the traceback to a log file, one Chinese line to the user."""
    if os.environ.get(DEBUG_ENV):
        traceback.print_exc()
    log = _write_crash_log(args, sys.argv[1:] if argv is None else list(argv))
    where = f"详细信息已写入 {log}，请将该文件发给维护人员" if log else "请记下所运行的命令并告知维护人员"
    print(f"内部错误（程序缺陷，不是操作问题）：{where}。已完成的部分已保存。", file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def _write_crash_log(args: argparse.Namespace, argv: list[str]) -> Path | None:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = f"ducha {' '.join(argv)}\n{traceback.format_exc()}"
    for folder in _crash_log_dirs(args):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = folder / f"内部错误-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except (OSError, DuchaError):
            continue
    return None


def _crash_log_dirs(args: argparse.Namespace) -> list[Path]:
    dirs = []
    try:
        root = resolve_root(getattr(args, "workspace", None))
        if (root / CONFIG_FILE_NAME).is_file():
            dirs.append(root / CRASH_LOG_DIR)
    except OSError:
        pass
    try:
        from generator.user_cache import cache_root

        dirs.append(cache_root() / CRASH_LOG_DIR)
    except (OSError, DuchaError):
        pass
    return dirs


if __name__ == "__main__":
    sys.exit(main())
