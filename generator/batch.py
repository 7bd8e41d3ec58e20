"""Render many sheets, convert them in a few batches and check each page.

The pure core of printing a round: no database. ``ducha.sheets`` feeds it
from a planned round; ``benchmarks/bench_sheets.py`` times it.

Where the time went (200 sheets, 2 processes): LibreOffice ~0.1 s a page,
of which ~60% reading .docx; our filling ~10 ms and checking ~15 ms a
sheet, each on one core while the other waited. So: each village's .docx
is still written for the user, but LibreOffice gets the sheets as flat ODT
built from prototypes (``generator.flat_odt``), a few large documents per
process (~0.2 s fixed cost per document); for long runs a first wave is
converted by one process while the rest are filled; and every PDF is
checked (its own printed ID on every page, every box within 0.5 mm) as
soon as LibreOffice moves on to the next document.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from forms.errors import ConversionError, LayoutMismatchError
from forms.record_sheet import LAYOUT_VERSION
from generator.build_templates import RECORD_SHEET_TEMPLATE
from generator.fast_template import FilledBody
from generator.flat_odt import Prototype, prototypes, write_document
from generator.measure import classify, page_differences, placements_and_texts
from generator.merge import merge_bodies
from generator.pdf_convert import convert_to_pdf, default_workers
from generator.record_sheet import RenderedSheet, SheetData, SheetShape, fill_sheet, shape_of, sheet_template

MAX_SHEETS_PER_MERGED_DOC = 40
# Runs of at least this many sheets are converted in two waves (``_waves``).
WAVES_MIN_SHEETS = 300
FIRST_WAVE_SHARE = 0.3


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


def _check_pdf(pdf: Path, sheets: Sequence[SheetOutput], *, whole: bool = False) -> list[str]:
    """Problems of ``sheets`` in ``pdf``; raises ConversionError if a page is not the sheet's own.

    ``whole``: ``sheets`` are all of ``pdf``; if its page count differs, the
    converter reports that, naming the file, so nothing is checked here.
    """
    pages, texts = placements_and_texts(pdf)
    if whole and len(pages) != sum(len(out.page_indices) for out in sheets):
        return []
    problems: list[str] = []
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
    return problems


def _by_pdf(outputs: Sequence[SheetOutput]) -> dict[Path, list[SheetOutput]]:
    by_pdf: dict[Path, list[SheetOutput]] = {}
    for out in outputs:
        by_pdf.setdefault(out.pdf, []).append(out)
    return by_pdf


def _raise_problems(problems: Sequence[str]) -> None:
    if problems:
        raise LayoutMismatchError(
            f"{len(problems)} 张纪实表的版面与版式 {LAYOUT_VERSION} 不一致（超过 0.5 毫米），扫描时将无法准确识别，"
            "已停止印表。请检查这些村的数据（例如过长的名称）或重新测量版式：\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def check_outputs(outputs: Sequence[SheetOutput]) -> None:
    """Each page shows its own ID and fits the layout; else fail, naming the villages."""
    problems: list[str] = []
    for pdf, sheets in _by_pdf(outputs).items():
        problems.extend(_check_pdf(pdf, sheets))
    _raise_problems(problems)


def _documents(sheets: Sequence[SheetData], indices: Sequence[int], workers: int) -> list[list[int]]:
    """``indices`` cut into batch documents: one shape per document, about equal in size."""
    by_shape: dict[SheetShape, list[int]] = {}
    for i in indices:
        by_shape.setdefault(shape_of(sheets[i]), []).append(i)
    docs: list[list[int]] = []
    for members in by_shape.values():
        # At least one document per process for the common shape, so the
        # processes share it evenly; at most MAX_SHEETS_PER_MERGED_DOC each.
        wanted = max(math.ceil(len(members) / MAX_SHEETS_PER_MERGED_DOC), round(workers * len(members) / len(indices)))
        docs.extend([members[c.start: c.stop] for c in _chunks(len(members), max(1, wanted))])
    return docs


def _waves(count: int, workers: int) -> list[tuple[range, int]]:
    """(sheets, processes) converted together. While the sheets are filled
    in this process, a core is free: a first wave with one LibreOffice
    process uses it. Every process start costs ~2 s of CPU, so small runs
    get one wave."""
    if count < WAVES_MIN_SHEETS or workers < 2:
        return [(range(count), workers)]
    first = round(count * FIRST_WAVE_SHARE)
    return [(range(first), 1), (range(first, count), workers)]


def _name_villages(
    exc: ConversionError, merged: Sequence[Path], members: Sequence[Sequence[int]], sheets: Sequence[SheetData]
) -> ConversionError:
    """The merged files mean nothing to the user: name the villages in them."""
    named = [
        f"  {path.name}：" + "、".join(describe(sheets[j]) for j in part)
        for path, part in zip(merged, members)
        if path.name in str(exc)
    ]
    if not named:
        return exc
    return ConversionError(f"{exc}\n涉及的纪实表：\n" + "\n".join(named))


def _checker(
    merged: Sequence[Path], members: Sequence[Sequence[int]], rendered: Mapping[int, RenderedSheet], problems: list[str]
) -> Callable[[Path, Path], None]:
    """Checks each batch PDF while LibreOffice converts the next ones."""
    parts = {path.resolve(): part for path, part in zip(merged, members)}

    def check(source: Path, pdf: Path) -> None:
        part = parts.get(source)
        if part is None:
            return
        outputs, index = [], 0
        for j in part:
            outputs.append(SheetOutput(rendered[j], pdf, list(range(index, index + rendered[j].pages))))
            index += rendered[j].pages
        problems.extend(_check_pdf(pdf, outputs, whole=True))

    return check


def render_and_convert(
    sheets: Sequence[SheetData],
    key: bytes,
    docx_path_of: Callable[[SheetData], Path],
    pdf_dir: Path,
    *,
    extra_docs: Sequence[Path] = (),
    workers: int | None = None,
    timeout_s: float | None = None,
    prototype_cache_dir: Path | None = None,
    flat: bool = True,
    notes: list[str] | None = None,
) -> tuple[list[SheetOutput], dict[Path, Path]]:
    """Sheets' outputs in order, plus the PDFs of ``extra_docs`` (e.g. covers).

    ``flat``: convert the sheets from flat ODT (``generator.flat_odt``);
    otherwise, or if no prototype could be made, from joined .docx; that
    slower way is told in ``notes`` (Chinese, for the user).
    Filling, conversion and checking overlap in waves (``_waves``).
    """
    n_workers = workers or default_workers()
    template = sheet_template(RECORD_SHEET_TEMPLATE)
    rendered: dict[int, RenderedSheet] = {}
    bodies: dict[int, FilledBody] = {}
    placed: dict[int, SheetOutput] = {}
    extra_pdfs: dict[Path, Path] = {}
    waves = _waves(len(sheets), n_workers)
    doc_no = 0
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=len(waves) + 1) as threads:
        # One LibreOffice process makes any missing prototypes on the core
        # left free while the first sheets are filled.
        protos_future = (
            threads.submit(
                prototypes, template, RECORD_SHEET_TEMPLATE.read_bytes(), {shape_of(s) for s in sheets},
                cache_dir=prototype_cache_dir, workers=1,
            )
            if flat and sheets
            else None
        )
        protos: dict[SheetShape, Prototype] | None = None
        conversions: list[tuple[Future[list[Path]], list[Path], list[list[int]]]] = []
        for w, (wave, wave_workers) in enumerate(waves):
            for j in wave:
                rendered[j], bodies[j] = fill_sheet(sheets[j], key, docx_path_of(sheets[j]))
            if protos is None:
                try:
                    protos = protos_future.result() if protos_future is not None else {}
                except ConversionError as exc:
                    protos = {}
                    if notes is not None:
                        notes.append(f"无法生成快速排版原型（{exc}），本次改用 Word 文档逐批转换：速度较慢，"
                                     "每页仍逐一核对")
            merged: list[Path] = []
            expected: dict[Path, int] = {}
            members = _documents(sheets, wave, wave_workers)
            for part in members:
                shape = shape_of(sheets[part[0]])
                base = pdf_dir / "merged" / f"sheets-{doc_no:03d}"
                doc_no += 1
                if shape in protos:
                    path = write_document(protos[shape], [rendered[j].fields for j in part], base.with_suffix(".fodt"))  # type: ignore[misc]
                else:
                    path = merge_bodies(template, [bodies[j] for j in part], base.with_suffix(".docx"))
                merged.append(path)
                expected[path] = sum(rendered[j].pages for j in part)
            extra = list(extra_docs) if w == len(waves) - 1 else []
            future = threads.submit(
                convert_to_pdf, merged + extra, pdf_dir, workers=wave_workers, timeout_s=timeout_s,
                expected_pages=expected, on_converted=_checker(merged, members, rendered, problems),
            )
            conversions.append((future, merged, members))
        for future, merged, members in conversions:
            try:
                pdfs = future.result()
            except ConversionError as exc:
                raise _name_villages(exc, merged, members, sheets) from exc
            for pdf, part in zip(pdfs, members):
                index = 0
                for j in part:
                    placed[j] = SheetOutput(rendered[j], pdf, list(range(index, index + rendered[j].pages)))
                    index += rendered[j].pages
            extra_pdfs.update(zip(extra_docs, pdfs[len(merged):]))
    _raise_problems(problems)
    return [placed[j] for j in range(len(sheets))], extra_pdfs
