"""Child order of WordprocessingML property elements, as the schema (ECMA-376) fixes it.

python-docx and our own builders append property elements in whatever order
the code runs; Word tolerates some disorder, stricter readers (and some
versions of WPS) drop what is out of place. ``reorder`` puts the children
of every property element it knows into schema order; ``order_problems``
lists what is out of order, for tests.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w(names: str) -> tuple[str, ...]:
    return tuple(f"{{{W_NS}}}{name}" for name in names.split())


# Sequences from the transitional schema (wml.xsd), complete for these parents.
SCHEMA_ORDER: dict[str, tuple[str, ...]] = {
    f"{{{W_NS}}}rPr": _w(
        "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
        "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd "
        "fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath rPrChange"
    ),
    f"{{{W_NS}}}pPr": _w(
        "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
        "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
        "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
        "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
    ),
    f"{{{W_NS}}}style": _w(
        "name aliases basedOn next link autoRedefine hidden uiPriority semiHidden unhideWhenUsed qFormat "
        "locked personal personalCompose personalReply rsid pPr rPr tblPr trPr tcPr tblStylePr"
    ),
    f"{{{W_NS}}}tblPr": _w(
        "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
        "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription tblPrChange"
    ),
    f"{{{W_NS}}}trPr": _w(
        "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader tblCellSpacing jc "
        "hidden ins del trPrChange"
    ),
    f"{{{W_NS}}}tcPr": _w(
        "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign "
        "hideMark headers cellIns cellDel cellMerge tcPrChange"
    ),
    f"{{{W_NS}}}sectPr": _w(
        "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
        "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid printerSettings "
        "sectPrChange"
    ),
    f"{{{W_NS}}}pBdr": _w("top left bottom right between bar"),
    f"{{{W_NS}}}tblBorders": _w("top left start bottom right end insideH insideV"),
    f"{{{W_NS}}}tcBorders": _w("top left start bottom right end insideH insideV tl2br tr2bl"),
    f"{{{W_NS}}}tblCellMar": _w("top left start bottom right end"),
}
# headerReference and footerReference may interleave: they share one rank.
_SAME_RANK = {f"{{{W_NS}}}footerReference": f"{{{W_NS}}}headerReference"}


def _rank(order: tuple[str, ...], tag: str) -> int:
    tag = _SAME_RANK.get(tag, tag)
    return order.index(tag) if tag in order else len(order)


def reorder(root: etree._Element) -> None:
    """Put the children of every known property element under ``root`` into schema order."""
    for parent in list(_parents(root)):
        order = SCHEMA_ORDER[parent.tag]
        children = list(parent)
        ranked = sorted(children, key=lambda child: _rank(order, child.tag))  # stable
        if ranked != children:
            for child in children:
                parent.remove(child)
            parent.extend(ranked)


def order_problems(root: etree._Element) -> list[str]:
    """"parent: child after later-sibling" for every element out of schema order; unknown children too."""
    problems = []
    for parent in _parents(root):
        order = SCHEMA_ORDER[parent.tag]
        last = -1
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            rank = _rank(order, child.tag)
            name = etree.QName(child).localname
            if rank == len(order):
                problems.append(f"{etree.QName(parent).localname}: unknown child {name}")
            elif rank < last:
                problems.append(f"{etree.QName(parent).localname}: {name} out of order")
            last = max(last, rank)
    return problems


def _parents(root: etree._Element) -> Iterable[etree._Element]:
    yield from root.iter(*SCHEMA_ORDER)
