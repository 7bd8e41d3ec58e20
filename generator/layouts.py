"""Measures the stored layouts (``forms/layouts/rs1-p1.json``, ``-p2.json``).

Renders one reference sheet with a full follow-up page through the real
template and LibreOffice, reads the geometry back with pdfplumber and
stores it. Re-run after changing the template:
``python -m generator.layouts``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from forms.geometry import LAYOUTS_DIR, PageLayout, save_layout
from forms.record_sheet import INDICATORS, LAYOUT_VERSION, RECTIFICATION_MAX_ITEMS_PER_PAGE
from generator.build_templates import RECORD_SHEET_TEMPLATE
from generator.measure import measure_layout
from generator.pdf_convert import convert_to_pdf
from generator.record_sheet import RectificationLine, SheetData, render_sheet

REFERENCE_KEY = b"ducha-layout-reference"


def reference_sheet() -> SheetData:
    """A fictional village with every field set and a full page 2."""
    items = tuple(
        RectificationLine(
            item_id=i,
            indicator_key=INDICATORS[(i - 1) % len(INDICATORS)].key,
            description="参考整改事项：资料不全，需补齐",
            origin_round="2015-07",
        )
        for i in range(1, RECTIFICATION_MAX_ITEMS_PER_PAGE + 1)
    )
    return SheetData(
        round="2015-08",
        village_code="000000000000",
        village="参考村",
        county="巴州区",
        town="参考镇",
        group_no=1,
        sponsor_units=("巴中市参考局",),
        team_size=3,
        team_leader="队长甲",
        secretary="书记乙",
        population=1000,
        poor_population=100,
        income_yuan=3000.0,
        rectification=items,
    )


def measure_reference(template: Path = RECORD_SHEET_TEMPLATE) -> list[PageLayout]:
    with tempfile.TemporaryDirectory(prefix="ducha-layout-") as tmp:
        rendered = render_sheet(reference_sheet(), REFERENCE_KEY, Path(tmp) / "reference.docx", template)
        [pdf] = convert_to_pdf([rendered.docx], Path(tmp), expected_pages={rendered.docx: 2})
        return [measure_layout(pdf, index, index + 1, LAYOUT_VERSION) for index in range(2)]


def main() -> None:
    parser = argparse.ArgumentParser(description="测量纪实表版式并保存到 forms/layouts")
    parser.add_argument("--out", type=Path, default=LAYOUTS_DIR)
    args = parser.parse_args()
    for layout in measure_reference():
        print(save_layout(layout, args.out))


if __name__ == "__main__":
    main()
