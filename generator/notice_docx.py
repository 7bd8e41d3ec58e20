"""Writes an official document (通报, group report) from a template and plain data.

The template decides every font, size and indent through its paragraph
styles; this module only picks a style per block and never formats runs,
so a change staff make to a style in Word shows up in the next document.
It takes plain data, not database rows: ``ducha`` assembles the content.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.shared import Mm
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate, Listing

from forms.errors import DuchaError

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


class DocumentWriteError(DuchaError):
    """A template lacks what the writer needs, or the output cannot be written."""


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...]
    # Columns of long text, set flush left instead of centred.
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
    anchor.insert_paragraph_before(block.text, style=_style(document, BLOCK_STYLES[block.kind]))


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
    if len(table.widths_mm) != columns or any(len(row) != columns for row in table.rows):
        raise DocumentWriteError("附件表格的列数不一致")
    doc_table = document.add_table(rows=1 + len(table.rows), cols=columns)
    doc_table.style = _style(document, TABLE_STYLE)
    doc_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    doc_table.autofit = False
    _mark_header_row(doc_table.rows[0])
    for col, width in enumerate(table.widths_mm):
        doc_table.columns[col].width = Mm(width)
    for r, values in enumerate((table.header, *table.rows)):
        row = doc_table.rows[r]
        # A row split over two pages is hard to read on paper.
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for col, value in enumerate(values):
            cell = row.cells[col]
            cell.width = Mm(table.widths_mm[col])
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


def write_document(template: Path, content: OfficialDocument, out_path: Path) -> Path:
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
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    document.save(str(tmp))
    os.replace(tmp, out_path)
    return out_path
