"""Per-request dependencies: the database session, the signed-in user, CSRF, roles.

Routes commit their own changes (``session.commit()``); anything not
committed is rolled back when the request ends.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from ducha.desk.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    check_prelogin,
    session_user,
)
from ducha.desk.errors import CsrfError, Forbidden, NotSignedIn
from ducha.desk.paths import TEMPLATES_DIR

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The sign-in form has no session yet: its token pairs with a signed pre-login cookie.
PRELOGIN_PATHS = frozenset({"/login"})

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def db_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        try:
            yield session
        finally:
            session.rollback()


DbSession = Annotated[Session, Depends(db_session)]


def _user_of(request: Request, session: Session) -> CurrentUser | None:
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user = session_user(session, request.cookies.get(SESSION_COOKIE), request.app.state.workspace_key)
    session.commit()
    request.state.user = user
    if user is not None:
        request.state.csrf_token = user.csrf_token
    return user


def optional_user(request: Request, session: DbSession) -> CurrentUser | None:
    return _user_of(request, session)


def current_user(request: Request, session: DbSession) -> CurrentUser:
    user = _user_of(request, session)
    if user is None:
        raise NotSignedIn("请先登录")
    return user


User = Annotated[CurrentUser, Depends(current_user)]


def require_role(*roles: str) -> Callable[[CurrentUser], CurrentUser]:
    def check(user: User) -> CurrentUser:
        if user.role not in roles:
            raise Forbidden("您的账号没有此项操作的权限")
        return user

    return check


Admin = Annotated[CurrentUser, Depends(require_role("admin"))]
Changer = Annotated[CurrentUser, Depends(require_role("admin", "group"))]


async def require_csrf(request: Request, session: DbSession) -> None:
    """Refuse a state-changing request without the right token (header ``X-CSRF-Token`` or form field ``csrf_token``).

    Installed on the whole app, so every POST is checked whether or not its route asks.
    """
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith("application/x-www-form-urlencoded"):
        form = await request.form()  # cached by Starlette: the route reads the same form
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if request.url.path in PRELOGIN_PATHS:
        if not check_prelogin(request.cookies.get(PRELOGIN_COOKIE), sent, request.app.state.workspace_key):
            raise CsrfError("页面已过期，请刷新后重新登录")
        return
    user = _user_of(request, session)
    if user is None:
        raise NotSignedIn("请先登录")
    if not sent or not hmac.compare_digest(sent, user.csrf_token):
        raise CsrfError("请求缺少有效的安全令牌（CSRF），请刷新页面后重试")


def render(request: Request, name: str, context: dict[str, object] | None = None, status_code: int = 200):  # type: ignore[no-untyped-def]
    """A page, with the signed-in user and the CSRF token every template needs."""
    data: dict[str, object] = {
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }
    data.update(context or {})
    return templates.TemplateResponse(request, name, data, status_code=status_code)
