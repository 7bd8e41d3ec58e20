"""The counties' monthly self-inspection reports (自查自纠, seed 六（一）).

Each county (and 经开区) inspects its own villages every month and sends
the result to the city by the 5th of the next month. The office records
each file as it arrives: a copy goes into the workspace, with the day it
was received and its SHA-256, so the same file received twice is one
report. A county is on time when its first file arrived by the due day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.config import load_config
from ducha.counties import COUNTIES, canonical_county, county_order, short_name
from ducha.db.models import CountyReport, Round
from ducha.errors import DuchaError
from ducha.rounds import parse_round_id, round_dates

REPORTS_DIR_NAME = "county_reports"
HASH_CHUNK_BYTES = 1 << 20
SHA256_SHORT_CHARS = 12  # as in the copied file's name
SAFE_NAME_RE = re.compile(r"[\\/:*?\"<>|\s]+")

State = Literal["on_time", "late", "missing", "not_due"]
STATE_LABELS: dict[str, str] = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "not_due": "尚未报送（未到期）"}


class CountyReportError(DuchaError):
    """A county's report cannot be recorded as asked."""


@dataclass(frozen=True)
class ReceivedReport:
    round: str
    county: str
    received_on: dt.date
    sha256: str
    path: Path
    original_name: str
    duplicate: bool  # the same file was already recorded for this county and round


@dataclass(frozen=True)
class ReportFile:
    """One recorded file of a county's report, as the status lists it."""

    id: int
    received_on: dt.date
    original_name: str
    sha256: str
    path: str

    @property
    def sha256_short(self) -> str:
        return self.sha256[:SHA256_SHORT_CHARS]


@dataclass(frozen=True)
class CountyStatus:
    county: str
    state: State
    first_received_on: dt.date | None
    files: int
    reports: tuple[ReportFile, ...] = ()

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass
class CountyReportsStatus:
    round: str
    due: dt.date
    as_of: dt.date
    counties: list[CountyStatus] = field(default_factory=list)

    def of_state(self, state: State) -> list[str]:
        return [c.county for c in self.counties if c.state == state]

    @property
    def late(self) -> list[str]:
        return self.of_state("late")

    @property
    def missing(self) -> list[str]:
        return self.of_state("missing")

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "due": self.due.isoformat(),
            "as_of": self.as_of.isoformat(),
            "counties": [
                {
                    "county": c.county, "state": c.state, "label": c.label, "files": c.files,
                    "first_received_on": c.first_received_on.isoformat() if c.first_received_on else None,
                    "reports": [
                        {"id": r.id, "received_on": r.received_on.isoformat(), "original_name": r.original_name,
                         "sha256": r.sha256, "path": r.path}
                        for r in c.reports
                    ],
                }
                for c in self.counties
            ],
        }


def county_name(text: str) -> str:
    """The canonical county name for ``text``, or an error listing the counties."""
    return _county(text)


def _county(text: str) -> str:
    county = canonical_county(text)
    if county is None:
        raise CountyReportError(f"“{text}”不是县（区），应为以下之一：" + "、".join(COUNTIES) + "（或“经开区”）")
    return county


def due_date(session: Session, root: Path, round_id: str) -> dt.date:
    """The 5th of the next month, as stored with a planned round, else from the workspace config."""
    parse_round_id(round_id)
    stored = session.get(Round, round_id)
    if stored is not None:
        return stored.self_inspection_due
    return round_dates(round_id, load_config(root).rounds).self_inspection_due


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def receive_report(
    session: Session,
    root: Path,
    round_id: str,
    county_text: str,
    source: Path,
    received_on: dt.date | None = None,
    now: dt.datetime | None = None,
    original_name: str | None = None,
) -> ReceivedReport:
    """Copy the file into the workspace and record it; the same file again changes nothing.

    ``original_name`` is the name the file was sent under when ``source`` is a temporary copy (a desk upload).
    """
    parse_round_id(round_id)
    county = _county(county_text)
    if not source.is_file():
        raise CountyReportError(f"找不到文件 {source}")
    if source.stat().st_size == 0:
        raise CountyReportError(f"文件 {original_name or source.name} 是空文件，未登记")
    name = original_name or source.name
    stamp = now or dt.datetime.now()
    day = received_on or stamp.date()
    if day > stamp.date():
        raise CountyReportError(f"收到日期 {day.isoformat()} 晚于今天，请核对")
    sha = _sha256(source)
    existing = session.scalars(
        select(CountyReport).where(
            CountyReport.round == round_id, CountyReport.county == county, CountyReport.sha256 == sha
        )
    ).first()
    if existing is not None:
        return ReceivedReport(
            round_id, county, existing.received_on, sha, Path(existing.path), existing.original_name, duplicate=True
        )
    folder = root / REPORTS_DIR_NAME / round_id / county
    folder.mkdir(parents=True, exist_ok=True)
    safe = SAFE_NAME_RE.sub("_", Path(name).name).strip("_") or "report"
    target = folder / f"{day.isoformat()}-{sha[:12]}-{safe}"
    shutil.copyfile(source, target)
    session.add(
        CountyReport(
            round=round_id, county=county, received_on=day, sha256=sha, original_name=name,
            path=str(target), recorded_at=stamp,
        )
    )
    session.flush()
    return ReceivedReport(round_id, county, day, sha, target, name, duplicate=False)


def county_reports_status(
    session: Session, root: Path, round_id: str, as_of: dt.date | None = None
) -> CountyReportsStatus:
    """Every county: on time, late, missing, or not yet due, judged on its first file's day."""
    due = due_date(session, root, round_id)
    today = as_of or dt.date.today()
    rows = list(session.scalars(
        select(CountyReport).where(CountyReport.round == round_id).order_by(CountyReport.received_on, CountyReport.id)
    ))
    status = CountyReportsStatus(round_id, due, today)
    for county in sorted(COUNTIES, key=county_order):
        mine = [r for r in rows if r.county == county]
        if not mine:
            state: State = "missing" if today > due else "not_due"
            status.counties.append(CountyStatus(county, state, None, 0))
            continue
        first = min(r.received_on for r in mine)
        files = tuple(ReportFile(r.id, r.received_on, r.original_name, r.sha256, r.path) for r in mine)
        status.counties.append(CountyStatus(county, "on_time" if first <= due else "late", first, len(mine), files))
    return status


def county_reports_sentence(status: CountyReportsStatus) -> str | None:
    """One sentence for the notice naming late and missing counties; None when every county reported on time."""
    parts = []
    if status.late:
        parts.append("、".join(short_name(c) for c in status.late) + "逾期报送")
    if status.missing:
        parts.append("、".join(short_name(c) for c in status.missing) + "未报送")
    if not parts:
        return None
    due = f"{status.due.month}月{status.due.day}日"
    return f"按要求各县（区）应于{due}前报送本月自查自纠督查情况，" + "，".join(parts) + "。"
