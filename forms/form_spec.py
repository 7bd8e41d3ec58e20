"""A paper form described as data: groups of N choices, digit fields, signature slots.

One description serves the template builder, the geometry measurer, the
simulator and the reader, so a new form type needs no code of its own in
``ocr/``. A form is one A4 page: a title, prefilled header lines, an
optional legend, and a grid of numbered rows in which every column is a
group of N tick boxes (exactly one may be ticked); below it optional
digit fields and the signature slots.

Keys: row ``r`` (from 1) of column ``c`` is the choice group ``r{r:02d}_{c}``,
its boxes ``r{r:02d}_{c}.{value}``. Boxes are measured and named in this
reading order: row by row, columns left to right, choices left to right;
then digit boxes; then signature slots left to right.

The record sheet (``rs1``) keeps its own older reader; it is registered
here too, so that every form type a scan can carry is known in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from forms.errors import FormDefinitionError
from forms.qr_payload import form_id
from forms.record_sheet import LAYOUT_VERSION as RECORD_SHEET_FORM_TYPE
from forms.record_sheet import NumericField, SignatureSlot, SignatureState, Validity

FORM_TYPE_MAX_CHARS = 6


@dataclass(frozen=True)
class Choice:
    value: str  # stored code, ASCII, e.g. "yes", "party"
    label: str  # printed and shown, e.g. "是", "党员"


@dataclass(frozen=True)
class ChoiceColumn:
    """One question asked in every row: a group of N boxes, at most one ticked."""

    key: str
    heading: str  # short column heading, e.g. "问题1"
    choices: tuple[Choice, ...]

    def label_of(self, value: str) -> str | None:
        return next((c.label for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class ChoiceGroup:
    key: str
    column: ChoiceColumn
    row: int

    @property
    def box_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.key}.{c.value}" for c in self.column.choices)


@dataclass(frozen=True)
class FormSpec:
    form_type: str  # the layout version in the QR payload, lower case, e.g. "aw1"
    title: str
    file_label: str  # how a printed file of this form is named, e.g. "知晓率调查表"
    row_heading: str  # heading of the rows' number column, e.g. "序号"
    rows: int
    columns: tuple[ChoiceColumn, ...]
    legend: tuple[str, ...] = ()  # lines printed above the grid, e.g. the full questions
    numeric_fields: tuple[NumericField, ...] = ()
    signature_slots: tuple[SignatureSlot, ...] = ()
    # The page counts as validly done only when every one of these slots is signed.
    required_signatures: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # lines printed under the grid
    row_unit: str = "行"  # what a row is, in a field's name: 第3人

    def __post_init__(self) -> None:
        if not (self.form_type.isalnum() and self.form_type.islower() and len(self.form_type) <= FORM_TYPE_MAX_CHARS):
            raise FormDefinitionError(f"表式代号应为不超过 {FORM_TYPE_MAX_CHARS} 个小写字母或数字：{self.form_type}")
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys) or any(len(c.choices) < 2 for c in self.columns):
            raise FormDefinitionError(f"表式 {self.form_type} 的栏目重复，或某栏少于两个选项")
        slots = {s.key for s in self.signature_slots}
        if not set(self.required_signatures) <= slots:
            raise FormDefinitionError(f"表式 {self.form_type} 要求的签字栏不在签字栏中")

    @property
    def choice_groups(self) -> tuple[ChoiceGroup, ...]:
        return tuple(
            ChoiceGroup(group_key(row, column.key), column, row)
            for row in range(1, self.rows + 1)
            for column in self.columns
        )

    @property
    def tick_box_keys(self) -> tuple[str, ...]:
        return tuple(k for g in self.choice_groups for k in g.box_keys)

    @property
    def digit_box_keys(self) -> tuple[str, ...]:
        return tuple(k for f in self.numeric_fields for k in f.digit_boxes)

    def group(self, key: str) -> ChoiceGroup | None:
        return next((g for g in self.choice_groups if g.key == key), None)

    def numeric_field(self, key: str) -> NumericField | None:
        return next((f for f in self.numeric_fields if f.key == key), None)

    def validity(self, signatures: Mapping[str, SignatureState]) -> Validity | None:
        """As the record sheet's rule: any required slot empty is invalid, all signed valid, else review."""
        if not self.required_signatures:
            return None
        states = [signatures.get(key, "uncertain") for key in self.required_signatures]
        if any(s == "empty" for s in states):
            return "invalid"
        if all(s == "signed" for s in states):
            return "valid"
        return "review"


def group_key(row: int, column_key: str) -> str:
    return f"r{row:02d}_{column_key}"


_FORMS: dict[str, FormSpec] = {}


def register_form(spec: FormSpec) -> FormSpec:
    """Make a form type known to the printer, the simulator and the reader (idempotent)."""
    known = _FORMS.get(spec.form_type)
    if known is not None and known != spec:
        raise FormDefinitionError(f"表式代号 {spec.form_type} 已被另一种表使用")
    if spec.form_type == RECORD_SHEET_FORM_TYPE:
        raise FormDefinitionError(f"表式代号 {spec.form_type} 是督查记实表的")
    _FORMS[spec.form_type] = spec
    return spec


def form_spec(form_type: str) -> FormSpec | None:
    """The described form of this type; None for the record sheet and unknown types."""
    import forms.survey  # noqa: F401 - registers the forms shipped with ducha (imported once)

    return _FORMS.get(form_type)


def typed_form_id(round_: str, village_code: str, form_type: str | None) -> str:
    """The ID people quote: ``round-village`` for the record sheet, with ``-TYPE`` for any other form."""
    base = form_id(round_, village_code)
    if form_type is None or form_type == RECORD_SHEET_FORM_TYPE:
        return base
    return f"{base}-{form_type.upper()}"


def _all_forms() -> tuple[FormSpec, ...]:
    form_spec("")  # loads the shipped forms
    return tuple(_FORMS.values())


def described_group(field_key: str) -> tuple[FormSpec, ChoiceGroup] | None:
    """The form and choice group a field key belongs to, among the described forms."""
    for spec in _all_forms():
        group = spec.group(field_key)
        if group is not None:
            return spec, group
    return None


def described_choices(field_key: str) -> dict[str, str] | None:
    """What a person may type for a described form's choice group: each label and value -> the stored value."""
    found = described_group(field_key)
    if found is None:
        return None
    table = {"未填": "blank", "空": "blank", "blank": "blank"}
    for choice in found[1].column.choices:
        table[choice.label] = choice.value
        table[choice.value] = choice.value
    return table


def described_field_label(field_key: str) -> str | None:
    """The Chinese name of a described form's field, e.g. 第3人·问题1; None when not one of theirs."""
    found = described_group(field_key)
    if found is not None:
        spec, group = found
        return f"第{group.row}{spec.row_unit}·{group.column.heading}"
    for spec in _all_forms():
        number = spec.numeric_field(field_key)
        if number is not None:
            return number.label
    return None


def described_value_label(value: str) -> str | None:
    """A described choice's printed label for its stored value, when one label is meant everywhere."""
    labels = {c.label for spec in _all_forms() for col in spec.columns for c in col.choices if c.value == value}
    return labels.pop() if len(labels) == 1 else None
