"""Users (admin only) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ducha.desk.audit import audit, recent
from ducha.desk.auth import ROLES, add_user, disable_user, list_users
from ducha.desk.deps import Admin, DbSession, User, render
from ducha.desk.errors import UserError

router = APIRouter()


@router.get("/admin/users")
def users_page(request: Request, session: DbSession, user: Admin, message: str | None = None) -> Response:
    return render(request, "users.html", {"users": list_users(session), "roles": ROLES, "message": message})


@router.post("/admin/users")
def create_user(
    request: Request, session: DbSession, user: Admin,
    name: Annotated[str, Form()], role: Annotated[str, Form()], password: Annotated[str, Form()],
    group: Annotated[str, Form()] = "",
) -> Response:
    group_no = int(group) if group.strip().isdigit() else None
    try:
        created = add_user(session, name, role, password, group_no)
    except UserError as exc:
        session.rollback()
        return render(request, "users.html", {"users": list_users(session), "roles": ROLES, "message": str(exc)},
                      status_code=exc.status)
    audit(session, user, "添加用户", f"用户 {created.name}", None, {"角色": ROLES[created.role], "组": created.group_no})
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/disable")
def disable(session: DbSession, user: Admin, name: str) -> Response:
    if name == user.name:
        raise UserError("不能停用自己的账号")
    disable_user(session, name)
    audit(session, user, "停用用户", f"用户 {name}", "启用", "已停用")
    session.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit")
def audit_page(request: Request, session: DbSession, user: User) -> Response:
    # Others' actions are the office's business; a group member sees their own.
    entries = recent(session, user_name=None if user.role != "group" else user.name)
    return render(request, "audit.html", {"entries": entries})
