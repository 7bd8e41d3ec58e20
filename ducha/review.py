"""Review: what a person must check, and the values they settle.

A resolution never overwrites the machine reading: the machine's value
stays on the review item and in the page's reading; the resolved value,
who gave it and when are stored beside it and take precedence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, ReviewItem, ScanPage
from ducha.errors import DuchaError
from forms.form_spec import described_choices
from forms.record_sheet import INDICATORS_BY_KEY, NUMERIC_FIELDS_BY_KEY, SIGNATURE_SLOTS_BY_KEY

PAGE_KEYS = ("page",)
_TICK_VALUES = {"是": "yes", "yes": "yes", "否": "no", "no": "no", "未填": "blank", "blank": "blank", "空": "blank"}
_RECT_VALUES = {"已整改": "done", "done": "done", "未整改": "not_done", "not_done": "not_done", "未填": "blank",
                "blank": "blank"}
_SIGNATURE_VALUES = {"已签": "signed", "已签字": "signed", "signed": "signed", "未签": "empty", "未签字": "empty",
                     "empty": "empty"}
_PAGE_VALUES = {"ok": "ok", "已核对": "ok"}


class ReviewError(DuchaError):
    """A review command names an unknown item or an impossible value."""


@dataclass
class OpenItem:
    id: int
    form_id: str | None
    field_key: str
    reason: str
    machine_value: str | None
    crop_path: str | None


def normalise_value(field_key: str, value: str) -> str:
    """The stored form of a value a person typed, or an error saying what is allowed."""
    text = value.strip()
    if field_key in INDICATORS_BY_KEY:
        table = _TICK_VALUES
    elif field_key.startswith("rect_"):
        table = _RECT_VALUES
    elif field_key in SIGNATURE_SLOTS_BY_KEY:
        table = _SIGNATURE_VALUES
    elif field_key in PAGE_KEYS:
        table = _PAGE_VALUES
    elif (choices := described_choices(field_key)) is not None:
        table = choices
    elif field_key in NUMERIC_FIELDS_BY_KEY:
        if text in ("空", "未填", "blank"):
            return "blank"
        try:
            number = float(text)
        except ValueError as exc:
            raise ReviewError(f"{field_key} 应填数字或“未填”，收到：{value}") from exc
        spec = NUMERIC_FIELDS_BY_KEY[field_key]
        if number < 0 or (spec.kind == "percent" and number > 100):
            raise ReviewError(f"{spec.label} 的值 {value} 不在允许范围内")
        return f"{number:g}"
    else:
        raise ReviewError(f"未知的栏目：{field_key}")
    if text.lower() not in table and text not in table:
        raise ReviewError(f"{field_key} 只能填：{'、'.join(sorted(set(table)))}；收到：{value}")
    return table.get(text, table.get(text.lower(), text))


def open_items(session: Session, round_id: str | None = None) -> list[OpenItem]:
    query = select(ReviewItem).where(ReviewItem.status == "open").order_by(ReviewItem.form_id, ReviewItem.id)
    items = session.scalars(query).all()
    if round_id:
        forms = set(session.scalars(select(IssuedSheet.form_id).where(IssuedSheet.round == round_id)).all())
        items = [i for i in items if i.form_id in forms]
    return [OpenItem(i.id, i.form_id, i.field_key, i.reason, i.machine_value, i.crop_path) for i in items]


def resolve(session: Session, form_id: str, field_key: str, value: str, by: str, root: Path | None = None) -> int:
    """Resolve every open item of this form and field; returns how many."""
    stored = normalise_value(field_key, value)
    items = session.scalars(
        select(ReviewItem).where(ReviewItem.form_id == form_id, ReviewItem.field_key == field_key)
    ).all()
    if not items:
        pages = session.scalars(select(ScanPage.id).where(ScanPage.form_id == form_id)).all()
        if not pages:
            raise ReviewError(f"没有找到纪实表 {form_id} 的扫描页")
        # A person may also correct a value the machine was sure of.
        latest = max(pages)
        item = ReviewItem(scan_page_id=latest, form_id=form_id, field_key=field_key, reason="人工更正",
                          machine_value=None, crop_path=None, status="open")
        session.add(item)
        items = [item]
    now = dt.datetime.now()
    for item in items:
        item.status = "resolved"
        item.resolved_value = stored
        item.resolved_by = by
        item.resolved_at = now
    session.flush()
    _refresh_pages(session, {i.scan_page_id for i in items})
    return len(items)


def _refresh_pages(session: Session, page_ids: set[int]) -> None:
    """A page whose items are all resolved is recorded."""
    for page_id in page_ids:
        page = session.get(ScanPage, page_id)
        if page is None or page.status != "review":
            continue
        still_open = session.scalars(
            select(ReviewItem.id).where(ReviewItem.scan_page_id == page_id, ReviewItem.status == "open")
        ).first()
        if still_open is None:
            page.status = "recorded"
