"""The workspace: one folder holding the database, the signing key and output.

Every CLI subcommand works on one workspace, chosen by ``--workspace DIR``,
else ``$DUCHA_HOME``, else ``./ducha-data``. The database is SQLite in the
folder unless ``--db URL`` (or the URL saved at ``init``) names another.
The default is not saved as a path: a workspace folder that is moved,
copied or backed up keeps using the database inside it, never the one
it was copied from.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ducha.errors import WorkspaceError

DEFAULT_WORKSPACE_DIR = "ducha-data"
KEY_FILE_NAME = "secret.key"
CONFIG_FILE_NAME = "workspace.json"
KEY_BYTES = 32
OUTPUT_DIRS = ("sheets", "scans", "evidence", "notices", "reports", "lottery", "rejected")


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
        path.mkdir(parents=True, exist_ok=True)
        return path

    def key(self) -> bytes:
        try:
            return bytes.fromhex(self.key_path.read_text().strip())
        except FileNotFoundError as exc:
            raise WorkspaceError(f"工作区 {self.root} 缺少签名密钥，请先运行 ducha init") from exc

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
    """Create (or complete) a workspace; never overwrites an existing key."""
    root.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_DIRS:
        (root / name).mkdir(exist_ok=True)
    key_path = root / KEY_FILE_NAME
    if not key_path.exists():
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    config_path = root / CONFIG_FILE_NAME
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    if db_url:
        config["db_url"] = db_url
    if config.get("db_url") == default_db_url(root):
        # Saved as an absolute path by earlier versions: it would follow a copy back here.
        del config["db_url"]
    config_path.write_text(json.dumps(config, ensure_ascii=False, indent=1) + "\n")
    workspace = Workspace(root=root, db_url=_db_url(root, config))
    from ducha.db.migrate import upgrade_to_head

    upgrade_to_head(workspace.db_url)
    return workspace


def open_workspace(root_arg: str | None, db_override: str | None = None) -> Workspace:
    root = resolve_root(root_arg)
    config_path = root / CONFIG_FILE_NAME
    if not config_path.exists():
        raise WorkspaceError(f"{root} 不是 ducha 工作区，请先运行：ducha init --workspace {root}")
    config = json.loads(config_path.read_text())
    return Workspace(root=root, db_url=db_override or _db_url(root, config))


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
