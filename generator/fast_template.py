"""docxtpl with its per-render preprocessing done once per template.

docxtpl re-runs its tag-cleaning regexes and recompiles the Jinja source
on every render (~0.1 s a sheet); both depend only on the template's XML,
so they are cached here. The rendered output is the same.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from docx.oxml.shape import CT_Inline
from docx.shared import Mm
from docxtpl import DocxTemplate
from jinja2 import Environment, Template
from lxml import etree

from forms.errors import FormDefinitionError

TEMPLATE_CACHE_ENTRIES = 8


@lru_cache(maxsize=TEMPLATE_CACHE_ENTRIES)
def _patched(xml: str) -> str:
    return DocxTemplate.patch_xml(_PATCHER, xml)


class _CachingEnvironment(Environment):
    @lru_cache(maxsize=TEMPLATE_CACHE_ENTRIES)  # noqa: B019 - one long-lived environment per process
    def _compiled(self, source: str) -> Template:
        return super().from_string(source)

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Template:
        if globals is None and template_class is None and isinstance(source, str):
            return self._compiled(source)
        return super().from_string(source, globals, template_class)


_ENVIRONMENT = _CachingEnvironment(autoescape=True)


class FastDocxTemplate(DocxTemplate):
    def patch_xml(self, xml: str) -> str:
        return _patched(xml)

    def render_fast(self, context: dict[str, Any]) -> None:
        """render() with autoescape on, as every ducha document needs."""
        self.render(context, jinja_env=_ENVIRONMENT, autoescape=True)


_PATCHER = DocxTemplate.__new__(DocxTemplate)


# --- Record sheets: the whole package written without python-docx ---------
#
# Opening the template with python-docx, handing the body to docxtpl and
# saving re-parses and re-compresses ~1 MB of parts for every sheet (~60 ms);
# only the body and its relationships differ between sheets. A compiled
# template renders the body with the same docxtpl patching and Jinja
# environment and appends it, with the sheet's pictures, to the unchanged
# parts compressed once.

DOCUMENT_PART = "word/document.xml"
DOCUMENT_RELS_PART = "word/_rels/document.xml.rels"
MEDIA_DIR = "word/media/"
# Level 1 deflate: the body shrinks ~10x all the same, in a third of the time.
BODY_COMPRESS_LEVEL = 1
IMAGE_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
_UNSUPPORTED_TAGS = ("{%tc", "{%-tc")
_DOCPR_ID_RE = re.compile(r'(<wp:docPr\b[^>]*?\bid=")\d+(")')
_PARA_OPEN_RE = re.compile(r"\n<w:p([ >])")
_PARA_MARK_RE = re.compile(r"<w:p([ >])")


@dataclass(frozen=True)
class Picture:
    """An inline PNG in the filled body; ``rid`` must be unique in a document."""

    rid: str
    filename: str
    png: bytes
    width_mm: float
    height_mm: float
    shape_id: int

    def __html__(self) -> str:
        inline = CT_Inline.new_pic_inline(
            self.shape_id, self.rid, self.filename, Mm(self.width_mm), Mm(self.height_mm)
        )
        xml = etree.tostring(inline, encoding="unicode")
        return f'</w:t></w:r><w:r><w:drawing>{xml}</w:drawing></w:r><w:r><w:t xml:space="preserve">'


@dataclass(frozen=True)
class FilledBody:
    """A rendered ``<w:body>`` and the pictures it refers to."""

    xml: str
    pictures: tuple[Picture, ...]


class CompiledTemplate:
    """A .docx template prepared once, filled many times."""

    def __init__(self, data: bytes, name: str = "template") -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            parts = {info.filename: src.read(info) for info in src.infolist()}
        document = parts[DOCUMENT_PART].decode("utf-8")
        start, end = document.find("<w:body>"), document.rfind("</w:body>")
        if start < 0 or end < 0:
            raise FormDefinitionError(f"模板 {name} 的正文结构无法识别")
        end += len("</w:body>")
        self._prefix, self._suffix = document[:start], document[end:]
        body = document[start:end]
        if any(tag in body for tag in _UNSUPPORTED_TAGS):
            raise FormDefinitionError(f"模板 {name} 使用了不支持的表格列循环（{{%tc）")
        for part_name, blob in parts.items():
            if part_name.startswith(("word/header", "word/footer", "word/footnotes")) and b"{{" in blob:
                raise FormDefinitionError(f"模板 {name} 的页眉、页脚或脚注中含有填写标记，纪实表不支持")
        source = _PARA_MARK_RE.sub(r"\n<w:p\1", DocxTemplate.patch_xml(_PATCHER, body))
        self._template = _ENVIRONMENT.from_string(source)
        self._rels = parts[DOCUMENT_RELS_PART].decode("utf-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as base:
            for part_name, blob in parts.items():
                if part_name not in (DOCUMENT_PART, DOCUMENT_RELS_PART):
                    base.writestr(part_name, blob)
        self._base = buffer.getvalue()

    def render(self, context: dict[str, Any], pictures: tuple[Picture, ...]) -> FilledBody:
        xml = self._template.render(context)
        xml = _PARA_OPEN_RE.sub(r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if any(ch in xml for ch in "\t\a\n\f"):
            xml = DocxTemplate.resolve_listing(_PATCHER, xml)
        ids = iter(range(1001, 1_000_000))
        xml = _DOCPR_ID_RE.sub(lambda m: f"{m.group(1)}{next(ids)}{m.group(2)}", xml)
        return FilledBody(xml, pictures)

    def write(self, body_xml: str, pictures: Sequence[Picture], out_path: Path) -> Path:
        """Write a package with ``body_xml`` as its body; atomic (temp file, then rename)."""
        rels = "".join(
            f'<Relationship Id="{p.rid}" Type="{IMAGE_REL_TYPE}" Target="media/{p.filename}"/>' for p in pictures
        )
        closing = self._rels.rfind("</Relationships>")
        buffer = io.BytesIO(self._base)
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=BODY_COMPRESS_LEVEL) as out:
            out.writestr(DOCUMENT_PART, self._prefix + body_xml + self._suffix)
            out.writestr(DOCUMENT_RELS_PART, self._rels[:closing] + rels + self._rels[closing:])
            for p in pictures:
                out.writestr(MEDIA_DIR + p.filename, p.png, compress_type=zipfile.ZIP_STORED)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(out_path.name + ".part")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(out_path)
        return out_path


@lru_cache(maxsize=TEMPLATE_CACHE_ENTRIES)
def compiled_template(path: Path, mtime_ns: int) -> CompiledTemplate:
    """``mtime_ns`` is part of the key, so an edited template is re-read."""
    del mtime_ns
    return CompiledTemplate(path.read_bytes(), path.name)
