"""Joins filled sheets into one .docx, only as LibreOffice's input.

LibreOffice spends ~0.2 s of fixed cost on every document it opens, as
much as on laying out a whole sheet, so a batch converts a few large
documents rather than many small ones. The sheets share the template's
parts; only the per-sheet QR pictures are copied over (python-docx
de-duplicates identical pictures). The merged file is never shown to
users, who get each village's own .docx.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from copy import deepcopy
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

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
