"""Batch PDFs made from flat ODT prototypes print the same sheets as from .docx.

Real LibreOffice throughout: a few sheets of three shapes (plain, with
rectification lines on a second page, sponsor units in a smaller font)
are printed both ways; every page's text must be the same, and the
geometry check inside ``render_and_convert`` must pass on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pypdfium2
import pytest
from docx import Document

from forms.errors import ConversionError
from generator.batch import SheetOutput, render_and_convert
from generator.flat_odt import odf_text
from generator.pdf_convert import convert_to_pdf
from generator.record_sheet import RectificationLine, SheetData, shape_of

KEY = b"flat-odt-test-key"
LEADER = "王&<大>  明"


def _sheets() -> list[SheetData]:
    base = {"round": "2015-08", "county": "巴州区", "group_no": 2, "team_size": 3, "secretary": "李书记",
                "population": 900, "poor_population": 120, "income_yuan": 2900.5}
    return [
        SheetData(village_code="511902990001", village="甲村", town="曾口镇", team_leader=LEADER,
                  sponsor_units=("巴中市财政局", "巴州区农业局"), **base),  # type: ignore[arg-type]
        SheetData(village_code="511902990002", village="乙村", town="清江镇", team_leader="赵队长",
                  sponsor_units=("巴中市交通运输局",),
                  rectification=(
                      RectificationLine(7, "team_1", "工作队未按要求组建", "2015-07", dt.date(2015, 8, 20)),
                      RectificationLine(8, "sec_3", "民情日记不全", "2015-07"),
                  ), **base),  # type: ignore[arg-type]
        SheetData(village_code="511902990003", village="丙村", town="化成镇", team_leader=None,
                  sponsor_units=tuple(f"巴中市某某单位{i}局" for i in range(9)), **base),  # type: ignore[arg-type]
        SheetData(village_code="511902990004", village="丁村", town="三江镇", team_leader="钱队长",
                  sponsor_units=("巴中市水务局",), **base),  # type: ignore[arg-type]
    ]


def _texts(outputs: list[SheetOutput]) -> list[list[str]]:
    texts = []
    for out in outputs:
        pdf = pypdfium2.PdfDocument(str(out.pdf))
        try:
            pages = []
            for index in out.page_indices:
                textpage = pdf[index].get_textpage()
                pages.append(textpage.get_text_range())
            texts.append(pages)
        finally:
            pdf.close()
    return texts


def _docx_path(folder: Path) -> Callable[[SheetData], Path]:
    return lambda d: folder / f"{d.village_code}.docx"


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("flat")
    sheets = _sheets()
    cache = tmp / "cache"
    out: dict[str, object] = {"sheets": sheets, "tmp": tmp, "cache": cache}
    for flat in (True, False):
        work = tmp / ("flat" if flat else "docx")
        out[f"outputs_{flat}"], _ = render_and_convert(
            sheets, KEY, _docx_path(work / "docx"), work / "pdf",
            workers=2, prototype_cache_dir=cache, flat=flat,
        )
    return out


def test_sheets_of_three_shapes_are_batched_from_flat_odt(printed: dict[str, object]) -> None:
    tmp = printed["tmp"]
    assert isinstance(tmp, Path)
    shapes = {shape_of(s) for s in printed["sheets"]}  # type: ignore[attr-defined]
    assert len(shapes) >= 3
    # One document per shape in a run this small.
    flat = sorted(p.suffix for p in (tmp / "flat" / "pdf" / "merged").iterdir())
    assert flat == [".fodt"] * len(shapes)
    assert sorted(p.suffix for p in (tmp / "docx" / "pdf" / "merged").iterdir()) == [".docx"] * len(shapes)
    assert len(list(printed["cache"].glob("*.json"))) == len(shapes)  # type: ignore[attr-defined]


def test_flat_and_docx_pages_read_the_same(printed: dict[str, object]) -> None:
    flat = _texts(printed["outputs_True"])  # type: ignore[arg-type]
    docx = _texts(printed["outputs_False"])  # type: ignore[arg-type]
    assert [len(p) for p in flat] == [1, 2, 1, 1]
    assert flat == docx
    first = flat[0][0]
    assert "王&<大>" in first
    assert "甲村" in first and "巴中市财政局、巴州区农业局" in first.replace("\r\n", "")
    assert "民情日记不全" in flat[1][1]
    assert "DC1-201508-511902990004-P1-" in flat[3][0]


def test_output_order_follows_the_input(printed: dict[str, object]) -> None:
    outputs = printed["outputs_True"]
    assert [o.rendered.data.village_code for o in outputs] == [  # type: ignore[attr-defined]
        s.village_code for s in printed["sheets"]  # type: ignore[attr-defined]
    ]


def test_odf_text_escapes_and_keeps_spaces_tabs_and_breaks() -> None:
    assert odf_text("A&B <c>") == "A&amp;B &lt;c&gt;"
    assert odf_text("a   b") == 'a <text:s text:c="2"/>b'
    assert odf_text("a\tb\nc") == "a<text:tab/>b<text:line-break/>c"
    assert odf_text("x\x01y") == "xy"


def _tiny_docx(path: Path, text: str) -> Path:
    doc = Document()
    doc.add_paragraph(text)
    doc.save(str(path))
    return path


def test_each_pdf_is_handed_over_once_and_before_its_final_name(tmp_path: Path) -> None:
    docs = [_tiny_docx(tmp_path / f"d{i}.docx", f"第{i}份") for i in range(3)]
    seen: list[tuple[str, bool, bool]] = []

    def on_converted(source: Path, pdf: Path) -> None:
        seen.append((source.name, pdf.is_file(), (tmp_path / "out" / pdf.name).exists()))

    pdfs = convert_to_pdf(docs, tmp_path / "out", workers=1, on_converted=on_converted)
    assert seen == [(f"d{i}.docx", True, False) for i in range(3)]
    assert [p.name for p in pdfs] == ["d0.pdf", "d1.pdf", "d2.pdf"]


def test_a_failing_check_stops_the_batch_and_leaves_no_pdf(tmp_path: Path) -> None:
    docs = [_tiny_docx(tmp_path / f"e{i}.docx", f"第{i}份") for i in range(2)]

    def reject(source: Path, pdf: Path) -> None:
        raise ConversionError(f"检查不通过：{source.name}")

    with pytest.raises(ConversionError, match="e0.docx"):
        convert_to_pdf(docs, tmp_path / "out", workers=1, on_converted=reject)
    assert not list((tmp_path / "out").glob("*.pdf"))
