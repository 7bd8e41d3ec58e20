"""The workspace folder carries its own database: moved or copied, it keeps its data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.cli import main as cli_main
from ducha.db.models import Village
from ducha.workspace import CONFIG_FILE_NAME, copy_workspace, create, default_db_url, open_workspace


def _villages(root: Path) -> int:
    with Session(open_workspace(str(root)).engine()) as session:
        return int(session.scalar(select(func.count()).select_from(Village)) or 0)


def test_a_moved_workspace_uses_the_database_inside_it(tmp_path: Path, small_registry: Path) -> None:
    first = tmp_path / "first"
    assert cli_main(["--workspace", str(first), "init"]) == 0
    assert cli_main(["--workspace", str(first), "registry", "import", str(small_registry)]) == 0
    imported = _villages(first)
    assert imported > 0
    assert "db_url" not in json.loads((first / CONFIG_FILE_NAME).read_text())

    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    moved = tmp_path / "moved"
    first.rename(moved)
    assert open_workspace(str(moved)).db_url == default_db_url(moved.resolve())
    assert _villages(moved) == imported
    # The copy is on its own: emptying it leaves the original as it was.
    with Session(open_workspace(str(copy)).engine()) as session, session.begin():
        session.query(Village).delete()
    assert _villages(copy) == 0
    assert _villages(moved) == imported


def test_init_forgets_an_absolute_default_saved_by_an_older_version(tmp_path: Path) -> None:
    root = (tmp_path / "old").resolve()
    create(root)
    config_path = root / CONFIG_FILE_NAME
    config_path.write_text(json.dumps({"db_url": default_db_url(root)}))
    create(root)
    assert "db_url" not in json.loads(config_path.read_text())


def test_a_database_named_at_init_is_kept(tmp_path: Path) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    root = tmp_path / "ws"
    assert cli_main(["--workspace", str(root), "--db", elsewhere, "init"]) == 0
    assert json.loads((root / CONFIG_FILE_NAME).read_text())["db_url"] == elsewhere
    assert open_workspace(str(root)).db_url == elsewhere


def test_copy_workspace_writes_only_to_the_copy(tmp_path: Path, small_registry: Path) -> None:
    source = tmp_path / "source"
    assert cli_main(["--workspace", str(source), "init"]) == 0
    assert cli_main(["--workspace", str(source), "registry", "import", str(small_registry)]) == 0
    imported = _villages(source)
    # As an older version saved it: the source's own file, by absolute path.
    (source / CONFIG_FILE_NAME).write_text(json.dumps({"db_url": default_db_url(source.resolve())}))
    copy = copy_workspace(open_workspace(str(source)), tmp_path / "copy", skip=("evidence",))
    assert not (copy.root / "evidence").exists()
    with Session(copy.engine()) as session, session.begin():
        session.query(Village).delete()
    assert _villages(copy.root) == 0
    assert _villages(source) == imported


def test_a_database_of_an_older_version_is_upgraded_before_a_command_uses_it(tmp_path, capsys) -> None:
    from alembic import command

    from ducha.cli import main as cli_main
    from ducha.db.migrate import alembic_config, current_revision, head_revision
    from ducha.workspace import open_workspace

    root = tmp_path / "ws"
    assert cli_main(["--workspace", str(root), "init"]) == 0
    url = open_workspace(str(root)).db_url
    command.downgrade(alembic_config(url), "0001")
    assert current_revision(url) == "0001"
    capsys.readouterr()
    assert cli_main(["--workspace", str(root), "review", "--round", "2015-08"]) == 0
    assert current_revision(url) == head_revision()
    assert "数据库已升级" in capsys.readouterr().err
