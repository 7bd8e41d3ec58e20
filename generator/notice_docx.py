"""Writes an official document (通报, group report) from a template and plain data.

The template decides every font, size and indent through its paragraph
styles; this module only picks a style per block and never formats runs,
so a change staff make to a style in Word shows up in the next document.
It takes plain data, not database rows: ``ducha`` assembles the content.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate, Listing

from forms.errors import DuchaError
from generator.build_notice_template import (
    COLOPHON_SPACER_STYLE,
    END_PARAGRAPH_PT,
    TABLE_LINE_PT,
    TABLE_SIZE_PT,
    TEXT_HEIGHT_MM,
    TEXT_WIDTH_MM,
)
from generator.docx_package import fix_package, set_app_properties, set_core_properties

BODY_MARKER = "[[正文]]"
ATTACHMENTS_MARKER = "[[附件]]"

BlockKind = Literal["h1", "h2", "body", "attachment_text"]

BLOCK_STYLES: Mapping[str, str] = {
    "h1": "公文一级标题",
    "h2": "公文二级标题",
    "body": "公文正文",
    "attachment_text": "公文附件正文",
}
ATTACHMENT_LABEL_STYLE = "公文附件标识"
ATTACHMENT_TITLE_STYLE = "公文附件标题"
TABLE_TEXT_STYLE = "公文表格文字"
TABLE_TEXT_LEFT_STYLE = "公文表格文字左"
TABLE_HEADER_STYLE = "公文表头"
TABLE_STYLE = "Table Grid"
HEADING2_LEAD_STYLE = "公文二级标题字符"
DRAFT_MARK_STYLE = "公文草稿标记"
SIGNATURE_STYLE = "公文署名"
DATE_STYLE = "公文成文日期"

PT_PER_MM = 72 / 25.4
TWIPS_PER_PT = 20
CHARS_PER_LINE = 28
# One grid character: 28 of them fill the 156 mm line.
GRID_CHAR_PT = TEXT_WIDTH_MM * PT_PER_MM / CHARS_PER_LINE
# GB/T 9704 7.3.5.2: the signature 2 characters from the right, the date's first
# character 2 characters right of the signature's first.
SIGNATURE_RIGHT_CHARS = 2
DATE_SHIFT_CHARS = 2
# Word's Table Grid cell margins (0.19 cm each side) plus a little slack.
CELL_PADDING_MM = 2 * 1.9 + 1.0
TEXT_HEIGHT_PT = TEXT_HEIGHT_MM * PT_PER_MM


class DocumentWriteError(DuchaError):
    """A template lacks what the writer needs, or the output cannot be written."""


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    # A run-in heading before the text, in the 二级标题 character style: "（一）实地走访。".
    lead: str = ""


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # None: fitted to the content (``fit_widths``).
    widths_mm: tuple[float, ...] | None = None
    # Columns of long text, set flush left and wrapped; every other column is
    # made wide enough that no cell breaks inside a line ("\n" breaks a cell).
    left_columns: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Lines:
    """A placeholder value of several lines, set with line breaks in one paragraph."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Attachment:
    number: int
    title: str
    content: tuple[Block | Table, ...]


@dataclass
class OfficialDocument:
    # Values for the template's {{ placeholders }}; ``Lines`` become line breaks.
    fields: dict[str, object]
    body: list[Block]
    attachments: list[Attachment] = field(default_factory=list)
    # Set on a draft: printed in the header of every page.
    draft_mark: str | None = None
    # Document properties.
    title: str = ""
    author: str = ""


@dataclass(frozen=True)
class ColophonPlacement:
    """Where the colophon goes: measured on a first rendering (``ducha.notice.render``)."""

    # Page breaks before the colophon (0: on the page where the text ends).
    pages_ahead: int = 0
    # Height of the spacer paragraph before it.
    spacer_pt: float = END_PARAGRAPH_PT


def text_width_chars(text: str) -> float:
    """Width in grid characters as Word sets 仿宋: CJK full, ASCII (digits) half."""
    return sum(0.5 if ord(ch) < 0x2000 else 1.0 for ch in text)


def fit_widths(table: Table, total_mm: float = TEXT_WIDTH_MM, size_pt: float = TABLE_SIZE_PT) -> tuple[float, ...]:
    """Each unwrapped column as wide as its longest line; the wrapped ones share the rest.

    When the unwrapped columns alone are too wide, all columns shrink in proportion
    (some cells then wrap), rather than the table running off the page.
    """
    char_mm = size_pt / PT_PER_MM
    needs = []
    for col in range(len(table.header)):
        lines = [line for row in (table.header, *table.rows) for line in row[col].split("\n")]
        needs.append(max(text_width_chars(line) for line in lines) * char_mm + CELL_PADDING_MM)
    wrapped = [c for c in range(len(needs)) if c in table.left_columns]
    fixed = sum(n for c, n in enumerate(needs) if c not in table.left_columns)
    if not wrapped or fixed >= total_mm:
        scale = total_mm / sum(needs)
        return tuple(round(n * scale, 1) for n in needs)
    rest = total_mm - fixed
    wrapped_need = sum(needs[c] for c in wrapped)
    return tuple(
        round(needs[c] if c not in table.left_columns else rest * needs[c] / wrapped_need, 1)
        for c in range(len(needs))
    )


def _row_height_pt(values: Sequence[str], widths_mm: Sequence[float], size_pt: float, line_pt: float) -> float:
    char_mm = size_pt / PT_PER_MM
    lines = 1
    for value, width in zip(values, widths_mm):
        per_line = max(1.0, (width - CELL_PADDING_MM) / char_mm)
        count = sum(max(1, math.ceil(text_width_chars(line) / per_line)) for line in value.split("\n"))
        lines = max(lines, count)
    return lines * line_pt


def _render_fields(template: Path, fields: Mapping[str, object]) -> DocxDocument:
    if not template.is_file():
        raise DocumentWriteError(f"找不到模板文件 {template}，请运行 python -m generator.build_notice_template 重新生成")
    context: dict[str, object] = {}
    for key, value in fields.items():
        if isinstance(value, Lines):
            context[key] = Listing("\n".join(value.lines))
        else:
            context[key] = value
    tpl = DocxTemplate(str(template))
    tpl.render(context, autoescape=True)
    buffer = io.BytesIO()
    tpl.save(buffer)
    buffer.seek(0)
    return Document(buffer)


def _marker(document: DocxDocument, marker: str) -> Paragraph:
    for paragraph in document.paragraphs:
        if paragraph.text.strip() == marker:
            return paragraph
    raise DocumentWriteError(f"模板中缺少“{marker}”段落（正文和附件插在这里），请勿删除该段")


def _style(document: DocxDocument, name: str):  # type: ignore[no-untyped-def]
    try:
        return document.styles[name]
    except KeyError as exc:
        raise DocumentWriteError(f"模板中缺少样式“{name}”，请运行 python -m generator.build_notice_template 重新生成") from exc


def _insert_block(document: DocxDocument, anchor: Paragraph, block: Block) -> None:
    if not block.lead:
        anchor.insert_paragraph_before(block.text, style=_style(document, BLOCK_STYLES[block.kind]))
        return
    paragraph = anchor.insert_paragraph_before("", style=_style(document, BLOCK_STYLES[block.kind]))
    paragraph.add_run(block.lead, style=_style(document, HEADING2_LEAD_STYLE))
    paragraph.add_run(block.text)


def _mark_header_row(row) -> None:  # type: ignore[no-untyped-def]
    """Repeat the header row on every page the table runs over."""
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    tr_pr.append(header)


def _cell_text(document: DocxDocument, cell, text: str, style_name: str) -> None:  # type: ignore[no-untyped-def]
    paragraph = cell.paragraphs[0]
    paragraph.style = _style(document, style_name)
    lines = text.split("\n")
    run = paragraph.add_run(lines[0])
    for line in lines[1:]:
        run.add_break()
        run = paragraph.add_run(line)


def _insert_table(document: DocxDocument, anchor: Paragraph, table: Table) -> None:
    columns = len(table.header)
    widths = table.widths_mm or fit_widths(table)
    if len(widths) != columns or any(len(row) != columns for row in table.rows):
        raise DocumentWriteError("附件表格的列数不一致")
    doc_table = document.add_table(rows=1 + len(table.rows), cols=columns)
    doc_table.style = _style(document, TABLE_STYLE)
    doc_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    doc_table.autofit = False
    _mark_header_row(doc_table.rows[0])
    for col, width in enumerate(widths):
        doc_table.columns[col].width = Mm(width)
    for r, values in enumerate((table.header, *table.rows)):
        row = doc_table.rows[r]
        # A row split over two pages is hard to read; only a row taller than a
        # page may split, or it would run off the page.
        if _row_height_pt(values, widths, TABLE_SIZE_PT, TABLE_LINE_PT) < TEXT_HEIGHT_PT * 0.9:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for col, value in enumerate(values):
            cell = row.cells[col]
            cell.width = Mm(widths[col])
            if r == 0:
                style = TABLE_HEADER_STYLE
            elif col in table.left_columns:
                style = TABLE_TEXT_LEFT_STYLE
            else:
                style = TABLE_TEXT_STYLE
            _cell_text(document, cell, value, style)
    anchor._p.addprevious(doc_table._tbl)


def _insert_attachment(document: DocxDocument, anchor: Paragraph, attachment: Attachment) -> None:
    anchor.insert_paragraph_before(f"附件{attachment.number}", style=_style(document, ATTACHMENT_LABEL_STYLE))
    anchor.insert_paragraph_before(attachment.title, style=_style(document, ATTACHMENT_TITLE_STYLE))
    for item in attachment.content:
        if isinstance(item, Table):
            _insert_table(document, anchor, item)
        else:
            _insert_block(document, anchor, item)


def _remove(paragraph: Paragraph) -> None:
    element = paragraph._p
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def _set_indent(paragraph: Paragraph, *, align: str, left_chars: float = 0, right_chars: float = 0) -> None:
    """Direct paragraph indent in grid characters (hundredths in *Chars, twips as fallback)."""
    ppr = paragraph._p.get_or_add_pPr()
    for tag in ("w:ind", "w:jc"):
        old = ppr.find(qn(tag))
        if old is not None:
            ppr.remove(old)
    ind = OxmlElement("w:ind")
    for side, chars in (("left", left_chars), ("right", right_chars)):
        ind.set(qn(f"w:{side}Chars"), str(round(chars * 100)))
        ind.set(qn(f"w:{side}"), str(round(chars * GRID_CHAR_PT * TWIPS_PER_PT)))
    ind.set(qn("w:firstLineChars"), "0")
    ind.set(qn("w:firstLine"), "0")
    ppr.append(ind)
    jc = OxmlElement("w:jc")
    jc.set(qn("w:val"), align)
    ppr.append(jc)


def _place_signature_and_date(document: DocxDocument) -> None:
    """GB/T 9704 7.3.5.2 for an unsealed document.

    The signature sits 2 characters from the right; the date's first character
    2 characters right of the signature's first; when the date is the longer,
    the date keeps 2 characters from the right and the signature moves left.
    Both are set flush left at a computed indent, so the 2-character shift holds
    whatever width the digits have in the reader's font.
    """
    signature = next((p for p in document.paragraphs if p.style is not None and p.style.name == SIGNATURE_STYLE), None)
    date = next((p for p in document.paragraphs if p.style is not None and p.style.name == DATE_STYLE), None)
    if signature is None or date is None:
        return
    lines = [line for line in signature.text.split("\n") if line.strip()]
    if not lines:
        return
    sig_width = max(text_width_chars(line) for line in lines)
    date_width = text_width_chars(date.text.strip())
    sig_start = CHARS_PER_LINE - SIGNATURE_RIGHT_CHARS - sig_width
    date_start = sig_start + DATE_SHIFT_CHARS
    if date_start + date_width > CHARS_PER_LINE - SIGNATURE_RIGHT_CHARS:
        date_start = CHARS_PER_LINE - SIGNATURE_RIGHT_CHARS - date_width
        sig_start = date_start - DATE_SHIFT_CHARS
    if len(lines) == 1:
        _set_indent(signature, align="left", left_chars=sig_start)
    else:
        # Stacked joint issuers: each right-aligned; the longest starts at sig_start.
        _set_indent(signature, align="right", right_chars=CHARS_PER_LINE - sig_start - sig_width)
    _set_indent(date, align="left", left_chars=date_start)


def _mark_draft(document: DocxDocument, mark: str) -> None:
    """The draft mark in the header of every page (odd, even and first)."""
    section = document.sections[0]
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        paragraph = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
        paragraph.text = mark
        paragraph.style = _style(document, DRAFT_MARK_STYLE)


def _place_colophon(document: DocxDocument, placement: ColophonPlacement) -> None:
    spacer = next((p for p in document.paragraphs if p.style is not None and p.style.name == COLOPHON_SPACER_STYLE), None)
    if spacer is None:
        return
    ppr = spacer._p.get_or_add_pPr()
    spacing = ppr.find(qn("w:spacing"))
    if spacing is None:
        spacing = OxmlElement("w:spacing")
        ppr.append(spacing)
    spacing.set(qn("w:line"), str(max(20, round(placement.spacer_pt * TWIPS_PER_PT))))
    spacing.set(qn("w:lineRule"), "exact")
    spacing.set(qn("w:before"), "0")
    spacing.set(qn("w:after"), "0")
    if placement.pages_ahead >= 1:
        ppr.append(OxmlElement("w:pageBreakBefore"))
    # A blank page before the colophon's even page (GB/T 9704 7.5.1).
    for _ in range(placement.pages_ahead - 1):
        blank = spacer.insert_paragraph_before("", style=_style(document, COLOPHON_SPACER_STYLE))
        blank._p.get_or_add_pPr().append(OxmlElement("w:pageBreakBefore"))
    if placement.pages_ahead >= 2:
        _unnumber_from(document, blank)


def _unnumber_from(document: DocxDocument, first: Paragraph) -> None:
    """No page numbers from ``first``'s page on: GB/T 9704 7.5.1, a blank page before the colophon.

    The text before it ends a section of its own (a copy of the body's section
    properties, so it keeps the numbered footers); the last section, the blank
    page and the colophon's page, gets footers of its own with nothing in them.
    The section break starts the new page, so ``first`` needs no page break.
    """
    previous = first._p.getprevious()
    if previous is None or previous.tag != qn("w:p"):
        previous = first._p.makeelement(qn("w:p"), {})
        first._p.addprevious(previous)
    last = document.sections[-1]
    numbered = deepcopy(last._sectPr)
    numbered.get_or_add_type().val = WD_SECTION.NEW_PAGE
    previous_ppr = previous.get_or_add_pPr()
    for old in previous_ppr.findall(qn("w:sectPr")):
        previous_ppr.remove(old)
    previous_ppr.append(numbered)
    for reference in last._sectPr.findall(qn("w:footerReference")):
        last._sectPr.remove(reference)
    for footer in (last.footer, last.even_page_footer, last.first_page_footer):
        footer.is_linked_to_previous = False
    first_ppr = first._p.get_or_add_pPr()
    for page_break in first_ppr.findall(qn("w:pageBreakBefore")):
        first_ppr.remove(page_break)


def write_document(
    template: Path, content: OfficialDocument, out_path: Path, *,
    colophon: ColophonPlacement | None = None, created: dt.datetime | None = None, pages: int = 1,
) -> Path:
    """Fill ``template`` with ``content`` and save it as ``out_path`` (.docx)."""
    document = _render_fields(template, content.fields)
    body_anchor = _marker(document, BODY_MARKER)
    for block in content.body:
        _insert_block(document, body_anchor, block)
    _remove(body_anchor)
    attachments_anchor = _marker(document, ATTACHMENTS_MARKER)
    for attachment in content.attachments:
        _insert_attachment(document, attachments_anchor, attachment)
    # The marker stays as an empty line: it keeps the last attachment table
    # apart from the colophon table, which Word would otherwise merge.
    for run in list(attachments_anchor.runs):
        run._r.getparent().remove(run._r)
    _place_signature_and_date(document)
    _place_colophon(document, colophon or ColophonPlacement())
    if content.draft_mark:
        _mark_draft(document, content.draft_mark)
    created = created or dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    set_core_properties(document, title=content.title, author=content.author, created=created)
    set_app_properties(document, pages=pages, company=content.author, title=content.title)
    fix_package(document)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    document.save(str(tmp))
    os.replace(tmp, out_path)
    return out_path
