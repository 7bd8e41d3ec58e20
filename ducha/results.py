"""What a round's returned sheets say, per form: the contract between the
scanner (which writes readings) and findings (which reads them).

Values resolved by a person in review take the place of machine values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

TickValue = Literal["yes", "no", "blank", "uncertain"]
RectificationValue = Literal["done", "not_done", "blank", "uncertain"]
FormStatus = Literal["valid", "invalid", "review", "missing"]
Validity = Literal["valid", "invalid"]


@dataclass
class FormResult:
    round: str
    village_id: int
    form_id: str
    # valid: all three signed; invalid: a slot empty; review: open doubts;
    # missing: no page of this form came back.
    status: FormStatus
    indicators: dict[str, TickValue] = field(default_factory=dict)
    # Numbers as read (or resolved); None when blank or unreadable.
    numbers: dict[str, float | None] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    # rectification item id -> what page 2 says about it.
    rectification: dict[int, RectificationValue] = field(default_factory=dict)
    open_reviews: int = 0
    # Decided as soon as nothing holding it back is open (ducha.review.blocks_validity): open amount
    # items leave it alone. None: no page 1 back, or a signature or whole-page item still open.
    validity: Validity | None = None
    # field key -> the kind of its open item(s) (amount, tick, signature, page), for what still waits.
    open_fields: dict[str, str] = field(default_factory=dict)

    @property
    def open_kinds(self) -> set[str]:
        return set(self.open_fields.values())

    @property
    def only_amounts_open(self) -> bool:
        """Some items are open, all of them amounts or counts: ticks, signatures and validity are settled."""
        return bool(self.open_fields) and self.open_kinds == {"amount"}

    def decided_indicators(self) -> dict[str, TickValue]:
        """The ticks no open item holds back (ducha.review.blocks_field), with their values."""
        from ducha.review import blocks_field

        return {key: value for key, value in self.indicators.items()
                if not any(blocks_field(open_key, key) for open_key in self.open_fields)}


def load_form_results(session: Session, round_id: str) -> list[FormResult]:
    """One result per issued sheet of the round, from its latest readable scans.

    Page 1 (ticks, numbers, signatures) and page 2 (rectification) are
    merged; resolved review values replace machine values; a sheet with no
    page back is ``missing``.
    """
    from sqlalchemy import select

    from ducha.db.models import IssuedSheet, ReviewItem, ScanPage
    from ducha.review import blocks_validity, kind_of
    from forms.record_sheet import (
        INDICATORS_BY_KEY,
        LAYOUT_VERSION,
        NUMERIC_FIELDS_BY_KEY,
        SIGNATURE_SLOTS,
        inspection_validity,
    )

    # Other forms of the round (the awareness survey) have results of their own (ducha.awareness).
    sheets = session.scalars(
        select(IssuedSheet)
        .where(IssuedSheet.round == round_id, IssuedSheet.layout_version == LAYOUT_VERSION)
        .order_by(IssuedSheet.form_id)
    )
    out: list[FormResult] = []
    for sheet in sheets:
        result = FormResult(round=round_id, village_id=sheet.village_id, form_id=sheet.form_id, status="missing")
        pages = session.scalars(
            select(ScanPage)
            .where(ScanPage.form_id == sheet.form_id, ScanPage.status != "rejected")
            .order_by(ScanPage.id)
        ).all()
        latest: dict[int, ScanPage] = {}
        for page in pages:
            if page.sheet_page is not None:
                latest[page.sheet_page] = page
        values: dict[str, object] = {}
        for sheet_page in sorted(latest):
            reading = latest[sheet_page].reading or {}
            for key, item in reading.get("fields", {}).items():
                values[key] = item.get("value")
            for key, item in reading.get("signatures", {}).items():
                values[key] = item.get("state")
        page_ids = [p.id for p in pages]
        items = session.scalars(select(ReviewItem).where(ReviewItem.scan_page_id.in_(page_ids)).order_by(ReviewItem.id)).all() if page_ids else []
        for item in items:
            if item.status == "resolved" and item.resolved_value is not None:
                values[item.field_key] = item.resolved_value
        result.open_reviews = sum(1 for item in items if item.status == "open")
        result.open_fields = {item.field_key: kind_of(item.field_key) for item in items if item.status == "open"}
        for key, value in values.items():
            if key in INDICATORS_BY_KEY:
                result.indicators[key] = value  # type: ignore[assignment]
            elif key in NUMERIC_FIELDS_BY_KEY:
                result.numbers[key] = None if value in (None, "blank", "uncertain") else float(value)  # type: ignore[arg-type]
            elif key.startswith("rect_"):
                index = int(key.split("_")[1]) - 1
                if 0 <= index < len(sheet.rectification_item_ids or []):
                    result.rectification[sheet.rectification_item_ids[index]] = value  # type: ignore[assignment]
            elif key in {s.key for s in SIGNATURE_SLOTS}:
                result.signatures[key] = str(value)
        if 1 in latest and not any(blocks_validity(key) for key in result.open_fields):
            decided = inspection_validity(result.signatures)  # type: ignore[arg-type]
            result.validity = decided if decided != "review" else None
        if 1 not in latest:
            result.status = "missing" if not latest else "review"
        elif result.open_reviews:
            result.status = "review"
        else:
            result.status = inspection_validity(result.signatures)  # type: ignore[arg-type]
        out.append(result)
    return out
