"""The single Alembic revision builds exactly the schema in ducha/db/models.py."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from ducha.db.migrate import head_revision, normalize_db_url, upgrade_to_head
from ducha.db.models import Base


def test_migrations_match_the_models(db_url: str) -> None:
    upgrade_to_head(db_url)
    upgrade_to_head(db_url)  # a second run is a no-op
    engine = create_engine(normalize_db_url(db_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert context.get_current_revision() == head_revision()
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], "models.py 与迁移脚本不一致；请运行 .venv/bin/python -m ducha.db.migrate --regenerate"


def test_postgres_urls_are_routed_to_psycopg() -> None:
    assert normalize_db_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url("sqlite:///x.sqlite3") == "sqlite:///x.sqlite3"
