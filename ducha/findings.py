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
    AWARENESS_MIN_PERCENT,
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
FUND_SHORT_TEXT = f"扶贫基金到位不足{POVERTY_FUND_MIN_10K_YUAN:g}万元"
SATISFACTION_LOW_TEXT = f"群众满意率低于{AWARENESS_MIN_PERCENT:g}%"
# Numeric checks that belong to an aspect although no box maps to them.
FUND_ASPECT = 7
SATISFACTION_ASPECT = 8


@dataclass(frozen=True)
class ProblemDefinition:
    """Which observations make a village count as having a problem (configurable)."""

    no_answer: bool = True
    invalid_inspection: bool = True
    missing_sheet: bool = True
    poverty_fund_below_min: bool = True
    satisfaction_below_min: bool = True


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

    @property
    def satisfaction_low(self) -> bool:
        return self.satisfaction_pct is not None and self.satisfaction_pct < AWARENESS_MIN_PERCENT

    def indicator(self, key: str) -> str:
        """是 / 否 as the notice tables write them; 否 only where the sheet says so."""
        return "否" if key in self.no_keys else "是"

    def problems(self, definition: ProblemDefinition) -> list[str]:
        """Every problem of this village, in the order a reader expects."""
        found: list[str] = []
        if self.status == "missing" and definition.missing_sheet:
            found.append("未交回督查记实表")
        if self.status == "invalid" and definition.invalid_inspection:
            found.append("督查记实表签字不全，督查无效")
        if definition.no_answer:
            found.extend(PROBLEM_TEXT[key] for key in self.no_keys)
        if self.fund_below_min and definition.poverty_fund_below_min and "team_7" not in self.no_keys:
            found.append(FUND_SHORT_TEXT)
        if self.satisfaction_low and definition.satisfaction_below_min:
            found.append(SATISFACTION_LOW_TEXT)
        return found

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
    no_answers: int = 0
    fund_at_least_min: int = 0
    names: list[str] = field(default_factory=list)
    no_by_indicator: Counter[str] = field(default_factory=Counter)
    satisfaction_values: list[float] = field(default_factory=list)

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


@dataclass(frozen=True)
class AspectFinding:
    number: int
    title: str
    items: tuple[AspectItem, ...]

    @property
    def village_count(self) -> int:
        return len({f.village.id for item in self.items for f in item.villages})


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
    out: list[AspectFinding] = []
    for number, title, keys in ASPECTS:
        items: list[AspectItem] = []
        if definition.no_answer:
            for key in keys:
                hit = tuple(f for f in findings if key in f.no_keys)
                if hit:
                    items.append(AspectItem(PROBLEM_TEXT[key], hit))
        if number == FUND_ASPECT and definition.poverty_fund_below_min:
            hit = tuple(f for f in findings if f.fund_below_min and "team_7" not in f.no_keys)
            if hit:
                items.append(AspectItem(FUND_SHORT_TEXT, hit))
        if number == SATISFACTION_ASPECT and definition.satisfaction_below_min:
            hit = tuple(f for f in findings if f.satisfaction_low)
            if hit:
                items.append(AspectItem(SATISFACTION_LOW_TEXT, hit))
        if items:
            out.append(AspectFinding(number, title, tuple(items)))
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
