"""Low-level python-docx helpers the template builders share.

python-docx has no API for fixed table layout, exact cell widths, borders,
East-Asian fonts or page-anchored pictures, so those are written as XML.
"""

from __future__ import annotations

import io
from copy import deepcopy

from docx.enum.table import WD_ALIGN_VERTICAL, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

EMU_PER_MM = 36000
TWIPS_PER_MM = 1440 / 25.4
BORDER_EIGHTHS_PT = 6  # 0.75 pt table lines


def set_run_font(run: Run, name: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    run.font.name = name
    rpr = run._r.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    if size_pt is not None:
        run.font.size = Pt(size_pt)
    if bold is not None:
        run.font.bold = bold


def add_text(
    paragraph: Paragraph, text: str, font: str, size_pt: float, bold: bool = False
) -> Run:
    run = paragraph.add_run(text)
    set_run_font(run, font, size_pt, bold)
    return run


def letter_spacing(run: Run, extra_mm: float) -> None:
    """Widen the space after the run's characters (w:spacing, in twips)."""
    rpr = run._r.get_or_add_rPr()
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(round(extra_mm * TWIPS_PER_MM)))
    rpr.append(spacing)


def format_paragraph(
    paragraph: Paragraph,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.LEFT,
    exact_line_pt: float | None = None,
) -> None:
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.first_line_indent = Pt(0)
    if exact_line_pt is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(exact_line_pt)
    # No document grid snapping: it would round line heights and move boxes.
    ppr = paragraph._p.get_or_add_pPr()
    if ppr.find(qn("w:snapToGrid")) is None:
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        ppr.append(snap)


def fixed_table(table: Table, widths_mm: list[float], borders: bool) -> None:
    """Fixed layout with the given column widths, so content never resizes it."""
    tbl = table._tbl
    tbl_pr = tbl.tblPr
    for tag in ("w:tblW", "w:tblLayout", "w:tblBorders", "w:tblCellMar", "w:jc", "w:tblStyle"):
        for old in tbl_pr.findall(qn(tag)):
            tbl_pr.remove(old)
    total = round(sum(widths_mm) * TWIPS_PER_MM)
    tbl_pr.append(parse_xml(f'<w:tblW {nsdecls("w")} w:w="{total}" w:type="dxa"/>'))
    tbl_pr.append(parse_xml(f'<w:jc {nsdecls("w")} w:val="center"/>'))
    kind = "single" if borders else "nil"
    edges = "".join(
        f'<w:{edge} w:val="{kind}" w:sz="{BORDER_EIGHTHS_PT}" w:space="0" w:color="000000"/>'
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    tbl_pr.append(parse_xml(f'<w:tblBorders {nsdecls("w")}>{edges}</w:tblBorders>'))
    tbl_pr.append(parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'))
    side = round(1.0 * TWIPS_PER_MM)
    tbl_pr.append(
        parse_xml(
            f'<w:tblCellMar {nsdecls("w")}><w:top w:w="0" w:type="dxa"/><w:left w:w="{side}" w:type="dxa"/>'
            f'<w:bottom w:w="0" w:type="dxa"/><w:right w:w="{side}" w:type="dxa"/></w:tblCellMar>'
        )
    )
    grid = tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_mm):
        col.set(qn("w:w"), str(round(width * TWIPS_PER_MM)))
    for row in table.rows:
        for idx, cell in enumerate(row.cells):
            if idx < len(widths_mm):
                cell.width = Mm(widths_mm[idx])


def exact_row(table: Table, index: int, height_mm: float) -> None:
    row = table.rows[index]
    row.height = Mm(height_mm)
    row.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY
    tr_pr = row._tr.get_or_add_trPr()
    if tr_pr.find(qn("w:cantSplit")) is None:
        tr_pr.append(OxmlElement("w:cantSplit"))


def cell_text(
    cell: _Cell,
    text: str,
    font: str,
    size_pt: float,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
    bold: bool = False,
    exact_line_pt: float | None = None,
) -> Paragraph:
    paragraph = cell.paragraphs[0]
    for extra in cell.paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    format_paragraph(paragraph, align, exact_line_pt)
    if text:
        add_text(paragraph, text, font, size_pt, bold)
    cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
    return paragraph


def add_picture(paragraph: Paragraph, png: bytes, width_mm: float, height_mm: float, name: str) -> Run:
    run = paragraph.add_run()
    run.add_picture(io.BytesIO(png), width=Mm(width_mm), height=Mm(height_mm))
    # LibreOffice reads a missing wrap distance as 3.2 mm; Word as 0.
    for inline in run._r.iter(qn("wp:inline")):
        for attr in ("distT", "distB", "distL", "distR"):
            inline.set(attr, "0")
    # Name the picture, so a person (and docxtpl) can tell which is which.
    for doc_pr in run._r.iter(qn("wp:docPr")):
        doc_pr.set("name", name)
        doc_pr.set("descr", name)
    return run


_anchor_ids = iter(range(1000, 100000))


def add_page_anchored_picture(
    paragraph: Paragraph, png: bytes, size_mm: float, left_mm: float, top_mm: float, name: str
) -> None:
    """A picture at a fixed position on the page, not moved by text."""
    run = add_picture(paragraph, png, size_mm, size_mm, name)
    inline = run._r.find(".//" + qn("wp:inline"))
    assert inline is not None
    extent = inline.find(qn("wp:extent"))
    graphic = inline.find(qn("a:graphic"))
    z_order = next(_anchor_ids)
    anchor = parse_xml(
        f'<wp:anchor {nsdecls("wp", "a", "pic", "r")} distT="0" distB="0" distL="0" distR="0" simplePos="0" '
        f'relativeHeight="{251659264 + z_order}" behindDoc="0" locked="1" layoutInCell="0" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        f'<wp:positionH relativeFrom="page"><wp:posOffset>{round(left_mm * EMU_PER_MM)}</wp:posOffset></wp:positionH>'
        f'<wp:positionV relativeFrom="page"><wp:posOffset>{round(top_mm * EMU_PER_MM)}</wp:posOffset></wp:positionV>'
        f'<wp:extent cx="{extent.get("cx")}" cy="{extent.get("cy")}"/>'
        '<wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        f'<wp:docPr id="{z_order}" name="{name}" descr="{name}"/>'
        "<wp:cNvGraphicFramePr/>"
        "</wp:anchor>"
    )
    anchor.append(deepcopy(graphic))
    inline.getparent().replace(inline, anchor)


def set_page(section: object, width_mm: float, height_mm: float, top: float, bottom: float, side: float) -> None:
    from docx.section import Section

    assert isinstance(section, Section)
    section.page_width = Mm(width_mm)
    section.page_height = Mm(height_mm)
    section.top_margin = Mm(top)
    section.bottom_margin = Mm(bottom)
    section.left_margin = Mm(side)
    section.right_margin = Mm(side)
    section.header_distance = Mm(0)
    section.footer_distance = Mm(0)
