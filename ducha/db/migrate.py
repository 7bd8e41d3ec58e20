"""Schema migrations with Alembic, configured in code.

The Alembic scripts live in ``ducha/migrations`` inside the package, so
``ducha init`` works from any directory. There is one initial revision,
regenerated from ``ducha.db.models`` while the schema is young:

    .venv/bin/python -m ducha.db.migrate --regenerate
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from ducha.errors import WorkspaceError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
INITIAL_REVISION_ID = "0001"

# psycopg (v3) is the driver we install; a bare postgresql:// would pick psycopg2.
_URL_REWRITES = {
    "postgresql://": "postgresql+psycopg://",
    "postgres://": "postgresql+psycopg://",
}


def normalize_db_url(url: str) -> str:
    """Accept ``postgresql://`` as users write it and route it to psycopg."""
    for prefix, replacement in _URL_REWRITES.items():
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would eat a '%' in a URL-encoded password.
    cfg.set_main_option("sqlalchemy.url", normalize_db_url(url).replace("%", "%%"))
    return cfg


def upgrade_to_head(url: str) -> None:
    """Bring the database at ``url`` to the newest schema; a no-op when current."""
    try:
        command.upgrade(alembic_config(url), "head")
    except Exception as exc:
        if isinstance(exc, WorkspaceError):
            raise
        raise WorkspaceError(f"数据库 {url} 无法建立或升级：{exc}") from exc


def current_revision(url: str) -> str | None:
    engine = create_engine(normalize_db_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def regenerate_initial_revision() -> Path:
    """Rewrite the single initial revision from the models (development only)."""
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob("*.py"):
        old.unlink()
    shutil.rmtree(versions / "__pycache__", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = alembic_config(f"sqlite:///{Path(tmp) / 'empty.sqlite3'}")
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id=INITIAL_REVISION_ID)
    produced = sorted(versions.glob("*.py"))
    return produced[0]


def main() -> None:
    parser = argparse.ArgumentParser(description="ducha schema migrations (developer tool)")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the initial revision from models.py")
    args = parser.parse_args()
    if args.regenerate:
        print(regenerate_initial_revision())


if __name__ == "__main__":
    main()
