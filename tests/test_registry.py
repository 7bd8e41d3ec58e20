"""Registry import: every bad cell reported, nothing half-imported, re-import idempotent."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import SAMPLE_REGISTRY, SMALL_REGISTRY_VILLAGES, CliRunner, session_of
from sqlalchemy import func, select

from ducha.db.models import FirstSecretary, SponsorUnit, Village, VillageUnit, WorkTeam
from ducha.errors import RegistryImportError
from ducha.registry import SHEETS, import_files, write_registry_xlsx, write_template_xlsx
from ducha.workspace import Workspace


def snapshot(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every registry row by natural key, to compare before and after."""
    with session_of(ws) as s:
        return {
            "villages": sorted(
                s.execute(
                    select(
                        Village.id,
                        Village.code,
                        Village.county,
                        Village.town,
                        Village.name,
                        Village.population,
                        Village.poor_population,
                        Village.income_last_year_yuan,
                    )
                ).all()
            ),
            "units": sorted(
                s.execute(select(SponsorUnit.id, SponsorUnit.name, SponsorUnit.level, SponsorUnit.county)).all()
            ),
            "links": sorted(
                s.execute(
                    select(Village.code, SponsorUnit.name)
                    .join(VillageUnit, VillageUnit.village_id == Village.id)
                    .join(SponsorUnit, SponsorUnit.id == VillageUnit.unit_id)
                ).all()
            ),
            "teams": sorted(s.execute(select(WorkTeam.id, WorkTeam.village_id, WorkTeam.size, WorkTeam.leader)).all()),
            "secretaries": sorted(
                s.execute(
                    select(
                        FirstSecretary.id,
                        FirstSecretary.village_id,
                        FirstSecretary.name,
                        FirstSecretary.unit,
                        FirstSecretary.phone,
                    )
                ).all()
            ),
        }


def do_import(ws: Workspace, *paths: Path):  # type: ignore[no-untyped-def]
    with session_of(ws) as s, s.begin():
        return import_files(s, list(paths))


def edited_copy(source: Path, tmp_path: Path, name: str, edits: dict[tuple[str, str], Any]) -> Path:
    """A registry file with cells changed: {(sheet title, cell like "E5"): value}."""
    book = openpyxl.load_workbook(source)
    for (sheet, cell), value in edits.items():
        book[sheet][cell] = value
    path = tmp_path / name
    book.save(path)
    return path


def test_bad_cells_are_reported_by_sheet_row_and_column_and_nothing_is_imported(
    workspace: Workspace, tmp_path: Path, run_cli: CliRunner, small_registry: Path
) -> None:
    bad = edited_copy(
        small_registry,
        tmp_path,
        "bad.xlsx",
        {
            ("贫困村", "E5"): "一千二",  # 总人口 not a number
            ("贫困村", "F7"): 999999,  # 贫困人数 > 总人口
            ("帮扶单位", "B3"): "省级",  # 级别
            ("帮扶关系", "C4"): "不存在的单位",  # unknown unit
            ("第一书记", "D10"): "12345",  # phone
        },
    )
    with pytest.raises(RegistryImportError) as info:
        do_import(workspace, bad)
    problems = info.value.problems
    assert "bad.xlsx 工作表“贫困村”第 5 行“总人口”列（E 列）：应为不小于 0 的整数，实际为“一千二”" in problems
    assert any(
        p.startswith("bad.xlsx 工作表“贫困村”第 7 行“贫困人数”列（F 列）：贫困人数 999999 多于总人口") for p in problems
    )
    assert any(p.startswith("bad.xlsx 工作表“帮扶单位”第 3 行“级别”列（B 列）") for p in problems)
    assert any(
        p.startswith("bad.xlsx 工作表“帮扶关系”第 4 行“帮扶单位”列（C 列）：帮扶单位“不存在的单位”") for p in problems
    )
    assert any(p.startswith("bad.xlsx 工作表“第一书记”第 10 行“联系电话”列（D 列）") for p in problems)
    assert len(problems) == 5
    assert all(v == [] for v in snapshot(workspace).values())

    # The CLI says the same in Chinese and exits 1.
    code, _, err = run_cli(workspace, "registry", "import", str(bad))
    assert code == 1
    assert "未导入任何数据" in err and "第 5 行“总人口”列（E 列）" in err


def test_a_bad_file_does_not_half_update_an_existing_registry(
    workspace: Workspace, tmp_path: Path, small_registry: Path
) -> None:
    do_import(workspace, small_registry)
    before = snapshot(workspace)
    mixed = edited_copy(small_registry, tmp_path, "mixed.xlsx", {("贫困村", "E2"): 1234, ("贫困村", "D3"): "5119"})
    with pytest.raises(RegistryImportError) as info:
        do_import(workspace, mixed)
    assert info.value.problems == [
        "mixed.xlsx 工作表“贫困村”第 3 行“村代码”列（D 列）：应为 12 位数字的村代码，实际为“5119”"
    ]
    assert snapshot(workspace) == before


def test_reimport_is_idempotent(workspace: Workspace) -> None:
    first = do_import(workspace, SAMPLE_REGISTRY)
    assert first.sheet("贫困村").created == 490
    once = snapshot(workspace)
    second = do_import(workspace, SAMPLE_REGISTRY)
    assert second.changed == 0
    assert second.sheet("贫困村").unchanged == 490
    assert snapshot(workspace) == once


def test_changed_file_updates_by_natural_key(workspace: Workspace, tmp_path: Path, small_registry: Path) -> None:
    do_import(workspace, small_registry)
    before = snapshot(workspace)
    book = openpyxl.load_workbook(small_registry, read_only=True)
    code = str(book["贫困村"]["D2"].value)
    old_unit = str(book["帮扶关系"]["C2"].value)
    assert book["帮扶关系"]["A2"].value == code
    new_unit = next(str(r[0]) for r in book["帮扶单位"].iter_rows(min_row=2, values_only=True) if r[0] != old_unit)
    book.close()
    changed = edited_copy(
        small_registry,
        tmp_path,
        "changed.xlsx",
        {
            ("贫困村", "E2"): 1888,
            ("帮扶关系", "C2"): new_unit,
            ("第一书记", "D2"): "13900001111",
        },
    )
    report = do_import(workspace, changed)
    assert (report.sheet("贫困村").updated, report.sheet("贫困村").created) == (1, 0)
    assert report.sheet("帮扶关系").updated == 1
    assert report.sheet("第一书记").updated == 1
    after = snapshot(workspace)
    assert len(after["villages"]) == len(before["villages"])
    village = next(v for v in after["villages"] if v[1] == code)
    assert village[5] == 1888
    assert village[0] == next(v for v in before["villages"] if v[1] == code)[0]  # same row, updated in place
    units_now = {u for c, u in after["links"] if c == code}
    assert old_unit not in units_now and new_unit in units_now
    phone = next(s[4] for s in after["secretaries"] if s[1] == village[0])
    assert phone == "13900001111"


def test_export_imports_back_unchanged(workspace: Workspace, tmp_path: Path, small_registry: Path) -> None:
    report = do_import(workspace, small_registry)
    assert report.sheet("贫困村").created == SMALL_REGISTRY_VILLAGES
    exported = tmp_path / "export.xlsx"
    with session_of(workspace) as s:
        write_registry_xlsx(s, exported)
    assert do_import(workspace, exported).changed == 0


def test_csv_sheets_in_excel_gbk_are_imported(
    tmp_path: Path, run_cli: CliRunner, workspace: Workspace, small_registry: Path
) -> None:
    book = openpyxl.load_workbook(small_registry, read_only=True)
    paths = []
    for spec in SHEETS:
        path = tmp_path / f"{spec.title}.csv"
        rows = [["" if v is None else str(v) for v in row] for row in book[spec.title].iter_rows(values_only=True)]
        with path.open("w", encoding="gb18030", newline="") as handle:
            csv.writer(handle).writerows(rows)
        paths.append(path)
    book.close()
    code, out, err = run_cli(workspace, "registry", "import", *map(str, paths))
    assert code == 0, err
    assert f"贫困村：新增 {SMALL_REGISTRY_VILLAGES}" in out
    links = openpyxl.load_workbook(small_registry, read_only=True)["帮扶关系"].max_row - 1
    with session_of(workspace) as s:
        assert s.scalar(select(func.count()).select_from(VillageUnit)) == links


def test_template_has_every_sheet_header_and_instructions(tmp_path: Path) -> None:
    path = write_template_xlsx(tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["填表说明"] + [s.title for s in SHEETS]
    for spec in SHEETS:
        sheet = book[spec.title]
        assert [c.value for c in sheet[1]] == [c.header for c in spec.columns]
        assert sheet.max_row == 1 or all(c.value is None for row in sheet.iter_rows(min_row=2) for c in row)
        assert sheet["A1"].comment is not None
    instructions = "\n".join(str(c.value) for row in book["填表说明"].iter_rows() for c in row if c.value)
    assert "不导入任何数据" in instructions and "村代码" in instructions
