"""知晓率 from the returned awareness surveys (seed 三（八）: not below 60%).

A row with nothing ticked is not a respondent. A respondent is aware when
they answer 是 to both of the first two questions (``forms.survey``); the
rate is computed per village. Values a person settled in review replace
the machine's. A village whose survey has open doubts on those questions
gets no rate until they are settled; one whose survey did not come back is
listed as such.

The survey's satisfaction counts are set beside the 走访人数 and 满意率
written on the village's record sheet, for the reviewer to see. Neither
figure is ever changed to match the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, ReviewItem, ScanPage
from ducha.results import load_form_results
from ducha.rounds import round_plan
from forms.form_spec import FormSpec, form_spec
from forms.record_sheet import AWARENESS_MIN_PERCENT
from forms.survey import AWARENESS_COLUMNS, SATISFACTION, SATISFIED_VALUES, SURVEY_FORM_TYPE

# A survey and a record sheet disagree when the counts differ, or the 满意率 by more than this.
SATISFACTION_DIFFERENCE_MAX_POINTS = 10.0
PERCENT = 100.0

SurveyStatus = Literal["measured", "review", "missing", "empty"]


@dataclass
class VillageAwareness:
    village_id: int
    county: str
    town: str
    village: str
    units: tuple[str, ...]
    form_id: str | None
    status: SurveyStatus
    respondents: int = 0
    aware: int = 0
    satisfaction: dict[str, int] = field(default_factory=dict)  # choice value -> count
    # What the record sheet says, and the reviewer's note when the two differ.
    sheet_visited: float | None = None
    sheet_satisfaction_pct: float | None = None
    difference: str | None = None

    @property
    def place(self) -> str:
        return f"{self.county}{self.town}{self.village}"

    @property
    def rate_pct(self) -> float | None:
        if self.status != "measured" or self.respondents == 0:
            return None
        return round(PERCENT * self.aware / self.respondents, 1)

    @property
    def below_min(self) -> bool:
        rate = self.rate_pct
        return rate is not None and rate < AWARENESS_MIN_PERCENT

    @property
    def satisfied_pct(self) -> float | None:
        answered = sum(self.satisfaction.values())
        if not answered:
            return None
        return round(PERCENT * sum(self.satisfaction.get(v, 0) for v in SATISFIED_VALUES) / answered, 1)


@dataclass
class AwarenessFindings:
    round: str
    min_pct: float
    villages: list[VillageAwareness] = field(default_factory=list)

    def of_status(self, status: SurveyStatus) -> list[VillageAwareness]:
        return [v for v in self.villages if v.status == status]

    @property
    def measured(self) -> list[VillageAwareness]:
        return [v for v in self.of_status("measured") if v.respondents]

    @property
    def respondents(self) -> int:
        return sum(v.respondents for v in self.measured)

    @property
    def aware(self) -> int:
        return sum(v.aware for v in self.measured)

    @property
    def overall_pct(self) -> float | None:
        return round(PERCENT * self.aware / self.respondents, 1) if self.respondents else None

    @property
    def below(self) -> list[VillageAwareness]:
        return [v for v in self.measured if v.below_min]

    @property
    def differences(self) -> list[VillageAwareness]:
        return [v for v in self.villages if v.difference]

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "min_pct": self.min_pct,
            "overall_pct": self.overall_pct,
            "respondents": self.respondents,
            "aware": self.aware,
            "villages": [
                {
                    "village": v.place, "form_id": v.form_id, "status": v.status, "respondents": v.respondents,
                    "aware": v.aware, "rate_pct": v.rate_pct, "below_min": v.below_min,
                    "satisfaction": v.satisfaction, "sheet_visited": v.sheet_visited,
                    "sheet_satisfaction_pct": v.sheet_satisfaction_pct, "difference": v.difference,
                }
                for v in self.villages
            ],
        }


def _survey_values(session: Session, form_id: str) -> tuple[dict[str, Any], set[str], bool]:
    """The survey's field values (review settled ones win), the keys still in review, and whether a page came back."""
    pages = session.scalars(
        select(ScanPage).where(ScanPage.form_id == form_id, ScanPage.status != "rejected").order_by(ScanPage.id)
    ).all()
    if not pages:
        return {}, set(), False
    latest = pages[-1]
    values: dict[str, Any] = {k: item.get("value") for k, item in (latest.reading or {}).get("fields", {}).items()}
    open_keys: set[str] = set()
    items = session.scalars(
        select(ReviewItem).where(ReviewItem.scan_page_id.in_([p.id for p in pages])).order_by(ReviewItem.id)
    ).all()
    for item in items:
        if item.status == "resolved" and item.resolved_value is not None:
            values[item.field_key] = item.resolved_value
        elif item.status == "open" and item.scan_page_id == latest.id:
            open_keys.add(item.field_key)
    return values, open_keys, True


def tally_survey(spec: FormSpec, values: dict[str, Any], entry: VillageAwareness, open_keys: set[str]) -> None:
    """Count respondents, the aware and the satisfaction answers of one survey into ``entry``."""
    pending = "page" in open_keys
    for row in range(1, spec.rows + 1):
        groups = [g for g in spec.choice_groups if g.row == row]
        answers = {g.column.key: values.get(g.key) for g in groups}
        if all(a in (None, "blank") for a in answers.values()):
            continue  # nothing ticked: not a respondent
        entry.respondents += 1
        awareness = [answers.get(key) for key in AWARENESS_COLUMNS]
        if any(a == "uncertain" for a in awareness) or any(
            g.key in open_keys for g in groups if g.column.key in AWARENESS_COLUMNS
        ):
            pending = True
        if all(a == "yes" for a in awareness):
            entry.aware += 1
        satisfaction = answers.get(SATISFACTION.key)
        if satisfaction not in (None, "blank", "uncertain"):
            entry.satisfaction[str(satisfaction)] = entry.satisfaction.get(str(satisfaction), 0) + 1
    if pending:
        entry.status = "review"
    elif entry.respondents == 0:
        entry.status = "empty"


def _compare(entry: VillageAwareness) -> None:
    """A note for the reviewer when the survey and the record sheet tell different stories."""
    answered = sum(entry.satisfaction.values())
    notes = []
    if entry.sheet_visited is not None and answered and int(entry.sheet_visited) != answered:
        notes.append(f"记实表走访 {entry.sheet_visited:g} 人，调查表答满意度 {answered} 人")
    survey_pct = entry.satisfied_pct
    sheet_pct = entry.sheet_satisfaction_pct
    if survey_pct is not None and sheet_pct is not None and abs(survey_pct - sheet_pct) > SATISFACTION_DIFFERENCE_MAX_POINTS:
        notes.append(f"记实表满意率 {sheet_pct:g}%，调查表满意和基本满意占 {survey_pct:g}%")
    entry.difference = "；".join(notes) or None


def awareness_findings(session: Session, round_id: str) -> AwarenessFindings:
    """知晓率 per village of the round and overall, with the villages below 60% and the sheets' comparison."""
    spec = form_spec(SURVEY_FORM_TYPE)
    assert spec is not None
    plan = round_plan(session, round_id)
    issued = {
        row.village_id: row.form_id
        for row in session.scalars(
            select(IssuedSheet).where(IssuedSheet.round == round_id, IssuedSheet.layout_version == SURVEY_FORM_TYPE)
        )
    }
    sheets = {r.village_id: r for r in load_form_results(session, round_id)}
    out = AwarenessFindings(round_id, AWARENESS_MIN_PERCENT)
    for v in plan.villages:
        form_id = issued.get(v.id)
        entry = VillageAwareness(v.id, v.county, v.town, v.name, tuple(v.units), form_id, "missing")
        sheet = sheets.get(v.id)
        if sheet is not None:
            entry.sheet_visited = sheet.numbers.get("visited_satisfied")
            entry.sheet_satisfaction_pct = sheet.numbers.get("satisfaction_pct")
        if form_id is not None:
            values, open_keys, returned = _survey_values(session, form_id)
            if returned:
                entry.status = "measured"
                tally_survey(spec, values, entry, open_keys)
                _compare(entry)
        out.villages.append(entry)
    return out
