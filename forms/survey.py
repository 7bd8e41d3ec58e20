"""The awareness survey (知晓率调查表, form ``aw1``), seed 三（八） and 四（一）.

The groups ask villagers, in the households the team helps, whether they
know their first secretary and their work team. 知晓率 is the share of
respondents who answer 是 to both of the first two questions; below 60%
is a finding. The wording lives here, so the office changes it in one
place; the template, the reader and the tally take it from here.
"""

from __future__ import annotations

from forms.form_spec import Choice, ChoiceColumn, FormSpec, register_form
from forms.record_sheet import AWARENESS_MIN_PERCENT, SignatureSlot

SURVEY_FORM_TYPE = "aw1"
SURVEY_TITLE = "驻村工作队和第一书记到村工作知晓率调查表"
SURVEY_ROWS = 12

YES, NO = Choice("yes", "是"), Choice("no", "否")
KIND = ChoiceColumn("kind", "类别", (Choice("party", "党员"), Choice("masses", "群众"), Choice("poor", "贫困户")))
KNOWS_SECRETARY = ChoiceColumn("q1", "问题1", (YES, NO))
KNOWS_TEAM = ChoiceColumn("q2", "问题2", (YES, NO))
VISITED = ChoiceColumn("q3", "问题3", (YES, NO))
SATISFACTION = ChoiceColumn(
    "satisfaction", "满意度", (Choice("satisfied", "满意"), Choice("fair", "基本满意"), Choice("dissatisfied", "不满意"))
)
QUESTIONS: tuple[tuple[ChoiceColumn, str], ...] = (
    (KNOWS_SECRETARY, "知道本村第一书记（姓名）吗？"),
    (KNOWS_TEAM, "知道本村驻村工作队吗？"),
    (VISITED, "第一书记或工作队员到过您家吗？"),
)
# 知晓: 是 to both of these.
AWARENESS_COLUMNS: tuple[str, ...] = (KNOWS_SECRETARY.key, KNOWS_TEAM.key)
SATISFIED_VALUES: tuple[str, ...] = ("satisfied", "fair")

SURVEY = register_form(
    FormSpec(
        form_type=SURVEY_FORM_TYPE,
        title=SURVEY_TITLE,
        file_label="知晓率调查表",
        row_heading="序号",
        row_unit="人",
        rows=SURVEY_ROWS,
        columns=(KIND, KNOWS_SECRETARY, KNOWS_TEAM, VISITED, SATISFACTION),
        legend=tuple(f"{column.heading}：{text}" for column, text in QUESTIONS),
        signature_slots=(SignatureSlot("group_member", "督查组成员", 3),),
        required_signatures=("group_member",),
        notes=(
            "每行调查一人，在相应方框内打“√”，每栏只勾一项；勾错的把错框涂满，再勾正确的一项。未调查的行留空。",
            f"知晓率为问题1、问题2均答“是”的人数占调查人数的比例，不低于{AWARENESS_MIN_PERCENT:g}%。",
        ),
    )
)
