"""The workspace: one folder holding the database, the signing key and output.

Every CLI subcommand works on one workspace, chosen by ``--workspace DIR``,
else ``$DUCHA_HOME``, else ``./ducha-data``. The database is SQLite in the
folder unless ``--db URL`` (or the URL saved at ``init``) names another.
The default is not saved as a path: a workspace folder that is moved,
copied or backed up keeps using the database inside it, never the one
it was copied from.

Everything in a workspace is private to its owner: phone numbers, signed
evidence and the signing key. ``private_umask`` makes every file and
folder ducha writes 0600/0700 whatever the caller's umask; ``init`` also
tightens what an older version left readable. The key is checked on every
open, because an empty or short key would let anyone forge sheets.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from ducha.errors import WorkspaceError

DEFAULT_WORKSPACE_DIR = "ducha-data"
KEY_FILE_NAME = "secret.key"
CONFIG_FILE_NAME = "workspace.json"
KEY_BYTES = 32
OUTPUT_DIRS = ("sheets", "scans", "evidence", "notices", "reports", "lottery", "rejected")
PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Bits that let the group or others see or change a file.
FOREIGN_BITS = stat.S_IRWXG | stat.S_IRWXO
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")
SQLITE_BUSY_TIMEOUT_S = 30.0
RESTORE_KEY_HINT = (
    "已印发的纪实表都由这把密钥签名：请从工作区的备份中把 {key} 复制回来后重试。"
    "不要删除它再运行 ducha init，否则已印发的纪实表都会被拒收"
)
DB_URL_HINT = "应为 sqlite:///文件路径 或 postgresql+psycopg://用户@主机/数据库"


@contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders made inside the block are readable by their owner only.

    The umask is per process and inherited by LibreOffice and by the scan
    workers, so setting it at the entry point covers everything written.
    """
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(root: Path) -> None:
    """Take group and other access away from everything this user owns under ``root``."""
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            _tighten(Path(folder) / name)
    _tighten(root)


def _tighten(path: Path) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid() or not info.st_mode & FOREIGN_BITS:
        return
    os.chmod(path, stat.S_IMODE(info.st_mode) & ~FOREIGN_BITS)


def write_private_text(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` atomically, 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
        handle.write(content)
    os.replace(tmp, path)


def read_key(path: Path) -> bytes:
    """The signing key at ``path``; a missing, empty, short or non-hex key stops with how to restore it."""
    try:
        raw = path.read_bytes().strip()
    except FileNotFoundError as error:
        raise WorkspaceError(
            f"工作区 {path.parent} 缺少签名密钥 {path.name}。新工作区请运行 ducha init；"
            + RESTORE_KEY_HINT.format(key=path.name)
        ) from error
    if not raw:
        problem = "文件为空"
    else:
        try:
            key = bytes.fromhex(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            problem = "不是十六进制文本"
        else:
            if len(key) >= KEY_BYTES:
                return key
            problem = f"只有 {len(key)} 字节，应为 {KEY_BYTES} 字节"
    raise WorkspaceError(f"签名密钥 {path} 已损坏（{problem}）。" + RESTORE_KEY_HINT.format(key=path))


def permission_warnings(workspace: Workspace) -> list[str]:
    """Chinese warnings for a key or database file that the group or others can read."""
    files = [workspace.key_path]
    database = sqlite_file(workspace.db_url)
    if database is not None:
        files += [database.with_name(database.name + suffix) for suffix in SQLITE_SIDE_FILES]
    warnings = []
    for path in files:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue
        if mode & FOREIGN_BITS:
            what = "签名密钥" if path == workspace.key_path else "数据库文件"
            warnings.append(
                f"{what} {path} 的权限为 {mode:04o}，其他用户也能访问。"
                f"请运行 chmod 600 {path}，或重新运行 ducha init 收紧整个工作区的权限"
            )
    return warnings


def sqlite_file(db_url: str) -> Path | None:
    """The file of an SQLite URL, or None for another database or an in-memory one."""
    try:
        url = make_url(db_url)
    except exc.ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def check_db_url(db_url: str) -> str:
    """``db_url`` if SQLAlchemy can use it, else a ``WorkspaceError`` saying what a URL looks like."""
    from ducha.db.migrate import normalize_db_url

    try:
        url = make_url(normalize_db_url(db_url))
    except exc.ArgumentError as error:
        raise WorkspaceError(f"数据库地址“{db_url}”格式不对，{DB_URL_HINT}") from error
    try:
        url.get_dialect()
    except exc.NoSuchModuleError as error:
        raise WorkspaceError(f"不支持的数据库类型“{url.drivername}”，{DB_URL_HINT}") from error
    return db_url


def describe_database_error(error: exc.DBAPIError, shown: str) -> str:
    """A database driver's (English) error as a Chinese sentence; the driver's words are not shown."""
    detail = str(error.orig).lower()
    for needle, reason in DATABASE_REASONS:
        if needle in detail:
            return f"数据库 {shown} {reason}"
    return f"数据库 {shown} 出错（{type(error.orig).__name__}），无法继续"


DATABASE_REASONS = (
    ("file is not a database", "不是数据库文件或已损坏：请从工作区备份中恢复数据库文件"),
    ("malformed", "已损坏：请从工作区备份中恢复数据库文件"),
    ("unable to open database file", "无法打开：文件夹不存在或没有权限"),
    ("readonly database", "是只读的：请检查文件权限"),
    ("database is locked", "正被其他程序占用且长时间未释放，请稍后重试"),
    ("disk i/o error", "读写出错：磁盘故障或空间不足"),
    ("database or disk is full", "所在磁盘已满"),
    ("connection refused", "无法连接：数据库服务器未运行或拒绝连接"),
    ("password authentication failed", "拒绝登录：用户名或密码错误"),
    ("no password supplied", "需要密码：请在地址中写明密码"),
    ("does not exist", "不存在：请检查地址中的数据库名和用户名"),
    ("could not translate host name", "的主机名无法解析"),
    ("name or service not known", "的主机名无法解析"),
    ("timeout", "连接超时"),
    ("timed out", "连接超时"),
    ("permission denied", "拒绝访问：没有权限"),
)


def check_database(db_url: str, *, require_schema: bool = True) -> None:
    """Connect once, so a corrupt file or an unreachable server stops here with a Chinese message."""
    from ducha.db.migrate import normalize_db_url

    url = make_url(normalize_db_url(check_db_url(db_url)))
    # Another process's write (a scan) must not make this look like a broken database.
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S} if url.get_backend_name() == "sqlite" else {}
    engine = create_engine(url, connect_args=connect_args)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                # Reads the file header: a file of random bytes fails here, not at the first query.
                conn.execute(text("PRAGMA schema_version")).first()
            has_schema = engine.dialect.has_table(conn, "alembic_version")
    except exc.DBAPIError as error:
        raise WorkspaceError(describe_database_error(error, shown)) from error
    finally:
        engine.dispose()
    if require_schema and not has_schema:
        raise WorkspaceError(f"数据库 {shown} 尚未建立表结构，请先运行 ducha init --db {shown}")


def resolve_root(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit).resolve()
    env = os.environ.get("DUCHA_HOME")
    if env:
        return Path(env).resolve()
    return (Path.cwd() / DEFAULT_WORKSPACE_DIR).resolve()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL keeps the database consistent after a crash; only the
    # last commits before a power cut can be lost, and a rerun of a scan or a
    # review restores them. FULL made every single review confirmation wait
    # ~21 ms for the disk.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@dataclass
class Workspace:
    root: Path
    db_url: str

    @property
    def key_path(self) -> Path:
        return self.root / KEY_FILE_NAME

    def output_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        return path

    def key(self) -> bytes:
        return read_key(self.key_path)

    def engine(self) -> Engine:
        from ducha.db.migrate import normalize_db_url

        engine = create_engine(normalize_db_url(self.db_url), future=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def sessionmaker(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine(), expire_on_commit=False)


def default_db_url(root: Path) -> str:
    return f"sqlite:///{root / 'ducha.sqlite3'}"


def create(root: Path, db_url: str | None = None) -> Workspace:
    """Create (or complete) a workspace; never overwrites an existing key.

    Everything is made private whatever the umask, and what an older
    version left readable by others is tightened.
    """
    if db_url:
        check_db_url(db_url)
    with private_umask():
        root.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        os.chmod(root, PRIVATE_DIR_MODE)
        for name in OUTPUT_DIRS:
            (root / name).mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        key_path = root / KEY_FILE_NAME
        if key_path.exists():
            # A damaged key is never replaced: sheets already printed carry its signature.
            read_key(key_path)
        else:
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        config_path = root / CONFIG_FILE_NAME
        config = read_workspace_config(config_path) if config_path.exists() else {}
        if db_url:
            config["db_url"] = db_url
        if config.get("db_url") == default_db_url(root):
            # Saved as an absolute path by earlier versions: it would follow a copy back here.
            del config["db_url"]
        write_private_text(config_path, json.dumps(config, ensure_ascii=False, indent=1) + "\n")
        workspace = Workspace(root=root, db_url=_db_url(root, config))
        from ducha.db.migrate import upgrade_to_head

        check_database(workspace.db_url, require_schema=False)
        upgrade_to_head(workspace.db_url)
        make_private(root)
    return workspace


def read_workspace_config(path: Path) -> dict[str, Any]:
    """``workspace.json``: a JSON object whose ``db_url``, if any, is text."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f"第 {error.lineno} 行第 {error.colno} 列" if isinstance(error, json.JSONDecodeError) else "编码"
        raise WorkspaceError(
            f"工作区配置文件 {path} 已损坏（{where}不是合法的 JSON）。请从备份恢复它；"
            f"如果数据库就在工作区内，也可以删除它后重新运行 ducha init（密钥和数据都会保留）"
        ) from error
    if not isinstance(config, dict) or not isinstance(config.get("db_url", ""), str):
        raise WorkspaceError(
            f"工作区配置文件 {path} 内容不对：应为 JSON 对象，其中 db_url（如有）为数据库地址文本。请从备份恢复它"
        )
    return config


def open_workspace(root_arg: str | None, db_override: str | None = None) -> Workspace:
    """The workspace at ``root_arg``, with its configuration, database URL and key checked."""
    root = resolve_root(root_arg)
    config_path = root / CONFIG_FILE_NAME
    if not config_path.exists():
        raise WorkspaceError(f"{root} 不是 ducha 工作区，请先运行：ducha init --workspace {root}")
    config = read_workspace_config(config_path)
    workspace = Workspace(root=root, db_url=check_db_url(db_override or _db_url(root, config)))
    read_key(workspace.key_path)
    return workspace


def _db_url(root: Path, config: dict[str, str]) -> str:
    return config.get("db_url") or default_db_url(root)


def copy_workspace(source: Workspace, target: Path, skip: tuple[str, ...] = ()) -> Workspace:
    """A writable copy of a workspace whose database is the SQLite file inside it.

    ``skip`` names folders (or file patterns) left out of the copy, such as evidence.
    """
    if source.db_url != default_db_url(source.root):
        raise WorkspaceError(f"工作区 {source.root} 的数据库不在工作区目录内，不能整体复制")
    shutil.copytree(source.root, target, ignore=shutil.ignore_patterns(*skip) if skip else None)
    config_path = target / CONFIG_FILE_NAME
    config = json.loads(config_path.read_text())
    if config.pop("db_url", None) is not None:
        # Saved by an older version as the source's own file: the copy would write there.
        config_path.write_text(json.dumps(config, ensure_ascii=False, indent=1) + "\n")
    copy = open_workspace(str(target))
    # Fold the write-ahead log into the copied file, so the copy stands alone.
    engine = create_engine(copy.db_url)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return copy
