"""Shared fixtures.

``db_url`` runs a test on SQLite and, when ``DUCHA_TEST_PG_URL`` is set (see
``scripts/start_test_postgres.sh``), again on a fresh PostgreSQL database.
``planned_workspace`` is a session-wide SQLite workspace with the sample
registry and roster imported and round 2015-08 planned: the starting point
for sheet, scan and notification tests. Treat it as read-only; copy it
(``copy_planned_workspace``) when a test needs to write.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ducha.cli import main as cli_main
from ducha.db.migrate import normalize_db_url
from ducha.groups import import_roster
from ducha.registry import import_files
from ducha.rounds import plan_round
from ducha.workspace import Workspace, copy_workspace, create
from forms.record_sheet import INDICATORS_BY_KEY

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "samples"
SAMPLE_REGISTRY = SAMPLES_DIR / "registry.xlsx"
SAMPLE_ROSTERS = {"2015-08": SAMPLES_DIR / "groups_2015-08.xlsx", "2015-09": SAMPLES_DIR / "groups_2015-09.xlsx"}
SAMPLE_ROUND = "2015-08"
SAMPLE_SEED = "2015-08-14 福彩3D 第2015219期 开奖号 5 8 3"
PLANNED_WORKSPACE_KEY_HEX = "3be73a1d8eceb6d79b80a65ace5565d7a3093281d4c3d81d11a77e4ff4f9cb42"
PG_URL_ENV = "DUCHA_TEST_PG_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"未设置 {PG_URL_ENV}，跳过 PostgreSQL")
    admin_url = sa.make_url(normalize_db_url(base))
    name = f"ducha_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def workspace(tmp_path: Path, db_url: str) -> Workspace:
    """A fresh, empty workspace on the parametrized database."""
    return create(tmp_path / "ws", db_url)


def session_of(ws: Workspace) -> Session:
    return Session(ws.engine(), expire_on_commit=False)


# Every indicator answered 是, as on a real sheet (several left unanswered on one page go to review).
EVERY_INDICATOR_YES: dict[str, str] = {key: "yes" for key in INDICATORS_BY_KEY}


def smallest_group(ws: Workspace, round_id: str) -> int:
    """The round's group with the fewest villages: the cheapest to print in a test."""
    from sqlalchemy import func, select

    from ducha.db.models import RoundVillage

    with Session(ws.engine()) as session:
        counts = session.execute(
            select(RoundVillage.group_no, func.count()).where(RoundVillage.round == round_id)
            .group_by(RoundVillage.group_no)
        ).all()
    return int(min(counts, key=lambda row: row[1])[0])


def fill_workspace(ws: Workspace, rounds: tuple[str, ...] = (SAMPLE_ROUND,)) -> None:
    """Import the sample registry and roster, and plan the given rounds with the sample seed."""
    # A fixed key, so that every run prints the same MACs and reads the same pages: with a key drawn
    # for each run, about one run in a hundred printed a MAC that OCR misread (CI failed on one). Many
    # keys are benchmarks/bench_printed_id_keys.py's job. This one reproduced that CI failure's page
    # (its MAC's 4 read as A) on the code before.
    ws.key_path.write_text(PLANNED_WORKSPACE_KEY_HEX + "\n", encoding="ascii")
    with session_of(ws) as session, session.begin():
        import_files(session, [SAMPLE_REGISTRY])
        import_roster(session, SAMPLE_ROUND, [SAMPLE_ROSTERS[SAMPLE_ROUND]])
        for round_id in rounds:
            plan_round(session, round_id, SAMPLE_SEED)


@pytest.fixture(scope="session")
def planned_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """SQLite workspace: sample registry + 2015-08 roster imported, round 2015-08 planned. Read-only."""
    ws = create(tmp_path_factory.mktemp("planned") / "ducha-data")
    fill_workspace(ws)
    return ws


@pytest.fixture
def copy_planned_workspace(planned_workspace: Workspace, tmp_path: Path) -> Workspace:
    """A private, writable copy of ``planned_workspace`` (SQLite only)."""
    return copy_workspace(planned_workspace, tmp_path / "ducha-data")


CliRunner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run ``ducha ARGS`` in-process on a workspace; returns (exit code, stdout, stderr)."""

    def run(ws: Workspace, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli_main(["--workspace", str(ws.root), "--db", ws.db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


SMALL_REGISTRY_VILLAGES = 40


@pytest.fixture(scope="session")
def small_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cut of the sample registry (40 villages, city and county units) for fast import tests."""
    source = openpyxl.load_workbook(SAMPLE_REGISTRY, read_only=True)
    grids = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in source.worksheets}
    source.close()
    villages = grids["贫困村"]
    # Every 12th village: spread over counties, so both city- and county-unit villages are in.
    keep = {str(row[3]) for row in villages[1::12][:SMALL_REGISTRY_VILLAGES]}
    links = [grids["帮扶关系"][0]] + [r for r in grids["帮扶关系"][1:] if str(r[0]) in keep]
    units_used = {r[2] for r in links[1:]}
    cut = {
        "贫困村": [villages[0]] + [r for r in villages[1:] if str(r[3]) in keep],
        "帮扶单位": [grids["帮扶单位"][0]] + [r for r in grids["帮扶单位"][1:] if r[0] in units_used],
        "帮扶关系": links,
        "驻村工作队": [grids["驻村工作队"][0]] + [r for r in grids["驻村工作队"][1:] if str(r[0]) in keep],
        "第一书记": [grids["第一书记"][0]] + [r for r in grids["第一书记"][1:] if str(r[0]) in keep],
    }
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in cut.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path_factory.mktemp("small") / "small_registry.xlsx"
    book.save(path)
    return path


# The live desk (``ducha serve`` in a subprocess) for the desk's HTTP and browser tests.
from desk_fixtures import desk_server, desk_server_any_db, fresh_desk_server  # noqa: F401
