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


def _border_edges(edges: tuple[str, ...], eighths_pt: int) -> str:
    return "".join(
        f'<w:{edge} w:val="single" w:sz="{eighths_pt}" w:space="0" w:color="000000"/>' for edge in edges
    )


def line_eighths_pt(line_mm: float) -> int:
    return max(2, round(line_mm / MM_PER_PT * 8))


def drawn_line_mm(line_mm: float) -> float:
    """The width a border of nominal ``line_mm`` is drawn with (whole eighths of a point)."""
    return line_eighths_pt(line_mm) / 8 * MM_PER_PT


MM_PER_PT = 25.4 / 72
_BOX_EDGES = ("top", "left", "bottom", "right")


def box_paragraph(
    paragraph: Paragraph, text_width_mm: float, box_w_mm: float, box_h_mm: float, line_mm: float, left_mm: float | None
) -> None:
    """Turn an empty paragraph into an outlined box (paragraph borders).

    LibreOffice lays out a paragraph border far faster than a picture or a
    nested table. Its lines are centred half a line width outside the text
    area, so the text area is the box less two line widths: the lines' outer
    edges then span exactly ``box_w_mm`` x ``box_h_mm``. ``left_mm`` is the
    box's offset in the cell's text width (None: centred).
    """
    line_mm = drawn_line_mm(line_mm)
    inner_w = box_w_mm - 2 * line_mm
    inner_h = box_h_mm - 2 * line_mm
    left = (text_width_mm - inner_w) / 2 if left_mm is None else left_mm + line_mm
    right = text_width_mm - inner_w - left
    format_paragraph(paragraph, exact_line_pt=inner_h / MM_PER_PT)
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:pBdr {nsdecls("w")}>{_border_edges(_BOX_EDGES, line_eighths_pt(line_mm))}</w:pBdr>'))
    paragraph.paragraph_format.left_indent = Mm(left)
    paragraph.paragraph_format.right_indent = Mm(right)
    # Schema order of pPr children matters to Word; python-docx sorts its own.
    _sort_ppr(ppr)


_PPR_ORDER = [
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr", "suppressLineNumbers",
    "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct",
    "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
    "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap",
    "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange",
]


def _sort_ppr(ppr: object) -> None:
    children = list(ppr)  # type: ignore[call-overload]
    rank = {qn(f"w:{tag}"): i for i, tag in enumerate(_PPR_ORDER)}
    children.sort(key=lambda el: rank.get(el.tag, len(_PPR_ORDER)))
    for el in children:
        ppr.append(el)  # type: ignore[attr-defined]


def comb_table(
    cell: _Cell, widths_mm: list[float], boxed: list[bool], height_mm: float, line_mm: float, texts: list[str],
    font: str, size_pt: float,
) -> None:
    """A one-row nested table, centred in ``cell``: boxed columns are the comb's
    boxes (cell borders), the others borderless gaps holding ``texts``.

    ``widths_mm`` are the boxes' and gaps' visible widths. Cell borders are
    centred on the column edges, so a box column is one line width narrower
    than its box and a gap column one line width wider than its gap.
    """
    sz = line_eighths_pt(line_mm)
    line_mm = drawn_line_mm(line_mm)
    widths_mm = [w - line_mm if box else w + line_mm for w, box in zip(widths_mm, boxed)]
    total = round(sum(widths_mm) * TWIPS_PER_MM)
    no_edges = "".join(f'<w:{e} w:val="nil"/>' for e in _BOX_EDGES)
    cells = []
    for width, box, text in zip(widths_mm, boxed, texts):
        borders = _border_edges(_BOX_EDGES, sz) if box else no_edges
        run = ""
        if text:
            run = (
                f'<w:r><w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>'
                f'<w:b/><w:sz w:val="{round(size_pt * 2)}"/></w:rPr><w:t>{text}</w:t></w:r>'
            )
        cells.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{round(width * TWIPS_PER_MM)}" w:type="dxa"/>'
            f'<w:tcBorders>{borders}</w:tcBorders><w:vAlign w:val="bottom"/></w:tcPr>'
            f'<w:p><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0"/><w:jc w:val="center"/></w:pPr>'
            f"{run}</w:p></w:tc>"
        )
    grid = "".join(f'<w:gridCol w:w="{round(w * TWIPS_PER_MM)}"/>' for w in widths_mm)
    tbl = parse_xml(
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblW w:w="{total}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{no_edges}<w:insideH w:val="nil"/><w:insideV w:val="nil"/></w:tblBorders>'
        '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid><w:tr><w:trPr><w:cantSplit/>"
        f'<w:trHeight w:val="{round((height_mm - line_mm) * TWIPS_PER_MM)}" w:hRule="exact"/></w:trPr>'
        f'{"".join(cells)}</w:tr></w:tbl>'
    )
    # A cell must end with a paragraph: keep a 1 pt one after the comb.
    last = cell.paragraphs[-1]
    format_paragraph(last, WD_ALIGN_PARAGRAPH.CENTER, exact_line_pt=1.0)
    last._p.addprevious(tbl)
