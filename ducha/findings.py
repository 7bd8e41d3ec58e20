"""What a round found: per village, per sponsor unit, per county, per aspect.

Pure functions over the round plan and the forms' results (``FormResult``,
with review decisions already in place of machine values), so the notice,
the group reports and the tests all count the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ducha.counties import county_order
from ducha.results import FormResult, FormStatus
from ducha.rounds import PlannedVillage
from forms.record_sheet import (
    ASPECTS,
    INDICATORS,
    INDICATORS_BY_KEY,
    POVERTY_FUND_MIN_10K_YUAN,
)

# What a 否 means, as the notice and the rectification list say it.
PROBLEM_TEXT: Mapping[str, str] = {
    "team_1": "未按要求组建驻村工作队",
    "team_2": "驻村工作队员未做到食宿在村、工作在村，不能确保每天有人在村工作",
    "team_3": "未制定帮扶村5年发展规划和年度帮扶减贫计划",
    "team_4": "未落实“1+6”帮扶任务",
    "team_5": "党员干部结对帮扶贫困户未全覆盖",
    "team_6": "部分贫困户没有脱贫规划和帮扶措施",
    "team_7": "未为帮扶村建立不低于10万元的扶贫基金",
    "team_8": "未为帮扶村争取项目资金",
    "sec_1": "第一书记未脱产驻村或每月驻村工作日少于2/3",
    "sec_2": "第一书记对贫困户基本情况、致贫原因等底数不清",
    "sec_3": "第一书记未积极参加村“两委”决策、过好组织生活",
    "sec_4": "第一书记未开展软弱涣散党组织整顿",
    "sec_5": "第一书记未服从村“两委”工作安排",
    "sec_6": "第一书记未帮助制定村级发展规划、落实部门帮扶计划",
    "sec_7": "第一书记未因户施策协助制定贫困户发展规划、督促落实结对帮户措施",
    "sec_8": "有市级领导挂联的部门未建好挂联台帐",
}
# The same, short enough for one line of a table cell.
PROBLEM_SHORT: Mapping[str, str] = {
    "team_1": "未按要求组建工作队",
    "team_2": "工作队未做到每天有人在村",
    "team_3": "无5年规划或年度减贫计划",
    "team_4": "未落实“1+6”帮扶任务",
    "team_5": "结对帮扶贫困户未全覆盖",
    "team_6": "贫困户无脱贫规划和措施",
    "team_7": "未建立10万元以上扶贫基金",
    "team_8": "未争取项目资金",
    "sec_1": "第一书记驻村不足2/3",
    "sec_2": "第一书记对贫困户底数不清",
    "sec_3": "第一书记未参加两委决策",
    "sec_4": "未整顿软弱涣散党组织",
    "sec_5": "第一书记未服从两委安排",
    "sec_6": "未帮助制定村级发展规划",
    "sec_7": "未因户施策落实帮扶措施",
    "sec_8": "未建好挂联台帐",
}
MISSING_TEXT = "未交回督查记实表"
INVALID_TEXT = "督查记实表签字不全，督查无效"
INVALID_SHORT = "记实表签字不全"
FUND_SHORT_TEXT = f"扶贫基金到位不足{POVERTY_FUND_MIN_10K_YUAN:g}万元"
# The poverty fund's amount is help for the village's development (aspect 3),
# like the 否 on team_7. Satisfaction is not a finding of any aspect: aspect 8
# is measured by 知晓率, which the sheet does not record.
FUND_ASPECT = 3


@dataclass(frozen=True)
class ProblemDefinition:
    """Which observations make a village count as having a problem (configurable)."""

    no_answer: bool = True
    invalid_inspection: bool = True
    missing_sheet: bool = True
    poverty_fund_below_min: bool = True


@dataclass(frozen=True)
class VillageFinding:
    village: PlannedVillage
    status: FormStatus
    form_id: str | None
    no_keys: tuple[str, ...]
    poverty_fund_10k: float | None
    project_funds_10k: float | None
    satisfaction_pct: float | None
    visited: int | None

    @property
    def returned(self) -> bool:
        return self.status != "missing"

    @property
    def fund_below_min(self) -> bool:
        return self.poverty_fund_10k is not None and self.poverty_fund_10k < POVERTY_FUND_MIN_10K_YUAN

    @property
    def fund_at_least_min(self) -> bool:
        return self.poverty_fund_10k is not None and not self.fund_below_min

    def indicator(self, key: str) -> str:
        """是 / 否 as the notice tables write them; 否 only where the sheet says so."""
        return "否" if key in self.no_keys else "是"

    def problems(self, definition: ProblemDefinition) -> list[str]:
        """Every problem of this village, in the order a reader expects."""
        found: list[str] = []
        if self.status == "missing" and definition.missing_sheet:
            found.append(MISSING_TEXT)
        if self.status == "invalid" and definition.invalid_inspection:
            found.append(INVALID_TEXT)
        if definition.no_answer:
            found.extend(PROBLEM_TEXT[key] for key in self.no_keys)
        if self.fund_below_min and definition.poverty_fund_below_min and "team_7" not in self.no_keys:
            found.append(FUND_SHORT_TEXT)
        return found

    def short_problems(self, definition: ProblemDefinition) -> list[str]:
        """``problems`` in the short form of a table cell."""
        short = {PROBLEM_TEXT[k]: PROBLEM_SHORT[k] for k in PROBLEM_SHORT} | {INVALID_TEXT: INVALID_SHORT}
        return [short.get(text, text) for text in self.problems(definition)]

    def has_problem(self, definition: ProblemDefinition) -> bool:
        return bool(self.problems(definition))


@dataclass
class Tally:
    """Counts added up over villages (a unit's, a county's, the round's)."""

    villages: int = 0
    returned: int = 0
    valid: int = 0
    invalid: int = 0
    review: int = 0
    missing: int = 0
    problem_villages: int = 0
    # Settled sheets (valid or invalid) with no problem at all.
    clean: int = 0
    no_answers: int = 0
    fund_at_least_min: int = 0
    names: list[str] = field(default_factory=list)
    no_by_indicator: Counter[str] = field(default_factory=Counter)
    satisfaction_values: list[float] = field(default_factory=list)

    @property
    def settled(self) -> int:
        return self.valid + self.invalid

    @property
    def satisfaction_mean_pct(self) -> float | None:
        """The plain mean of the villages' satisfaction rates, one decimal."""
        if not self.satisfaction_values:
            return None
        return round(sum(self.satisfaction_values) / len(self.satisfaction_values), 1)

    def add(self, finding: VillageFinding, definition: ProblemDefinition) -> None:
        self.villages += 1
        self.names.append(finding.village.name)
        if finding.returned:
            self.returned += 1
        if finding.status == "valid":
            self.valid += 1
        elif finding.status == "invalid":
            self.invalid += 1
        elif finding.status == "review":
            self.review += 1
        else:
            self.missing += 1
        if finding.has_problem(definition):
            self.problem_villages += 1
        elif finding.status in ("valid", "invalid"):
            self.clean += 1
        self.no_answers += len(finding.no_keys)
        self.no_by_indicator.update(finding.no_keys)
        if finding.satisfaction_pct is not None and finding.returned:
            self.satisfaction_values.append(finding.satisfaction_pct)
        if finding.fund_at_least_min:
            self.fund_at_least_min += 1


@dataclass(frozen=True)
class AspectItem:
    text: str
    villages: tuple[VillageFinding, ...]
    # The same in the short form of a table cell or a list.
    short: str = ""


@dataclass(frozen=True)
class AspectFigures:
    """An aspect measured outside the record sheet (survey, attendance, self-inspection reports)."""

    passed: int
    total: int
    # What was measured and what fell short, as sentences for the paragraph.
    detail: str


@dataclass(frozen=True)
class AspectFinding:
    """One of the seed's eight aspects: measured on the sheets, or not (``keys`` empty)."""

    number: int
    title: str
    keys: tuple[str, ...]
    # Villages whose sheet came back and was settled: the aspect's denominator.
    measured_villages: int
    items: tuple[AspectItem, ...]

    @property
    def measured(self) -> bool:
        return bool(self.keys)

    @property
    def village_count(self) -> int:
        """Villages with at least one problem in this aspect."""
        return len({f.village.id for item in self.items for f in item.villages})

    @property
    def passed_villages(self) -> int:
        return self.measured_villages - self.village_count


@dataclass
class RoundFindings:
    round: str
    villages: list[VillageFinding]
    definition: ProblemDefinition
    total: Tally
    by_county: dict[str, Tally]
    by_unit: dict[str, Tally]
    aspects: list[AspectFinding]

    def of_status(self, status: FormStatus) -> list[VillageFinding]:
        return [f for f in self.villages if f.status == status]

    def with_problems(self) -> list[VillageFinding]:
        return [f for f in self.villages if f.has_problem(self.definition)]

    def units_without_problems(self) -> list[str]:
        return [unit for unit, tally in self.by_unit.items() if tally.problem_villages == 0]


def village_finding(village: PlannedVillage, result: FormResult | None) -> VillageFinding:
    if result is None:
        return VillageFinding(village, "missing", None, (), None, None, None, None)
    no_keys = tuple(i.key for i in INDICATORS if result.indicators.get(i.key) == "no")
    numbers = result.numbers
    visited = numbers.get("visited_satisfied")
    return VillageFinding(
        village=village,
        status=result.status,
        form_id=result.form_id,
        no_keys=no_keys if result.status != "missing" else (),
        poverty_fund_10k=numbers.get("poverty_fund"),
        project_funds_10k=numbers.get("project_funds"),
        satisfaction_pct=numbers.get("satisfaction_pct"),
        visited=int(visited) if visited is not None else None,
    )


def _pick_result(results: Iterable[FormResult]) -> dict[int, FormResult]:
    """One result per village: a returned sheet beats a missing one, a valid one beats the rest."""
    rank = {"valid": 0, "invalid": 1, "review": 2, "missing": 3}
    chosen: dict[int, FormResult] = {}
    for result in results:
        current = chosen.get(result.village_id)
        if current is None or rank[result.status] < rank[current.status]:
            chosen[result.village_id] = result
    return chosen


def _aspects(findings: Sequence[VillageFinding], definition: ProblemDefinition) -> list[AspectFinding]:
    """All eight aspects, in the seed's order, each with its problems (none when not measured)."""
    settled = [f for f in findings if f.status in ("valid", "invalid")]
    out: list[AspectFinding] = []
    for number, title, keys in ASPECTS:
        items: list[AspectItem] = []
        if definition.no_answer:
            for key in keys:
                hit = tuple(f for f in settled if key in f.no_keys)
                if hit:
                    items.append(AspectItem(PROBLEM_TEXT[key], hit, PROBLEM_SHORT[key]))
        if number == FUND_ASPECT and definition.poverty_fund_below_min:
            hit = tuple(f for f in settled if f.fund_below_min and "team_7" not in f.no_keys)
            if hit:
                items.append(AspectItem(FUND_SHORT_TEXT, hit, FUND_SHORT_TEXT))
        out.append(AspectFinding(number, title, keys, len(settled), tuple(items)))
    return out


def compute_findings(
    round_id: str,
    villages: Sequence[PlannedVillage],
    results: Iterable[FormResult],
    definition: ProblemDefinition | None = None,
) -> RoundFindings:
    """Findings of a round; a planned village without a result counts as not returned."""
    definition = definition or ProblemDefinition()
    picked = _pick_result(r for r in results if r.round == round_id)
    ordered = sorted(villages, key=lambda v: (county_order(v.county), v.town, v.name, v.code))
    findings = [village_finding(v, picked.get(v.id)) for v in ordered]
    total = Tally()
    by_county: dict[str, Tally] = {}
    by_unit: dict[str, Tally] = {}
    for finding in findings:
        total.add(finding, definition)
        by_county.setdefault(finding.village.county, Tally()).add(finding, definition)
        for unit in finding.village.units:
            by_unit.setdefault(unit, Tally()).add(finding, definition)
    by_county = dict(sorted(by_county.items(), key=lambda kv: county_order(kv[0])))
    return RoundFindings(
        round=round_id,
        villages=findings,
        definition=definition,
        total=total,
        by_county=by_county,
        by_unit=by_unit,
        aspects=_aspects(findings, definition),
    )


def no_counts_by_indicator(findings: RoundFindings) -> Counter[str]:
    counts: Counter[str] = Counter()
    for finding in findings.villages:
        counts.update(finding.no_keys)
    return counts


def indicator_label(key: str) -> str:
    indicator = INDICATORS_BY_KEY[key]
    section = "驻村工作队" if indicator.section == "team" else "第一书记"
    return f"{section}第{indicator.number}项"
