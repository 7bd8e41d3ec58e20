"""``ducha user add|list|disable``: who may sign in to the desk."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from rich.table import Table

from ducha.cli_helpers import add_json_flag, console, print_json, transaction, workspace_of
from ducha.desk.errors import UserError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("user", help="督查工作台用户：添加、列出、停用")
    sub = parser.add_subparsers(dest="user_command", metavar="操作", required=True)

    add = sub.add_parser("add", help="添加用户（密码在提示时输入，或用 --password-stdin 从标准输入读取）")
    add.add_argument("name", metavar="用户名")
    add.add_argument("--role", required=True, choices=["admin", "group", "viewer"],
                     help="admin 管理员（全部操作）；group 督查组（只处理本组的村）；viewer 只读（看统计、下载）")
    add.add_argument("--group", type=int, help="督查组用户的组号，例如 1")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    add.set_defaults(handler=run_add)

    lst = sub.add_parser("list", help="列出用户")
    add_json_flag(lst)
    lst.set_defaults(handler=run_list)

    dis = sub.add_parser("disable", help="停用用户（立即退出其所有登录）")
    dis.add_argument("name", metavar="用户名")
    dis.set_defaults(handler=run_disable)


def _prepared(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ducha.db.migrate import upgrade_to_head

    workspace = workspace_of(args)
    upgrade_to_head(workspace.db_url)  # a workspace made before the desk gains its tables
    return workspace


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输一次：") != first:
        raise UserError("两次输入的密码不一致")
    return first


def run_add(args: argparse.Namespace) -> int:
    from ducha.desk.audit import audit
    from ducha.desk.auth import ROLES, add_user

    workspace = _prepared(args)
    password = _read_password(args.password_stdin)
    with transaction(workspace) as session:
        user = add_user(session, args.name, args.role, password, args.group)
        audit(session, "命令行", "添加用户", f"用户 {user.name}", None,
              {"角色": ROLES[user.role], "组": user.group_no})
    group = f"，第{args.group}组" if args.group else ""
    console().print(f"已添加用户：{args.name}（{ROLES[args.role]}{group}）")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from ducha.desk.auth import ROLES, list_users

    workspace = _prepared(args)
    with transaction(workspace) as session:
        users = [(u.name, u.role, u.group_no, u.active, u.locked_until) for u in list_users(session)]
    if args.json:
        print_json([{"name": n, "role": r, "group": g, "active": a} for n, r, g, a, _l in users])
        return 0
    table = Table(title="督查工作台用户")
    for header in ("用户名", "角色", "组", "状态"):
        table.add_column(header)
    for name, role, group, active, _locked in users:
        table.add_row(name, ROLES[role], str(group or ""), "启用" if active else "已停用")
    console().print(table)
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from ducha.desk.audit import audit
    from ducha.desk.auth import disable_user

    workspace = _prepared(args)
    with transaction(workspace) as session:
        user = disable_user(session, args.name)
        audit(session, "命令行", "停用用户", f"用户 {user.name}", "启用", "已停用")
    console().print(f"已停用用户：{args.name}")
    return 0
