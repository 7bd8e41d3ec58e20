"""``ducha scan``: read returned sheets in bulk and store every page's state.

Workers run the pure reader (``ocr``) on chunks of pages and write the
evidence: one image per page holding every field's crop (its place is in
``reading["evidence"]``), plus a file of its own for each field a person
must check. The parent alone writes the database, one transaction per
chunk, so a batch killed halfway resumes where it stopped: a (file
content hash, page number) pair is stored at most once.

Any number of scans may run on one workspace at once (CLI runs, desk
jobs). Before a chunk goes to a worker its pages are claimed: a row in
``scan_claim`` whose primary key only one scan can insert. A scan waits
for pages of its own files that another live scan holds, and takes over
the claims of a scan that died. A rejected page whose rejection may change
(another round asked for, a tool that failed, an older reader) is read
again and keeps its earlier outcomes in ``history``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sqlalchemy import delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, ReviewItem, ScanClaim, ScanFile, ScanPage, Village
from ducha.errors import DuchaError, ScanError
from ducha.pool import process_pool
from ducha.review import blocks_validity
from ducha.rounds import parse_round_id
from ducha.workspace import Workspace
from forms import qr_payload
from forms.errors import PayloadError
from forms.form_spec import typed_form_id
from forms.geometry import LAYOUTS_DIR, PageLayout, load_layout
from forms.record_sheet import SIGNATURE_SLOTS, inspection_validity
from forms.values import display_value
from ocr.errors import IdentificationError, SourceError
from ocr.identify import read_id_lines
from ocr.numbers import VISITED_COUNT_KEYS, population_breaches
from ocr.pages import PageSource, list_sources, open_regular
from ocr.reader import READER_VERSION, PageReading, check_printed_id, check_printed_id_glyphs, read_page

CHUNK_PAGES = 4
INFLIGHT_CHUNKS_PER_WORKER = 3
HASH_BLOCK_BYTES = 1 << 20
EVIDENCE_JPEG_QUALITY = 80
EVIDENCE_GAP_PX = 6
JPEG_BLOCK_PX = 8
REJECTED_JPEG_QUALITY = 70
# Testing resumability: exit abruptly, as if killed, after this many pages.
STOP_AFTER_ENV = "DUCHA_SCAN_STOP_AFTER_PAGES"
STOP_EXIT_CODE = 75

# A claim older than this is taken over even if its owner still seems alive (another host, a hung run).
CLAIM_STALE_AFTER_S = 600
CLAIM_POLL_S = 0.5
RETRY_TOOL = "tool"
RETRY_ROUND_PREFIX = "round:"
CONFLICT_REASON = "同一张表扫描了两次且读数不同"
BILEVEL_NOTE = (
    "本批有 {n} 页是黑白（二值）扫描件：这样扫描时红色印章会碎成笔画样的残片，签名只能交人工核对；"
    "浅色笔迹（如浅蓝色圆珠笔）写的数字可能整个没有扫出来：只读到一位数字的栏和缺小数的金额会交人工核对，"
    "但多位数少了一位（如 194 读成 19）仍看不出来。"
    "请把扫描仪设为“彩色”或“灰度”后重新扫描。"
)

STATUS_RECORDED = "recorded"
STATUS_REVIEW = "review"
STATUS_REJECTED = "rejected"


def load_layouts(directory: Path = LAYOUTS_DIR) -> dict[tuple[str, int], PageLayout]:
    layouts: dict[tuple[str, int], PageLayout] = {}
    for path in sorted(directory.glob("*-p*.json")):
        match = re.fullmatch(r"(?P<version>[a-z0-9]+)-p(?P<page>\d+)\.json", path.name)
        if match:
            layouts[(match["version"], int(match["page"]))] = load_layout(match["version"], int(match["page"]), directory)
    if not layouts:
        raise ScanError(f"找不到任何纪实表版式数据（{directory}），请先运行 ducha sheets 生成纪实表")
    return layouts


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(HASH_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


# --- worker side (no database) -------------------------------------------

@dataclass
class PageOutcome:
    page_no: int
    reading: dict[str, Any] | None
    rejected: str | None
    form_id: str | None = None
    round: str | None = None
    sheet_page: int | None = None
    alignment_error_mm: float | None = None
    review: list[tuple[str, str]] = field(default_factory=list)
    crop_paths: dict[str, str] = field(default_factory=dict)  # fields under review only
    evidence: dict[str, Any] | None = None  # {"sheet": path, "boxes": {key: [x, y, w, h]}}
    image_path: str | None = None
    retry_hint: str | None = None  # "tool" when a tool failed, not the paper


@dataclass
class ChunkTask:
    file_id: int
    path: str
    sha256: str
    page_nos: list[int]
    # page -> the read_at of the rejected row being read again; None for a page never stored.
    expect: dict[int, dt.datetime | None] = field(default_factory=dict)


_STATE: dict[str, Any] = {}


def _init_worker(layouts: dict[tuple[str, int], PageLayout], key: bytes, root: str,
                 issued: dict[str, str] | None = None) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    cv2.setNumThreads(1)
    # One process per core: BLAS threads (the digit MLP) would only fight each other.
    from threadpoolctl import threadpool_limits

    _STATE["blas_limit"] = threadpool_limits(1)
    _STATE.update(layouts=layouts, key=key, root=Path(root), issued=issued or {})


def _write_jpeg(path: Path, image: Any, quality: int) -> None:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ScanError(f"无法保存图像：{path}")
    path.write_bytes(data.tobytes())


def _evidence_sheet(crops: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, list[int]]]:
    """All of a page's field crops stacked in one image, and where each one is.

    Creating a file costs far more here than encoding a small crop, so a
    page keeps one evidence file instead of one per field. Each crop starts
    on a JPEG block row, so no crop's compression bleeds into another's.
    """
    width = max(image.shape[1] for image in crops.values())
    boxes: dict[str, list[int]] = {}
    y = 0
    for key, image in crops.items():
        boxes[key] = [0, y, int(image.shape[1]), int(image.shape[0])]
        y += -(-(image.shape[0] + EVIDENCE_GAP_PX) // JPEG_BLOCK_PX) * JPEG_BLOCK_PX
    sheet = np.full((y, width), 255, dtype=np.uint8)
    for key, image in crops.items():
        x0, y0, w, h = boxes[key]
        sheet[y0 : y0 + h, x0 : x0 + w] = image
    return sheet, boxes


def cut_evidence(sheet: np.ndarray, box: list[int]) -> np.ndarray:
    x0, y0, w, h = box
    return sheet[y0 : y0 + h, x0 : x0 + w]


def _outcome(reading: PageReading, sha: str, root: Path, gray: Any) -> PageOutcome:
    tag = f"{sha[:12]}-p{reading.page_no}"
    if reading.rejected:
        rel = Path("rejected") / f"{tag}.jpg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        _write_jpeg(root / rel, gray, REJECTED_JPEG_QUALITY)
        return PageOutcome(reading.page_no, reading.to_json(), reading.rejected, image_path=str(rel),
                           retry_hint=RETRY_TOOL if reading.tool_failure else None)
    assert reading.round is not None and reading.village_code is not None
    form = typed_form_id(reading.round, reading.village_code, reading.layout)
    folder = Path("evidence") / reading.round / form
    (root / folder).mkdir(parents=True, exist_ok=True)
    crop_paths: dict[str, str] = {}
    evidence: dict[str, Any] | None = None
    if reading.crops:
        sheet, boxes = _evidence_sheet(reading.crops)
        rel = folder / f"{tag}.jpg"
        _write_jpeg(root / rel, sheet, EVIDENCE_JPEG_QUALITY)
        evidence = {"sheet": str(rel), "boxes": boxes}
        # A field a person must check gets a file of its own, for ``ducha review`` to show.
        for key in dict.fromkeys(k for k, _reason in reading.review if k in reading.crops):
            rel = folder / f"{tag}-{key}.jpg"
            _write_jpeg(root / rel, reading.crops[key], EVIDENCE_JPEG_QUALITY)
            crop_paths[key] = str(rel)
    return PageOutcome(
        reading.page_no,
        reading.to_json(),
        None,
        form_id=form,
        round=reading.round,
        sheet_page=reading.sheet_page,
        alignment_error_mm=reading.alignment_error_mm,
        review=list(reading.review),
        crop_paths=crop_paths,
        evidence=evidence,
    )


def run_chunk(task: ChunkTask) -> tuple[ChunkTask, list[PageOutcome]]:
    """Read some pages of one file. Every page yields an outcome, whatever happens."""
    layouts, key, root = _STATE["layouts"], _STATE["key"], _STATE["root"]
    outcomes: dict[int, PageOutcome] = {}
    read: list[tuple[PageReading, np.ndarray]] = []
    try:
        source = PageSource(Path(task.path))
    except SourceError as exc:
        return task, [PageOutcome(n, None, str(exc)) for n in task.page_nos]
    with source:
        for page_no in task.page_nos:
            try:
                page = source.read(page_no)
                read.append((read_page(page, layouts, key, _STATE.get("issued")), page.gray))
            except SourceError as exc:
                outcomes[page_no] = PageOutcome(page_no, None, str(exc))
            except Exception as exc:  # noqa: BLE001 - a bad page fails alone, with its reason kept
                outcomes[page_no] = PageOutcome(page_no, None, f"读取出错：{type(exc).__name__}: {exc}",
                                                retry_hint=RETRY_TOOL)
    _check_printed_ids([reading for reading, _gray in read], sorted({v for v, _p in layouts}))
    for reading, gray in read:
        try:
            outcomes[reading.page_no] = _outcome(reading, task.sha256, root, gray)
        except Exception as exc:  # noqa: BLE001 - a bad page fails alone, with its reason kept
            outcomes[reading.page_no] = PageOutcome(reading.page_no, None, f"读取出错：{type(exc).__name__}: {exc}",
                                                    retry_hint=RETRY_TOOL)
    return task, [outcomes[n] for n in task.page_nos]


def _check_printed_ids(readings: list[PageReading], known_layouts: list[str]) -> None:
    """Every QR-identified page's printed ID line: its glyphs against the QR's ID, then what that
    leaves read with one tesseract run per chunk.

    A page whose QR ID another page of the chunk shares (a transplanted QR
    beside its donor) is read alone: the donor's printed line must not vouch
    for it.
    """
    lines = [r for r in readings if r.id_line is not None]
    ids = [(r.round, r.village_code, r.sheet_page) for r in lines]
    # First the cheap check of the line's glyphs against the QR's ID; tesseract reads what it leaves.
    glyphs = {id(r): check_printed_id_glyphs(r) for r in lines}
    pending = [r for r in lines if r.id_line is not None]
    if not pending:
        return
    distinct = [r for r, i in zip(lines, ids, strict=True) if ids.count(i) == 1 and r.id_line is not None]
    batched = {id(r) for r in distinct}
    try:
        text = "\n".join(read_id_lines([r.id_line for r in distinct if r.id_line is not None])) if len(distinct) > 1 else ""
    except IdentificationError:
        text = ""  # each line is read again alone, and says why if it still fails
    for reading in pending:
        check_printed_id(reading, text if id(reading) in batched else "", known_layouts, glyphs[id(reading)])


# --- parent side ------------------------------------------------------------

@dataclass
class InputFile:
    source: str  # as named or found
    sha256: str | None
    file_id: int | None
    page_count: int
    note: str | None = None
    duplicate_of: str | None = None
    scanned_as: str | None = None  # a file read in full by an earlier scan, under this path


@dataclass
class ScanReport:
    files: list[InputFile]
    pages: list[dict[str, Any]]
    notes: list[str]
    # Pages under review per kind of reason (a page with two kinds counts under each).
    review_reasons: dict[str, int] = field(default_factory=dict)
    read_pages: int = 0  # pages this run read itself (others were done before, or by another scan)

    @property
    def summary(self) -> dict[str, int]:
        counts = {STATUS_RECORDED: 0, STATUS_REVIEW: 0, STATUS_REJECTED: 0}
        for page in self.pages:
            counts[page["status"]] += 1
        return {"input_pages": len(self.pages), **counts}

    def to_json(self) -> dict[str, Any]:
        return {"pages": self.pages, "summary": self.summary, "notes": self.notes,
                "review_by_reason": self.review_reasons, "read_pages": self.read_pages}


_SIGNATURE_KEYS = frozenset(slot.key for slot in SIGNATURE_SLOTS)


def _answers(reading: dict[str, Any]) -> dict[str, Any]:
    """What a copy actually says, per field: only what it read (an unaligned copy says nothing)."""
    out: dict[str, Any] = {}
    for key, item in reading.get("fields", {}).items():
        if item.get("problem"):
            out[key] = "uncertain"
        else:
            value = item.get("value")
            out[key] = "blank" if value is None else value
    out.update({k: v.get("state") for k, v in reading.get("signatures", {}).items() if v.get("state")})
    return out


def _disagree(key: str, mine: Any, theirs: Any) -> bool:
    if mine == theirs:
        return False
    if "uncertain" in (mine, theirs):
        # An unsure tick or number is already under review. An unsure signature
        # against a signed one is not: the signed copy alone would make the sheet valid.
        return key in _SIGNATURE_KEYS and "signed" in (mine, theirs)
    return True


def _conflict_reason(mine: Any, theirs: Any) -> str:
    return f"{CONFLICT_REASON}：本次为 {display_value(mine)}，另一次为 {display_value(theirs)}"


def reason_kind(reason: str) -> str:
    """A review reason without its particulars, to count reasons of one kind together."""
    text = re.sub(r"（[^）]*）", "", reason)
    return text.split("：", 1)[0].strip()


@dataclass(frozen=True)
class _Issued:
    pages: int
    rectification_rows: int
    group_no: int
    population: int | None = None  # the village's registered population, for the visited-count check

    @classmethod
    def of(cls, row: IssuedSheet, population: int | None = None) -> _Issued:
        return cls(row.pages, len(row.rectification_item_ids or []), row.group_no, population)


def _population_review(reading: dict[str, Any], population: int | None) -> list[tuple[str, str]]:
    """Visited counts above the village's registered population: to review with the check named, value kept."""
    fields = reading.get("fields", {})
    visited = {key: fields[key].get("value") for key in VISITED_COUNT_KEYS
               if key in fields and not fields[key].get("problem") and isinstance(fields[key].get("value"), int | float)}
    breaches = population_breaches(visited, population)
    for key, reason in breaches.items():
        fields[key]["problem"] = reason
    return list(breaches.items())


def _history_entry(page: ScanPage) -> dict[str, Any]:
    return {
        "status": page.status,
        "reason": page.reason,
        "read_at": page.read_at.isoformat() if page.read_at else None,
        "reader_version": page.reader_version,
        "retry_hint": page.retry_hint,
    }


class _Store:
    """Writes outcomes; decides each page's final state against the issued sheets."""

    def __init__(self, session: Session, round_id: str | None, root: Path, group_no: int | None = None):
        self.session = session
        self.round_id = round_id
        self.group_no = group_no
        self.root = root
        # Looked up once per batch: a per-page query is most of the parent's time,
        # and the parent shares the cores with the workers.
        self._issued: dict[str, _Issued | None] = {}

    def prefetch(self, form_ids: list[str | None]) -> None:
        """The issued sheets of a chunk's pages in one query instead of one each."""
        wanted = {f for f in form_ids if f is not None and f not in self._issued}
        if not wanted:
            return
        for row, population in self.session.execute(
            select(IssuedSheet, Village.population).join(Village, Village.id == IssuedSheet.village_id, isouter=True)
            .where(IssuedSheet.form_id.in_(wanted))
        ).all():
            self._issued[row.form_id] = _Issued.of(row, population)
        for form_id in wanted - self._issued.keys():
            self._issued[form_id] = None

    def issued(self, form_id: str | None) -> _Issued | None:
        if form_id is None:
            return None
        if form_id not in self._issued:
            row = self.session.get(IssuedSheet, form_id)
            village = None if row is None else self.session.get(Village, row.village_id)
            self._issued[form_id] = None if row is None else _Issued.of(row, village.population if village else None)
        return self._issued[form_id]

    def _cut(self, evidence: dict[str, Any], key: str) -> str:
        """A field's own crop file, cut from the page's evidence sheet (a conflict found here, not in the worker)."""
        sheet_path = self.root / evidence["sheet"]
        sheet = cv2.imread(str(sheet_path), cv2.IMREAD_GRAYSCALE)
        if sheet is None:
            raise ScanError(f"证据图像无法读取：{sheet_path}")
        rel = Path(evidence["sheet"]).with_name(f"{Path(evidence['sheet']).stem}-{key}.jpg")
        _write_jpeg(self.root / rel, cut_evidence(sheet, evidence["boxes"][key]), EVIDENCE_JPEG_QUALITY)
        return str(rel)

    def _reject(self, page: ScanPage, reason: str, retry_hint: str | None = None) -> None:
        page.status = STATUS_REJECTED
        page.reason = reason
        page.retry_hint = retry_hint

    def _new_row(self, file_id: int, outcome: PageOutcome, now: dt.datetime) -> ScanPage | None:
        """The page's row, inserted; None when another scan stored it first (its outcome wins)."""
        page = ScanPage(file_id=file_id, page_no=outcome.page_no, status=STATUS_RECORDED, read_at=now)
        try:
            with self.session.begin_nested():
                self.session.add(page)
                self.session.flush()
        except IntegrityError:
            taken = self.session.scalar(
                select(ScanPage.id).where(ScanPage.file_id == file_id, ScanPage.page_no == outcome.page_no)
            )
            if taken is None:
                raise
            return None
        return page

    def store(self, file_id: int, outcome: PageOutcome, now: dt.datetime, existing: ScanPage | None = None) -> ScanPage | None:
        if existing is None:
            page = self._new_row(file_id, outcome, now)
            if page is None:
                return None
        else:
            page = existing
            page.history = [*(page.history or []), _history_entry(page)]
        page.status = STATUS_RECORDED
        page.reason = None
        page.retry_hint = None
        page.form_id = outcome.form_id
        page.sheet_page = outcome.sheet_page
        page.alignment_error_mm = outcome.alignment_error_mm
        page.image_path = outcome.image_path
        page.reading = outcome.reading
        page.read_at = now
        page.reader_version = READER_VERSION
        if outcome.rejected:
            self._reject(page, outcome.rejected, outcome.retry_hint)
            return page
        issued = self.issued(outcome.form_id)
        if issued is None:
            self._reject(page, f"本工作区没有印发编号为 {outcome.form_id} 的纪实表")
        elif self.round_id and outcome.round != self.round_id:
            self._reject(page, f"此页属于 {outcome.round} 轮，不是本次扫描的 {self.round_id} 轮",
                         f"{RETRY_ROUND_PREFIX}{self.round_id}")
        elif outcome.sheet_page is None or outcome.sheet_page > max(issued.pages, 1):
            self._reject(page, f"纪实表 {outcome.form_id} 没有第{outcome.sheet_page}页")
        elif self.group_no is not None and issued.group_no != self.group_no:
            # A group may hand in only its own villages' sheets; the office scans the others.
            self._reject(page, f"此页是第{issued.group_no}组的纪实表，上传人属于第{self.group_no}组，请交办公室处理")
        if page.status == STATUS_REJECTED:
            return page
        assert issued is not None and outcome.reading is not None
        reading = outcome.reading
        # Rows past the sheet's own rectification items are not printed.
        rows = issued.rectification_rows
        fields = reading.get("fields", {})
        for key in [k for k in fields if k.startswith("rect_") and int(k.split("_")[1]) > rows]:
            del fields[key]
        review = [item for item in outcome.review if not (item[0].startswith("rect_") and item[0] not in fields)]
        review += _population_review(reading, issued.population)
        review += self._conflicts(page, reading)
        self.session.flush()  # the items need the page's id
        crop_paths = dict(outcome.crop_paths)
        for field_key, reason in review:
            self._add_item(page, outcome.evidence, reading, crop_paths, field_key, reason)
        page.reading = dict(reading, crops=crop_paths, evidence=outcome.evidence)
        if review:
            page.status = STATUS_REVIEW
            page.reason = "；".join(dict.fromkeys(reason for _k, reason in review))
        return page

    def _add_item(self, page: ScanPage, evidence: dict[str, Any] | None, reading: dict[str, Any],
                  crop_paths: dict[str, str], field_key: str, reason: str) -> None:
        fields = reading.get("fields", {})
        if field_key not in crop_paths and evidence and field_key in evidence["boxes"]:
            crop_paths[field_key] = self._cut(evidence, field_key)
        machine = fields.get(field_key, {}).get("value") if field_key in fields else None
        if field_key in reading.get("signatures", {}):
            machine = reading["signatures"][field_key]["state"]
        self.session.add(
            ReviewItem(
                scan_page_id=page.id,
                form_id=page.form_id,
                field_key=field_key,
                reason=reason,
                machine_value=None if machine is None else str(machine),
                crop_path=crop_paths.get(field_key),
                status="open",
            )
        )

    def _conflicts(self, page: ScanPage, reading: dict[str, Any]) -> list[tuple[str, str]]:
        """Fields on which this copy and an earlier copy of the same sheet page disagree.

        Only values that both copies actually read are compared. Both copies
        go to review: the earlier one's value must not stay accepted.
        """
        mine = _answers(reading)
        if not mine:
            return []
        self.session.flush()  # the page's own id, to leave it out
        earlier = self.session.scalars(
            select(ScanPage).where(
                ScanPage.form_id == page.form_id,
                ScanPage.sheet_page == page.sheet_page,
                ScanPage.status != STATUS_REJECTED,
                ScanPage.id != page.id,
            ).order_by(ScanPage.id)
        ).all()
        out: dict[str, str] = {}
        for other in earlier:
            theirs = _answers(other.reading or {})
            flag_other: dict[str, str] = {}
            for key in sorted(mine.keys() & theirs.keys()):
                a, b = mine[key], theirs[key]
                if _disagree(key, a, b):
                    out.setdefault(key, _conflict_reason(a, b))
                    flag_other[key] = _conflict_reason(b, a)
            if flag_other:
                self._flag_earlier(other, flag_other)
        return list(out.items())

    def _flag_earlier(self, other: ScanPage, items: dict[str, str]) -> None:
        open_keys = set(self.session.scalars(
            select(ReviewItem.field_key).where(
                ReviewItem.scan_page_id == other.id, ReviewItem.status == "open",
                ReviewItem.reason.startswith(CONFLICT_REASON),
            )
        ))
        reading = dict(other.reading or {})
        crop_paths = dict(reading.get("crops") or {})
        added = []
        for key, reason in items.items():
            if key in open_keys:
                continue
            self._add_item(other, reading.get("evidence"), reading, crop_paths, key, reason)
            added.append(reason)
        if not added:
            return
        other.reading = dict(reading, crops=crop_paths)
        other.status = STATUS_REVIEW
        other.reason = "；".join(dict.fromkeys(r for r in [*(other.reason or "").split("；"), *added] if r))


def _pages_json(session: Session, files: list[InputFile]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    out: list[dict[str, Any]] = []
    reasons: dict[str, int] = {}
    for item in files:
        if item.duplicate_of is not None:
            continue
        if item.file_id is None:
            out.append(_page_entry(item.source, 1, STATUS_REJECTED, item.note, None, None, []))
            continue
        rows = session.scalars(select(ScanPage).where(ScanPage.file_id == item.file_id).order_by(ScanPage.page_no)).all()
        # One query per file: a get() per page re-queried, as the identity map had let the rows go.
        form_ids = {row.form_id for row in rows if row.form_id}
        issued_by_form = {
            sheet.form_id: sheet
            for sheet in session.scalars(select(IssuedSheet).where(IssuedSheet.form_id.in_(form_ids)))
        } if form_ids else {}
        items_by_page: dict[int, list[ReviewItem]] = {}
        review_ids = [row.id for row in rows if row.status == STATUS_REVIEW]
        if review_ids:
            for review in session.scalars(
                select(ReviewItem).where(ReviewItem.scan_page_id.in_(review_ids), ReviewItem.status == "open")
                .order_by(ReviewItem.id)
            ):
                items_by_page.setdefault(review.scan_page_id, []).append(review)
        for row in rows:
            issued = issued_by_form.get(row.form_id) if row.form_id else None
            page_items = items_by_page.get(row.id, [])
            out.append(_page_entry(item.source, row.page_no, row.status, row.reason, row, issued, page_items))
            for kind in dict.fromkeys(reason_kind(r.reason) for r in page_items):
                reasons[kind] = reasons.get(kind, 0) + 1
    return out, dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def _field_status(item: dict[str, Any], reasons: list[str]) -> tuple[str, str | None]:
    if reasons:
        return "review", "；".join(reasons)
    if item.get("value") in (None, "blank"):
        return "blank", None
    return "ok", None


def _page_entry(
    source: str, page_no: int, status: str, reason: str | None, row: ScanPage | None, issued: IssuedSheet | None,
    items: list[ReviewItem],
) -> dict[str, Any]:
    reading = (row.reading if row is not None else None) or {}
    reasons_by_key: dict[str, list[str]] = {}
    for review in items:
        reasons_by_key.setdefault(review.field_key, []).append(review.reason)
    fields: dict[str, dict[str, Any]] = {}
    for k, v in reading.get("fields", {}).items():
        field_status, field_reason = _field_status(v, reasons_by_key.get(k, []))
        fields[k] = {"value": v.get("value"), "confidence": v.get("confidence"),
                     "status": field_status, "reason": field_reason}
    signatures = {k: v.get("state") for k, v in reading.get("signatures", {}).items()}
    valid: bool | None = None
    # Open amount items do not hold validity back; an open signature or whole-page item does.
    blocked = any(blocks_validity(review.field_key) for review in items)
    if status != STATUS_REJECTED and len(signatures) == 3 and not blocked:
        validity = inspection_validity(signatures)  # type: ignore[arg-type]
        valid = True if validity == "valid" else False if validity == "invalid" else None
    rejected = status == STATUS_REJECTED
    return {
        "source": source,
        "page": page_no,
        "status": status,
        "reason": reason,
        "form_id": row.form_id if row is not None and not rejected else None,
        "village_id": issued.village_id if issued is not None and not rejected else None,
        "valid": valid,
        "fields": fields if not rejected else {},
        "signatures": signatures if not rejected else {},
        "review_items": [] if rejected else [{"field": r.field_key, "reason": r.reason} for r in items],
        "bilevel": bool(reading.get("bilevel")),
    }


def _insert_ignore(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT that yields to a concurrent insert of the same key; True when this one went in."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(model).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).values(**values).on_conflict_do_nothing()
    else:
        try:
            with session.begin_nested():
                session.add(model(**values))
                session.flush()
        except IntegrityError:
            return False
        return True
    # RETURNING, not rowcount: psycopg reports a row count for a DO NOTHING that inserted nothing.
    stmt = stmt.returning(*model.__table__.primary_key.columns)
    return session.execute(stmt).first() is not None


def _retry_wanted(page: ScanPage, round_id: str | None, retry_rejected: bool) -> bool:
    """A rejected page whose outcome may differ if it is read now."""
    if page.status != STATUS_REJECTED:
        return False
    if retry_rejected or page.reader_version != READER_VERSION:
        return True
    hint = page.retry_hint or ""
    if hint == RETRY_TOOL:
        return True
    return hint.startswith(RETRY_ROUND_PREFIX) and hint[len(RETRY_ROUND_PREFIX):] != (round_id or "")


def _register(session: Session, path: Path, source: str, seen: dict[str, str], notes: list[str], now: dt.datetime,
              reopen: bool) -> InputFile:
    try:
        sha = file_sha256(path)
    except (OSError, SourceError) as exc:
        reason = str(exc) if isinstance(exc, SourceError) else (exc.strerror or "未知错误")
        return InputFile(source, None, None, 1, note=f"无法读取文件：{reason}")
    if sha in seen:
        notes.append(f"{source} 与本批的 {seen[sha]} 内容完全相同，已跳过")
        return InputFile(source, sha, None, 0, duplicate_of=seen[sha])
    seen[sha] = source
    existing = session.scalars(select(ScanFile).where(ScanFile.sha256 == sha)).first()
    if existing is not None and not (existing.status == "rejected" and reopen):
        return InputFile(source, sha, existing.id, existing.page_count or 0,
                         scanned_as=existing.path if existing.status != "open" else None)
    try:
        with PageSource(path) as opened:
            count = opened.page_count()
    except SourceError as exc:
        if existing is not None:
            page = session.scalars(select(ScanPage).where(ScanPage.file_id == existing.id, ScanPage.page_no == 1)).first()
            if page is not None:
                page.history = [*(page.history or []), _history_entry(page)]
                page.reason, page.read_at, page.reader_version = str(exc), now, READER_VERSION
            return InputFile(source, sha, existing.id, existing.page_count or 1)
        _insert_ignore(session, ScanFile, {"sha256": sha, "path": str(path), "page_count": 1, "status": "rejected",
                                               "reason": str(exc), "scanned_at": now})
        row = session.scalars(select(ScanFile).where(ScanFile.sha256 == sha)).one()
        _insert_ignore(session, ScanPage, {"file_id": row.id, "page_no": 1, "status": STATUS_REJECTED, "reason": str(exc),
                                               "read_at": now, "reader_version": READER_VERSION})
        return InputFile(source, sha, row.id, row.page_count or 1)
    if existing is not None:
        # A file once refused as a whole opens now: its pages are read like a new file's.
        existing.page_count, existing.status, existing.reason = count, "open", None
        return InputFile(source, sha, existing.id, count)
    _insert_ignore(session, ScanFile, {"sha256": sha, "path": str(path), "page_count": count, "status": "open", "reason": None,
                                           "scanned_at": now})
    row = session.scalars(select(ScanFile).where(ScanFile.sha256 == sha)).one()
    return InputFile(source, sha, row.id, row.page_count or 0)


def _process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot), to tell it from a later one with the same pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()[19]


def _owner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid()) or '-'}:{uuid.uuid4().hex[:8]}"


def _owner_alive(owner: str, claimed_at: dt.datetime, now: dt.datetime) -> bool:
    if (now - claimed_at).total_seconds() > CLAIM_STALE_AFTER_S:
        return False
    host, pid_text, start, _nonce = (owner.split(":") + ["", "", "", ""])[:4]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if start != "-":
        return _process_start(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Work:
    """Which pages of this batch's files are still to be read, and the claims on them."""

    def __init__(self, session: Session, files: list[InputFile], round_id: str | None, retry_rejected: bool):
        self.session = session
        self.owner = _owner_token()
        self.files = [f for f in files if f.file_id is not None and f.sha256 is not None and f.duplicate_of is None]
        # Rejected pages to read again, as they were when this scan started.
        self.retry: dict[tuple[int, int], dt.datetime] = {}
        for item in self.files:
            for row in session.scalars(select(ScanPage).where(ScanPage.file_id == item.file_id)):
                if _retry_wanted(row, round_id, retry_rejected):
                    self.retry[(row.file_id, row.page_no)] = row.read_at
        self.retried = len(self.retry)
        # Pages this run has read: never read twice by one run, whatever the database says.
        self.read: set[tuple[int, int]] = set()

    def pending(self) -> tuple[list[ChunkTask], int]:
        """Chunks free to claim now, and how many pages other live scans hold."""
        now = dt.datetime.now()
        tasks: list[ChunkTask] = []
        held = 0
        for item in self.files:
            assert item.file_id is not None and item.sha256 is not None
            stored = {no: at for no, at in self.session.execute(
                select(ScanPage.page_no, ScanPage.read_at).where(ScanPage.file_id == item.file_id)
            ).all()}
            claims = {c.page_no: c for c in self.session.scalars(select(ScanClaim).where(ScanClaim.file_id == item.file_id))}
            todo: dict[int, dt.datetime | None] = {}
            for n in range(1, item.page_count + 1):
                expect = self.retry.get((item.file_id, n))
                if (item.file_id, n) in self.read:
                    continue
                if n in stored and (expect is None or stored[n] != expect):
                    continue
                claim = claims.get(n)
                if claim is not None and _owner_alive(claim.owner, claim.claimed_at, now):
                    held += 1
                    continue
                todo[n] = expect
            numbers = sorted(todo)
            for i in range(0, len(numbers), CHUNK_PAGES):
                part = numbers[i : i + CHUNK_PAGES]
                tasks.append(ChunkTask(item.file_id, str(Path(item.source).resolve()), item.sha256, part,
                                       {n: todo[n] for n in part}))
        self.session.commit()
        return tasks, held

    def claim(self, task: ChunkTask) -> ChunkTask | None:
        """The pages of ``task`` this scan now holds (None if none): stale claims are taken over."""
        session = self.session
        now = dt.datetime.now()
        for claim in session.scalars(
            select(ScanClaim).where(ScanClaim.file_id == task.file_id, ScanClaim.page_no.in_(task.page_nos))
        ).all():
            if not _owner_alive(claim.owner, claim.claimed_at, now):
                session.execute(delete(ScanClaim).where(
                    ScanClaim.file_id == claim.file_id, ScanClaim.page_no == claim.page_no, ScanClaim.owner == claim.owner
                ))
        session.expire_all()
        got = [n for n in task.page_nos if _insert_ignore(
            session, ScanClaim, {"file_id": task.file_id, "page_no": n, "owner": self.owner, "claimed_at": now}
        )]
        # A page stored (or read again) by another scan since this one looked is not read twice.
        current = {no: at for no, at in session.execute(
            select(ScanPage.page_no, ScanPage.read_at).where(ScanPage.file_id == task.file_id, ScanPage.page_no.in_(got))
        ).all()} if got else {}
        stale = [n for n in got if current.get(n) != task.expect.get(n)]
        if stale:
            self.release(task.file_id, stale)
        session.commit()
        mine = [n for n in got if n not in stale]
        if not mine:
            return None
        return ChunkTask(task.file_id, task.path, task.sha256, mine, {n: task.expect.get(n) for n in mine})

    def release(self, file_id: int, page_nos: list[int]) -> None:
        self.session.execute(delete(ScanClaim).where(
            ScanClaim.file_id == file_id, ScanClaim.page_no.in_(page_nos), ScanClaim.owner == self.owner
        ))

    def existing(self, file_id: int, page_no: int) -> ScanPage | None:
        if (file_id, page_no) not in self.retry:
            return None
        return self.session.scalars(
            select(ScanPage).where(ScanPage.file_id == file_id, ScanPage.page_no == page_no)
        ).first()


def _immediate_sqlite(engine: Engine) -> None:
    """SQLite writers take the write lock when a transaction begins, and wait for it (busy_timeout).

    pysqlite's deferred BEGIN lets two scans each read, then fail at once with
    "database is locked" when both try to write; BEGIN IMMEDIATE queues them.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


ProgressFn = Callable[[int, int], None]


def check_round_id(round_id: str | None) -> None:
    if round_id is not None:
        try:
            parse_round_id(round_id)
        except DuchaError as exc:
            raise ScanError(str(exc)) from exc


def scan(
    workspace: Workspace,
    paths: list[Path],
    round_id: str | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    stop_after_pages: int | None = None,
    group_no: int | None = None,
    retry_rejected: bool = False,
) -> ScanReport:
    """Read every page of ``paths``; with ``group_no``, pages of other groups' sheets are rejected."""
    check_round_id(round_id)
    layouts = load_layouts()
    key = workspace.key()
    workspace.output_dir("evidence")
    workspace.output_dir("rejected")
    if stop_after_pages is None and os.environ.get(STOP_AFTER_ENV):
        stop_after_pages = int(os.environ[STOP_AFTER_ENV])
    now = dt.datetime.now()
    notes: list[str] = []
    files: list[InputFile] = []
    engine = workspace.engine()
    _immediate_sqlite(engine)
    sources, skipped = list_sources(paths)
    try:
        # Read in a session of its own: on SQLite every transaction here holds the write lock (see
        # _immediate_sqlite), and the scan's own session must not keep one open while pages are read.
        with Session(engine) as lookup:
            issued = issued_macs(lookup, key)
        with Session(engine, expire_on_commit=False) as session:
            seen: dict[str, str] = {}
            for entry in skipped:
                if entry.note_only:
                    notes.append(f"{entry.path}：{entry.reason}")
                else:
                    files.append(InputFile(str(entry.path), None, None, 1, note=entry.reason))
            for path in sources:
                files.append(_register(session, path, str(path), seen, notes, now, reopen=retry_rejected))
                session.commit()
            work = _Work(session, files, round_id, retry_rejected)
            store = _Store(session, round_id, workspace.root, group_no)
            stored = 0
            tasks, held = work.pending()
            total = sum(len(t.page_nos) for t in tasks) + held
            if progress:
                progress(0, total)
            while tasks or held:
                if not tasks:
                    # Another live scan holds pages of these files: wait for it (or for its claims to go stale).
                    time.sleep(CLAIM_POLL_S)
                for task, outcomes in _run_tasks(tasks, layouts, key, workspace.root, workers, work.claim, issued):
                    store.prefetch([outcome.form_id for outcome in outcomes])
                    for outcome in outcomes:
                        store.store(task.file_id, outcome, now, work.existing(task.file_id, outcome.page_no))
                    work.release(task.file_id, task.page_nos)
                    work.read.update((task.file_id, n) for n in task.page_nos)
                    _close_finished(session, task.file_id)
                    session.commit()
                    stored += len(outcomes)
                    if progress:
                        progress(stored, max(total, stored))
                    if stop_after_pages is not None and stored >= stop_after_pages:
                        engine.dispose()
                        os._exit(STOP_EXIT_CODE)
                tasks, held = work.pending()
            for item in files:
                if item.file_id is not None:
                    _close_finished(session, item.file_id)
            session.commit()
            pages, reasons = _pages_json(session, files)
            session.commit()
    finally:
        engine.dispose()
    _batch_notes(files, pages, notes, work.retried, {file_id for file_id, _page in work.retry})
    return ScanReport(files=files, pages=pages, notes=notes, review_reasons=reasons, read_pages=stored)


def _batch_notes(files: list[InputFile], pages: list[dict[str, Any]], notes: list[str], retried: int,
                 retried_files: set[int]) -> None:
    for item in files:
        if item.note and item.file_id is None and item.duplicate_of is None:
            notes.append(f"{item.source}：{item.note}")
    for item in files:
        if item.scanned_as is not None and item.file_id not in retried_files:
            notes.append(f"{item.source} 与已扫描的 {item.scanned_as} 内容相同（同一文件），未重复读取")
    if retried:
        notes.append(f"此前拒收的 {retried} 页已重新读取（原结果保留在该页的历史记录中）")
    bilevel = sum(1 for page in pages if page.get("bilevel"))
    if bilevel:
        notes.append(BILEVEL_NOTE.format(n=bilevel))


def issued_macs(session: Session, key: bytes) -> dict[str, str]:
    """MAC -> payload of every page of every sheet this workspace issued: ``ocr.reader.read_page`` names a
    page whose QR code and printed ID both fail by the MAC at the end of its ID line."""
    out: dict[str, str] = {}
    rows = session.execute(select(IssuedSheet, Village.code).join(Village, Village.id == IssuedSheet.village_id))
    for row, village in rows:
        for page in range(1, row.pages + 1):
            try:
                payload = qr_payload.encode(qr_payload.SheetId(row.round, village, page, row.layout_version.lower()), key)
            except PayloadError:
                continue
            out[payload.rsplit("-", 1)[1]] = payload
    return out


def _close_finished(session: Session, file_id: int) -> None:
    row = session.get(ScanFile, file_id)
    if row is None or row.status != "open":
        return
    stored = len(session.scalars(select(ScanPage.id).where(ScanPage.file_id == file_id)).all())
    if stored >= (row.page_count or 0):
        row.status = "done"


ClaimFn = Callable[[ChunkTask], ChunkTask | None]


def _run_tasks(
    tasks: list[ChunkTask], layouts: dict[tuple[str, int], PageLayout], key: bytes, root: Path, workers: int | None,
    claim: ClaimFn, issued: dict[str, str] | None = None,
) -> Iterator[tuple[ChunkTask, list[PageOutcome]]]:
    """Each chunk is claimed just before it is read, so concurrent scans share the pages."""
    workers = workers or max(1, os.cpu_count() or 1)
    claimed = (task for task in map(claim, tasks) if task is not None)
    if workers == 1 or len(tasks) <= 1:
        _init_worker(layouts, key, str(root), issued)
        for task in claimed:
            yield run_chunk(task)
        return
    # Bounded submission keeps memory flat however large the batch is.
    limit = workers * INFLIGHT_CHUNKS_PER_WORKER
    pending: set[Future[tuple[ChunkTask, list[PageOutcome]]]] = set()
    with process_pool(workers, _init_worker, (layouts, key, str(root), issued)) as pool:
        for task in claimed:
            pending.add(pool.submit(run_chunk, task))
            if len(pending) >= limit:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                nxt = next(claimed, None)
                if nxt is not None:
                    pending.add(pool.submit(run_chunk, nxt))
