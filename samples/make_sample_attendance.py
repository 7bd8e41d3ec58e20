"""Writes the sample attendance (考勤) for round 2015-08, deterministically.

Every first secretary of the sample registry is listed, except a few whose
考勤表 "did not arrive" (so the notice can say attendance was not provided).
Most are in the village on 15-21 of August 2015's 21 working days; a few
fall short of the 14 required. The first villages of each county come as
one row per day (在村/不在村), the rest as a monthly summary, so the
demo imports both forms in one file. The people are the registry's
fictional ones.

    .venv/bin/python samples/make_sample_attendance.py
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ducha.attendance import DAILY, SPECS, SUMMARY, TEMPLATE_HEADING
from ducha.registry import write_sheets_xlsx
from samples.make_sample_registry import _freeze

SEED = 20150831
ROUND = "2015-08"
OUT_DIR = Path(__file__).resolve().parent
OUT_FILE = f"attendance_{ROUND}.xlsx"
REGISTRY_FILE = OUT_DIR / "registry.xlsx"
MISSING_SHARE = 0.03
SHORT_SHARE = 0.06
DAILY_PER_COUNTY = 2
# August 2015: 21 working days (no holiday falls in the month).
WORKDAYS = [d for d in (dt.date(2015, 8, day) for day in range(1, 32)) if d.weekday() < 5]


def _registry() -> list[tuple[str, str, str]]:
    """(code, county, secretary) for every village with a first secretary."""
    book = openpyxl.load_workbook(REGISTRY_FILE, read_only=True)
    county_of = {str(r[3]): r[0] for r in book["贫困村"].iter_rows(min_row=2, values_only=True)}
    out = [(str(r[0]), county_of[str(r[0])], r[1]) for r in book["第一书记"].iter_rows(min_row=2, values_only=True)]
    book.close()
    return sorted(out)


def main() -> None:
    rng = random.Random(SEED)
    summary, daily = [], []
    daily_done: dict[str, int] = {}
    for code, county, secretary in _registry():
        if rng.random() < MISSING_SHARE:
            continue
        days = rng.randint(8, 13) if rng.random() < SHORT_SHARE else rng.randint(15, len(WORKDAYS))
        if daily_done.get(county, 0) < DAILY_PER_COUNTY:
            daily_done[county] = daily_done.get(county, 0) + 1
            present = set(rng.sample(WORKDAYS, days))
            for day in WORKDAYS:
                daily.append(
                    {"code": code, "secretary": secretary, "date": day.isoformat(),
                     "presence": "在村" if day in present else "不在村"}
                )
            continue
        summary.append({"code": code, "village": None, "secretary": secretary, "days": days})
    path = OUT_DIR / OUT_FILE
    write_sheets_xlsx(path, {SUMMARY.key: summary, DAILY.key: daily}, SPECS, TEMPLATE_HEADING)
    _freeze(path)
    print(path)


if __name__ == "__main__":
    main()
