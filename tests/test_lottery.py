"""The lottery: repeatable from the seed, verifiable, re-implementable, recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
from conftest import SAMPLE_REGISTRY, SAMPLE_ROUND, SAMPLE_SEED, CliRunner, fill_workspace, session_of

from ducha.db.models import Lottery
from ducha.lottery import draw, draw_size, lottery_population
from ducha.workspace import Workspace

TEN_PERCENT = Decimal("0.10")


def test_same_seed_same_draw_and_a_different_seed_a_different_one(planned_workspace: Workspace) -> None:
    with session_of(planned_workspace) as s:
        population = lottery_population(s)
    first = draw(SAMPLE_SEED, population, TEN_PERCENT)
    again = draw(SAMPLE_SEED, {c: list(reversed(codes)) for c, codes in population.items()}, TEN_PERCENT)
    other = draw(SAMPLE_SEED + "1", population, TEN_PERCENT)
    assert first == again
    assert other != first
    assert {c: len(v) for c, v in other.items()} == {c: len(v) for c, v in first.items()}


def test_the_draw_is_at_least_ten_percent_rounded_up(planned_workspace: Workspace) -> None:
    for size in range(301):
        n = draw_size(size, TEN_PERCENT)
        assert n * 10 >= size and (n - 1) * 10 < max(size, 1)
    assert draw_size(10, TEN_PERCENT) == 1 and draw_size(11, TEN_PERCENT) == 2 and draw_size(7, TEN_PERCENT) == 1
    assert draw_size(62, Decimal("0.15")) == 10  # 9.3 -> 10
    with session_of(planned_workspace) as s:
        record = s.get(Lottery, SAMPLE_ROUND)
        assert record is not None
        for entry in record.result.values():
            assert len(entry["drawn"]) == math.ceil(len(entry["population"]) / 10)


def test_anyone_can_rerun_the_draw_from_the_published_record(planned_workspace: Workspace, run_cli: CliRunner) -> None:
    """Re-implemented here from the documented rule, not by calling ducha.lottery."""
    data = json.loads(run_cli(planned_workspace, "round", "show", SAMPLE_ROUND, "--json")[1])
    # The population comes from the registry file itself: villages whose units are all county units.
    book = openpyxl.load_workbook(SAMPLE_REGISTRY, read_only=True)
    county_of = {str(r[3]): r[0] for r in book["贫困村"].iter_rows(min_row=2, values_only=True)}
    level_of = {r[0]: r[1] for r in book["帮扶单位"].iter_rows(min_row=2, values_only=True)}
    levels: dict[str, set[str]] = {}
    for code, _name, unit in book["帮扶关系"].iter_rows(min_row=2, values_only=True):
        levels.setdefault(str(code), set()).add(level_of[unit])
    book.close()
    population: dict[str, list[str]] = {}
    for code, lv in levels.items():
        if lv == {"县级"}:
            population.setdefault(county_of[code], []).append(code)
    lines = "".join(f"{c}|{code}\n" for c in sorted(population) for code in sorted(population[c]))
    assert hashlib.sha256(lines.encode()).hexdigest() == data["lottery"]["population_sha256"]
    seed = data["lottery"]["seed"].encode()
    for county, codes in population.items():
        ranked = sorted(codes, key=lambda c: hmac.new(seed, f"{county}|{c}".encode(), hashlib.sha256).hexdigest())
        expected = ranked[: -(-len(codes) // 10)]
        assert data["lottery"]["per_county"][county]["drawn"] == expected
        assert data["lottery"]["per_county"][county]["population"] == len(codes)


def test_verify_fails_when_the_population_changed_after_the_draw(
    workspace: Workspace, tmp_path: Path, run_cli: CliRunner
) -> None:
    fill_workspace(workspace)
    code, out, _ = run_cli(workspace, "lottery", "verify", SAMPLE_ROUND)
    assert code == 0 and "复核通过" in out

    # A new county-unit village appears in 南江县 after the draw (a file with just that village).
    book = openpyxl.Workbook()
    villages = book.active
    assert villages is not None
    villages.title = "贫困村"
    villages.append(["县（区）", "乡镇（街道）", "村名", "村代码", "总人口", "贫困人数", "上年人均纯收入（元）"])
    villages.append(["南江县", "长赤镇", "新添村", "511922102999", 900, 120, 3000])
    links = book.create_sheet("帮扶关系")
    links.append(["村代码", "村名", "帮扶单位"])
    links.append(["511922102999", "新添村", "南江县财政局"])
    changed = tmp_path / "changed.xlsx"
    book.save(changed)
    assert run_cli(workspace, "registry", "import", str(changed))[0] == 0

    code, out, _ = run_cli(workspace, "lottery", "verify", SAMPLE_ROUND)
    assert code == 1
    assert "南江县" in out and "未通过" in out
    code, out, _ = run_cli(workspace, "lottery", "verify", SAMPLE_ROUND, "--json")
    result = json.loads(out)
    assert code == 1
    assert (result["replay_matches"], result["population_unchanged"], result["changed_counties"]) == (
        True,
        False,
        ["南江县"],
    )


def test_verify_fails_when_the_recorded_result_was_edited(
    copy_planned_workspace: Workspace, run_cli: CliRunner
) -> None:
    ws = copy_planned_workspace
    with session_of(ws) as s, s.begin():
        record = s.get(Lottery, SAMPLE_ROUND)
        assert record is not None
        result = json.loads(json.dumps(record.result))
        entry = result["平昌县"]
        outsider = next(c for c in entry["population"] if c not in entry["drawn"])
        entry["drawn"][0] = outsider
        record.result = result
    code, out, _ = run_cli(ws, "lottery", "verify", SAMPLE_ROUND)
    assert code == 1 and "结果不一致" in out


def test_lottery_record_is_a_printable_docx_with_witness_lines(
    planned_workspace: Workspace, tmp_path: Path, run_cli: CliRunner
) -> None:
    path = tmp_path / "record.docx"
    code, _, err = run_cli(planned_workspace, "lottery", "record", SAMPLE_ROUND, "-o", str(path))
    assert code == 0, err
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    with session_of(planned_workspace) as s:
        record = s.get(Lottery, SAMPLE_ROUND)
        assert record is not None
    assert "摇号抽查记录" in text
    assert SAMPLE_SEED in text and record.population_sha256 in text and "hmac-sha256-rank" in text
    assert text.count("（签字）") == 5 and text.replace("　", "").count("见证人（签字）") == 3
    rows = document.tables[0].rows
    assert [c.text for c in rows[0].cells][:3] == ["县（区）", "县级单位帮扶村数", "抽取村数"]
    by_county = {r.cells[0].text: r for r in rows[1:]}
    for county, entry in record.result.items():
        row = by_county[county]
        assert row.cells[1].text == str(len(entry["population"])) and row.cells[2].text == str(len(entry["drawn"]))
        assert all(code in row.cells[3].text for code in entry["drawn"])
