"""A live desk for tests: ``ducha serve`` as a real subprocess on a free 127.0.0.1 port.

``desk_server`` serves a private copy of the planned sample workspace
(SQLite) with an admin user; ``desk_server_any_db`` does the same on
SQLite and, when ``DUCHA_TEST_PG_URL`` is set, on a fresh PostgreSQL
database. Both yield a ``DeskServer``: ``.url``, ``.workspace``,
``.admin`` / ``.admin_password``, ``.add_user(...)``, ``.login(...)``,
``.restart()``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ducha.workspace import Workspace, copy_workspace, create

# Generous: on a machine shared by many test runs the imports alone have taken over a minute.
DESK_START_SECONDS = 300
DESK_STOP_SECONDS = 20
ADMIN_NAME = "办公室管理员"
ADMIN_PASSWORD = "ceshi-mima-2015"
# Small, so the oversized-upload test sends little; a 12-page simulated return is far below it.
DESK_TEST_UPLOAD_LIMIT_MB = 20.0
DUCHA_BIN = Path(sys.executable).parent / "ducha"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ducha_cli(ws: Workspace, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DUCHA_BIN), "--workspace", str(ws.root), "--db", ws.db_url, *args],
                          input=stdin, capture_output=True, text=True, check=False)


def csrf_of(html: str) -> str:
    """The page's CSRF token (from the meta tag, or the sign-in form's field)."""
    match = _META.search(html)
    if match and match.group(1):
        return match.group(1)
    match = _TOKEN.search(html)
    assert match, "页面上没有 CSRF 令牌"
    return match.group(1)


@dataclass
class DeskServer:
    workspace: Workspace
    upload_limit_mb: float | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    admin: str = ADMIN_NAME
    admin_password: str = ADMIN_PASSWORD
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_user(self, name: str, role: str, password: str, group: int | None = None) -> None:
        """Through the service ``ducha user add`` calls (in-process: the CLI's start-up is slow on a busy machine)."""
        from ducha.cli_helpers import transaction
        from ducha.desk.auth import add_user

        with transaction(self.workspace) as session:
            add_user(session, name, role, password, group)

    def add_user_by_cli(self, name: str, role: str, password: str, group: int | None = None) -> None:
        args = ["user", "add", name, "--role", role, "--password-stdin"]
        if group is not None:
            args += ["--group", str(group)]
        done = ducha_cli(self.workspace, *args, stdin=password + "\n")
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        self.port = self.port or free_port()
        args = [str(DUCHA_BIN), "--workspace", str(self.workspace.root), "--db", self.workspace.db_url, "serve",
                "--host", "127.0.0.1", "--port", str(self.port), *self.extra_args]
        if self.upload_limit_mb is not None:
            args += ["--upload-limit-mb", str(self.upload_limit_mb)]
        self.log_path = self.workspace.root / "serve-test.log"
        env = dict(os.environ, OMP_THREAD_LIMIT="1", **self.extra_env)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + DESK_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"ducha serve 退出了：{self.log_path.read_text(errors='replace')}")
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError("ducha serve 未能在规定时间内启动")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(DESK_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def login(self, name: str | None = None, password: str | None = None) -> httpx.Client:
        """A client signed in as ``name`` (the admin by default); raises if refused."""
        client = httpx.Client(base_url=self.url, timeout=30, headers={"Accept": "text/html"})
        page = client.get("/login")
        reply = client.post("/login", data={"name": name or self.admin, "password": password or self.admin_password,
                                            "csrf_token": csrf_of(page.text)})
        assert reply.status_code == 303, f"登录失败：{reply.status_code} {reply.text[:300]}"
        return client

    def csrf(self, client: httpx.Client, path: str = "/") -> str:
        return csrf_of(client.get(path).text)


def _serve(ws: Workspace, upload_limit_mb: float | None = None) -> Iterator[DeskServer]:
    server = DeskServer(ws, upload_limit_mb=upload_limit_mb)
    server.add_user_by_cli(ADMIN_NAME, "admin", ADMIN_PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def desk_server(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskServer]:
    """``ducha serve`` over a private copy of the planned sample workspace (SQLite), with an admin.

    Shared by the tests of one module (a start costs seconds): tests must not rely on each other's
    leftovers, or use ``fresh_desk_server``.
    """
    yield from _serve(copy_workspace(planned_workspace, tmp_path_factory.mktemp("desk") / "ducha-data"),
                      DESK_TEST_UPLOAD_LIMIT_MB)


@pytest.fixture
def fresh_desk_server(copy_planned_workspace: Workspace) -> Iterator[DeskServer]:
    """Like ``desk_server``, but one server per test."""
    yield from _serve(copy_planned_workspace, DESK_TEST_UPLOAD_LIMIT_MB)


@pytest.fixture
def desk_server_any_db(db_url: str, tmp_path: Path, copy_planned_workspace: Workspace) -> Iterator[DeskServer]:
    """The same, once on SQLite and once on PostgreSQL (skipped when ``DUCHA_TEST_PG_URL`` is unset)."""
    if db_url.startswith("sqlite"):
        yield from _serve(copy_planned_workspace, DESK_TEST_UPLOAD_LIMIT_MB)
        return
    from conftest import fill_workspace

    ws = create(tmp_path / "pg-ws", db_url)
    fill_workspace(ws)
    yield from _serve(ws, DESK_TEST_UPLOAD_LIMIT_MB)
