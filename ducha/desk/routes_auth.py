"""Sign in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ducha.desk.audit import audit
from ducha.desk.auth import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_HOURS,
    authenticate,
    close_session,
    open_session,
    prelogin_token,
)
from ducha.desk.deps import DbSession, optional_user, render
from ducha.desk.errors import AccountLocked, NotSignedIn

router = APIRouter()
SECONDS_PER_HOUR = 3600


def _login_page(request: Request, message: str | None = None, name: str | None = None, status_code: int = 200) -> Response:
    token, cookie = prelogin_token(request.app.state.workspace_key)
    response = render(request, "login.html", {"login_token": token, "message": message, "name": name},
                      status_code=status_code)
    response.set_cookie(PRELOGIN_COOKIE, cookie, httponly=True, samesite="lax")
    return response


@router.get("/login")
def login_form(request: Request, session: DbSession) -> Response:
    if optional_user(request, session) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_page(request)


@router.post("/login")
def login(request: Request, session: DbSession, name: Annotated[str, Form()], password: Annotated[str, Form()]) -> Response:
    try:
        user = authenticate(session, name, password)
    except (NotSignedIn, AccountLocked) as exc:
        session.commit()  # the failed attempt counts towards the lockout
        return _login_page(request, str(exc), name, status_code=exc.status)
    cookie = open_session(session, user, request.app.state.workspace_key)
    audit(session, user.name, "登录", f"用户 {user.name}")
    session.commit()
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", max_age=SESSION_HOURS * SECONDS_PER_HOUR)
    response.delete_cookie(PRELOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    user = optional_user(request, session)
    close_session(session, request.cookies.get(SESSION_COOKIE), request.app.state.workspace_key)
    if user is not None:
        audit(session, user.name, "退出", f"用户 {user.name}")
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
