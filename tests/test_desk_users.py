"""``ducha user add|list|disable`` and the sign-in rules behind them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from conftest import CliRunner, session_of
from sqlalchemy import select

from ducha.db.models import AuditEntry, DeskSession, DeskUser
from ducha.desk.auth import LOCKOUT_FAILURES, authenticate, open_session, session_user
from ducha.desk.errors import AccountLocked, NotSignedIn
from ducha.workspace import Workspace

PASSWORD = "mima-2015-08"


def _add(run_cli: CliRunner, ws: Workspace, monkeypatch: pytest.MonkeyPatch, *args: str,
         password: str = PASSWORD) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return run_cli(ws, "user", "add", *args, "--password-stdin")


def test_user_add_list_disable(workspace: Workspace, run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _add(run_cli, workspace, monkeypatch, "王芳", "--role", "admin")[0] == 0
    assert _add(run_cli, workspace, monkeypatch, "李明", "--role", "group", "--group", "1")[0] == 0
    code, _out, err = _add(run_cli, workspace, monkeypatch, "李明", "--role", "viewer")
    assert code == 1 and "已存在" in err
    code, _out, err = _add(run_cli, workspace, monkeypatch, "张三", "--role", "group")
    assert code == 1 and "--group" in err
    code, _out, err = _add(run_cli, workspace, monkeypatch, "赵敏", "--role", "viewer", password="short")
    assert code == 1 and "至少" in err
    code, out, _err = run_cli(workspace, "user", "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {"name": "李明", "role": "group", "group": 1, "active": True},
        {"name": "王芳", "role": "admin", "group": None, "active": True},
    ]
    with session_of(workspace) as session, session.begin():
        stored = session.scalars(select(DeskUser).where(DeskUser.name == "李明")).one()
        assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
        user = authenticate(session, "李明", PASSWORD)
        open_session(session, user, b"k" * 32)
    assert run_cli(workspace, "user", "disable", "李明")[0] == 0
    with session_of(workspace) as session:
        assert session.scalars(select(DeskSession)).all() == []  # signed out everywhere
        with pytest.raises(NotSignedIn):
            authenticate(session, "李明", PASSWORD)
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["添加用户", "添加用户", "停用用户"]


def test_lockout_counts_within_its_window_and_ends(workspace: Workspace, run_cli: CliRunner,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert _add(run_cli, workspace, monkeypatch, "王芳", "--role", "admin")[0] == 0
    with session_of(workspace) as session:
        for _ in range(LOCKOUT_FAILURES - 1):
            with pytest.raises(NotSignedIn):
                authenticate(session, "王芳", "wrong-password")
        assert authenticate(session, "王芳", PASSWORD).failed_logins == 0  # a success clears the count
        for _ in range(LOCKOUT_FAILURES - 1):
            with pytest.raises(NotSignedIn):
                authenticate(session, "王芳", "wrong-password")
        with pytest.raises(AccountLocked):
            authenticate(session, "王芳", "wrong-password")
        with pytest.raises(AccountLocked):
            authenticate(session, "王芳", PASSWORD)
        user = session.scalars(select(DeskUser).where(DeskUser.name == "王芳")).one()
        # The lock runs out after its time.
        assert user.locked_until is not None
        user.locked_until = dt.datetime.now() - dt.timedelta(minutes=1)
        assert authenticate(session, "王芳", PASSWORD).name == "王芳"


def test_a_tampered_or_unknown_cookie_is_no_session(workspace: Workspace, run_cli: CliRunner,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert _add(run_cli, workspace, monkeypatch, "王芳", "--role", "admin")[0] == 0
    key = b"k" * 32
    with session_of(workspace) as session, session.begin():
        cookie = open_session(session, authenticate(session, "王芳", PASSWORD), key)
    with session_of(workspace) as session:
        assert session_user(session, cookie, key) is not None
        assert session_user(session, cookie[:-2] + "xx", key) is None
        assert session_user(session, cookie, b"o" * 32) is None  # another workspace's key
        assert session_user(session, None, key) is None
