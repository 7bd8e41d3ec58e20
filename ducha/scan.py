"""``ducha scan``: read returned sheets in bulk and store every page's state.

Workers run the pure reader (``ocr``) on chunks of pages and write the
evidence: one image per page holding every field's crop (its place is in
``reading["evidence"]``), plus a file of its own for each field a person
must check. The parent alone writes the database, one transaction per
chunk, so a batch killed halfway resumes where it stopped: a (file
content hash, page number) pair is stored at most once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, ReviewItem, ScanFile, ScanPage
from ducha.errors import ScanError
from ducha.pool import process_pool
from ducha.workspace import Workspace
from forms.form_spec import typed_form_id
from forms.geometry import LAYOUTS_DIR, PageLayout, load_layout
from forms.record_sheet import inspection_validity
from ocr.errors import SourceError
from ocr.pages import PageSource, list_sources
from ocr.reader import PageReading, read_page

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
    with path.open("rb") as handle:
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


@dataclass
class ChunkTask:
    file_id: int
    path: str
    sha256: str
    page_nos: list[int]


_STATE: dict[str, Any] = {}


def _init_worker(layouts: dict[tuple[str, int], PageLayout], key: bytes, root: str) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    cv2.setNumThreads(1)
    # One process per core: BLAS threads (the digit MLP) would only fight each other.
    from threadpoolctl import threadpool_limits

    _STATE["blas_limit"] = threadpool_limits(1)
    _STATE.update(layouts=layouts, key=key, root=Path(root))


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
        return PageOutcome(reading.page_no, reading.to_json(), reading.rejected, image_path=str(rel))
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
    outcomes: list[PageOutcome] = []
    try:
        source = PageSource(Path(task.path))
    except SourceError as exc:
        return task, [PageOutcome(n, None, str(exc)) for n in task.page_nos]
    with source:
        for page_no in task.page_nos:
            try:
                page = source.read(page_no)
                reading = read_page(page, layouts, key)
                outcomes.append(_outcome(reading, task.sha256, root, page.gray))
            except SourceError as exc:
                outcomes.append(PageOutcome(page_no, None, str(exc)))
            except Exception as exc:  # noqa: BLE001 - a bad page fails alone, with its reason kept
                outcomes.append(PageOutcome(page_no, None, f"读取出错：{type(exc).__name__}: {exc}"))
    return task, outcomes


# --- parent side ------------------------------------------------------------

@dataclass
class InputFile:
    source: str  # as named or found
    sha256: str | None
    file_id: int | None
    page_count: int
    note: str | None = None
    duplicate_of: str | None = None


@dataclass
class ScanReport:
    files: list[InputFile]
    pages: list[dict[str, Any]]
    notes: list[str]

    @property
    def summary(self) -> dict[str, int]:
        counts = {STATUS_RECORDED: 0, STATUS_REVIEW: 0, STATUS_REJECTED: 0}
        for page in self.pages:
            counts[page["status"]] += 1
        return {"input_pages": len(self.pages), **counts}

    def to_json(self) -> dict[str, Any]:
        return {"pages": self.pages, "summary": self.summary, "notes": self.notes}


def _answers(reading: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: "uncertain" if v.get("problem") else v.get("value") for k, v in reading.get("fields", {}).items()
    }
    out.update({k: v.get("state") for k, v in reading.get("signatures", {}).items()})
    return out


@dataclass(frozen=True)
class _Issued:
    pages: int
    rectification_rows: int
    group_no: int

    @classmethod
    def of(cls, row: IssuedSheet) -> _Issued:
        return cls(row.pages, len(row.rectification_item_ids or []), row.group_no)


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
        rows = session.execute(
            select(ScanPage.form_id, ScanPage.sheet_page).where(
                ScanPage.form_id.is_not(None), ScanPage.status != STATUS_REJECTED
            )
        )
        self._stored_forms: set[tuple[str | None, int | None]] = {(form, page) for form, page in rows}

    def prefetch(self, form_ids: list[str | None]) -> None:
        """The issued sheets of a chunk's pages in one query instead of one each."""
        wanted = {f for f in form_ids if f is not None and f not in self._issued}
        if not wanted:
            return
        for row in self.session.scalars(select(IssuedSheet).where(IssuedSheet.form_id.in_(wanted))):
            self._issued[row.form_id] = _Issued.of(row)
        for form_id in wanted - self._issued.keys():
            self._issued[form_id] = None

    def issued(self, form_id: str | None) -> _Issued | None:
        if form_id is None:
            return None
        if form_id not in self._issued:
            row = self.session.get(IssuedSheet, form_id)
            self._issued[form_id] = None if row is None else _Issued.of(row)
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

    def _reject(self, page: ScanPage, reason: str) -> None:
        page.status = STATUS_REJECTED
        page.reason = reason

    def store(self, file_id: int, outcome: PageOutcome, now: dt.datetime) -> ScanPage:
        page = ScanPage(
            file_id=file_id,
            page_no=outcome.page_no,
            status=STATUS_RECORDED,
            reason=None,
            form_id=outcome.form_id,
            sheet_page=outcome.sheet_page,
            alignment_error_mm=outcome.alignment_error_mm,
            image_path=outcome.image_path,
            reading=outcome.reading,
            read_at=now,
        )
        self.session.add(page)
        if outcome.rejected:
            self._reject(page, outcome.rejected)
            return page
        issued = self.issued(outcome.form_id)
        if issued is None:
            self._reject(page, f"本工作区没有印发编号为 {outcome.form_id} 的纪实表")
        elif self.round_id and outcome.round != self.round_id:
            self._reject(page, f"此页属于 {outcome.round} 轮，不是本次扫描的 {self.round_id} 轮")
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
        review += self._conflicts(page, reading)
        if review:
            self.session.flush()  # the items need the page's id
        crop_paths = dict(outcome.crop_paths)
        for field_key, reason in review:
            if field_key not in crop_paths and outcome.evidence and field_key in outcome.evidence["boxes"]:
                crop_paths[field_key] = self._cut(outcome.evidence, field_key)
            machine = fields.get(field_key, {}).get("value") if field_key in fields else None
            if field_key in reading.get("signatures", {}):
                machine = reading["signatures"][field_key]["state"]
            self.session.add(
                ReviewItem(
                    scan_page_id=page.id,
                    form_id=outcome.form_id,
                    field_key=field_key,
                    reason=reason,
                    machine_value=None if machine is None else str(machine),
                    crop_path=crop_paths.get(field_key),
                    status="open",
                )
            )
        page.reading = dict(reading, crops=crop_paths, evidence=outcome.evidence)
        if review:
            page.status = STATUS_REVIEW
            page.reason = "；".join(dict.fromkeys(reason for _k, reason in review))
        return page

    def _conflicts(self, page: ScanPage, reading: dict[str, Any]) -> list[tuple[str, str]]:
        seen = (page.form_id, page.sheet_page)
        if seen not in self._stored_forms:
            # The usual case: the first copy of this sheet page, nothing to compare with.
            self._stored_forms.add(seen)
            return []
        self.session.flush()  # the page's own id, to leave it out
        earlier = self.session.scalars(
            select(ScanPage).where(
                ScanPage.form_id == page.form_id,
                ScanPage.sheet_page == page.sheet_page,
                ScanPage.status != STATUS_REJECTED,
                ScanPage.id != page.id,
            )
        ).all()
        mine = _answers(reading)
        out: dict[str, str] = {}
        for other in earlier:
            theirs = _answers(other.reading or {})
            for key in sorted(set(mine) | set(theirs)):
                a, b = mine.get(key), theirs.get(key)
                # An unsure reading is already under review; only two sure, different readings conflict.
                if "uncertain" in (a, b):
                    continue
                if a != b and key not in out:
                    out[key] = f"同一张表扫描了两次且读数不同：本次为 {a}，另一次为 {b}"
        return list(out.items())


def _pages_json(session: Session, files: list[InputFile]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in files:
        if item.duplicate_of is not None:
            continue
        if item.file_id is None:
            out.append(_page_entry(item.source, 1, STATUS_REJECTED, item.note, None, None))
            continue
        rows = session.scalars(select(ScanPage).where(ScanPage.file_id == item.file_id).order_by(ScanPage.page_no)).all()
        # One query per file: a get() per page re-queried, as the identity map had let the rows go.
        form_ids = {row.form_id for row in rows if row.form_id}
        issued_by_form = {
            sheet.form_id: sheet
            for sheet in session.scalars(select(IssuedSheet).where(IssuedSheet.form_id.in_(form_ids)))
        } if form_ids else {}
        for row in rows:
            issued = issued_by_form.get(row.form_id) if row.form_id else None
            out.append(_page_entry(item.source, row.page_no, row.status, row.reason, row, issued))
    return out


def _page_entry(
    source: str, page_no: int, status: str, reason: str | None, row: ScanPage | None, issued: IssuedSheet | None
) -> dict[str, Any]:
    reading = (row.reading if row is not None else None) or {}
    fields = {k: {"value": v.get("value"), "confidence": v.get("confidence")} for k, v in reading.get("fields", {}).items()}
    signatures = {k: v.get("state") for k, v in reading.get("signatures", {}).items()}
    valid: bool | None = None
    if status != STATUS_REJECTED and len(signatures) == 3:
        validity = inspection_validity(signatures)  # type: ignore[arg-type]
        valid = True if validity == "valid" else False if validity == "invalid" else None
    return {
        "source": source,
        "page": page_no,
        "status": status,
        "reason": reason,
        "form_id": row.form_id if row is not None and status != STATUS_REJECTED else None,
        "village_id": issued.village_id if issued is not None and status != STATUS_REJECTED else None,
        "valid": valid,
        "fields": fields if status != STATUS_REJECTED else {},
        "signatures": signatures if status != STATUS_REJECTED else {},
    }


def _register(session: Session, path: Path, source: str, seen: dict[str, str], notes: list[str], now: dt.datetime) -> InputFile:
    try:
        sha = file_sha256(path)
    except OSError as exc:
        return InputFile(source, None, None, 1, note=f"无法读取文件：{exc.strerror or exc}")
    if sha in seen:
        notes.append(f"{source} 与本批的 {seen[sha]} 内容完全相同，已跳过")
        return InputFile(source, sha, None, 0, duplicate_of=seen[sha])
    seen[sha] = source
    existing = session.scalars(select(ScanFile).where(ScanFile.sha256 == sha)).first()
    if existing is not None:
        if existing.status != "open":
            notes.append(f"{source} 与已扫描的 {existing.path} 内容相同（同一文件），未重复读取")
        return InputFile(source, sha, existing.id, existing.page_count or 0)
    try:
        with PageSource(path) as opened:
            count = opened.page_count()
    except SourceError as exc:
        row = ScanFile(sha256=sha, path=str(path), page_count=1, status="rejected", reason=str(exc), scanned_at=now)
        session.add(row)
        session.flush()
        session.add(ScanPage(file_id=row.id, page_no=1, status=STATUS_REJECTED, reason=str(exc), read_at=now))
        return InputFile(source, sha, row.id, 1)
    row = ScanFile(sha256=sha, path=str(path), page_count=count, status="open", reason=None, scanned_at=now)
    session.add(row)
    session.flush()
    return InputFile(source, sha, row.id, count)


def _chunks(session: Session, files: list[InputFile]) -> Iterator[ChunkTask]:
    for item in files:
        if item.file_id is None or item.sha256 is None or item.duplicate_of is not None:
            continue
        done = set(session.scalars(select(ScanPage.page_no).where(ScanPage.file_id == item.file_id)).all())
        todo = [n for n in range(1, item.page_count + 1) if n not in done]
        for i in range(0, len(todo), CHUNK_PAGES):
            yield ChunkTask(item.file_id, str(Path(item.source).resolve()), item.sha256, todo[i : i + CHUNK_PAGES])


ProgressFn = Callable[[int, int], None]


def scan(
    workspace: Workspace,
    paths: list[Path],
    round_id: str | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    stop_after_pages: int | None = None,
    group_no: int | None = None,
) -> ScanReport:
    """Read every page of ``paths``; with ``group_no``, pages of other groups' sheets are rejected."""
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
    try:
        with Session(engine, expire_on_commit=False) as session:
            seen: dict[str, str] = {}
            for path in list_sources(paths):
                source = str(path)
                if not path.exists():
                    files.append(InputFile(source, None, None, 1, note="文件不存在"))
                    continue
                files.append(_register(session, path, source, seen, notes, now))
            session.commit()
            tasks = list(_chunks(session, files))
            total = sum(len(t.page_nos) for t in tasks)
            store = _Store(session, round_id, workspace.root, group_no)
            stored = 0
            if progress:
                progress(0, total)
            for task, outcomes in _run_tasks(tasks, layouts, key, workspace.root, workers):
                store.prefetch([outcome.form_id for outcome in outcomes])
                for outcome in outcomes:
                    store.store(task.file_id, outcome, now)
                _close_finished(session, task.file_id)
                session.commit()
                stored += len(outcomes)
                if progress:
                    progress(stored, total)
                if stop_after_pages is not None and stored >= stop_after_pages:
                    engine.dispose()
                    os._exit(STOP_EXIT_CODE)
            for item in files:
                if item.file_id is not None:
                    _close_finished(session, item.file_id)
            session.commit()
            pages = _pages_json(session, files)
    finally:
        engine.dispose()
    for item in files:
        if item.note and item.file_id is None and item.duplicate_of is None:
            notes.append(f"{item.source}：{item.note}")
    return ScanReport(files=files, pages=pages, notes=notes)


def _close_finished(session: Session, file_id: int) -> None:
    row = session.get(ScanFile, file_id)
    if row is None or row.status != "open":
        return
    stored = len(session.scalars(select(ScanPage.id).where(ScanPage.file_id == file_id)).all())
    if stored >= (row.page_count or 0):
        row.status = "done"


def _run_tasks(
    tasks: list[ChunkTask], layouts: dict[tuple[str, int], PageLayout], key: bytes, root: Path, workers: int | None
) -> Iterator[tuple[ChunkTask, list[PageOutcome]]]:
    workers = workers or max(1, os.cpu_count() or 1)
    if workers == 1 or len(tasks) <= 1:
        _init_worker(layouts, key, str(root))
        for task in tasks:
            yield run_chunk(task)
        return
    # Bounded submission keeps memory flat however large the batch is.
    limit = workers * INFLIGHT_CHUNKS_PER_WORKER
    pending: set[Future[tuple[ChunkTask, list[PageOutcome]]]] = set()
    queue = iter(tasks)
    with process_pool(workers, _init_worker, (layouts, key, str(root))) as pool:
        for task in queue:
            pending.add(pool.submit(run_chunk, task))
            if len(pending) >= limit:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(run_chunk, nxt))
