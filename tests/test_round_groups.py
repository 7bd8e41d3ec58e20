"""Group rosters per round, and the workspace that holds them."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from conftest import SAMPLE_ROSTERS, CliRunner

from ducha.cli import main as cli_main
from ducha.db.migrate import head_revision
from ducha.workspace import Workspace


def test_init_makes_a_workspace_with_a_private_key_and_migrated_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUCHA_HOME", str(tmp_path / "home"))
    assert cli_main(["init", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    root = tmp_path / "home"
    assert info["workspace"] == str(root) and info["schema_revision"] == head_revision()
    assert stat.S_IMODE(os.stat(root / "secret.key").st_mode) == 0o600
    assert len(bytes.fromhex((root / "secret.key").read_text().strip())) == 32
    assert {"sheets", "scans", "lottery"} <= {p.name for p in root.iterdir() if p.is_dir()}
    key_before = (root / "secret.key").read_text()
    assert cli_main(["init"]) == 0  # again: keeps the key
    assert (root / "secret.key").read_text() == key_before
    engine = sa.create_engine(f"sqlite:///{root / 'ducha.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("select version_num from alembic_version")).scalar() == head_revision()
        assert "village" in sa.inspect(conn).get_table_names()


def test_roster_import_show_and_inheritance(workspace: Workspace, run_cli: CliRunner) -> None:
    code, out, err = run_cli(workspace, "groups", "import", str(SAMPLE_ROSTERS["2015-08"]), "--round", "2015-08")
    assert code == 0, err
    code, out, _ = run_cli(workspace, "groups", "show", "--round", "2015-10", "--json")
    data = json.loads(out)
    assert data["source_round"] == "2015-08"
    assert [g["counties"] for g in data["groups"]] == [
        ["巴州区"],
        ["恩阳区", "巴中经济开发区"],
        ["南江县"],
        ["通江县"],
        ["平昌县"],
    ]
    assert all(sum(m["role"] == "liaison" and bool(m["phone"]) for m in g["members"]) == 1 for g in data["groups"])
    # A new roster for 2015-09 changes that round only.
    assert run_cli(workspace, "groups", "import", str(SAMPLE_ROSTERS["2015-09"]), "--round", "2015-09")[0] == 0
    aug = json.loads(run_cli(workspace, "groups", "show", "--round", "2015-08", "--json")[1])
    sep = json.loads(run_cli(workspace, "groups", "show", "--round", "2015-09", "--json")[1])
    assert aug["groups"][0]["members"] != sep["groups"][0]["members"]
    assert sep["source_round"] == "2015-09"


def test_roster_errors_name_row_and_column_and_keep_the_old_roster(
    tmp_path: Path, run_cli: CliRunner, workspace: Workspace
) -> None:
    assert run_cli(workspace, "groups", "import", str(SAMPLE_ROSTERS["2015-08"]), "--round", "2015-08")[0] == 0
    before = run_cli(workspace, "groups", "show", "--round", "2015-08", "--json")[1]
    book = openpyxl.load_workbook(SAMPLE_ROSTERS["2015-08"])
    sheet = book["督查组名单"]
    sheet["F4"] = None  # the first group's liaison loses the phone
    sheet["B14"] = "平昌"  # not a county
    bad = tmp_path / "bad_roster.xlsx"
    book.save(bad)
    code, _, err = run_cli(workspace, "groups", "import", str(bad), "--round", "2015-08")
    assert code == 1
    assert "第 4 行“姓名”列（D 列）：联络人" in err
    assert "第 14 行“督查县（区）”列（B 列）" in err
    assert run_cli(workspace, "groups", "show", "--round", "2015-08", "--json")[1] == before
