"""Small helpers shared by the CLI subcommands: workspace sessions and output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, exc, text
from sqlalchemy.orm import Session

from ducha.config import Config, load_config
from ducha.errors import WorkspaceError
from ducha.workspace import Workspace, open_workspace


def workspace_of(args: argparse.Namespace) -> Workspace:
    return open_workspace(getattr(args, "workspace", None), getattr(args, "db", None))


def config_of(workspace: Workspace) -> Config:
    return load_config(workspace.root)


@contextmanager
def transaction(workspace: Workspace) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    engine = workspace.engine()
    try:
        _check_database(engine)
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _check_database(engine: Engine) -> None:
    """Turn 'cannot connect' and 'not initialised' into messages a user can act on."""
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except exc.OperationalError as error:
        if isinstance(error.orig, Exception) and "alembic_version" in str(error.orig):
            raise WorkspaceError(f"数据库 {shown} 尚未建立表结构，请先运行 ducha init --db {shown}") from error
        raise WorkspaceError(f"无法连接数据库 {shown}：{error.orig}") from error
    except exc.ProgrammingError as error:
        raise WorkspaceError(f"数据库 {shown} 尚未建立表结构，请先运行 ducha init --db {shown}") from error


def console() -> Console:
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
