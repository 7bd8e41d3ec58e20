"""Sheets for LibreOffice as one flat ODT (.fodt) instead of joined .docx.

LibreOffice's .docx import is most of its cost per page (~0.06 s of
~0.1 s for this table layout); its own flat ODT loads several times
faster. So LibreOffice itself converts, once per sheet *shape* (number of
rectification lines, font size of the sponsor units), a two-sheet .docx
filled with sentinel values to .fodt. That file is cut into a document
head and tail and one sheet's body, with a slot wherever a sentinel or a
sentinel QR picture was. A batch document is then the head, every sheet's
body with its own values and QR pictures, and the tail: plain string work.

Users never see these files; each village's .docx is written as before.
The PDF made from them is checked page by page like any other (printed ID,
every box within 0.5 mm), so a prototype that went wrong cannot print.
Prototypes are cached on disk by template content and shape, in the
user's private cache folder (``generator.user_cache``): a prototype holds
the sheet's printed text, so nobody else may be able to write it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from forms.errors import ConversionError
from generator import record_sheet
from generator.fast_template import CompiledTemplate
from generator.images import qr_png
from generator.merge import merge_bodies
from generator.pdf_convert import convert_documents
from generator.record_sheet import SheetFields, SheetShape, docx_context, qr_picture, value_names
from generator.user_cache import cache_dir as user_cache_dir

# Bump when the prototype format or the way it is cut changes.
PROTOTYPE_FORMAT_VERSION = 1
PROTOTYPE_CACHE_NAME = "fodt-prototypes"
PROTOTYPE_TIMEOUT_S = 120.0

OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_SENTINEL_FMT = "QZX{:04d}XZQ"
_PREFIX_SENTINEL = "QZXPFXXZQ"
_SENTINEL_RE = re.compile(r"QZX(\d{4}|PFX)XZQ")
_QR_SLOT_RE = re.compile(r"(<office:binary-data>)(.*?)(</office:binary-data>)", re.DOTALL)
_WHITESPACE_RE = re.compile(r"\s+")
_XMLNS_RE = re.compile(r'\s+xmlns(?::[\w.-]+)?="[^"]*"')
# Names LibreOffice wants unique in a document; each sheet prefixes its own.
_NAME_ATTR_RE = re.compile(r'((?:table|draw):name=")')
_PLACEHOLDER = "ducha-sheets-go-here"
_SPACES_RE = re.compile(r"  +")
_BREAKS_RE = re.compile(r"\r\n|[\n\r\a\f\v]")
_OTHER_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")

# A body is a list alternating literal text and slot names:
# "v:<value name>", "q:<page>" (QR picture, base64) or "p" (name prefix).
Body = list[str]


@dataclass(frozen=True)
class Prototype:
    head: str
    tail: str
    first: Body  # the document's first sheet
    repeat: Body  # every later sheet (starts with a page break)
    names: tuple[str, ...]


def odf_text(value: str) -> str:
    """``value`` as ODF paragraph content, spaces, tabs and line breaks kept."""
    text = escape(_OTHER_CONTROL_RE.sub("", value))
    text = _SPACES_RE.sub(lambda m: f' <text:s text:c="{len(m.group()) - 1}"/>', text)
    text = _BREAKS_RE.sub("<text:line-break/>", text)
    return text.replace("\t", "<text:tab/>")


def _sentinels(shape: SheetShape) -> tuple[dict[str, str], dict[str, str]]:
    names = value_names(shape)
    values = {name: _SENTINEL_FMT.format(i) for i, name in enumerate(names)}
    return values, {v: k for k, v in values.items()}


def _sentinel_pngs(shape: SheetShape, copy: str) -> list[bytes]:
    pages = 2 if shape.items else 1
    return [qr_png(f"DUCHA-PROTOTYPE-{copy}-{page}") for page in range(1, pages + 1)]


def _sentinel_docx(template: CompiledTemplate, shape: SheetShape, path: Path) -> Path:
    values, _ = _sentinels(shape)
    bodies = []
    for copy in ("A", "B"):
        pngs = _sentinel_pngs(shape, copy)
        fields = SheetFields(shape, values, [], pngs)
        pictures = tuple(qr_picture("0000-00", f"Proto{copy}", page, png) for page, png in enumerate(pngs, 1))
        bodies.append(template.render(docx_context(fields, pictures), pictures))
    return merge_bodies(template, bodies, path)


def _fragment(element: etree._Element) -> str:
    text = etree.tostring(element, encoding="unicode", with_tail=False)
    end = text.index(">")
    return _XMLNS_RE.sub("", text[:end]) + text[end:]


def _cut(unit: str, shape: SheetShape, pngs: Sequence[bytes], where: str) -> Body:
    values, by_sentinel = _sentinels(shape)
    wanted = {base64.b64encode(png).decode("ascii"): page for page, png in enumerate(pngs, start=1)}
    found_qr: list[int] = []

    def qr_slot(match: re.Match[str]) -> str:
        page = wanted.get(_WHITESPACE_RE.sub("", match.group(2)))
        if page is None:
            return match.group(0)
        found_qr.append(page)
        return match.group(1) + _SENTINEL_FMT.format(9000 + page) + match.group(3)

    unit = _QR_SLOT_RE.sub(qr_slot, unit)
    unit = _NAME_ATTR_RE.sub(lambda m: m.group(1) + _PREFIX_SENTINEL, unit)
    body: Body = []
    seen: set[str] = set()
    last = 0
    for match in _SENTINEL_RE.finditer(unit):
        body.append(unit[last: match.start()])
        token = match.group(0)
        if token == _PREFIX_SENTINEL:
            body.append("p")
        elif int(match.group(1)) >= 9000:
            body.append(f"q:{int(match.group(1)) - 9000}")
        elif token in by_sentinel:
            body.append("v:" + by_sentinel[token])
            seen.add(by_sentinel[token])
        else:
            raise ConversionError(f"纪实表原型（{where}）中有无法识别的标记 {token}")
        last = match.end()
    body.append(unit[last:])
    missing = sorted(set(values) - seen)
    if missing or sorted(found_qr) != list(range(1, len(pngs) + 1)):
        raise ConversionError(f"纪实表原型（{where}）缺少填写位置：{'、'.join(missing) or '二维码'}")
    return body


def _parse(fodt: Path, shape: SheetShape) -> Prototype:
    tree = etree.parse(str(fodt))
    text = tree.getroot().find(f"{{{OFFICE_NS}}}body/{{{OFFICE_NS}}}text")
    if text is None:
        raise ConversionError(f"纪实表原型 {fodt.name} 没有正文")
    content = [el for el in text if isinstance(el.tag, str) and not el.tag.endswith("-decls")]
    half = len(content) // 2
    if not content or len(content) % 2:
        raise ConversionError(f"纪实表原型 {fodt.name} 不能分成两张表")
    units = ["".join(_fragment(el) for el in content[:half]), "".join(_fragment(el) for el in content[half:])]
    for el in content:
        text.remove(el)
    text.append(etree.Comment(_PLACEHOLDER))
    whole = etree.tostring(tree, encoding="unicode")
    head, tail = whole.split(f"<!--{_PLACEHOLDER}-->")
    first = _cut(units[0], shape, _sentinel_pngs(shape, "A"), f"{fodt.name} 第一张")
    repeat = _cut(units[1], shape, _sentinel_pngs(shape, "B"), f"{fodt.name} 第二张")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + head
    return Prototype(head, tail, first, repeat, tuple(value_names(shape)))


def _cache_key(template_data: bytes, shape: SheetShape) -> str:
    digest = hashlib.sha256(template_data)
    # The code that fills the sentinels and cuts the prototype is part of it too.
    for module in (__file__, record_sheet.__file__):
        digest.update(Path(module).read_bytes())
    digest.update(f"|{PROTOTYPE_FORMAT_VERSION}|{shape.items}|{shape.unit_half_pt}".encode())
    return digest.hexdigest()[:32]


def _load_cached(path: Path) -> Prototype | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Prototype(raw["head"], raw["tail"], raw["first"], raw["repeat"], tuple(raw["names"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(path: Path, proto: Prototype) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    raw = {"head": proto.head, "tail": proto.tail, "first": proto.first, "repeat": proto.repeat,
           "names": list(proto.names)}
    tmp.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def prototypes(
    template: CompiledTemplate,
    template_data: bytes,
    shapes: Iterable[SheetShape],
    *,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> dict[SheetShape, Prototype]:
    """A prototype per shape, from the cache (default: the user's private one) or made by LibreOffice in one batch."""
    if cache_dir is None:
        cache_dir = user_cache_dir(PROTOTYPE_CACHE_NAME)
    found: dict[SheetShape, Prototype] = {}
    todo: dict[SheetShape, Path] = {}
    for shape in set(shapes):
        path = cache_dir / f"{_cache_key(template_data, shape)}.json"
        cached = _load_cached(path)
        if cached is not None and cached.names == tuple(value_names(shape)):
            found[shape] = cached
        else:
            todo[shape] = path
    if not todo:
        return found
    with tempfile.TemporaryDirectory(prefix="ducha-proto-") as tmp:
        work = Path(tmp)
        docs = {
            shape: _sentinel_docx(template, shape, work / f"proto-{shape.items}-{shape.unit_half_pt}.docx")
            for shape in todo
        }
        fodts = convert_documents(
            list(docs.values()), work / "out", target="fodt", workers=workers, timeout_s=PROTOTYPE_TIMEOUT_S
        )
        for shape, fodt in zip(docs, fodts):
            proto = _parse(fodt, shape)
            _store(todo[shape], proto)
            found[shape] = proto
    return found


def _fill(body: Body, fields: SheetFields, prefix: str) -> str:
    out: list[str] = []
    values = fields.values
    for i, piece in enumerate(body):
        if i % 2 == 0:
            out.append(piece)
        elif piece == "p":
            out.append(prefix)
        elif piece.startswith("v:"):
            out.append(odf_text(values[piece[2:]]))
        else:
            out.append(base64.b64encode(fields.qr_pngs[int(piece[2:]) - 1]).decode("ascii"))
    return "".join(out)


def write_document(proto: Prototype, sheets: Sequence[SheetFields], out_path: Path) -> Path:
    """One .fodt holding ``sheets`` in order, each from a new page; atomic."""
    if not sheets:
        raise ConversionError("没有可合并的纪实表")
    parts = [proto.head]
    for i, fields in enumerate(sheets):
        if set(fields.values) != set(proto.names):
            raise ConversionError("纪实表的填写项与原型不一致")
        parts.append(_fill(proto.first if i == 0 else proto.repeat, fields, f"s{i}-"))
    parts.append(proto.tail)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(out_path)
    return out_path
