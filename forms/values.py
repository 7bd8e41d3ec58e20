"""The Chinese names people see for stored values.

Readings and review items store short English codes ("yes", "signed", ...);
every place that shows a value to a person (review tables, conflict reasons,
the web desk, reports) goes through ``display_value`` so that one value has
one name everywhere.
"""

from __future__ import annotations

VALUE_LABELS: dict[str, str] = {
    "yes": "是",
    "no": "否",
    "blank": "未填",
    "uncertain": "不确定",
    "signed": "已签",
    "empty": "未签",
    "done": "已整改",
    "not_done": "未整改",
    "ok": "已核对",
}
UNREAD_LABEL = "未读出"


def display_value(value: object) -> str:
    """``value`` as a person should read it: a Chinese name, a number as written, or 未读出."""
    if value is None:
        return UNREAD_LABEL
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if text in VALUE_LABELS:
        return VALUE_LABELS[text]
    from forms.form_spec import described_value_label  # the choices of described forms (党员, 基本满意, ...)

    return described_value_label(text) or text
