"""Review: what a person must check, and the values they settle.

A resolution never overwrites the machine reading: the machine's value
stays on the review item and in the page's reading; the resolved value,
who gave it and when are stored beside it and take precedence.

The CLI (``ducha review``, ``review set``) and the web desk's review grid
both call this module: the value rules, what settling does to a page and
which items a group may see are decided here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, ReviewItem, ScanFile, ScanPage, Village
from ducha.errors import DuchaError
from forms.form_spec import described_choices, described_group
from forms.record_sheet import (
    INDICATORS_BY_KEY,
    NUMERIC_FIELDS_BY_KEY,
    SIGNATURE_SLOTS_BY_KEY,
    field_label,
)
from forms.values import display_value

PAGE_KEYS = ("page",)
_TICK_VALUES = {"是": "yes", "yes": "yes", "否": "no", "no": "no", "未填": "blank", "blank": "blank", "空": "blank"}
_RECT_VALUES = {"已整改": "done", "done": "done", "未整改": "not_done", "not_done": "not_done", "未填": "blank",
                "blank": "blank"}
_SIGNATURE_VALUES = {"已签": "signed", "已签字": "signed", "signed": "signed", "未签": "empty", "未签字": "empty",
                     "empty": "empty"}
_PAGE_VALUES = {"ok": "ok", "已核对": "ok"}
_BLANK_WORDS = ("空", "未填", "blank")

Kind = Literal["amount", "tick", "signature", "choice", "page"]
KINDS: tuple[Kind, ...] = ("amount", "tick", "signature", "choice", "page")
KIND_LABELS: dict[str, str] = {"amount": "金额和人数", "tick": "勾选", "signature": "签名", "choice": "调查表选项",
                               "page": "整页问题"}
CONFLICT_LABEL = "重复扫描冲突"
# ``ducha.scan`` words every conflict reason this way (``_Store._conflicts``); a test holds the two together.
CONFLICT_REASON_PREFIX = "同一张表扫描了两次"
_BEST_GUESS_RE = re.compile(r"最像 ([0-9_?.]+)")

# The whole-page view: the scan warped upright into the sheet's own frame.
PAGE_VIEW_PX_PER_MM = 4.0
PAGE_VIEW_MARGIN_MM = 14.0
PAGE_VIEW_JPEG_QUALITY = 78
# The highlight is drawn around the field's printed boxes with the evidence crop's own margin.
PAGE_VIEW_BOX_MARGIN_MM = 1.5
PAGE_VIEW_DIR = Path("evidence") / "pages"


# How settling and undoing appear in the audit log, from the desk and from ``ducha review set``.
AUDIT_SETTLE = "复核确认"
AUDIT_UNDO = "撤销复核"
OPEN_LABEL = "待复核"


def audit_label(value: str | None) -> str:
    """An item's value for the audit log: its Chinese name, or 待复核 while it is open."""
    return OPEN_LABEL if value is None else display_value(value)


class ReviewError(DuchaError):
    """A review command names an unknown item or an impossible value."""


class ReviewItemNotFoundError(ReviewError):
    """No review item has this id."""


class ReviewForbiddenError(ReviewError):
    """The item belongs to another group's village or another round."""


class ReviewStaleError(ReviewError):
    """The item was settled meanwhile (by another reviewer, or in another window)."""


class NothingToUndoError(ReviewError):
    """This reviewer has no settlement left to undo."""


@dataclass
class OpenItem:
    id: int
    form_id: str | None
    field_key: str
    reason: str
    machine_value: str | None
    crop_path: str | None


@dataclass(frozen=True)
class ReviewScope:
    """What one reviewer may see: a round, and for a group member, the group's own villages."""

    round_id: str | None = None
    group_no: int | None = None


@dataclass
class QueueItem:
    """One open (or just settled) item as the review grid shows it."""

    id: int
    form_id: str
    field_key: str
    field_label: str
    kind: Kind
    reason: str
    machine_value: str | None
    machine_label: str
    guess: str | None  # what the input is prefilled with, as a person types it; None: no guess
    crop_path: str | None
    page_id: int
    sheet_page: int | None
    group_no: int
    county: str
    town: str
    village: str
    conflict: bool
    status: str
    resolved_value: str | None = None

    @property
    def place(self) -> str:
        return f"{self.county}{self.town}{self.village}"


@dataclass
class Settlement:
    """What one settle or undo changed, for the audit log and the page in the browser."""

    item_id: int
    form_id: str
    field_key: str
    before: str | None  # the item's value before: the resolved value, or None when it was open
    after: str | None
    page_id: int
    page_status: str
    page_recorded: bool  # this action made the page recorded
    place: str = ""  # 县乡镇村, for the audit log

    @property
    def target(self) -> str:
        where = f"{self.place} " if self.place else ""
        return f"{where}{field_label(self.field_key)}（纪实表 {self.form_id}，复核项 {self.item_id}）"


@dataclass
class PageView:
    """A page image on disk and where the item's box is on it, in image pixels."""

    path: Path
    width_px: int
    height_px: int
    box: tuple[int, int, int, int] | None
    whole_page: bool  # False: the page could not be reopened; the image is its evidence sheet


@dataclass
class ConflictVersion:
    page_id: int
    value: str | None
    label: str
    scanned_at: dt.datetime | None
    source: str | None
    crop: tuple[str, list[int] | None] | None  # (image path, box on it or None for a whole crop file)


@dataclass
class ConflictView:
    item: QueueItem
    this: ConflictVersion
    other: ConflictVersion | None
    choices: list[str] = field(default_factory=list)  # the distinct values, as a person types them


def kind_of(field_key: str) -> Kind:
    if field_key in NUMERIC_FIELDS_BY_KEY:
        return "amount"
    if field_key in INDICATORS_BY_KEY or field_key.startswith("rect_"):
        return "tick"
    if field_key in SIGNATURE_SLOTS_BY_KEY:
        return "signature"
    # A choice group of a form described as data (the 知晓率 survey, or any later form).
    if described_group(field_key) is not None:
        return "choice"
    return "page"


# What an open item holds back. Validity (all three signed) waits for the signature slots and for
# whole-page doubts (a blank sheet, a printed ID that does not match); a tick or an amount waits for
# its own item and for whole-page doubts. An open amount holds back nothing but itself.
def blocks_validity(field_key: str) -> bool:
    """Whether an open item on this field leaves the sheet's validity undecided."""
    return field_key in SIGNATURE_SLOTS_BY_KEY or field_key in PAGE_KEYS


def blocks_field(open_key: str, field_key: str) -> bool:
    """Whether an open item on ``open_key`` leaves the value of ``field_key`` undecided."""
    return open_key == field_key or open_key in PAGE_KEYS


def normalise_value(field_key: str, value: str) -> str:
    """The stored form of a value a person typed, or an error saying what is allowed."""
    text = value.strip()
    label = field_label(field_key)
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
        if text in _BLANK_WORDS:
            return "blank"
        spec = NUMERIC_FIELDS_BY_KEY[field_key]
        try:
            number = float(text)
        except ValueError as exc:
            raise ReviewError(f"{label} 应填数字或“未填”，收到：{value}") from exc
        if not math.isfinite(number) or number < 0 or (spec.kind == "percent" and number > 100):
            raise ReviewError(f"{label} 的值 {value} 不在允许范围内")
        if spec.decimal_digits == 0 and number != int(number):
            raise ReviewError(f"{label} 应为整数，收到：{value}")
        if round(number * 10 ** spec.decimal_digits) != number * 10 ** spec.decimal_digits:
            raise ReviewError(f"{label} 最多 {spec.decimal_digits} 位小数，收到：{value}")
        if number >= 10 ** spec.integer_digits:
            raise ReviewError(f"{label} 最多 {spec.integer_digits} 位整数，收到：{value}")
        return f"{number:g}"
    else:
        raise ReviewError(f"未知的栏目：{field_key}")
    if text.lower() not in table and text not in table:
        allowed = "、".join(k for k in table if not k.isascii())
        raise ReviewError(f"{label} 只能填：{allowed}；收到：{value}")
    return table.get(text, table.get(text.lower(), text))


def open_items(session: Session, round_id: str | None = None) -> list[OpenItem]:
    query = select(ReviewItem).where(ReviewItem.status == "open").order_by(ReviewItem.form_id, ReviewItem.id)
    items = session.scalars(query).all()
    if round_id:
        forms = set(session.scalars(select(IssuedSheet.form_id).where(IssuedSheet.round == round_id)).all())
        items = [i for i in items if i.form_id in forms]
    return [OpenItem(i.id, i.form_id, i.field_key, i.reason, i.machine_value, i.crop_path) for i in items]


def resolve(session: Session, form_id: str, field_key: str, value: str, by: str, root: Path | None = None) -> int:
    """Resolve every open item of this form and field; returns how many (``ducha review set``)."""
    return len(resolve_field(session, form_id, field_key, value, by))


def resolve_field(session: Session, form_id: str, field_key: str, value: str, by: str) -> list[Settlement]:
    """Every item of this form and field set to ``value``; a person may also correct a sure reading."""
    stored = normalise_value(field_key, value)
    items = session.scalars(
        select(ReviewItem).where(ReviewItem.form_id == form_id, ReviewItem.field_key == field_key)
    ).all()
    if not items:
        pages = session.scalars(select(ScanPage.id).where(ScanPage.form_id == form_id)).all()
        if not pages:
            raise ReviewError(f"没有找到纪实表 {form_id} 的扫描页")
        # A person may also correct a value the machine was sure of.
        item = ReviewItem(scan_page_id=max(pages), form_id=form_id, field_key=field_key, reason="人工更正",
                          machine_value=None, crop_path=None, status="open")
        session.add(item)
        session.flush()
        items = [item]
    befores = {item.id: item.resolved_value for item in items}
    _item, place = _visible_item(session, items[0].id, ReviewScope())
    _mark_resolved(session, [item.id for item in items], stored, by)
    return [_settled(session, item, befores[item.id], stored, place) for item in items]


def settle(session: Session, item_id: int, value: str, by: str, scope: ReviewScope = ReviewScope()) -> Settlement:
    """One open item settled with the value a person typed (the desk: one item, one keystroke to confirm)."""
    item, place = _visible_item(session, item_id, scope)
    stored = normalise_value(item.field_key, value)
    twins = _conflict_twins(session, item)
    if item.status != "open" or not _mark_resolved(session, [item.id, *twins], stored, by, only_open=True):
        session.refresh(item)
        raise ReviewStaleError(f"此项已由 {item.resolved_by or '他人'} 复核为“{display_value(item.resolved_value)}”，无需再次确认")
    if twins:
        _refresh_pages(session, set(session.scalars(select(ReviewItem.scan_page_id).where(ReviewItem.id.in_(twins)))))
    return _settled(session, item, None, stored, place)


def _conflict_twins(session: Session, item: ReviewItem, status: str = "open") -> list[int]:
    """The other copies' items of the same conflict: a sheet scanned twice is one decision, not two."""
    if not is_conflict(item.reason):
        return []
    query = select(ReviewItem).where(ReviewItem.form_id == item.form_id, ReviewItem.field_key == item.field_key,
                                     ReviewItem.id != item.id, ReviewItem.status == status)
    return [twin.id for twin in session.scalars(query) if is_conflict(twin.reason)
            and (status == "open" or (twin.resolved_by, twin.resolved_at) == (item.resolved_by, item.resolved_at))]


def undo_last(session: Session, by: str, scope: ReviewScope = ReviewScope()) -> Settlement:
    """The latest item this person settled (within the scope) is open again, and its page back in review."""
    query = (
        select(ReviewItem)
        .join(IssuedSheet, IssuedSheet.form_id == ReviewItem.form_id)
        .where(ReviewItem.status == "resolved", ReviewItem.resolved_by == by)
        .order_by(ReviewItem.resolved_at.desc(), ReviewItem.id.desc())
        .limit(1)
    )
    if scope.round_id is not None:
        query = query.where(IssuedSheet.round == scope.round_id)
    if scope.group_no is not None:
        query = query.where(IssuedSheet.group_no == scope.group_no)
    item = session.scalars(query).first()
    if item is None:
        raise NothingToUndoError("没有可以撤销的复核操作")
    _item, place = _visible_item(session, item.id, scope)
    before = item.resolved_value
    twins = [twin for twin in (session.get(ReviewItem, i) for i in _conflict_twins(session, item, "resolved"))
             if twin is not None]
    for reopened in (item, *twins):
        reopened.status = "open"
        reopened.resolved_value = None
        reopened.resolved_by = None
        reopened.resolved_at = None
    session.flush()
    # A page with an open item is in review, whatever settled it before.
    session.execute(
        update(ScanPage)
        .where(ScanPage.id.in_({item.scan_page_id, *(t.scan_page_id for t in twins)}), ScanPage.status == "recorded")
        .values(status="review"),
        execution_options={"synchronize_session": "evaluate"},
    )
    status = session.scalar(select(ScanPage.status).where(ScanPage.id == item.scan_page_id))
    return Settlement(item.id, item.form_id or "", item.field_key, before, None, item.scan_page_id, str(status), False,
                      place)


def _mark_resolved(session: Session, ids: list[int], stored: str, by: str, only_open: bool = False) -> int:
    """One UPDATE: with ``only_open``, an item a second reviewer settled first is left alone."""
    statement = update(ReviewItem).where(ReviewItem.id.in_(ids))
    if only_open:
        statement = statement.where(ReviewItem.status == "open")
    result = session.execute(
        statement.values(status="resolved", resolved_value=stored, resolved_by=by, resolved_at=dt.datetime.now()),
        # Evaluated on the objects in hand: "fetch" would cost a query on every confirmation.
        execution_options={"synchronize_session": "evaluate"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _settled(session: Session, item: ReviewItem, before: str | None, stored: str, place: str = "") -> Settlement:
    recorded = _refresh_pages(session, {item.scan_page_id})
    status = "recorded" if recorded else session.scalar(select(ScanPage.status).where(ScanPage.id == item.scan_page_id))
    return Settlement(item.id, item.form_id or "", item.field_key, before, stored, item.scan_page_id, str(status),
                      bool(recorded), place)


def _refresh_pages(session: Session, page_ids: set[int]) -> set[int]:
    """A page in review whose items are all resolved is recorded; returns the pages this made recorded.

    One UPDATE a page, without loading the page and its reading: this is on the path of every
    confirmation in the desk.
    """
    session.flush()
    still_open = select(ReviewItem.id).where(ReviewItem.scan_page_id == ScanPage.id, ReviewItem.status == "open")
    recorded: set[int] = set()
    for page_id in page_ids:
        result = session.execute(
            update(ScanPage)
            .where(ScanPage.id == page_id, ScanPage.status == "review", ~still_open.exists())
            .values(status="recorded"),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount:  # type: ignore[attr-defined]
            recorded.add(page_id)
            page = session.identity_map.get(session.identity_key(ScanPage, page_id))  # type: ignore[arg-type]
            if page is not None:
                session.expire(page, ["status"])
    return recorded


# --- the desk's queue ------------------------------------------------------

def _queue_query(scope: ReviewScope) -> Any:
    query = (
        select(ReviewItem, ScanPage.sheet_page, IssuedSheet.group_no, Village.county, Village.town, Village.name)
        .join(ScanPage, ScanPage.id == ReviewItem.scan_page_id)
        # Outer joins: an item whose sheet is not in the register (restored from elsewhere) is still listed.
        .outerjoin(IssuedSheet, IssuedSheet.form_id == ReviewItem.form_id)
        .outerjoin(Village, Village.id == IssuedSheet.village_id)
    )
    if scope.round_id is not None:
        query = query.where(IssuedSheet.round == scope.round_id)
    if scope.group_no is not None:
        query = query.where(IssuedSheet.group_no == scope.group_no)
    return query


def _queue_item(row: Any) -> QueueItem:
    item, sheet_page, group_no, county, town, village = row
    kind = kind_of(item.field_key)
    return QueueItem(
        id=item.id,
        form_id=item.form_id or "",
        field_key=item.field_key,
        field_label=field_label(item.field_key),
        kind=kind,
        reason=item.reason,
        machine_value=item.machine_value,
        machine_label=display_value(item.machine_value) if item.machine_value not in (None, "None") else "不确定",
        guess=best_guess(item.field_key, item.machine_value, item.reason),
        crop_path=item.crop_path,
        page_id=item.scan_page_id,
        sheet_page=sheet_page,
        group_no=group_no,
        county=county,
        town=town,
        village=village,
        conflict=is_conflict(item.reason),
        status=item.status,
        resolved_value=item.resolved_value,
    )


def is_conflict(reason: str) -> bool:
    return reason.startswith(CONFLICT_REASON_PREFIX)


def review_queue(session: Session, scope: ReviewScope, kind: Kind | None = None,
                 conflicts: bool | None = None) -> list[QueueItem]:
    """The open items a reviewer may settle, in sheet order; ``kind`` and ``conflicts`` narrow it."""
    query = _queue_query(scope).where(ReviewItem.status == "open")
    query = query.order_by(Village.county, Village.town, Village.name, ScanPage.sheet_page, ReviewItem.id)
    items = [_queue_item(row) for row in session.execute(query)]
    # Both copies of a sheet scanned twice carry the conflict; it is one decision, shown once.
    shown: list[QueueItem] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if item.conflict and (item.form_id, item.field_key) in seen:
            continue
        if item.conflict:
            seen.add((item.form_id, item.field_key))
        shown.append(item)
    items = shown
    if kind is not None:
        items = [i for i in items if i.kind == kind]
    if conflicts is not None:
        items = [i for i in items if i.conflict == conflicts]
    return items


def queue_counts(session: Session, scope: ReviewScope) -> dict[str, int]:
    """Open items per kind (conflicts apart, under ``"conflict"``)."""
    counts = dict.fromkeys([*KINDS, "conflict"], 0)
    for item in review_queue(session, scope):
        counts["conflict" if item.conflict else item.kind] += 1
    return counts


def queue_item(session: Session, item_id: int, scope: ReviewScope) -> QueueItem:
    """One item, open or settled, if the reviewer may see it."""
    _visible_item(session, item_id, scope)  # refuses an item outside the scope
    row = session.execute(_queue_query(ReviewScope()).where(ReviewItem.id == item_id)).first()
    if row is None:
        raise ReviewItemNotFoundError(f"没有编号为 {item_id} 的复核项")
    return _queue_item(row)


def _visible_item(session: Session, item_id: int, scope: ReviewScope) -> tuple[ReviewItem, str]:
    """The item and its village's name, if the scope may see it."""
    row = session.execute(
        select(ReviewItem, IssuedSheet.round, IssuedSheet.group_no, Village.county, Village.town, Village.name)
        .join(IssuedSheet, IssuedSheet.form_id == ReviewItem.form_id, isouter=True)
        .join(Village, Village.id == IssuedSheet.village_id, isouter=True)
        .where(ReviewItem.id == item_id)
    ).first()
    if row is None:
        raise ReviewItemNotFoundError(f"没有编号为 {item_id} 的复核项")
    item, round_id, group_no, county, town, village = row
    if scope.round_id is not None and round_id != scope.round_id:
        raise ReviewForbiddenError(f"复核项 {item_id} 不属于 {scope.round_id} 轮")
    if scope.group_no is not None and group_no != scope.group_no:
        raise ReviewForbiddenError(f"复核项 {item_id} 属于其他督查组负责的村，无权查看或复核")
    return item, "".join(part or "" for part in (county, town, village))


def best_guess(field_key: str, machine_value: str | None, reason: str) -> str | None:
    """What the input starts with, typed as a person would type it; None when the machine has no guess.

    An amount takes the reading when there is one, else the digit
    classifier's best guess kept in the reason ("最像 _61"). A tick takes a
    sure reading (a conflict, a manual correction) but never invents one
    for a tick the reader found unclear. A signature is never prefilled as
    signed: a sheet must not become valid by a reviewer pressing Enter.
    """
    value = None if machine_value in (None, "None", "uncertain") else machine_value
    kind = kind_of(field_key)
    if kind == "amount":
        if value == "blank":
            return "未填"
        if value is not None:
            try:
                return f"{float(value):g}"
            except ValueError:
                return None
        match = _BEST_GUESS_RE.search(reason)
        return None if match is None else _comb_to_number(match[1])
    if kind == "tick":
        return display_value(value) if value in ("yes", "no", "blank", "done", "not_done") else None
    if kind == "signature":
        return display_value(value) if value == "empty" else None
    if kind == "choice":
        found = described_group(field_key)
        if value == "blank":
            return "未填"
        return found[1].column.label_of(value) if found is not None and value is not None else None
    return display_value("ok")


def _comb_to_number(text: str) -> str | None:
    """"_12.3" -> "12.3", "808_.0" -> "808"; None when a box is unread or the digits have a gap.

    The comb rules of ``ocr.digits.combine_digits``: people start a short number in any box, so
    the integer digits may have blanks on both sides; decimals may stop early.
    """
    integer, _, decimal = text.partition(".")
    integer, decimal = integer.strip("_"), decimal.rstrip("_")
    if "?" in integer + decimal or "_" in integer + decimal or not (integer or decimal):
        return None
    number = float(f"{integer or '0'}.{decimal or '0'}")
    return f"{number:g}"


# --- images ------------------------------------------------------------------

def crop_file(root: Path, item: QueueItem) -> Path | None:
    """The item's own evidence crop, only ever a file inside the workspace."""
    if not item.crop_path:
        return None
    return _inside(root, item.crop_path)


def _inside(root: Path, relative: str) -> Path | None:
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def _box_of(field_key: str, boxes: dict[str, Any]) -> Any:
    from ocr.align import union_rect

    own = [rect for key, rect in boxes.items() if key == field_key or key.startswith(field_key + ".")]
    return union_rect(own) if own else None


def page_view(session: Session, root: Path, item_id: int, scope: ReviewScope) -> PageView:
    """The whole page of an item, upright, with the item's box; made once per page and kept."""
    item = queue_item(session, item_id, scope)
    page = session.get(ScanPage, item.page_id)
    assert page is not None
    sheet = session.get(IssuedSheet, item.form_id)
    layout = _layout_of(sheet, page)
    cached = root / PAGE_VIEW_DIR / f"{page.id}.jpg"
    frame = _page_frame(layout) if layout is not None else None
    if not cached.exists():
        made = _make_page_view(session, page, layout, frame, cached)
        if not made:
            return _evidence_view(root, page, item)
    import cv2

    image = cv2.imread(str(cached), cv2.IMREAD_GRAYSCALE)
    if image is None:
        return _evidence_view(root, page, item)
    height, width = image.shape[:2]
    box = None
    aligned = bool((page.reading or {}).get("evidence")) and frame is not None and layout is not None
    if aligned and item.kind != "page":
        assert layout is not None and frame is not None
        rect = _box_of(item.field_key, layout.boxes)
        if rect is not None:
            m, s, (x0, y0) = PAGE_VIEW_BOX_MARGIN_MM, PAGE_VIEW_PX_PER_MM, frame[:2]
            box = (round((rect.x_mm - m - x0) * s), round((rect.y_mm - m - y0) * s),
                   round((rect.w_mm + 2 * m) * s), round((rect.h_mm + 2 * m) * s))
    return PageView(cached, width, height, box, True)


def _layout_of(sheet: IssuedSheet | None, page: ScanPage) -> Any:
    from forms.errors import FormDefinitionError
    from forms.geometry import load_layout

    if sheet is None or page.sheet_page is None:
        return None
    try:
        return load_layout(sheet.layout_version, page.sheet_page)
    except FormDefinitionError:
        return None


def _page_frame(layout: Any) -> tuple[float, float, float, float]:
    """The sheet's area in layout millimetres: the corner markers and a margin for the printed edge."""
    xs = [x for x, _y in layout.markers.values()]
    ys = [y for _x, y in layout.markers.values()]
    m = PAGE_VIEW_MARGIN_MM
    return (min(xs) - m, min(ys) - m, max(xs) - min(xs) + 2 * m, max(ys) - min(ys) + 2 * m)


def _make_page_view(session: Session, page: ScanPage, layout: Any, frame: tuple[float, float, float, float] | None,
                    target: Path) -> bool:
    """Reopen the page in its scan file and warp it upright; False when the file or its markers are gone."""
    import cv2
    import numpy as np

    from ocr.align import align
    from ocr.errors import AlignmentError, SourceError
    from ocr.pages import PageSource

    scan_file = session.get(ScanFile, page.file_id)
    if scan_file is None or not Path(scan_file.path).is_file():
        return False
    try:
        with PageSource(Path(scan_file.path)) as source:
            gray = source.read(page.page_no).gray
    except SourceError:
        return False
    image = None
    if layout is not None and frame is not None:
        try:
            alignment = align(gray, layout)
        except AlignmentError:
            alignment = None
        if alignment is not None:
            x0, y0, w_mm, h_mm = frame
            s = PAGE_VIEW_PX_PER_MM
            to_mm = np.array([[1 / s, 0.0, x0 + 0.5 / s], [0.0, 1 / s, y0 + 0.5 / s], [0.0, 0.0, 1.0]])
            image = cv2.warpPerspective(gray, alignment.homography @ to_mm, (round(w_mm * s), round(h_mm * s)),
                                        flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    if image is None:
        # Not alignable (that is why a person reads it): the page as scanned, at the view's size.
        scale = PAGE_VIEW_PX_PER_MM * 297.0 / max(gray.shape)
        image = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, PAGE_VIEW_JPEG_QUALITY])
    if not ok:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two reviewers may open the same page at once: each writes its own file and renames it into place.
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data.tobytes())
    os.replace(temporary, target)
    return True


def _evidence_view(root: Path, page: ScanPage, item: QueueItem) -> PageView:
    evidence = (page.reading or {}).get("evidence") or {}
    sheet = _inside(root, evidence["sheet"]) if evidence.get("sheet") else None
    if sheet is None:
        raise ReviewError("此页的扫描文件和证据图像都已不在工作区中，无法显示整页")
    import cv2

    image = cv2.imread(str(sheet), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ReviewError("此页的证据图像无法读取")
    box = evidence.get("boxes", {}).get(item.field_key)
    return PageView(sheet, int(image.shape[1]), int(image.shape[0]), tuple(box) if box else None, False)


# --- conflicts -----------------------------------------------------------------

def conflict_view(session: Session, item_id: int, scope: ReviewScope) -> ConflictView:
    """Both readings of a sheet scanned twice: this scan's (the item) and the other one it disagrees with."""
    from ducha.scan import _answers

    item = queue_item(session, item_id, scope)
    page = session.get(ScanPage, item.page_id)
    assert page is not None
    mine = _answers(page.reading or {}).get(item.field_key, item.machine_value)
    this = _version(session, page, item.field_key, mine, item.crop_path)
    others = session.scalars(
        select(ScanPage).where(
            ScanPage.form_id == page.form_id,
            ScanPage.sheet_page == page.sheet_page,
            ScanPage.status != "rejected",
            ScanPage.id != page.id,
        ).order_by(ScanPage.id)
    ).all()
    other: ConflictVersion | None = None
    for candidate in others:
        theirs = _answers(candidate.reading or {}).get(item.field_key)
        if theirs != "uncertain" and theirs != mine:
            other = _version(session, candidate, item.field_key, theirs, None)
            break
    choices = [c for c in dict.fromkeys([this.label, other.label if other else None]) if c and c != "不确定"]
    return ConflictView(item, this, other, choices)


def _version(session: Session, page: ScanPage, field_key: str, value: Any, own_crop: str | None) -> ConflictVersion:
    scan_file = session.get(ScanFile, page.file_id)
    evidence = (page.reading or {}).get("evidence") or {}
    crop: tuple[str, list[int] | None] | None = None
    if own_crop:
        crop = (own_crop, None)
    elif evidence.get("sheet") and field_key in evidence.get("boxes", {}):
        crop = (evidence["sheet"], list(evidence["boxes"][field_key]))
    if kind_of(field_key) == "amount" and value is None:
        value = "blank"  # a number read as no digits at all is a blank field
    stored = None if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
    label = display_value(stored)
    source = Path(scan_file.path).name + f" 第{page.page_no}页" if scan_file is not None else None
    return ConflictVersion(page.id, stored, label, page.read_at, source, crop)


def conflict_crop(session: Session, root: Path, item_id: int, side: Literal["this", "other"],
                  scope: ReviewScope) -> bytes:
    """One side's crop as JPEG bytes, cut from its page's evidence sheet when it has no file of its own."""
    import cv2

    view = conflict_view(session, item_id, scope)
    version = view.this if side == "this" else view.other
    if version is None or version.crop is None:
        raise ReviewItemNotFoundError("另一次扫描没有这一栏的证据图像")
    relative, box = version.crop
    path = _inside(root, relative)
    if path is None:
        raise ReviewItemNotFoundError("证据图像已不在工作区中")
    if box is None:
        return path.read_bytes()
    from ducha.scan import EVIDENCE_JPEG_QUALITY, cut_evidence

    sheet = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if sheet is None:
        raise ReviewError("证据图像无法读取")
    ok, data = cv2.imencode(".jpg", cut_evidence(sheet, box), [cv2.IMWRITE_JPEG_QUALITY, EVIDENCE_JPEG_QUALITY])
    if not ok:
        raise ReviewError("证据图像无法编码")
    return bytes(data.tobytes())
