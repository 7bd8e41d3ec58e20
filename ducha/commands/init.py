"""``ducha init``: create a workspace (database, signing key, folders, config)."""

from __future__ import annotations

import argparse
from typing import Any

from ducha.cli_helpers import add_json_flag, console, print_json
from ducha.config import write_default_config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("init", help="创建工作区（数据库、签名密钥、输出目录）")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: alembic is slow to import and only init needs it.
    from ducha.db.migrate import current_revision
    from ducha.workspace import create, resolve_root

    root = resolve_root(args.workspace)
    workspace = create(root, args.db)
    config_path = write_default_config(root)
    revision = current_revision(workspace.db_url)
    if args.json:
        print_json(
            {
                "workspace": str(root),
                "db": workspace.db_url,
                "key": str(workspace.key_path),
                "config": str(config_path),
                "schema_revision": revision,
            }
        )
        return 0
    out = console()
    out.print(f"工作区已就绪：{root}")
    out.print(f"  数据库：{workspace.db_url}（结构版本 {revision}）")
    out.print(f"  签名密钥：{workspace.key_path}（仅本人可读）")
    out.print(f"  配置文件：{config_path}")
    return 0
