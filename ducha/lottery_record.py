"""The printable lottery record (摇号记录), with lines for witnesses to sign.

It carries everything needed to re-run the draw by hand or with another
program: the seed, the algorithm, the population fingerprint and, per
county, the population size, the number drawn and the villages drawn.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.run import Run
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.counties import county_order
from ducha.db.models import Village
from ducha.lottery import ALGORITHM, stored_lottery
from ducha.rounds import parse_round_id, round_plan

BODY_FONT = "仿宋"
TITLE_FONT = "方正小标宋简体"
TITLE_SIZE_PT = 22
BODY_SIZE_PT = 14
TABLE_SIZE_PT = 11
PAGE_MARGIN_MM = 25
WITNESS_LINES = ("摇号操作人", "监　督　人", "见　证　人", "见　证　人", "见　证　人")
COLUMN_WIDTHS_MM = (28, 30, 20, 82)

METHOD_TEXT = (
    "抽签总体：每个县（区）中只由县级部门（单位）帮扶的贫困村，按村代码从小到大排列。"
    "排序方法：对每个村计算 HMAC-SHA256（密钥为摇号种子的 UTF-8 字节，消息为“县（区）名|村代码”的 UTF-8 字节），"
    "按所得十六进制串从小到大排序，取前 ⌈总体村数×抽查比例⌉ 个村（不足 1 个按 1 个，向上取整）。"
    "总体指纹：把各县（区）按名称、各村按代码排序后的“县（区）名|村代码”逐行（以换行结尾）拼接，计算 SHA-256。"
    "任何人都可以用公开的种子和台账重新计算，结果应完全相同；也可以运行 ducha lottery verify 复核。"
)


def _font(run: Run, name: str, size_pt: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    r_pr = run._element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(r_fonts)
    r_fonts.set(qn("w:eastAsia"), name)


def write_lottery_record(session: Session, round_id: str, path: Path) -> Path:
    year, month = parse_round_id(round_id)
    plan = round_plan(session, round_id)
    record = stored_lottery(session, round_id)
    names = {
        code: (county, town, name)
        for code, county, town, name in session.execute(
            select(Village.code, Village.county, Village.town, Village.name)
        )
    }
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(PAGE_MARGIN_MM))

    def para(
        text: str, size: float = BODY_SIZE_PT, bold: bool = False, center: bool = False, font: str = BODY_FONT
    ) -> None:
        p = doc.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(text), font, size, bold)

    para(f"{year}年{month}月驻村工作队和第一书记履职情况专项督查", TITLE_SIZE_PT, center=True, font=TITLE_FONT)
    para("摇号抽查记录", TITLE_SIZE_PT, center=True, font=TITLE_FONT)
    para(f"督查时间：{plan.dates.start:%Y年%m月%d日}至{plan.dates.end:%Y年%m月%d日}")
    para(f"摇号种子：{record.seed}")
    para(f"摇号时间：{record.drawn_at:%Y年%m月%d日 %H:%M}")
    para(f"算法：{ALGORITHM}，版本 {record.algorithm_version}")
    para(f"抽签总体指纹（SHA-256）：{record.population_sha256}", size=TABLE_SIZE_PT)
    para(METHOD_TEXT, size=TABLE_SIZE_PT)

    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.autofit = False
    for cell, text in zip(
        table.rows[0].cells, ("县（区）", "县级单位帮扶村数", "抽取村数", "抽中的村（乡镇 村名 村代码）")
    ):
        _font(cell.paragraphs[0].add_run(text), BODY_FONT, TABLE_SIZE_PT, bold=True)
    for county in sorted(record.result, key=county_order):
        entry = record.result[county]
        drawn_text = "\n".join(f"{names[c][1]} {names[c][2]} {c}" if c in names else c for c in entry["drawn"])
        row = table.add_row().cells
        for cell, text in zip(row, (county, str(len(entry["population"])), str(len(entry["drawn"])), drawn_text)):
            _font(cell.paragraphs[0].add_run(text), BODY_FONT, TABLE_SIZE_PT)

    # Word reads the cell widths, LibreOffice the grid's: set both.
    for column, width in zip(table.columns, COLUMN_WIDTHS_MM):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, COLUMN_WIDTHS_MM):
            cell.width = Mm(width)
    para("")
    para("以上摇号过程公开进行，结果如实记录。")
    for role in WITNESS_LINES:
        para(f"{role}（签字）：________________  日期：______年____月____日")
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
