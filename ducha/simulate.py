"""``ducha simulate``: returned sheets of a round, filled in and scanned.

Takes the round's printed sheets (the group PDFs written by ``ducha
sheets``), renders each page at 300 dpi, has ``generator.simulate`` fill
and degrade it, shuffles the pages, throws in a duplicate, and writes
multi-page PDFs and TIFFs plus a ground-truth JSON for the benchmark.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet
from ducha.errors import ScanError
from ducha.pool import process_pool
from forms.form_spec import form_spec
from forms.geometry import PageLayout, load_layout
from generator import form_simulate as form_sim
from generator import simulate as sim
from generator.handwriting import simulation_digit
from ocr.align import align
from ocr.pages import PageImage, _decode_png, decode_jpeg
from ocr.reader import read_page

PAGES_PER_FILE = 8
TIFF_FILE_SHARE = 0.34
TRUTH_FILE_NAME = "ground_truth.json"
# JPEG quality of the pages written into simulated PDFs; a profile may ask for its own.
PDF_JPEG_QUALITY = 90
# The page's trip from the worker to the file writer.
TRANSFER_JPEG_QUALITY = 88
PDF_JPEG_QUALITY_BY_PROFILE = {sim.SCANNER_TEXT_PROFILE: sim.SCANNER_TEXT_JPEG_QUALITY}


@dataclass
class SimItem:
    form_id: str
    village_id: int
    layout: str
    sheet_page: int
    pdf_path: str
    pdf_page: int  # from 1
    rect_rows: int
    fill_seed: int
    scan_seed: int
    profile: str | None = None  # the scanner profile; None draws one at random
    answer_mix: str = sim.DEFAULT_ANSWER_MIX  # how inspectors tick: generator.simulate.ANSWER_MIXES


def _render(pdf_path: str, pdf_page: int) -> np.ndarray:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_path)
    try:
        page = pdf[pdf_page - 1]
        bitmap = page.render(scale=sim.PRINT_DPI / 72.0)
        array = bitmap.to_numpy()[:, :, :3].copy()  # BGR(A) from pdfium
        page.close()
    finally:
        pdf.close()
    return np.ascontiguousarray(array[:, :, ::-1])


def _encode(image: np.ndarray, bilevel: bool, profile: str) -> bytes:
    """The scanned page as a file's bytes: 1-bit PNG, or JPEG."""
    if bilevel:
        buffer = io.BytesIO()
        Image.fromarray(image).convert("1").save(buffer, format="PNG")
        return buffer.getvalue()
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY,
                                          PDF_JPEG_QUALITY_BY_PROFILE.get(profile, TRANSFER_JPEG_QUALITY)])
    if not ok:
        raise ScanError("模拟页面无法编码")
    return bytes(data.tobytes())


def make_page(item: SimItem) -> tuple[bytes, bool, float, dict[str, Any]]:
    """Render, fill and scan one printed page; returns encoded image, 1-bit flag, dpi, truth."""
    image, bilevel, dpi, truth, _plan = scanned_page(item)
    return _encode(image, bilevel, truth["scan"]["profile"]), bilevel, dpi, truth


def scanned_page(item: SimItem, digit_image: sim.DigitSource = simulation_digit
                 ) -> tuple[np.ndarray, bool, float, dict[str, Any], sim.PagePlan]:
    """Render, fill and scan one printed page: the scan before encoding, 1-bit flag, dpi, truth, plan.

    ``digit_image``: where written digits come from (``generator.simulate.fill_page``).
    """
    layout = load_layout(item.layout, item.sheet_page)
    page, homography = _rendered(item.pdf_path, item.pdf_page, layout)
    described = form_spec(item.layout)
    if described is not None:
        plan = form_sim.plan_form_page(described, layout, item.form_id, np.random.default_rng(item.fill_seed))
        form_sim.fill_form_page(page, homography, layout, described, plan, np.random.default_rng(item.fill_seed + 1))
        page_truth = form_sim.form_truth(described, plan)
    else:
        plan = sim.plan_page(layout, item.form_id, np.random.default_rng(item.fill_seed), item.rect_rows,
                            item.answer_mix)
        sim.fill_page(page, homography, layout, plan, np.random.default_rng(item.fill_seed + 1),
                      digit_image=digit_image)
        page_truth = plan.truth()
    image, dpi, info = sim.scan_page(page, np.random.default_rng(item.scan_seed), profile=item.profile)
    bilevel = bool(info.get("bilevel"))
    truth = dict(page_truth, village_id=item.village_id, scan=info, form_type=item.layout)
    return image, bilevel, dpi, truth, plan


@dataclass
class EmptySlotCase:
    """A printed sheet's first page, for the empty-slot stress test."""

    pdf_path: str
    pdf_page: int
    layout: str
    case: str
    seed: int


_RENDERED: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}


def _rendered(pdf_path: str, pdf_page: int, layout: PageLayout) -> tuple[np.ndarray, np.ndarray]:
    """A printed page at 300 dpi (a fresh copy to draw on) and its homography.

    The last page rendered is kept: callers that take the same sheet page again in a row
    (the stress test, the digit harvest) skip PDFium and the alignment.
    """
    cached = _RENDERED.get((pdf_path, pdf_page))
    if cached is None:
        page = _render(pdf_path, pdf_page)
        homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
        _RENDERED.clear()  # one sheet at a time is plenty; a page is 26 MB
        cached = _RENDERED[(pdf_path, pdf_page)] = (page, homography)
    return cached[0].copy(), cached[1]


def read_back(image: np.ndarray, bilevel: bool, profile: str) -> PageImage:
    """A simulated scan as the reader gets it from a file: 1-bit PNG, or JPEG at the transfer quality."""
    data = _encode(image, bilevel, profile)
    return _decode_png(data, 1) if bilevel else decode_jpeg(data, 1)


def empty_slot_reading(item: EmptySlotCase, key: bytes) -> dict[str, Any]:
    """Draw one empty-slot stress page (``generator.simulate.empty_slot_case``), read it, and say what the reader made of the empty slot."""
    layout = load_layout(item.layout, 1)
    page, homography = _rendered(item.pdf_path, item.pdf_page, layout)
    image, empty, notes = sim.empty_slot_case(page, homography, layout, item.case, item.seed)
    bilevel = bool(notes.get("bilevel"))
    reading = read_page(read_back(image, bilevel, notes["profile"]), {(layout.version, 1): layout}, key)
    got = reading.signatures.get(empty, {})
    return {"case": item.case, "seed": item.seed, "empty": empty, "state": got.get("state"),
            "validity": reading.validity, "rejected": reading.rejected, "reason": dict(reading.review).get(empty),
            "signatures": reading.signatures, "notes": notes}


def printed_pages(session: Session, round_id: str, seed: int, limit: int | None) -> list[SimItem]:
    """Every page of the round's printed sheets, in form order, each with its own fill seed (scan seeds are the caller's)."""
    sheets = session.scalars(select(IssuedSheet).where(IssuedSheet.round == round_id).order_by(IssuedSheet.form_id)).all()
    if not sheets:
        raise ScanError(f"{round_id} 轮还没有印发纪实表，请先运行 ducha sheets {round_id}")
    items: list[SimItem] = []
    for n, sheet in enumerate(sheets[:limit] if limit else sheets):
        if not sheet.pdf_path or not sheet.pdf_pages:
            raise ScanError(f"纪实表 {sheet.form_id} 没有可打印的 PDF，请重新运行 ducha sheets {round_id}")
        for k, pdf_page in enumerate(sheet.pdf_pages, start=1):
            items.append(
                SimItem(sheet.form_id, sheet.village_id, sheet.layout_version, k, sheet.pdf_path, pdf_page,
                        len(sheet.rectification_item_ids or []), seed * 1_000_003 + n * 10 + k, 0)
            )
    return items


def _decoded(data: bytes, bilevel: bool) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        # A fresh image: the decoder's info (JPEG quality, dpi) must not leak into the TIFF writer.
        array = np.asarray(opened.convert("L") if opened.mode in ("1", "L") else opened.convert("RGB"))
    image = Image.fromarray(array)
    return image.convert("1") if bilevel else image


def _write(name: Path, pages: list[tuple[bytes, bool, float]], quality: int = PDF_JPEG_QUALITY) -> None:
    images = [_decoded(data, bilevel) for data, bilevel, _dpi in pages]
    dpi = float(pages[0][2])
    if name.suffix == ".pdf":
        # PIL writes 1-bit pages through its TIFF encoder, which refuses a JPEG quality.
        extra = {} if any(b for _d, b, _p in pages) else {"quality": quality}
        images[0].save(name, "PDF", save_all=True, append_images=images[1:], resolution=dpi, **extra)
    else:
        # PIL gives every page of a TIFF the same compression, and G4 takes 1-bit pages only:
        # any other file is written with lossless deflate.
        compression = "group4" if all(b for _d, b, _p in pages) else "tiff_deflate"
        images[0].save(name, "TIFF", save_all=True, append_images=images[1:], compression=compression, dpi=(dpi, dpi))


def simulate_round(
    session: Session,
    round_id: str,
    out_dir: Path,
    seed: int = 0,
    limit_sheets: int | None = None,
    workers: int | None = None,
    pages_per_file: int = PAGES_PER_FILE,
    profile: str | None = None,
    tiff_share: float = TIFF_FILE_SHARE,
    answer_mix: str = sim.DEFAULT_ANSWER_MIX,
) -> Path:
    """``profile`` scans every page the same way (default: each page a random one)."""
    rng = np.random.default_rng(seed)
    items = printed_pages(session, round_id, seed, limit_sheets)
    order = [items[i] for i in rng.permutation(len(items))]
    # A sheet scanned twice: same paper (same fill), another pass of the scanner.
    if order:
        dup = order[int(rng.integers(0, len(order)))]
        again = SimItem(**dup.__dict__)
        order.insert(int(rng.integers(0, len(order) + 1)), again)
    for i, item in enumerate(order):
        item.scan_seed = seed * 7_000_001 + i
        item.profile = profile
        item.answer_mix = answer_mix
    out_dir.mkdir(parents=True, exist_ok=True)
    truth: dict[str, Any] = {"round": round_id, "seed": seed, "files": []}
    workers = workers or max(1, os.cpu_count() or 1)
    batch: list[tuple[bytes, bool, float]] = []
    batch_truth: list[dict[str, Any]] = []
    file_no = 0

    def flush() -> None:
        nonlocal file_no, batch, batch_truth
        if not batch:
            return
        file_no += 1
        suffix = ".tif" if rng.random() < tiff_share else ".pdf"
        name = out_dir / f"returned-{round_id}-{file_no:03d}{suffix}"
        _write(name, batch, PDF_JPEG_QUALITY_BY_PROFILE.get(profile or "", PDF_JPEG_QUALITY))
        truth["files"].append(
            {"file": name.name, "pages": [dict(t, page=i + 1) for i, t in enumerate(batch_truth)]}
        )
        batch, batch_truth = [], []

    for data, bilevel, dpi, page_truth in _map(order, workers):
        batch.append((data, bilevel, dpi))
        batch_truth.append(page_truth)
        if len(batch) >= pages_per_file:
            flush()
    flush()
    path = out_dir / TRUTH_FILE_NAME
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def _map(order: list[SimItem], workers: int) -> Iterator[tuple[bytes, bool, float, dict[str, Any]]]:
    if workers == 1:
        yield from map(make_page, order)
        return
    with process_pool(workers) as pool:
        yield from pool.map(make_page, order, chunksize=2)
