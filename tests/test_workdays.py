"""Working days: chinesecalendar up to 2026, the workspace's holidays file after."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import CliRunner

from ducha.errors import CalendarError, ConfigError
from ducha.workdays import month_workdays
from ducha.workspace import create

HOLIDAYS_2027 = {
    "2027": {
        # A made-up Spring Festival week, to check the file is what counts.
        "holidays": ["2027-01-01", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12"],
        "workdays": ["2027-02-06", "2027-02-20"],
    }
}


def test_august_2015_has_21_working_days_and_needs_14(tmp_path: Path) -> None:
    month = month_workdays(2015, 8, tmp_path / "holidays.json")
    assert month.count == 21
    assert month.two_thirds == 14
    assert month.days[0] == dt.date(2015, 8, 3) and month.days[-1] == dt.date(2015, 8, 31)


def test_national_day_2015_and_its_saturday_working_day(tmp_path: Path) -> None:
    month = month_workdays(2015, 10, tmp_path / "holidays.json")
    assert not any(dt.date(2015, 10, d) in month.days for d in range(1, 8))
    assert dt.date(2015, 10, 10) in month.days  # a Saturday worked in exchange (调休)
    assert (month.count, month.two_thirds) == (18, 12)


def test_2027_without_data_is_an_error_that_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "holidays.json"
    with pytest.raises(CalendarError) as info:
        month_workdays(2027, 2, path)
    assert str(path) in str(info.value) and "2027" in str(info.value)


def test_2027_comes_from_the_holidays_file(tmp_path: Path) -> None:
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(HOLIDAYS_2027))
    month = month_workdays(2027, 2, path)
    # February 2027 has 20 weekdays; minus 5 holidays, plus 2 Saturdays worked.
    assert month.count == 17
    assert month.two_thirds == 12
    assert dt.date(2027, 2, 6) in month.days and dt.date(2027, 2, 8) not in month.days
    assert month.source == str(path)


def test_a_bad_holidays_file_is_reported_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"2027": {"holidays": ["2027-13-01"], "workday": ["2027-02-06"]}}))
    with pytest.raises(ConfigError) as info:
        month_workdays(2027, 2, path)
    keys = [p.split("：")[0] for p in info.value.problems]
    assert keys == ["2027.holidays.0", "2027.workday"]


def test_calendar_command_reads_the_workspace_file(tmp_path: Path, run_cli: CliRunner) -> None:
    ws = create(tmp_path / "ws")
    (ws.root / "holidays.json").write_text(json.dumps(HOLIDAYS_2027))
    code, out, _ = run_cli(ws, "calendar", "2027-02", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["count"], data["two_thirds"]) == (17, 12)
    code, out, _ = run_cli(ws, "calendar", "2015-08")
    assert code == 0 and "21 个工作日" in out and "至少 14 天" in out
    code, _, err = run_cli(ws, "calendar", "2028-01")
    assert code == 1 and "holidays.json" in err
