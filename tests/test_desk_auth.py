"""Sign-in, sessions, CSRF and lockout, against the live desk over HTTP."""

from __future__ import annotations

import httpx
from desk_fixtures import DeskServer, csrf_of

from ducha.desk.auth import LOCKOUT_FAILURES


def test_anonymous_requests_are_refused(desk_server: DeskServer) -> None:
    page = httpx.get(desk_server.url + "/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login"
    # Not a browser page view: a plain refusal, in Chinese, with nothing of the round in it.
    api = httpx.get(desk_server.url + "/round/2015-08")
    assert api.status_code == 401
    assert "请先登录" in api.text and "巴州区" not in api.text


def test_logout_kills_a_replayed_cookie(desk_server: DeskServer) -> None:
    client = desk_server.login()
    assert client.get("/").status_code == 200
    stolen = dict(client.cookies)
    token = desk_server.csrf(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = httpx.get(desk_server.url + "/", cookies=stolen)
    assert replay.status_code == 401


def test_missing_csrf_token_is_refused(desk_server: DeskServer) -> None:
    client = desk_server.login()
    refused = client.post("/logout", data={})
    assert refused.status_code == 403 and "安全令牌" in refused.text
    # The session still works: the forged request did nothing.
    assert client.get("/").status_code == 200
    wrong = client.post("/logout", data={"csrf_token": "x" * 32})
    assert wrong.status_code == 403


def test_login_form_needs_its_token(desk_server: DeskServer) -> None:
    refused = httpx.post(desk_server.url + "/login", data={"name": desk_server.admin, "password": desk_server.admin_password})
    assert refused.status_code == 403


def test_lockout_after_repeated_wrong_passwords(desk_server: DeskServer) -> None:
    desk_server.add_user("锁定测试", "viewer", "zhengque-mima-1")
    client = httpx.Client(base_url=desk_server.url)
    for attempt in range(LOCKOUT_FAILURES):
        token = csrf_of(client.get("/login").text)
        reply = client.post("/login", data={"name": "锁定测试", "password": f"wrong-{attempt}", "csrf_token": token})
        assert reply.status_code == (423 if attempt == LOCKOUT_FAILURES - 1 else 401)
    assert "锁定" in reply.text
    # Now even the right password is refused until the lock runs out.
    token = csrf_of(client.get("/login").text)
    locked = client.post("/login", data={"name": "锁定测试", "password": "zhengque-mima-1", "csrf_token": token})
    assert locked.status_code == 423 and "锁定" in locked.text
    # Another account is not affected.
    desk_server.login().close()
