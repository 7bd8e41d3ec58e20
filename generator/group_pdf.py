"""Joins a group's cover and sheets into one print-ready PDF.

Each part starts on an odd page, so with duplex printing every sheet
begins on a fresh sheet of paper; blank pages pad where needed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pypdfium2

from forms.errors import ConversionError

Part = Path | tuple[Path, Sequence[int]]


def assemble(parts: Sequence[Part], out_path: Path) -> tuple[list[list[int]], int]:
    """Write ``out_path``; return each part's page numbers (from 1) and the total.

    A part is a whole PDF, or (PDF, page indices from 0) for a slice of one.
    """
    merged = pypdfium2.PdfDocument.new()
    sources: dict[Path, pypdfium2.PdfDocument] = {}
    placed: list[list[int]] = []
    tmp = out_path.with_name(out_path.name + ".part")
    try:
        for part in parts:
            path, indices = (part, None) if isinstance(part, Path) else (part[0], list(part[1]))
            if path not in sources:
                sources[path] = pypdfium2.PdfDocument(str(path))
            source = sources[path]
            if len(merged) % 2 == 1:
                width, height = source[0].get_size()
                merged.new_page(width, height).close()
            start = len(merged)
            merged.import_pages(source, indices)
            placed.append(list(range(start + 1, len(merged) + 1)))
        total = len(merged)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        merged.save(str(tmp))
    finally:
        for source in sources.values():
            source.close()
        merged.close()
    check = pypdfium2.PdfDocument(str(tmp))
    try:
        written = len(check)
    finally:
        check.close()
    if written != total:
        tmp.unlink(missing_ok=True)
        raise ConversionError(f"合并后的 PDF 页数不对（{written}，应为 {total}）：{out_path.name}")
    os.replace(tmp, out_path)
    return placed, total
