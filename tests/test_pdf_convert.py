"""The batch converter, on real LibreOffice: results, failures, no half files."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest
from docx import Document

from forms.errors import ConversionError
from generator.pdf_convert import convert_to_pdf, pdf_page_count


def _docx(path: Path, text: str, pages: int = 1) -> Path:
    doc = Document()
    for i in range(pages):
        if i:
            doc.add_page_break()
        doc.add_paragraph(f"{text} 第{i + 1}页")
    doc.save(str(path))
    return path


def test_batch_converts_in_order_over_two_workers(tmp_path: Path) -> None:
    docs = [_docx(tmp_path / f"doc{i}.docx", f"测试文件{i}", pages=1 + i % 2) for i in range(4)]
    pdfs = convert_to_pdf(docs, tmp_path / "out", workers=2, expected_pages={d: 1 + i % 2 for i, d in enumerate(docs)})
    assert [p.name for p in pdfs] == [f"doc{i}.pdf" for i in range(4)]
    for i, pdf in enumerate(pdfs):
        assert pdf_page_count(pdf) == 1 + i % 2
        with pdfplumber.open(str(pdf)) as opened:
            assert f"测试文件{i}" in (opened.pages[0].extract_text() or "")
    # Nothing but the finished PDFs is left in the output folder.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"doc{i}.pdf" for i in range(4)]


def test_broken_document_fails_and_is_named(tmp_path: Path) -> None:
    good = _docx(tmp_path / "good.docx", "正常")
    bad = tmp_path / "broken-sheet.docx"
    bad.write_bytes(b"PK\x03\x04 this is not a real docx")
    with pytest.raises(ConversionError) as info:
        convert_to_pdf([good, bad], tmp_path / "out", workers=1)
    assert "broken-sheet.docx" in str(info.value)
    # The good one is not published either: a failed batch leaves no PDFs.
    assert not (tmp_path / "out" / "good.pdf").exists()


def test_wrong_page_count_is_an_error(tmp_path: Path) -> None:
    doc = _docx(tmp_path / "two.docx", "两页", pages=2)
    with pytest.raises(ConversionError, match="two.docx"):
        convert_to_pdf([doc], tmp_path / "out", workers=1, expected_pages={doc: 1})
    assert not (tmp_path / "out" / "two.pdf").exists()


def test_hung_conversion_times_out_and_names_the_documents(tmp_path: Path) -> None:
    doc = _docx(tmp_path / "slow.docx", "超时")
    with pytest.raises(ConversionError, match="超时.*slow.docx"):
        convert_to_pdf([doc], tmp_path / "out", workers=1, timeout_s=0.2)
    assert not (tmp_path / "out" / "slow.pdf").exists()


def test_missing_input_and_clashing_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="不存在"):
        convert_to_pdf([tmp_path / "nope.docx"], tmp_path / "out")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = _docx(tmp_path / "a" / "same.docx", "甲"), _docx(tmp_path / "b" / "same.docx", "乙")
    with pytest.raises(ConversionError, match="重名"):
        convert_to_pdf([one, two], tmp_path / "out")


def test_failed_batch_names_the_villages(tmp_path: Path) -> None:
    from generator.batch import render_and_convert
    from generator.record_sheet import SheetData

    data = SheetData(round="2015-08", village_code="511902999902", village="超时村", county="巴州区",
                     town="虚构镇", group_no=1)
    with pytest.raises(ConversionError, match="超时村"):
        render_and_convert([data], b"k", lambda d: tmp_path / f"{d.village_code}.docx", tmp_path / "pdf",
                           workers=1, timeout_s=0.2)
