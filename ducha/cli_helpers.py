"""Small helpers shared by the CLI subcommands: workspace sessions and output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session

from ducha.config import Config, load_config
from ducha.errors import OutputPathError
from ducha.os_errors import os_error_reason
from ducha.workspace import PRIVATE_DIR_MODE, Workspace, check_database, open_workspace, permission_warnings


def workspace_of(args: argparse.Namespace) -> Workspace:
    """The workspace a command names, checked: configuration, key, database; permission warnings shown."""
    workspace = open_workspace(getattr(args, "workspace", None), getattr(args, "db", None))
    for warning in permission_warnings(workspace):
        err_console().print(f"[yellow]警告：{escape(warning)}[/yellow]", soft_wrap=True)
    check_database(workspace.db_url)
    _upgrade_schema(workspace)
    return workspace


def _upgrade_schema(workspace: Workspace) -> None:
    """A database made by an older ducha is brought to this version's schema before any command uses it."""
    from ducha.db.migrate import current_revision, head_revision, upgrade_to_head

    if current_revision(workspace.db_url) != head_revision():
        upgrade_to_head(workspace.db_url)
        err_console().print("提示：数据库已升级到本版本的表结构（原有数据不变）。")


def config_of(workspace: Workspace) -> Config:
    return load_config(workspace.root)


@contextmanager
def transaction(workspace: Workspace) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    engine = workspace.engine()
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def output_dir(path: Path) -> Path:
    """A folder the user named with ``--out``, made (private) now, before any work is done."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as error:
        raise OutputPathError(f"无法使用输出目录 {path}：{os_error_reason(error)}") from error
    if not path.is_dir():
        raise OutputPathError(f"无法使用输出目录 {path}：它不是文件夹")
    return path


def output_file(path: Path) -> Path:
    """A file the user named with ``-o``: its folder is made now, before any work is done."""
    if path.is_dir():
        raise OutputPathError(f"无法写入 {path}：这是一个文件夹，请给出文件名")
    output_dir(path.parent)
    return path


def console() -> Console:
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
