"""Package-level parts of the .docx files we write: font table, settings,
document properties, and schema order of every part.

python-docx starts from its own default template, whose font table lists
Japanese and Western fonts, whose settings name ja-JP as the East Asian
theme language and whose app.xml claims "Microsoft Macintosh Word". An
office reader's Word or WPS should instead find every font we use, with a
fallback a stock Chinese Windows has.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from docx.document import Document as DocxDocument
from docx.opc.packuri import PackURI
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from lxml import etree

from generator.ooxml_order import reorder

# name -> (fallback a stock Chinese Windows has, panose, charset, family, pitch).
# Charset 86 is GB2312. The fallback goes into w:altName, which Word and WPS
# use when the named font is missing.
FONT_TABLE: tuple[tuple[str, str | None, str, str, str, str], ...] = (
    ("仿宋_GB2312", "仿宋", "02010609030101010101", "86", "modern", "fixed"),
    ("楷体_GB2312", "楷体", "02010609030101010101", "86", "modern", "fixed"),
    ("方正小标宋简体", "宋体", "02000000000000000000", "86", "script", "variable"),
    ("黑体", "SimHei", "02010609060101010101", "86", "modern", "fixed"),
    ("宋体", "SimSun", "02010600030101010101", "86", "auto", "variable"),
    ("仿宋", "FangSong", "02010609060101010101", "86", "modern", "fixed"),
    ("楷体", "KaiTi", "02010609060101010101", "86", "modern", "fixed"),
    ("Times New Roman", None, "02020603050405020304", "00", "roman", "variable"),
    # The default template's "Macro Text" style names it.
    ("Courier", "Courier New", "02070309020205020404", "00", "modern", "fixed"),
)
W_NAMESPACE = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
APP_NAME = "ducha"
ZIP_ENTRY_TIME = (2015, 8, 11, 0, 0, 0)


def font_table_xml() -> bytes:
    fonts = []
    for name, alt, panose, charset, family, pitch in FONT_TABLE:
        alt_xml = f'<w:altName w:val="{escape(alt)}"/>' if alt else ""
        fonts.append(
            f'<w:font w:name="{escape(name)}">{alt_xml}<w:panose1 w:val="{panose}"/><w:charset w:val="{charset}"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'
        )
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:fonts xmlns:w="{W_NAMESPACE}">{"".join(fonts)}</w:fonts>'
    return xml.encode("utf-8")


def _part(document: DocxDocument, name: str):  # type: ignore[no-untyped-def]
    for part in document.part.package.iter_parts():
        if part.partname == PackURI(name):
            return part
    return None


def fix_package(document: DocxDocument) -> None:
    """Font table, East Asian theme language, schema order of the parts python-docx keeps as XML."""
    fonts = _part(document, "/word/fontTable.xml")
    if fonts is not None:
        fonts._blob = font_table_xml()
    settings = document.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    if lang is None:
        lang = parse_xml(f'<w:themeFontLang xmlns:w="{W_NAMESPACE}"/>')
        settings.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    reorder(document.styles.element)
    reorder(document.element)
    for section in document.sections:
        for part in (section.header, section.even_page_header, section.first_page_header,
                     section.footer, section.even_page_footer, section.first_page_footer):
            if not part.is_linked_to_previous:
                reorder(part._element)
    # The default template's bullet lists (Symbol, Courier) are never used; an
    # empty numbering part keeps the font table the list of fonts in use.
    numbering = _part(document, "/word/numbering.xml")
    if numbering is not None:
        numbering._element = parse_xml(f'<w:numbering xmlns:w="{W_NAMESPACE}"/>')
    # stylesWithEffects.xml duplicates styles.xml for Word 2010 and still
    # carries the default template's fonts; Word rebuilds it when missing.
    effects = _part(document, "/word/stylesWithEffects.xml")
    if effects is not None:
        document.part.drop_rel(next(r for r, rel in document.part.rels.items() if rel.target_part is effects))


def set_core_properties(document: DocxDocument, *, title: str, author: str, created: dt.datetime) -> None:
    props = document.core_properties
    props.title = title
    props.author = props.last_modified_by = author
    props.created = props.modified = created
    props.revision = 1
    props.comments = ""
    props.subject = ""
    props.keywords = ""
    props.category = ""


def app_xml(*, pages: int, company: str, title: str) -> bytes:
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"<Template>Normal.dotm</Template><TotalTime>0</TotalTime><Pages>{pages}</Pages>"
        f"<Application>{APP_NAME}</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
        '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>标题</vt:lpstr></vt:variant>'
        '<vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs>'
        f'<TitlesOfParts><vt:vector size="1" baseType="lpstr"><vt:lpstr>{escape(title)}</vt:lpstr></vt:vector>'
        f"</TitlesOfParts><Company>{escape(company)}</Company><LinksUpToDate>false</LinksUpToDate>"
        "<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>16.0000</AppVersion>"
        "</Properties>"
    )
    return xml.encode("utf-8")


def set_app_properties(document: DocxDocument, *, pages: int, company: str, title: str) -> None:
    part = _part(document, "/docProps/app.xml")
    if part is not None:
        part._blob = app_xml(pages=pages, company=company, title=title)


def rewrite_app_properties(path: Path, *, pages: int, company: str, title: str) -> None:
    """Put the real page count into a written .docx (known only after the PDF is made)."""
    data = path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/app.xml":
                content = app_xml(pages=pages, company=company, title=title)
            target.writestr(info, content)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def xml_parts(path: Path) -> dict[str, etree._Element]:
    """Every XML part of a .docx, parsed: for tests and checks."""
    with zipfile.ZipFile(path) as archive:
        return {
            name: etree.fromstring(archive.read(name))
            for name in archive.namelist()
            if name.endswith((".xml", ".rels"))
        }
