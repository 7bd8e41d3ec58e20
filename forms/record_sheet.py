"""The record sheet of Annex 2 (督查记实表): what it asks, defined once.

The template filler (``generator``) and the reader (``ocr``) both take the
indicator keys, numeric fields and signature slots from here, so a key
means the same box on paper and in the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

LAYOUT_VERSION = "rs1"

SHEET_TITLE = "驻村工作队和第一书记到村履职情况督查记实表"

Section = Literal["team", "secretary"]


@dataclass(frozen=True)
class Indicator:
    key: str
    section: Section
    number: int
    text: str

    @property
    def yes_box(self) -> str:
        return f"{self.key}.yes"

    @property
    def no_box(self) -> str:
        return f"{self.key}.no"


TEAM_INDICATORS: tuple[Indicator, ...] = (
    Indicator("team_1", "team", 1, "是否按相关要求组建驻村工作队。"),
    Indicator("team_2", "team", 2, "驻村工作队员是否食宿在村、工作在村，是否确保每天有人在村工作。"),
    Indicator("team_3", "team", 3, "是否制定帮扶村5年发展规划、{year}年帮扶减贫计划。"),
    Indicator("team_4", "team", 4, "是否落实“1+6”帮扶任务。"),
    Indicator("team_5", "team", 5, "党员干部结对帮扶贫困户是否全覆盖。"),
    Indicator("team_6", "team", 6, "每户贫困户是否有脱贫规划和帮扶措施。"),
    Indicator("team_7", "team", 7, "是否为帮扶村建立不低于10万元扶贫基金。"),
    Indicator("team_8", "team", 8, "是否为帮扶村争取项目资金。"),
)

SECRETARY_INDICATORS: tuple[Indicator, ...] = (
    Indicator("sec_1", "secretary", 1, "是否脱产驻村，每月驻村工作日不少于2/3。"),
    Indicator("sec_2", "secretary", 2, "是否对贫困户基本情况、致贫原因等情况做到心中有数。"),
    Indicator("sec_3", "secretary", 3, "是否积极参加村“两委”决策，过好组织生活。"),
    Indicator("sec_4", "secretary", 4, "是否开展软弱涣散党组织整顿，建强村“两委”班子。"),
    Indicator("sec_5", "secretary", 5, "是否服从村“两委”工作安排，加强基层治理。"),
    Indicator("sec_6", "secretary", 6, "是否帮助制定村级发展规划，落实部门帮扶计划。"),
    Indicator("sec_7", "secretary", 7, "是否因户施策，协助制定贫困户发展规划，督促落实结对帮户措施。"),
    Indicator("sec_8", "secretary", 8, "有市级领导挂联的部门是否建好挂联台帐。"),
)

INDICATORS: tuple[Indicator, ...] = TEAM_INDICATORS + SECRETARY_INDICATORS
INDICATORS_BY_KEY: Mapping[str, Indicator] = {i.key: i for i in INDICATORS}

FieldKind = Literal["amount", "count", "percent"]


@dataclass(frozen=True)
class NumericField:
    """A handwritten number written one digit per comb box."""

    key: str
    label: str
    kind: FieldKind
    integer_digits: int
    decimal_digits: int = 0

    @property
    def digit_boxes(self) -> tuple[str, ...]:
        """Box keys, most significant first; decimals follow the point."""
        ints = tuple(f"{self.key}.d{i}" for i in range(self.integer_digits))
        decs = tuple(f"{self.key}.f{i}" for i in range(self.decimal_digits))
        return ints + decs


NUMERIC_FIELDS: tuple[NumericField, ...] = (
    NumericField("poverty_fund", "扶贫基金到位（万元）", "amount", 4, 1),
    NumericField("project_funds", "争取项目资金（万元）", "amount", 4, 1),
    NumericField("visited_satisfied", "走访人数（人）", "count", 3),
    NumericField("satisfaction_pct", "满意率（%）", "percent", 3),
    NumericField("visited_dissatisfied", "走访人数（人）", "count", 3),
    NumericField("dissatisfaction_pct", "不满意率（%）", "percent", 3),
)
NUMERIC_FIELDS_BY_KEY: Mapping[str, NumericField] = {f.key: f for f in NUMERIC_FIELDS}

POVERTY_FUND_MIN_10K_YUAN = 10.0
# The indicator whose 是 promises that fund (seed 三（三）7).
POVERTY_FUND_INDICATOR = "team_7"
AWARENESS_MIN_PERCENT = 60.0


@dataclass(frozen=True)
class SignatureSlot:
    key: str
    label: str
    max_names: int


SIGNATURE_SLOTS: tuple[SignatureSlot, ...] = (
    SignatureSlot("village_head", "村党组织负责人", 1),
    SignatureSlot("first_secretary", "第一书记", 1),
    SignatureSlot("group_member", "督查组成员", 3),
)
SIGNATURE_SLOTS_BY_KEY: Mapping[str, SignatureSlot] = {s.key: s for s in SIGNATURE_SLOTS}

SignatureState = Literal["signed", "empty", "uncertain"]
Validity = Literal["valid", "invalid", "review"]


def inspection_validity(signatures: Mapping[str, SignatureState]) -> Validity:
    """Seed 六(二): valid only when all three slots are signed.

    An uncertain slot never counts as signed: it sends the sheet to review,
    unless another slot is certainly empty, which already makes it invalid.
    """
    states = [signatures.get(slot.key, "uncertain") for slot in SIGNATURE_SLOTS]
    if any(state == "empty" for state in states):
        return "invalid"
    if all(state == "signed" for state in states):
        return "valid"
    return "review"


_SECTION_LABELS: Mapping[Section, str] = {"team": "驻村工作队", "secretary": "第一书记"}
# The two 走访人数 fields share a printed label; the reader of a list needs the difference.
_FIELD_LABEL_OVERRIDES: Mapping[str, str] = {
    "visited_satisfied": "走访人数（满意）",
    "visited_dissatisfied": "走访人数（不满意）",
}


def field_label(key: str) -> str:
    """The Chinese name of a field key, for lists shown to office staff."""
    if key in INDICATORS_BY_KEY:
        indicator = INDICATORS_BY_KEY[key]
        return f"{_SECTION_LABELS[indicator.section]}第{indicator.number}项"
    if key in NUMERIC_FIELDS_BY_KEY:
        return _FIELD_LABEL_OVERRIDES.get(key, NUMERIC_FIELDS_BY_KEY[key].label)
    if key in SIGNATURE_SLOTS_BY_KEY:
        return f"{SIGNATURE_SLOTS_BY_KEY[key].label}签名"
    if key.startswith("rect_") and key[5:].isdigit():
        return f"整改事项{key[5:]}"
    if key == "page":
        return "整页"
    from forms.form_spec import described_field_label  # described forms (the survey) name their own fields

    return described_field_label(key) or key


# Rectification follow-up (整改) boxes printed on the sheet's second page.
RECTIFICATION_MAX_ITEMS_PER_PAGE = 12


def rectification_box_keys(index: int) -> tuple[str, str]:
    """(已整改, 未整改) box keys of the index-th follow-up item, from 1."""
    return (f"rect_{index}.done", f"rect_{index}.not_done")


# The eight aspects of seed section 三, in the seed's order and wording,
# mapped to what the sheet records. The first secretary's duties in the
# village (sec_3-5: 两委 decisions, rectifying weak Party branches, local
# governance) are part of 到村履职; the poverty fund and the project funds
# (team_7-8) are help for the village's development, aspect 3, not the
# team's own work funds (aspect 7). Aspects 5 and 6 are learned in the 座谈
# with county leaders, 7 from the units' accounts and 8 from a survey of
# villagers, so they map to no box on the village sheet.
ASPECTS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "驻村工作队和第一书记人员选派情况", ("team_1",)),
    (
        2,
        "驻村工作队和第一书记到村履职情况（驻村工作队每天至少有1人驻村工作；第一书记到村工作时间每月不少于工作日总数的2/3）",
        ("team_2", "sec_1", "sec_3", "sec_4", "sec_5"),
    ),
    (
        3,
        "驻村工作队和第一书记帮助贫困村制定帮扶规划，指导贫困村脱贫致富推进情况",
        ("team_3", "team_4", "team_7", "team_8", "sec_6", "sec_8"),
    ),
    (4, "驻村工作队和第一书记结对帮扶贫困户情况", ("team_5", "team_6", "sec_2", "sec_7")),
    (5, "县（区）党委对驻村干部和第一书记教育培训情况", ()),
    (6, "县（区）组织部门、乡镇（街道）党（工）委和选派单位对驻村干部和第一书记的日常管理考核情况", ()),
    (7, "驻村工作队工作经费和第一书记差旅费落实情况", ()),
    (8, "驻村工作队和第一书记到村工作知晓情况（联系帮扶村党员群众知晓率不低于60%）", ()),
)


def aspect_of(indicator_key: str) -> int | None:
    for number, _title, keys in ASPECTS:
        if indicator_key in keys:
            return number
    return None


# The imported attendance (考勤) is printed under this indicator, for the
# inspectors to check against the 考勤表 on the spot (seed 三（二）).
ATTENDANCE_INDICATOR_KEY = "sec_1"
