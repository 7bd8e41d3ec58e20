"""The red-header notice: content (golden body), .docx layout values, the PDF.

Regenerate the golden body after an intended wording change with:

    DUCHA_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_notice.py -k golden

and review the diff of tests/golden/notice_body.txt before committing it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from docx import Document
from docx.oxml.ns import qn

from ducha.consequences import UnitInfo, apply_rules, load_rules
from ducha.findings import compute_findings
from ducha.notice import NoticeFacts, assemble_notice, body_text, render
from ducha.results import FormResult
from ducha.rounds import CountyDraw, PlannedVillage, RoundDates
from generator.build_notice_template import NOTIFICATION_TEMPLATE, build_notification
from generator.notice_docx import write_document

GOLDEN = Path(__file__).parent / "golden" / "notice_body.txt"
MM_PER_TWIP = 25.4 / 1440
PT_PER_MM = 72 / 25.4
ROUND = "2015-08"


def _village(id_: int, county: str, town: str, name: str, reason: str, units: list[str]) -> PlannedVillage:
    return PlannedVillage(id=id_, code=f"V{id_:03d}", name=name, county=county, town=town, group=1,
                          reason=reason, units=units, visit_order=id_)


VILLAGES = [
    _village(1, "巴州区", "曾口镇", "五星村", "full", ["市财政局"]),
    _village(2, "巴州区", "清江镇", "天池村", "full", ["市交通运输局"]),
    _village(3, "恩阳区", "渔溪镇", "高坪村", "full", ["市教育局"]),
    _village(4, "南江县", "赶场镇", "新华村", "lottery", ["南江县农业局"]),
    _village(5, "通江县", "沙溪镇", "红光村", "lottery", ["通江县水务局"]),
    _village(6, "平昌县", "驷马镇", "水井村", "full", ["市卫生计生委", "市人社局"]),
    _village(7, "巴中经济开发区", "平梁乡", "光明村", "lottery", ["经开区建设局"]),
    _village(8, "巴州区", "大茅坪镇", "顺利村", "rectification", ["巴州区民政局"]),
]
UNITS = {
    "市财政局": UnitInfo("市财政局", "city", None),
    "市交通运输局": UnitInfo("市交通运输局", "city", None),
    "市教育局": UnitInfo("市教育局", "city", None),
    "市卫生计生委": UnitInfo("市卫生计生委", "city", None),
    "市人社局": UnitInfo("市人社局", "city", None),
    "南江县农业局": UnitInfo("南江县农业局", "county", "南江县"),
    "通江县水务局": UnitInfo("通江县水务局", "county", "通江县"),
    "经开区建设局": UnitInfo("经开区建设局", "county", "巴中经济开发区"),
    "巴州区民政局": UnitInfo("巴州区民政局", "county", "巴州区"),
}


def _result(village_id: int, status: str, no: tuple[str, ...] = (), fund: float = 12.0,
            satisfaction: float = 92.0) -> FormResult:
    indicators = {f"team_{i}": "yes" for i in range(1, 9)} | {f"sec_{i}": "yes" for i in range(1, 9)}
    for key in no:
        indicators[key] = "no"
    return FormResult(
        round=ROUND, village_id=village_id, form_id=f"{ROUND}-V{village_id:03d}", status=status,  # type: ignore[arg-type]
        indicators=indicators,  # type: ignore[arg-type]
        numbers={"poverty_fund": fund, "project_funds": 30.0, "visited_satisfied": 20,
                 "satisfaction_pct": satisfaction, "visited_dissatisfied": 2, "dissatisfaction_pct": 100 - satisfaction},
    )


RESULTS = [
    _result(1, "valid"),
    _result(2, "valid", ("team_2", "sec_1"), fund=8.0, satisfaction=80.0),
    _result(3, "invalid", ("team_3",)),
    _result(4, "valid", ("team_1", "team_5", "sec_2")),
    # village 5: no sheet came back
    _result(6, "valid", satisfaction=55.0),
    _result(7, "valid"),
    _result(8, "valid"),
]
FACTS = NoticeFacts(
    round=ROUND,
    dates=RoundDates(ROUND, dt.date(2015, 8, 17), dt.date(2015, 8, 28), dt.date(2015, 8, 30), dt.date(2015, 9, 5)),
    number=126, date=dt.date(2015, 9, 5), joint=False, groups=5,
    lottery={"南江县": CountyDraw(8, ["V004"]), "通江县": CountyDraw(10, ["V005"]),
             "巴中经济开发区": CountyDraw(5, ["V007"])},
    rectification_deadline=dt.date(2015, 9, 24), next_round_month=9,
    next_self_inspection_due=dt.date(2015, 10, 5),
)


@pytest.fixture(scope="module")
def content():
    rules = load_rules()
    findings = compute_findings(ROUND, VILLAGES, RESULTS, rules.problem_definition())
    consequences = apply_rules(findings, rules, UNITS)
    return findings, consequences, assemble_notice(findings, consequences, FACTS, UNITS)


@pytest.fixture(scope="module")
def rendered(content, tmp_path_factory):
    out = tmp_path_factory.mktemp("notice")
    docx_path, pdf_path, pages = render(content[2], out, "通报_2015-08_126号")
    return docx_path, pdf_path, pages


def test_body_matches_golden(content):
    text = body_text(content[2])
    if os.environ.get("DUCHA_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_figures_in_text_match_tables(content):
    _findings, consequences, document = content
    text = body_text(document)
    county_table = document.attachments[0].content[1]
    total_row = county_table.rows[-1]
    assert total_row[0] == "合计"
    villages, returned, valid, invalid, missing = total_row[1:6]
    assert f"共督查贫困村{villages}个" in text
    assert f"收回{returned}份，未收回{missing}份" in text
    assert f"有效督查{valid}份" in text and f"无效督查{invalid}份" in text
    assert (villages, returned, valid, invalid, missing) == ("8", "7", "6", "1", "1")
    # (92 * 5 + 80 + 55) / 7 returned sheets; every rate has one decimal.
    assert total_row[9] == "85.0%" and "平均满意率为85.0%" in text
    # Clean: villages 1, 6, 7, 8 of the 7 settled sheets.
    assert total_row[8] == "57.1%" and "4个村各项督查指标全部达标，占57.1%" in text
    assert f"对{'、'.join(consequences.criticised_units)}共3个部门（单位）予以通报批评" in text
    units = document.attachments[1].content[0]
    assert {row[1] for row in units.rows} >= set(consequences.criticised_units)
    assert "南江县8个村抽查1个（12.5%）" in text
    assert "于2015年9月24日前整改到位" in text
    # The counties' next self-inspection report: the 5th of the month after next round's month.
    assert "通报9月督查结果，并于2015年10月5日前送市委组织部备查" in text


def test_rules_pick_the_criticised_and_admonished(content):
    findings, consequences, _ = content
    # Invalid, missing and three 否 are criticised; the clean units are not.
    assert consequences.criticised_units == ["市教育局", "南江县农业局", "通江县水务局"]
    assert {a.unit for a in consequences.admonitions} == {"市交通运输局", "南江县农业局"}
    deductions = {d.target: d.points for d in consequences.deductions}
    assert deductions == {"南江县": 1.5, "通江县": 0.5, "市交通运输局": 1.0, "市教育局": 0.5}
    assert "市财政局" in findings.units_without_problems()


def _style_font(style) -> str:
    rfonts = style.element.rPr.find(qn("w:rFonts"))
    return rfonts.get(qn("w:eastAsia"))


def test_docx_page_and_grid(rendered):
    document = Document(str(rendered[0]))
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert abs(section.top_margin.mm - 37) <= 1
    assert abs(section.left_margin.mm - 28) <= 1
    text_width = section.page_width.mm - section.left_margin.mm - section.right_margin.mm
    assert abs(text_width - 156) <= 0.5
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars"
    assert grid.get(qn("w:linePitch")) == "579" and grid.get(qn("w:charSpace")) == "-849"
    normal = document.styles["Normal"].element.pPr.find(qn("w:spacing"))
    assert normal.get(qn("w:line")) == "579" and normal.get(qn("w:lineRule")) == "exact"


def test_docx_header_title_and_fonts(rendered):
    document = Document(str(rendered[0]))
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    issuer, number, title, addressees = paragraphs[:4]
    assert issuer.text == "中共巴中市委组织部"
    assert issuer.style.font.color.rgb is not None and str(issuer.style.font.color.rgb) == "FF0000"
    assert number.text == "巴市组办〔2015〕126号"
    border = number.style.element.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == "FF0000"
    assert title.text == "关于2015年8月驻村工作队和第一书记\n到村履职情况专项督查情况的通报"
    assert title.style.font.size.pt == 22
    assert addressees.text.endswith("巴中经济开发区党工委：")
    body = document.styles["公文正文"]
    assert document.styles["Normal"].font.size.pt == 16 and body.font.size is None or body.font.size.pt == 16
    assert _style_font(document.styles["公文正文"]) == "仿宋_GB2312"
    assert _style_font(document.styles["公文一级标题"]) == "黑体"
    assert _style_font(document.styles["公文二级标题"]) == "楷体_GB2312"
    assert _style_font(document.styles["公文标题"]) == "方正小标宋简体"
    styles_xml = document.styles.element.xml
    assert "asciiTheme" not in styles_xml and "eastAsiaTheme" not in styles_xml
    # The code picks styles; no run carries a font of its own.
    assert not document.element.body.findall(".//" + qn("w:r") + "/" + qn("w:rPr") + "/" + qn("w:rFonts"))
    headings = [p for p in document.paragraphs if p.style.name == "公文一级标题"]
    assert [p.text for p in headings] == ["一、基本情况", "二、总体情况", "三、督查发现的问题", "四、督查结果运用", "五、有关要求",
                                          "一、分县（区）情况", "二、分督查组情况"]
    # A run-in heading "（一）…。" is in the 楷体 character style, the rest of its paragraph in the body style.
    leads = [r for p in document.paragraphs for r in p.runs if r.style is not None and r.style.name == "公文二级标题字符"]
    assert leads and leads[0].text.startswith("（一）驻村工作队和第一书记人员选派情况")
    assert _style_font(document.styles["公文二级标题字符"]) == "楷体_GB2312"


def test_red_line_width(rendered):
    with pdfplumber.open(rendered[1]) as pdf:
        page = pdf.pages[0]
        red = [obj for obj in page.lines + page.rects
               if obj.get("stroking_color") in ((1, 0, 0), (1.0, 0.0, 0.0), [1, 0, 0])
               or obj.get("non_stroking_color") in ((1, 0, 0), (1.0, 0.0, 0.0), [1, 0, 0])]
        widths = [(o["x1"] - o["x0"]) / PT_PER_MM for o in red]
        assert widths and any(abs(w - 156) <= 1.5 for w in widths), widths
        # The line sits between the document number and the title.
        number_top = min(c["top"] for c in page.chars if c["text"] == "〔")
        line_top = next(o["top"] for o in red if abs((o["x1"] - o["x0"]) / PT_PER_MM - 156) <= 1.5)
        assert line_top > number_top


def test_page_number_footers(rendered):
    document = Document(str(rendered[0]))
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    for footer, alignment in ((section.footer, "right"), (section.even_page_footer, "left")):
        paragraph = footer.paragraphs[0]
        xml = paragraph._p.xml
        assert "PAGE" in xml
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        jc = paragraph.style.element.pPr.find(qn("w:jc"))
        assert jc.get(qn("w:val")) == alignment


def test_colophon_lines(rendered):
    document = Document(str(rendered[0]))
    body = document.element.body
    # No text box anywhere: the colophon is a table in the text flow, the body's last table.
    assert not body.findall(".//" + qn("w:txbxContent")) and not body.findall(".//" + qn("w:drawing"))
    tbl = body.findall(qn("w:tbl"))[-1]
    rows = ["".join(t.text or "" for t in tr.iter(qn("w:t"))) for tr in tbl.findall(qn("w:tr"))]
    assert rows == ["抄送：市直工委，市委目督办，市扶贫移民局。", "中共巴中市委组织部办公室2015年9月5日印发"]
    borders = tbl.find(qn("w:tblPr")).find(qn("w:tblBorders"))
    sizes = {side: borders.find(qn(f"w:{side}")).get(qn("w:sz")) for side in ("top", "insideH", "bottom")}
    assert sizes == {"top": "8", "insideH": "6", "bottom": "8"}


def test_colophon_sits_at_the_foot_of_the_last_page(rendered):
    with pdfplumber.open(rendered[1]) as pdf:
        last = pdf.pages[-1]
        text = re.sub(r"\s+", "", last.extract_text() or "")
        rules = sorted(
            (o for o in last.lines + last.rects if abs((o["x1"] - o["x0"]) / PT_PER_MM - 156) <= 1.0),
            key=lambda o: o["top"],
        )[-3:]
    assert "抄送：市直工委，市委目督办，市扶贫移民局。" in text and "2015年9月5日印发" in text
    text_bottom_mm = 37 + 225
    assert abs(rules[-1]["top"] / PT_PER_MM - text_bottom_mm) <= 1.0
    widths_mm = [round(o["linewidth"] / PT_PER_MM, 2) for o in rules]
    assert widths_mm == [0.35, 0.26, 0.35]
    # The colophon is on the back of a sheet: an even page.
    assert len(pdf.pages) % 2 == 0


def test_pdf_text_fonts_and_page_numbers(rendered, content):
    document = content[2]
    _, pdf_path, pages = rendered
    with pdfplumber.open(pdf_path) as pdf:
        assert len(pdf.pages) == pages
        texts = [re.sub(r"\s+", "", page.extract_text() or "") for page in pdf.pages]
        fonts = {c["fontname"].split("+")[-1] for page in pdf.pages for c in page.chars}
        # The title (22 pt) and the issuer (larger) are the only text of 21 pt and up.
        pdf_title_chars = [c for c in pdf.pages[0].chars if c["size"] >= 21 and c["text"].strip()]
    whole = "".join(texts)
    assert "巴市组办〔2015〕126号" in texts[0]
    assert "关于2015年8月驻村工作队和第一书记到村履职情况专项督查情况的通报" in texts[0]
    for block in document.body:
        for figure in re.findall(r"[^，。；：、（）]*?\d[\d.]*%?[个份项分年月日]?", block.text):
            assert re.sub(r"\s+", "", figure) in whole, figure
    for n in range(1, pages + 1):
        assert f"—{n}—" in texts[n - 1]
    assert "抄送" in texts[-1] and "印发" in texts[-1]
    assert any("FandolFang" in f for f in fonts), fonts
    assert any("UKai" in f for f in fonts), fonts
    assert any("NotoSansCJK" in f for f in fonts), fonts
    listing = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:]]
    assert rows and all(row[-5] == "yes" for row in rows), listing  # the "emb" column
    # 小标宋 (title and issuer): generator/fonts.py gives the bold serif face
    # the standard name, so the bold face is embedded, not the regular one.
    title_fonts = {c["fontname"].split("+")[-1] for c in pdf_title_chars}
    assert title_fonts and all("NotoSerifCJK" in f and "Bold" in f for f in title_fonts), title_fonts


def test_template_edits_show_up(content, tmp_path):
    """A style font and a wording changed in Word reach the next notice."""
    template = tmp_path / "notification.docx"
    shutil.copy(NOTIFICATION_TEMPLATE, template)
    edited = Document(str(template))
    rfonts = edited.styles["公文正文"].element.rPr.find(qn("w:rFonts"))
    rfonts.set(qn("w:eastAsia"), "楷体_GB2312")
    for paragraph in edited.paragraphs:
        if paragraph.text.startswith("各县（区）党委"):
            paragraph.runs[0].text = "各县（区）委组织部："
            for run in paragraph.runs[1:]:
                run.text = ""
    edited.save(str(template))
    out = write_document(template, content[2], tmp_path / "out.docx")
    document = Document(str(out))
    assert _style_font(document.styles["公文正文"]) == "楷体_GB2312"
    body = [p for p in document.paragraphs if p.style.name == "公文正文" and p.text.strip()]
    assert body and body[0].text.startswith("按照《关于开展驻村工作队")
    assert any(p.text == "各县（区）委组织部：" for p in document.paragraphs)


def test_joint_issuers_are_stacked_and_sign(content, tmp_path):
    findings, consequences, _ = content
    document = assemble_notice(findings, consequences, dataclasses.replace(FACTS, joint=True), UNITS)
    out = Document(str(write_document(NOTIFICATION_TEMPLATE, document, tmp_path / "joint.docx")))
    names = ["中共巴中市委组织部", "中共巴中市直属机关工作委员会", "巴中市委目标督查办公室", "巴中市扶贫和移民工作局"]
    issuer = out.paragraphs[0]
    assert issuer.text.split("\n") == names
    assert str(issuer.style.font.color.rgb) == "FF0000"
    signature = next(p for p in out.paragraphs if p.style.name == "公文署名")
    assert signature.text.split("\n") == names
    colophon = "".join(t.text or "" for t in out.element.body.iter(qn("w:t")) if (t.text or "").startswith("抄送"))
    assert colophon == "抄送：市委办公室，市政府办公室。"


def test_template_is_reproducible(tmp_path):
    rebuilt = build_notification(tmp_path / "notification.docx")
    fresh, stored = Document(str(rebuilt)), Document(str(NOTIFICATION_TEMPLATE))
    assert [p.text for p in fresh.paragraphs] == [p.text for p in stored.paragraphs]
    assert fresh.styles.element.xml == stored.styles.element.xml


def test_colophon_goes_to_an_even_page_with_a_blank_page_when_needed():
    from ducha.notice import TEXT_BOTTOM_PT, ColophonSeen, colophon_placement
    from generator.notice_docx import ColophonPlacement

    first = ColophonPlacement()
    # Whole on an even page: stays, pushed down to the foot of the text area.
    stay = colophon_placement(ColophonSeen(page=4, top_pt=500.0, bottom_pt=560.0, whole=True), first)
    assert stay.pages_ahead == 0 and 170 < stay.spacer_pt < TEXT_BOTTOM_PT - 560.0
    # Text ends on an odd page: the colophon goes to the next (even) page.
    assert colophon_placement(ColophonSeen(5, 500.0, 560.0, True), first).pages_ahead == 1
    # No room left on an even page: a blank odd page, then the colophon on the even one.
    assert colophon_placement(ColophonSeen(6, 700.0, 720.0, False), first).pages_ahead == 2


def test_village_labels_are_the_shortest_unambiguous_name():
    from ducha.notice import village_labels

    labels = village_labels([("巴州区", "曾口镇", "桂花村"), ("巴州区", "清江镇", "桂花村"),
                             ("巴中经济开发区", "平梁乡", "光明村"), ("巴州区", "平梁乡", "光明村"),
                             ("南江县", "赶场镇", "新华村")])
    assert labels[("巴州区", "曾口镇", "桂花村")] == "曾口镇桂花村"
    assert labels[("巴中经济开发区", "平梁乡", "光明村")] == "经开区平梁乡光明村"
    assert labels[("南江县", "赶场镇", "新华村")] == "新华村"


def test_table_columns_fit_their_longest_line():
    from generator.notice_docx import Table, fit_widths

    table = Table(("序号", "帮扶单位", "存在问题"), (("1", "通江县人力资源和社会保障局", "很长的问题" * 10),),
                  left_columns=frozenset({2}))
    widths = fit_widths(table)
    assert abs(sum(widths) - 156) < 0.5
    # 13 characters of 10.5 pt plus the cell margins
    assert widths[1] >= 13 * 10.5 / 72 * 25.4 + 3.8


def test_blank_page_and_colophon_page_carry_no_page_number(content, tmp_path):
    """GB/T 9704 7.5.1: with a blank page before the colophon, neither page is numbered."""
    from ducha.notice import END_PARAGRAPH_PT, TEXT_BOTTOM_PT, TEXT_TOP_PT
    from generator.notice_docx import ColophonPlacement
    from generator.pdf_convert import convert_to_pdf

    spacer = TEXT_BOTTOM_PT - TEXT_TOP_PT - 120.0 - END_PARAGRAPH_PT
    docx_path = write_document(NOTIFICATION_TEMPLATE, content[2], tmp_path / "通报.docx",
                               colophon=ColophonPlacement(2, spacer))
    (pdf_path,) = convert_to_pdf([docx_path], tmp_path, workers=1)
    with pdfplumber.open(pdf_path) as pdf:
        texts = [re.sub(r"\s+", "", page.extract_text() or "") for page in pdf.pages]
    numbered = [n for n, text in enumerate(texts, start=1) if f"—{n}—" in text]
    assert texts[-2] == ""  # the blank page: no number, nothing at all
    assert "抄送" in texts[-1] and not re.search(r"—\d+—", texts[-1])
    # Every page before them keeps its number, counted from the first page.
    assert numbered == list(range(1, len(texts) - 1))
    # The .docx says the same: the last section's footers are empty, the one before is numbered.
    document = Document(str(docx_path))
    assert len(document.sections) == 2
    assert "PAGE" in document.sections[0].footer._element.xml
    for footer in (document.sections[-1].footer, document.sections[-1].even_page_footer):
        assert not footer.is_linked_to_previous and "PAGE" not in footer._element.xml
