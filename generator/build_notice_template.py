"""Builds ``templates/notification.docx`` and ``templates/group_report.docx``.

The templates are checked in; this script makes them reproducibly. Staff
may then edit them in Word: every font, size and indent lives in a named
paragraph style (``公文正文``, ``公文一级标题`` ...), the fixed wording is
plain text with docxtpl placeholders, and the generated body and
attachments go where the ``[[正文]]`` and ``[[附件]]`` paragraphs stand.

Layout values follow GB/T 9704-2012 as summarised in specs/red-header.md.

    .venv/bin/python -m generator.build_notice_template
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph

from generator.docx_package import fix_package, set_app_properties, set_core_properties

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
NOTIFICATION_TEMPLATE = TEMPLATES_DIR / "notification.docx"
GROUP_REPORT_TEMPLATE = TEMPLATES_DIR / "group_report.docx"

TEMPLATE_AUTHOR = "ducha"
TEMPLATE_DATE = dt.datetime(2015, 8, 11)
ZIP_ENTRY_TIME = (2015, 8, 11, 0, 0, 0)

BODY_MARKER = "[[正文]]"
ATTACHMENTS_MARKER = "[[附件]]"
DETAIL_TEMPLATE = TEMPLATES_DIR / "notice_detail.docx"
# The colophon's spacer paragraph: the writer sets its height so that the
# colophon's last rule sits on the bottom edge of the text area.
COLOPHON_SPACER_STYLE = "公文版记前空白"
# The document's last paragraph, after the colophon table: as small as Word allows.
END_PARAGRAPH_STYLE = "公文结尾"
END_PARAGRAPH_PT = 1.0

# Page (specs/red-header.md): A4, text area 156 x 225 mm.
PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0
MARGIN_TOP_MM = 37.0
MARGIN_LEFT_MM = 28.0
TEXT_WIDTH_MM = 156.0
TEXT_HEIGHT_MM = 225.0
MARGIN_RIGHT_MM = PAGE_WIDTH_MM - MARGIN_LEFT_MM - TEXT_WIDTH_MM
MARGIN_BOTTOM_MM = PAGE_HEIGHT_MM - MARGIN_TOP_MM - TEXT_HEIGHT_MM
# 22 lines of 28 characters: exact pitch 28.95 pt, characters condensed.
LINE_PITCH_TWIPS = 579
CHAR_SPACE = -849
# Measured in LibreOffice's PDF: -0.25 pt gave 27 characters a line, -0.5 pt gives 28.
GRID_CONDENSE_TWENTIETHS_PT = -10
# The page number's top sits 7 mm under the text area; its line is 16 pt.
PAGE_NUMBER_GAP_MM = 7.0
PAGE_NUMBER_LINE_PT = 16.0
FOOTER_DISTANCE_MM = MARGIN_BOTTOM_MM - PAGE_NUMBER_GAP_MM - PAGE_NUMBER_LINE_PT * 25.4 / 72

# Sizes: 2号 22 pt, 3号 16 pt, 4号 14 pt, 小四 12 pt.
TITLE_SIZE_PT = 22.0
BODY_SIZE_PT = 16.0
COLOPHON_SIZE_PT = 14.0
# Tables in 五号 (10.5 pt): a unit's full name (up to 14 characters) and a village's
# county + town + village fit one line beside a problem column a reader can read.
TABLE_SIZE_PT = 10.5
TABLE_LINE_PT = 15.0
ISSUER_SIZE_PT = 36.0
ISSUER_LINE_PT = 48.0
# Four stacked names, the longest 14 characters, must each fit on one line.
JOINT_ISSUER_SIZE_PT = 28.0
JOINT_ISSUER_LINE_PT = 38.0
# The issuer mark's top edge is 35 mm under the top of the text area; the
# glyphs sit about (line - size) / 2 below the top of their exact line.
ISSUER_TOP_GAP_MM = 35.0

RED = "FF0000"
RED_LINE_SIZE_EIGHTHS_PT = 10  # 1.25 pt = 0.44 mm, within the 0.35-0.5 mm practice
# Points between the number's line box and the red line: measured in the
# PDF, 5 pt puts the line 4 mm under the glyphs of the document number.
RED_LINE_GAP_PT = 5
COLOPHON_OUTER_LINE_EIGHTHS_PT = 8  # 1 pt = 0.35 mm
COLOPHON_INNER_LINE_EIGHTHS_PT = 6  # 0.75 pt = 0.26 mm

FONT_FANGSONG = "仿宋_GB2312"
FONT_KAITI = "楷体_GB2312"
FONT_HEITI = "黑体"
FONT_XIAOBIAOSONG = "方正小标宋简体"
FONT_SONGTI = "宋体"

TWIPS_PER_PT = 20
TWIPS_PER_MM = 1440 / 25.4


def _twips(points: float) -> int:
    return round(points * TWIPS_PER_PT)


def _set_fonts(element: object, font: str) -> None:
    """Explicit fonts on every script, East Asian included, and no theme fonts."""
    rpr = element.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        if attr.endswith(("Theme", "theme")):
            del rfonts.attrib[attr]
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _strip_theme_fonts(document: DocxDocument) -> None:
    """Theme fonts override explicit ones, so no style may carry them."""
    root = document.styles.element
    for rfonts in root.iter(qn("w:rFonts")):
        for attr in list(rfonts.attrib):
            local = attr.split("}")[-1]
            if local.lower().endswith("theme"):
                del rfonts.attrib[attr]


def _spacing(ppr: object, *, line_twips: int, before_twips: int = 0, after_twips: int = 0) -> None:
    spacing = ppr.find(qn("w:spacing"))  # type: ignore[attr-defined]
    if spacing is None:
        spacing = OxmlElement("w:spacing")
        ppr.append(spacing)  # type: ignore[attr-defined]
    spacing.set(qn("w:before"), str(before_twips))
    spacing.set(qn("w:after"), str(after_twips))
    spacing.set(qn("w:line"), str(line_twips))
    spacing.set(qn("w:lineRule"), "exact")


def _indent(ppr: object, **chars: int) -> None:
    """Indents in hundredths of a character (firstLineChars=200 is 2 characters)."""
    ind = OxmlElement("w:ind")
    for key, value in chars.items():
        ind.set(qn(f"w:{key}"), str(value))
    ppr.append(ind)  # type: ignore[attr-defined]


def _paragraph_style(
    document: DocxDocument,
    name: str,
    style_id: str,
    *,
    font: str = FONT_FANGSONG,
    size_pt: float = BODY_SIZE_PT,
    line_pt: float | None = None,
    before_twips: int = 0,
    after_twips: int = 0,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    color: str | None = None,
    indent: dict[str, int] | None = None,
    page_break_before: bool = False,
    keep_next: bool = False,
    snap_to_grid: bool = True,
) -> BaseStyle:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:styleId"), style_id)
    style.base_style = document.styles["Normal"]
    style.quick_style = True
    _set_fonts(style.element, font)
    style.font.size = Pt(size_pt)
    if color:
        style.font.color.rgb = None
        color_el = OxmlElement("w:color")
        color_el.set(qn("w:val"), color)
        style.element.get_or_add_rPr().append(color_el)
    ppr = style.element.get_or_add_pPr()
    if keep_next:
        ppr.append(OxmlElement("w:keepNext"))
    if page_break_before:
        ppr.append(OxmlElement("w:pageBreakBefore"))
    if not snap_to_grid:
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        ppr.append(snap)
    _spacing(
        ppr,
        line_twips=_twips(line_pt) if line_pt else LINE_PITCH_TWIPS,
        before_twips=before_twips,
        after_twips=after_twips,
    )
    ind_values = {"firstLineChars": 0, "firstLine": 0, "leftChars": 0, "left": 0, "rightChars": 0, "right": 0}
    ind_values.update(indent or {})
    _indent(ppr, **ind_values)
    style.paragraph_format.alignment = align
    return style


def _setup_normal(document: DocxDocument) -> None:
    styles_root = document.styles.element
    defaults = styles_root.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None:
            rpr = rpr_default.find(qn("w:rPr"))
            if rpr is not None:
                for child in list(rpr):
                    if child.tag in (qn("w:rFonts"), qn("w:lang"), qn("w:sz"), qn("w:szCs")):
                        rpr.remove(child)
                fonts = OxmlElement("w:rFonts")
                for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                    fonts.set(qn(slot), FONT_FANGSONG)
                rpr.insert(0, fonts)
                # The character grid counts characters at the default size.
                for tag in ("w:sz", "w:szCs"):
                    size = OxmlElement(tag)
                    size.set(qn("w:val"), str(round(BODY_SIZE_PT * 2)))
                    rpr.append(size)
                lang = OxmlElement("w:lang")
                lang.set(qn("w:val"), "en-US")
                lang.set(qn("w:eastAsia"), "zh-CN")
                rpr.append(lang)
        ppr_default = defaults.find(qn("w:pPrDefault"))
        if ppr_default is not None:
            defaults.remove(ppr_default)
    normal = document.styles["Normal"]
    _set_fonts(normal.element, FONT_FANGSONG)
    normal.font.size = Pt(BODY_SIZE_PT)
    # 28 characters of 16 pt are 448 pt, the line is 442 pt: condensing by a
    # quarter point fits them, as the grid's charSpace does in Word.
    condense = OxmlElement("w:spacing")
    condense.set(qn("w:val"), str(GRID_CONDENSE_TWENTIETHS_PT))
    normal.element.get_or_add_rPr().append(condense)
    ppr = normal.element.get_or_add_pPr()
    # The exact line spacing already keeps 22 lines a page, and the condensed
    # characters 28 a line, in Word and LibreOffice alike; LibreOffice's own
    # character grid would spread justified CJK lines.
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    ppr.append(snap)
    _spacing(ppr, line_twips=LINE_PITCH_TWIPS)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _add_styles(document: DocxDocument) -> None:
    _setup_normal(document)
    body_indent = {"firstLineChars": 200, "firstLine": _twips(2 * BODY_SIZE_PT)}
    line = LINE_PITCH_TWIPS
    issuer_before = round(ISSUER_TOP_GAP_MM * TWIPS_PER_MM - _twips((ISSUER_LINE_PT - ISSUER_SIZE_PT) / 2))
    joint_before = round(ISSUER_TOP_GAP_MM * TWIPS_PER_MM - _twips((JOINT_ISSUER_LINE_PT - JOINT_ISSUER_SIZE_PT) / 2))
    _paragraph_style(document, "公文正文", "GwBody", indent=body_indent)
    _paragraph_style(document, "公文一级标题", "GwHeading1", font=FONT_HEITI, indent=body_indent, keep_next=True)
    _paragraph_style(document, "公文二级标题", "GwHeading2", font=FONT_KAITI, indent=body_indent, keep_next=True)
    _paragraph_style(
        document, "公文发文机关", "GwIssuer", font=FONT_XIAOBIAOSONG, size_pt=ISSUER_SIZE_PT,
        line_pt=ISSUER_LINE_PT, before_twips=issuer_before, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED,
        snap_to_grid=False,
    )
    _paragraph_style(
        document, "公文联合发文机关", "GwJointIssuer", font=FONT_XIAOBIAOSONG, size_pt=JOINT_ISSUER_SIZE_PT,
        line_pt=JOINT_ISSUER_LINE_PT, before_twips=joint_before, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED,
        snap_to_grid=False,
    )
    number = _paragraph_style(
        document, "公文发文字号", "GwDocNumber", before_twips=2 * line, align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _red_line(number)
    _paragraph_style(
        document, "公文标题", "GwTitle", font=FONT_XIAOBIAOSONG, size_pt=TITLE_SIZE_PT,
        before_twips=2 * line, align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _paragraph_style(document, "公文主送", "GwAddressees", before_twips=line, align=WD_ALIGN_PARAGRAPH.LEFT)
    _paragraph_style(document, "公文附件说明", "GwAttachmentNote", before_twips=line, indent=body_indent)
    _paragraph_style(
        document, "公文附件说明续", "GwAttachmentNoteMore",
        indent={"leftChars": 500, "left": _twips(5 * BODY_SIZE_PT)},
    )
    _paragraph_style(
        document, "公文署名", "GwSignature", before_twips=line, align=WD_ALIGN_PARAGRAPH.RIGHT,
        indent={"rightChars": 200, "right": _twips(2 * BODY_SIZE_PT)},
    )
    _paragraph_style(
        document, "公文成文日期", "GwDate", align=WD_ALIGN_PARAGRAPH.RIGHT,
        indent={"rightChars": 400, "right": _twips(4 * BODY_SIZE_PT)},
    )
    _paragraph_style(
        document, "公文附件标识", "GwAttachmentLabel", font=FONT_HEITI, align=WD_ALIGN_PARAGRAPH.LEFT,
        page_break_before=True, keep_next=True,
    )
    _paragraph_style(
        document, "公文附件标题", "GwAttachmentTitle", font=FONT_XIAOBIAOSONG, size_pt=TITLE_SIZE_PT,
        before_twips=line, after_twips=line, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True,
    )
    _paragraph_style(document, "公文附件正文", "GwAttachmentText", indent=body_indent)
    _paragraph_style(
        document, "公文表格文字", "GwTableText", size_pt=TABLE_SIZE_PT, line_pt=TABLE_LINE_PT,
        align=WD_ALIGN_PARAGRAPH.CENTER, snap_to_grid=False,
    )
    _paragraph_style(
        document, "公文表格文字左", "GwTableTextLeft", size_pt=TABLE_SIZE_PT, line_pt=TABLE_LINE_PT,
        align=WD_ALIGN_PARAGRAPH.LEFT, snap_to_grid=False,
    )
    _paragraph_style(
        document, "公文表头", "GwTableHeader", font=FONT_HEITI, size_pt=TABLE_SIZE_PT, line_pt=TABLE_LINE_PT,
        align=WD_ALIGN_PARAGRAPH.CENTER, snap_to_grid=False,
    )
    colophon = _paragraph_style(
        document, "公文版记", "GwColophon", size_pt=COLOPHON_SIZE_PT, align=WD_ALIGN_PARAGRAPH.LEFT,
        indent={"leftChars": 100, "left": _twips(COLOPHON_SIZE_PT), "rightChars": 100,
                "right": _twips(COLOPHON_SIZE_PT)},
    )
    # "…印发" ends 1 character in from the right edge (GB/T 9704 7.4.4).
    _right_tab(colophon, round(TEXT_WIDTH_MM * TWIPS_PER_MM) - _twips(COLOPHON_SIZE_PT))
    _paragraph_style(
        document, "公文页码", "GwPageNumber", font=FONT_SONGTI, size_pt=COLOPHON_SIZE_PT,
        line_pt=PAGE_NUMBER_LINE_PT, align=WD_ALIGN_PARAGRAPH.RIGHT, snap_to_grid=False,
        indent={"rightChars": 100, "right": _twips(COLOPHON_SIZE_PT)},
    )
    _paragraph_style(
        document, "公文页码偶数页", "GwPageNumberEven", font=FONT_SONGTI, size_pt=COLOPHON_SIZE_PT,
        line_pt=PAGE_NUMBER_LINE_PT, align=WD_ALIGN_PARAGRAPH.LEFT, snap_to_grid=False,
        indent={"leftChars": 100, "left": _twips(COLOPHON_SIZE_PT)},
    )
    _paragraph_style(
        document, COLOPHON_SPACER_STYLE, "GwColophonSpacer", size_pt=END_PARAGRAPH_PT, line_pt=END_PARAGRAPH_PT,
        snap_to_grid=False,
    )
    _paragraph_style(
        document, END_PARAGRAPH_STYLE, "GwEnd", size_pt=END_PARAGRAPH_PT, line_pt=END_PARAGRAPH_PT, snap_to_grid=False,
    )
    _paragraph_style(
        document, "公文草稿标记", "GwDraftMark", font=FONT_HEITI, size_pt=COLOPHON_SIZE_PT,
        line_pt=PAGE_NUMBER_LINE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED, snap_to_grid=False,
    )
    # The lead-in of a paragraph that opens with its own heading, "（一）实地走访。…" in the seed.
    lead = document.styles.add_style("公文二级标题字符", WD_STYLE_TYPE.CHARACTER)
    lead.element.set(qn("w:styleId"), "GwHeading2Char")
    lead.quick_style = True
    _set_fonts(lead.element, FONT_KAITI)
    _strip_theme_fonts(document)


def _red_line(style: BaseStyle) -> None:
    ppr = style.element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), str(RED_LINE_SIZE_EIGHTHS_PT))
    bottom.set(qn("w:space"), str(RED_LINE_GAP_PT))
    bottom.set(qn("w:color"), RED)
    borders.append(bottom)
    # pBdr must come before spacing/ind in CT_PPr order.
    spacing = ppr.find(qn("w:spacing"))
    if spacing is not None:
        spacing.addprevious(borders)
    else:
        ppr.append(borders)


def _right_tab(style: BaseStyle, position_twips: int) -> None:
    ppr = style.element.get_or_add_pPr()
    tabs = OxmlElement("w:tabs")
    tab = OxmlElement("w:tab")
    tab.set(qn("w:val"), "right")
    tab.set(qn("w:pos"), str(position_twips))
    tabs.append(tab)
    spacing = ppr.find(qn("w:spacing"))
    if spacing is not None:
        spacing.addprevious(tabs)
    else:
        ppr.append(tabs)


def _setup_page(document: DocxDocument) -> None:
    section = document.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width = Mm(PAGE_WIDTH_MM)
    section.page_height = Mm(PAGE_HEIGHT_MM)
    section.top_margin = Mm(MARGIN_TOP_MM)
    section.bottom_margin = Mm(MARGIN_BOTTOM_MM)
    section.left_margin = Mm(MARGIN_LEFT_MM)
    section.right_margin = Mm(MARGIN_RIGHT_MM)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(FOOTER_DISTANCE_MM)
    sect_pr = section._sectPr
    for old in sect_pr.findall(qn("w:docGrid")):
        sect_pr.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))
    sect_pr.append(grid)
    document.settings.odd_and_even_pages_header_footer = True
    _page_number(document, section.footer.paragraphs[0], "公文页码")
    _page_number(document, section.even_page_footer.paragraphs[0], "公文页码偶数页")


def _page_number(document: DocxDocument, paragraph: Paragraph, style: str) -> None:
    """"— 1 —": a PAGE field between two dashes (一字线)."""
    paragraph.style = document.styles[style]
    paragraph.add_run("— ")
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        run = paragraph.add_run()
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind == "text":
            run.text = text or ""
        else:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
    paragraph.add_run(" —")


def _colophon(document: DocxDocument, rows: list[str]) -> None:
    """The colophon (版记): a one-column table whose rules are its borders, in the text flow.

    A spacer paragraph before it is given its height when the document is
    written (``generator.notice_docx``), so the last rule lands on the
    bottom edge of the text area of an even page. No text box: its text
    is body text for any reader, checker or WPS.
    """
    document.add_paragraph(style=document.styles[COLOPHON_SPACER_STYLE])
    table = document.add_table(rows=len(rows), cols=1)
    tbl = table._tbl
    tbl_pr = tbl.tblPr
    for child in list(tbl_pr):
        tbl_pr.remove(child)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(round(TEXT_WIDTH_MM * TWIPS_PER_MM)))
    width.set(qn("w:type"), "dxa")
    tbl_pr.append(width)
    borders = OxmlElement("w:tblBorders")
    for side, size in (
        ("top", COLOPHON_OUTER_LINE_EIGHTHS_PT),
        ("left", 0),
        ("bottom", COLOPHON_OUTER_LINE_EIGHTHS_PT),
        ("right", 0),
        ("insideH", COLOPHON_INNER_LINE_EIGHTHS_PT),
        ("insideV", 0),
    ):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single" if size else "nil")
        if size:
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.append(margins)
    grid = tbl.find(qn("w:tblGrid"))
    if grid is not None:
        for col in grid.findall(qn("w:gridCol")):
            col.set(qn("w:w"), str(round(TEXT_WIDTH_MM * TWIPS_PER_MM)))
    for row, text in zip(table.rows, rows):
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        cell = row.cells[0]
        cell.width = Mm(TEXT_WIDTH_MM)
        paragraph = cell.paragraphs[0]
        paragraph.style = document.styles["公文版记"]
        head, _, tail = text.partition("\t")
        paragraph.add_run(head)
        if tail:
            paragraph.add_run().add_tab()
            paragraph.add_run(tail)
    # A body cannot end with a table; this 1 pt paragraph is what follows it.
    document.add_paragraph(style=document.styles[END_PARAGRAPH_STYLE])


def _save_reproducibly(document: DocxDocument, path: Path, title: str) -> Path:
    """Same input, same bytes: fixed document dates and zip entry times, so
    a rebuild that changes nothing leaves the checked-in file unchanged."""
    fix_package(document)
    set_core_properties(document, title=title, author=TEMPLATE_AUTHOR, created=TEMPLATE_DATE)
    set_app_properties(document, pages=1, company=TEMPLATE_AUTHOR, title=title)
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=ZIP_ENTRY_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(name))
    return path


def _p(document: DocxDocument, text: str, style: str) -> Paragraph:
    return document.add_paragraph(text, style=document.styles[style])


def _base_document() -> DocxDocument:
    document = Document()
    # The default template starts with one empty paragraph.
    body = document.element.body
    for paragraph in list(body.findall(qn("w:p"))):
        body.remove(paragraph)
    _add_styles(document)
    _setup_page(document)
    return document


def build_notification(path: Path = NOTIFICATION_TEMPLATE) -> Path:
    document = _base_document()
    _p(document, "{%p if joint %}", "公文正文")
    # One paragraph, names separated by line breaks, so the 35 mm gap is above the first only.
    _p(document, "{{ joint_issuers }}", "公文联合发文机关")
    _p(document, "{%p else %}", "公文正文")
    _p(document, "{{ issuer }}", "公文发文机关")
    _p(document, "{%p endif %}", "公文正文")
    _p(document, "{{ number }}", "公文发文字号")
    title = _p(document, "关于{{ year }}年{{ month }}月驻村工作队和第一书记", "公文标题")
    title.runs[0].add_break()
    title.add_run("到村履职情况专项督查情况的通报")
    _p(document, "各县（区）党委，市委各部委，市级各部门党组（党委），巴中经济开发区党工委：", "公文主送")
    _p(document, BODY_MARKER, "公文正文")
    _p(document, "附件：1. 督查情况汇总表", "公文附件说明")
    _p(document, "2. 存在问题的帮扶单位及问题清单", "公文附件说明续")
    _p(document, "{{ signer }}", "公文署名")
    _p(document, "{{ date }}", "公文成文日期")
    _p(document, ATTACHMENTS_MARKER, "公文正文")
    _colophon(document, ["抄送：{{ cc }}。", "{{ printing_office }}\t{{ printing_date }}印发"])
    return _save_reproducibly(document, path, "专项督查情况通报（模板）")


def build_group_report(path: Path = GROUP_REPORT_TEMPLATE) -> Path:
    """The group's written report (seed 六(二)): a plain document, no red header."""
    document = _base_document()
    # Three lines of at most 16 characters, broken where the sense breaks.
    title = _p(document, "第{{ group_name }}督查组关于{{ year }}年{{ month }}月", "公文标题")
    # No red header, so the title opens the page.
    title.paragraph_format.space_before = Pt(0)
    title.runs[0].add_break()
    title.add_run("驻村工作队和第一书记到村履职情况")
    title.runs[-1].add_break()
    title.add_run("专项督查情况的报告")
    _p(document, "市委组织部：", "公文主送")
    _p(document, BODY_MARKER, "公文正文")
    _p(document, "附件：督查村情况明细表", "公文附件说明")
    _p(document, "{{ signer }}", "公文署名")
    _p(document, "{{ date }}", "公文成文日期")
    _p(document, ATTACHMENTS_MARKER, "公文正文")
    return _save_reproducibly(document, path, "督查组书面报告（模板）")


def build_detail(path: Path = DETAIL_TEMPLATE) -> Path:
    """The per-village detail for the office: not sent out with the notice."""
    document = _base_document()
    title = _p(document, "{{ year }}年{{ month }}月专项督查", "公文标题")
    title.paragraph_format.space_before = Pt(0)
    title.runs[0].add_break()
    title.add_run("各村督查情况明细表")
    _p(document, "（市委组织部内部工作用表，不随通报印发；{{ note }}）", "公文附件说明")
    _p(document, BODY_MARKER, "公文正文")
    _p(document, ATTACHMENTS_MARKER, "公文正文")
    return _save_reproducibly(document, path, "专项督查各村督查情况明细表（模板）")


BUILDERS: dict[str, Callable[[], Path]] = {
    "notification": build_notification,
    "group_report": build_group_report,
    "detail": build_detail,
}


def main() -> None:
    for builder in BUILDERS.values():
        print(builder())


if __name__ == "__main__":
    main()
