"""Joins filled sheets into one .docx, only as LibreOffice's input.

LibreOffice spends ~0.2 s of fixed cost on every document it opens, as
much as on laying out a whole sheet, so a batch converts a few large
documents rather than many small ones. The sheets share the template's
parts; only the per-sheet QR pictures are copied over (python-docx
de-duplicates identical pictures). The merged file is never shown to
users, who get each village's own .docx.

``merge_bodies`` joins sheets filled from one compiled template straight
from their rendered XML (a few ms a sheet); ``merge_documents`` joins any
saved documents (python-docx, ~40 ms a sheet).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from copy import deepcopy
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from forms.errors import FormDefinitionError
from generator.fast_template import CompiledTemplate, FilledBody

_EMBED = qn("r:embed")


def _break_before(body_children: list) -> None:  # type: ignore[type-arg]
    """Start the appended sheet on a new page without adding a blank line."""
    first = next((el for el in body_children if el.tag == qn("w:p")), None)
    if first is None:
        return
    # The template may say pageBreakBefore="0" on it; python-docx sets it right.
    first.get_or_add_pPr().pageBreakBefore_val = True


def merge_documents(paths: Sequence[Path], out_path: Path) -> Path:
    base = Document(str(paths[0]))
    body = base.element.body
    sect_pr = body.find(qn("w:sectPr"))
    for path in paths[1:]:
        doc = Document(str(path))
        children = [deepcopy(el) for el in doc.element.body if el.tag != qn("w:sectPr")]
        for el in children:
            for blip in el.iter(qn("a:blip")):
                rid = blip.get(_EMBED)
                if rid is None:
                    continue
                blob = doc.part.related_parts[rid].blob
                new_rid, _image = base.part.get_or_add_image(io.BytesIO(blob))
                blip.set(_EMBED, new_rid)
        _break_before(children)
        for el in children:
            if sect_pr is not None:
                sect_pr.addprevious(el)
            else:
                body.append(el)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    base.save(str(out_path))
    return out_path


_FIRST_PARA_RE = re.compile(r"<w:p(?=[ >])[^>]*>")
_PAGE_BREAK_RE = re.compile(r"<w:pageBreakBefore\b[^>]*/>")


def _body_content(xml: str) -> tuple[str, str]:
    """(content, final sectPr) of a ``<w:body>...</w:body>`` string."""
    inner = xml[len("<w:body>"): -len("</w:body>")]
    sect = inner.rfind("<w:sectPr")
    if sect < 0:
        return inner, ""
    return inner[:sect], inner[sect:]


def _with_page_break(content: str) -> str:
    """The content with its first paragraph starting a new page."""
    match = _FIRST_PARA_RE.search(content)
    if match is None:
        return content
    head, rest = content[: match.end()], content[match.end():]
    if rest.startswith("<w:pPr>"):
        ppr_end = rest.index("</w:pPr>")
        ppr = _PAGE_BREAK_RE.sub("", rest[len("<w:pPr>"): ppr_end])
        # Schema order: pStyle, keepNext, keepLines, then pageBreakBefore.
        lead = re.match(r"(?:<w:pStyle\b[^>]*/>)?(?:<w:keepNext\b[^>]*/>)?(?:<w:keepLines\b[^>]*/>)?", ppr)
        cut = lead.end() if lead else 0
        return head + "<w:pPr>" + ppr[:cut] + "<w:pageBreakBefore/>" + ppr[cut:] + rest[ppr_end:]
    return head + "<w:pPr><w:pageBreakBefore/></w:pPr>" + rest


def merge_bodies(template: CompiledTemplate, bodies: Sequence[FilledBody], out_path: Path) -> Path:
    """Join filled bodies of one template into one document, each from a new page.

    Built from the rendered XML directly: nothing is parsed again. The
    pictures' relationship ids must be unique across ``bodies``.
    """
    if not bodies:
        raise FormDefinitionError("没有可合并的纪实表")
    parts: list[str] = []
    final_sect = ""
    for i, body in enumerate(bodies):
        content, sect = _body_content(body.xml)
        final_sect = final_sect or sect
        parts.append(content if i == 0 else _with_page_break(content))
    pictures = [p for body in bodies for p in body.pictures]
    rids = [p.rid for p in pictures]
    if len(set(rids)) != len(rids):
        raise FormDefinitionError("合并的纪实表中图片编号重复（同一村出现两次？）")
    return template.write("<w:body>" + "".join(parts) + final_sect + "</w:body>", pictures, out_path)
