"""Consequences of a round's findings (seed 五), by rules kept in a JSON file.

The defaults ship in ``ducha/defaults/consequences.json``; a workspace may
override any key with its own ``consequences.json``. The merged rules are
checked against a schema and every problem is reported at once, by key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ducha.config import format_validation_error
from ducha.counties import county_order
from ducha.errors import ConfigError
from ducha.findings import ProblemDefinition, RoundFindings, VillageFinding
from forms.record_sheet import INDICATORS_BY_KEY

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "defaults" / "consequences.json"
WORKSPACE_RULES_FILE_NAME = "consequences.json"
CITY_LEVEL = "city"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemRules(_Strict):
    no_answer: bool
    invalid_inspection: bool
    missing_sheet: bool
    poverty_fund_below_min: bool


class CriticismRules(_Strict):
    invalid_inspection: bool
    missing_sheet: bool
    min_no_answers: int = Field(ge=1, le=16)


class AdmonitionRules(_Strict):
    # A 否 on any of these (选派, 到村履职) means a talk with the unit's head (seed 五.2).
    indicators: list[str]
    min_no_answers: int = Field(ge=1)
    min_criticised_villages: int = Field(ge=1)

    @field_validator("indicators")
    @classmethod
    def _known(cls, keys: list[str]) -> list[str]:
        unknown = [k for k in keys if k not in INDICATORS_BY_KEY]
        if unknown:
            raise ValueError(f"未知的指标：{'、'.join(unknown)}（应为 team_1…team_8、sec_1…sec_8）")
        return keys


class DeductionRules(_Strict):
    points_per_criticised_village: float = Field(ge=0, le=100)
    points_per_admonition: float = Field(ge=0, le=100)
    max_points_per_round: float = Field(ge=0, le=100)


class ReplacementRules(_Strict):
    consecutive_problem_rounds: int = Field(ge=2, le=24)


class RectificationRules(_Strict):
    # before_next_round: ``days`` days before the next round starts;
    # after_notice: ``days`` days after the notice's date.
    deadline: Literal["before_next_round", "after_notice"]
    days: int = Field(ge=0, le=90)


class ConsequenceRules(_Strict):
    version: Literal[1]
    problems: ProblemRules
    criticism: CriticismRules
    admonition: AdmonitionRules
    deductions: DeductionRules
    replacement: ReplacementRules
    rectification: RectificationRules

    def problem_definition(self) -> ProblemDefinition:
        return ProblemDefinition(**self.problems.model_dump())


def merge_override(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge_override(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), [f"第 {exc.lineno} 行第 {exc.colno} 列：不是合法的 JSON（{exc.msg}）"]) from exc


ModelT = TypeVar("ModelT", bound=BaseModel)


def load_layered(model: type[ModelT], default_path: Path, workspace_root: Path | None, file_name: str) -> ModelT:
    """A shipped JSON file, overridden key by key by the workspace's own file of that name, schema-checked."""
    data = read_json(default_path)
    source = default_path
    if workspace_root is not None:
        path = workspace_root / file_name
        if path.exists():
            override = read_json(path)
            if not isinstance(override, dict):
                raise ConfigError(str(path), ["（根）：应为对象（{...}）"])
            data = merge_override(data, override)
            source = path
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(source), format_validation_error(exc)) from exc


def load_rules(workspace_root: Path | None = None) -> ConsequenceRules:
    """The default rules, overridden key by key by the workspace's own file."""
    return load_layered(ConsequenceRules, DEFAULT_RULES_PATH, workspace_root, WORKSPACE_RULES_FILE_NAME)


@dataclass(frozen=True)
class UnitInfo:
    name: str
    level: str  # city | county
    county: str | None
    # The registry's official order (机构序列); None sorts after every numbered unit.
    sort_order: int | None = None


UNORDERED = 1_000_000


def unit_order_key(unit: str, units: Mapping[str, UnitInfo]) -> tuple[int, int, int, str]:
    """City units first in the official order, then county units county by county, each in its order.

    The name breaks ties only among units the registry gives no order.
    """
    info = units.get(unit)
    order = UNORDERED if info is None or info.sort_order is None else info.sort_order
    if info is None or info.level == CITY_LEVEL:
        return (0, 0, order, unit)
    return (1, county_order(info.county or ""), order, unit)


@dataclass
class Criticism:
    unit: str
    villages: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass
class Admonition:
    unit: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class Deduction:
    target: str  # a county or a city unit
    kind: Literal["county", "city_unit"]
    points: float
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Replacement:
    village: str
    units: tuple[str, ...]
    rounds: int


@dataclass
class Consequences:
    criticised: list[Criticism]
    admonitions: list[Admonition]
    deductions: list[Deduction]
    replacements: list[Replacement]

    @property
    def criticised_units(self) -> list[str]:
        return [c.unit for c in self.criticised]


def criticism_reasons(finding: VillageFinding, rules: ConsequenceRules) -> list[str]:
    """Why this village's units are criticised; empty when they are not."""
    reasons: list[str] = []
    if finding.status == "invalid" and rules.criticism.invalid_inspection:
        reasons.append("督查记实表签字不全，督查无效")
    if finding.status == "missing" and rules.criticism.missing_sheet:
        reasons.append("未交回督查记实表")
    if len(finding.no_keys) >= rules.criticism.min_no_answers:
        reasons.append(f"{len(finding.no_keys)}项督查指标不达标")
    return reasons


def apply_rules(
    findings: RoundFindings,
    rules: ConsequenceRules,
    units: Mapping[str, UnitInfo],
    problem_streaks: Mapping[int, int] | None = None,
) -> Consequences:
    """Criticism, admonition, deductions and replacement suggestions for one round.

    ``problem_streaks`` gives, per village id, how many rounds in a row
    before this one found a problem there.
    """
    streaks = problem_streaks or {}
    criticised: dict[str, Criticism] = {}
    admonish: dict[str, Admonition] = {}
    replacements: list[Replacement] = []
    admonition_keys = set(rules.admonition.indicators)
    for finding in findings.villages:
        reasons = criticism_reasons(finding, rules)
        for unit in finding.village.units:
            if reasons:
                entry = criticised.setdefault(unit, Criticism(unit))
                entry.villages.append(finding.village.name)
                entry.reasons.append(f"帮扶的{finding.village.name}{'、'.join(reasons)}")
            hits = [k for k in finding.no_keys if k in admonition_keys]
            if hits:
                talk = admonish.setdefault(unit, Admonition(unit))
                talk.reasons.append(f"帮扶的{finding.village.name}驻村工作队和第一书记选派或到村履职不到位")
        if finding.has_problem(findings.definition):
            rounds = streaks.get(finding.village.id, 0) + 1
            if rounds >= rules.replacement.consecutive_problem_rounds:
                replacements.append(Replacement(finding.village.name, tuple(finding.village.units), rounds))
    for unit, tally in findings.by_unit.items():
        if tally.no_answers >= rules.admonition.min_no_answers:
            admonish.setdefault(unit, Admonition(unit)).reasons.append(f"帮扶村共有{tally.no_answers}项督查指标不达标")
        found = criticised.get(unit)
        if found is not None and len(found.villages) >= rules.admonition.min_criticised_villages:
            admonish.setdefault(unit, Admonition(unit)).reasons.append(f"{len(found.villages)}个帮扶村被通报批评")
    deductions = _deductions(list(criticised.values()), list(admonish.values()), rules, units)
    return Consequences(
        criticised=sorted(criticised.values(), key=lambda c: unit_order_key(c.unit, units)),
        admonitions=sorted(admonish.values(), key=lambda a: unit_order_key(a.unit, units)),
        deductions=deductions,
        replacements=replacements,
    )


def _deduction_target(unit: str, units: Mapping[str, UnitInfo]) -> tuple[str, Literal["county", "city_unit"]]:
    """A city unit answers for itself; a county unit's points come off its county."""
    info = units.get(unit)
    if info is None or info.level == CITY_LEVEL or not info.county:
        return unit, "city_unit"
    return info.county, "county"


def _deductions(
    criticised: list[Criticism],
    admonitions: list[Admonition],
    rules: ConsequenceRules,
    units: Mapping[str, UnitInfo],
) -> list[Deduction]:
    by_target: dict[str, Deduction] = {}
    per_village = rules.deductions.points_per_criticised_village
    per_talk = rules.deductions.points_per_admonition
    for entry in criticised:
        target, kind = _deduction_target(entry.unit, units)
        item = by_target.setdefault(target, Deduction(target, kind, 0.0))
        item.points += per_village * len(entry.villages)
        item.reasons.append(f"{entry.unit}被通报批评")
    for talk in admonitions:
        target, kind = _deduction_target(talk.unit, units)
        item = by_target.setdefault(target, Deduction(target, kind, 0.0))
        item.points += per_talk
        item.reasons.append(f"{talk.unit}负责人被约谈")
    cap = rules.deductions.max_points_per_round
    out = []
    for item in by_target.values():
        item.points = round(min(item.points, cap), 2)
        if item.points > 0:
            out.append(item)
    # Counties first, in the usual county order, then the city units in the official order.
    return sorted(out, key=lambda d: (d.kind != "county", county_order(d.target), unit_order_key(d.target, units)))


def rectification_deadline(
    rules: ConsequenceRules, next_round_start: dt.date, notice_date: dt.date
) -> dt.date:
    if rules.rectification.deadline == "before_next_round":
        return next_round_start - dt.timedelta(days=rules.rectification.days)
    return notice_date + dt.timedelta(days=rules.rectification.days)
