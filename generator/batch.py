"""Render many sheets, convert them in a few batches and check each page.

The pure core of printing a round: no database. ``ducha.sheets`` feeds it
from a planned round; ``benchmarks/bench_sheets.py`` times it.

LibreOffice costs ~0.2 s per document opened, so the filled sheets are
joined into a few large documents (``generator.merge``), one or more per
LibreOffice process, and the resulting PDFs are cut back into sheets.
Every page is then checked: it carries its own sheet's printed ID, and its
boxes sit where the stored layout says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2

from forms.errors import ConversionError, LayoutMismatchError
from forms.record_sheet import LAYOUT_VERSION
from generator.build_templates import RECORD_SHEET_TEMPLATE
from generator.fast_template import FilledBody
from generator.flat_odt import CACHE_ROOT_DIR, Prototype, prototypes, write_document
from generator.measure import classify, page_differences, placements_fast
from generator.merge import merge_bodies
from generator.pdf_convert import convert_to_pdf, default_workers
from generator.record_sheet import RenderedSheet, SheetData, SheetShape, fill_sheet, shape_of, sheet_template

MAX_SHEETS_PER_MERGED_DOC = 40


@dataclass
class SheetOutput:
    rendered: RenderedSheet
    pdf: Path
    # Indices (from 0) of this sheet's pages inside ``pdf``.
    page_indices: list[int] = field(default_factory=list)


def describe(data: SheetData) -> str:
    return f"{data.county}{data.town}{data.village}（{data.round}-{data.village_code}）"


def _chunks(count: int, workers: int) -> list[range]:
    n = max(workers, math.ceil(count / MAX_SHEETS_PER_MERGED_DOC))
    n = max(1, min(n, count))
    size, extra = divmod(count, n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(range(start, end))
        start = end
    return out


def _page_texts(pdf_path: Path) -> list[str]:
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def check_outputs(outputs: Sequence[SheetOutput]) -> None:
    """Each page shows its own ID and fits the layout; else fail, naming the villages."""
    problems: list[str] = []
    by_pdf: dict[Path, list[SheetOutput]] = {}
    for out in outputs:
        by_pdf.setdefault(out.pdf, []).append(out)
    for pdf, sheets in by_pdf.items():
        pages = placements_fast(pdf)
        texts = _page_texts(pdf)
        for out in sheets:
            rendered = out.rendered
            found: dict[str, float] = {}
            for kind, index in enumerate(out.page_indices, start=1):
                if rendered.payloads[kind - 1] not in texts[index].replace("\r", "").replace("\n", ""):
                    raise ConversionError(f"PDF 第{index + 1}页不是 {describe(rendered.data)} 的第{kind}页，页序错乱")
                objects = pages[index]
                boxes = classify(objects.images, objects.boxes, kind, objects.size_mm)
                found.update(page_differences(boxes, kind, len(rendered.rectification_item_ids)))
            if found:
                worst = sorted(found.items(), key=lambda kv: -kv[1])[:3]
                detail = "，".join(f"{key} 偏差 {delta} 毫米" for key, delta in worst)
                problems.append(f"{describe(rendered.data)}：{detail}")
    if problems:
        raise LayoutMismatchError(
            f"{len(problems)} 张纪实表的版面与版式 {LAYOUT_VERSION} 不一致（超过 0.5 毫米），扫描时将无法准确识别，"
            "已停止印表。请检查这些村的数据（例如过长的名称）或重新测量版式：\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def _documents(rendered: Sequence[RenderedSheet], workers: int) -> list[list[int]]:
    """Sheet indices per batch document: one shape per document, about equal in pages."""
    by_shape: dict[SheetShape, list[int]] = {}
    for i, r in enumerate(rendered):
        assert r.fields is not None
        by_shape.setdefault(r.fields.shape, []).append(i)
    total = len(rendered)
    docs: list[list[int]] = []
    for indices in by_shape.values():
        # At least one document per process for the common shape, so the
        # processes share it evenly; at most MAX_SHEETS_PER_MERGED_DOC each.
        wanted = max(math.ceil(len(indices) / MAX_SHEETS_PER_MERGED_DOC), round(workers * len(indices) / total))
        docs.extend([indices[c.start: c.stop] for c in _chunks(len(indices), max(1, wanted))])
    return docs


def _fill_all(
    sheets: Sequence[SheetData], key: bytes, docx_path_of: Callable[[SheetData], Path]
) -> tuple[list[RenderedSheet], list[FilledBody]]:
    rendered, bodies = [], []
    for data in sheets:
        r, body = fill_sheet(data, key, docx_path_of(data))
        rendered.append(r)
        bodies.append(body)
    return rendered, bodies


def render_and_convert(
    sheets: Sequence[SheetData],
    key: bytes,
    docx_path_of: Callable[[SheetData], Path],
    pdf_dir: Path,
    *,
    extra_docs: Sequence[Path] = (),
    workers: int | None = None,
    timeout_s: float | None = None,
    prototype_cache_dir: Path = CACHE_ROOT_DIR,
    flat: bool = True,
) -> tuple[list[SheetOutput], dict[Path, Path]]:
    """Sheets' outputs in order, plus the PDFs of ``extra_docs`` (e.g. covers).

    ``flat``: convert the sheets from flat ODT (``generator.flat_odt``);
    otherwise, or if no prototype could be made, from joined .docx.
    """
    n_workers = workers or default_workers()
    template = sheet_template(RECORD_SHEET_TEMPLATE)
    protos: dict[SheetShape, Prototype] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        # LibreOffice makes any missing prototypes while the sheets are filled.
        future = (
            pool.submit(
                prototypes, template, RECORD_SHEET_TEMPLATE.read_bytes(), {shape_of(s) for s in sheets},
                cache_dir=prototype_cache_dir, workers=n_workers,
            )
            if flat and sheets
            else None
        )
        rendered, bodies = _fill_all(sheets, key, docx_path_of)
        if future is not None:
            try:
                protos = future.result()
            except ConversionError:
                protos = {}
    merged: list[Path] = []
    expected: dict[Path, int] = {}
    members: list[list[int]] = []
    for i, indices in enumerate(_documents(rendered, n_workers)):
        shape = rendered[indices[0]].fields.shape  # type: ignore[union-attr]
        if shape in protos:
            fields = [rendered[j].fields for j in indices]
            path = write_document(protos[shape], fields, pdf_dir / "merged" / f"sheets-{i:03d}.fodt")  # type: ignore[arg-type]
        else:
            path = merge_bodies(template, [bodies[j] for j in indices], pdf_dir / "merged" / f"sheets-{i:03d}.docx")
        merged.append(path)
        expected[path] = sum(rendered[j].pages for j in indices)
        members.append(indices)
    docs = merged + list(extra_docs)
    try:
        pdfs = convert_to_pdf(docs, pdf_dir, workers=n_workers, timeout_s=timeout_s, expected_pages=expected)
    except ConversionError as exc:
        # The merged files mean nothing to the user: name the villages in them.
        named = [
            f"  {path.name}：" + "、".join(describe(rendered[j].data) for j in part)
            for path, part in zip(merged, members)
            if path.name in str(exc)
        ]
        if not named:
            raise
        raise ConversionError(f"{exc}\n涉及的纪实表：\n" + "\n".join(named)) from exc
    placed: dict[int, SheetOutput] = {}
    for pdf, part in zip(pdfs, members):
        index = 0
        for j in part:
            placed[j] = SheetOutput(rendered[j], pdf, list(range(index, index + rendered[j].pages)))
            index += rendered[j].pages
    outputs = [placed[j] for j in range(len(rendered))]
    check_outputs(outputs)
    return outputs, dict(zip(docs[len(merged):], pdfs[len(merged):]))
