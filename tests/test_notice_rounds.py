"""The notice on the sample round (140 villages): shape, grid, placement, draft marking,
portability, and text that follows the figures in a good, a realistic and a poor round.

One final notice and one draft are rendered through LibreOffice and shared by
the tests of this module. Regenerate the three golden bodies after an
intended wording change with:

    DUCHA_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_notice_rounds.py -k golden
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pdfplumber
import pytest
from docx import Document
from lxml import etree
from notice_rounds import round_results
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.consequences import UnitInfo, load_rules
from ducha.db.models import SponsorUnit, Village
from ducha.notice import body_text, prepare, write_notice
from ducha.notice_wording import load_wording
from ducha.rounds import round_plan
from ducha.workspace import Workspace, copy_workspace
from generator.docx_package import FONT_TABLE
from generator.ooxml_order import order_problems

GOLDEN_DIR = Path(__file__).parent / "golden"
ROUND = "2015-08"
NOTICE_DATE = dt.date(2015, 9, 5)
PT_PER_MM = 72 / 25.4
TEXT_LEFT_MM, TEXT_RIGHT_MM, TEXT_BOTTOM_MM = 28.0, 184.0, 262.0
BODY_SIZE_PT = 16.0
PENDING_REVIEWS = 7
LINE_TOLERANCE_PT = 8.0
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def workspace(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return copy_workspace(planned_workspace, tmp_path_factory.mktemp("notice_ws") / "ducha-data")


@pytest.fixture(scope="module")
def notices(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory):
    """The final notice of the realistic round, and a draft while 7 sheets await review."""
    out = tmp_path_factory.mktemp("notices")
    with Session(workspace.engine(), expire_on_commit=False) as session:
        plan = round_plan(session, ROUND)
        results = round_results(ROUND, plan.villages, "realistic")
        pending = [r for r in results if r.status == "valid"][:PENDING_REVIEWS]
        draft_results = [r if r not in pending else type(r)(**{**r.__dict__, "status": "review"}) for r in results]
        draft = write_notice(session, workspace, ROUND, number=None, date=NOTICE_DATE, joint=False,
                             out_dir=out / "draft", draft=True, results=draft_results)
        final = write_notice(session, workspace, ROUND, number=126, date=NOTICE_DATE, joint=False,
                             out_dir=out / "final", results=results)
        session.rollback()
        registry = {
            "villages": session.execute(select(Village.county, Village.town, Village.name)).all(),
            "units": {u.name: u.sort_order for u in session.scalars(select(SponsorUnit))},
        }
    return {"final": final, "draft": draft, "registry": registry}


def _page_texts(pdf_path: Path) -> list[str]:
    with pdfplumber.open(pdf_path) as pdf:
        # The page number at a page's foot would split a sentence that runs on.
        return [re.sub(r"—\d+—$", "", re.sub(r"\s+", "", page.extract_text() or "")) for page in pdf.pages]


def _body_lines(pdf_path: Path, pages: int) -> list[list[dict]]:
    """Lines of 3号 text on the body pages, each a list of chars left to right."""
    lines = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages[:pages]:
            rows: dict[float, list[dict]] = {}
            for c in sorted(page.chars, key=lambda c: c["top"]):
                if abs(c["size"] - BODY_SIZE_PT) < 0.5 and c["text"].strip():
                    # Digits come from another face and sit a little lower: one line is one grid row.
                    top = next((t for t in rows if abs(t - c["top"]) < LINE_TOLERANCE_PT), c["top"])
                    rows.setdefault(top, []).append(c)
            lines += [sorted(cs, key=lambda c: c["x0"]) for _top, cs in sorted(rows.items())]
    return lines


# --- shape ------------------------------------------------------------------

def test_sample_round_is_a_few_pages_of_body_and_summary_tables(notices):
    final = notices["final"]
    assert final.body_pages <= 6 and final.pages <= 12, (final.body_pages, final.pages)
    texts = _page_texts(final.pdf)
    attachments = "".join(texts[final.body_pages:])
    assert attachments.startswith("附件1督查情况汇总表一、分县（区）情况")
    assert "二、分督查组情况" in attachments and "附件2存在问题的帮扶单位及问题清单" in attachments
    # No per-village rectification list in the 通报: it is in the office's detail.
    assert "整改事项清单" not in "".join(texts) and "整改时限" not in "".join(texts)
    book = openpyxl.load_workbook(final.detail_xlsx, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 1 + final.findings.total.villages
    assert rows[0][:4] == ("序号", "县（区）", "乡镇（街道）", "村") and "存在问题" in rows[0]
    detail = "".join(_page_texts(final.detail_pdf))
    assert all(x.village.name in detail for x in final.findings.villages)


def test_lists_follow_the_registrys_official_order(notices):
    final, order = notices["final"], notices["registry"]["units"]
    units = {name: UnitInfo(name, "city", None, rank) for name, rank in order.items()}
    criticised = final.consequences.criticised_units
    assert len(criticised) >= 3
    city = [u for u in criticised if u.startswith(("市", "巴中", "团市委"))]
    assert [order[u] for u in city] == sorted(order[u] for u in city)
    body = "".join(_page_texts(final.pdf)[:final.body_pages])
    assert f"对{'、'.join(criticised)}共{len(criticised)}个部门（单位）予以通报批评" in body
    talks = [a.unit for a in final.consequences.admonitions]
    assert talks and f"约谈{'、'.join(talks)}共{len(talks)}个部门（单位）负责人" in body
    assert units  # every unit of the sample registry has an order
    assert all(rank is not None for rank in order.values())


def test_ambiguous_village_names_carry_town_or_county(notices):
    villages = notices["registry"]["villages"]
    names = [name for _c, _t, name in villages]
    ambiguous = {n for n in names if names.count(n) > 1}
    assert "桂花村" in ambiguous
    document = Document(str(notices["final"].docx))
    table = document.tables[-2]  # 附件2; the last table is the colophon
    assert table.rows[0].cells[2].text == "帮扶村"
    labels = [row.cells[2].text for row in table.rows[1:]]
    assert labels and not [label for label in labels if label in ambiguous]


# --- draft marking ----------------------------------------------------------

def test_every_draft_page_is_marked_and_no_final_page_is(notices):
    draft, final = notices["draft"], notices["final"]
    mark = f"草稿（尚有{PENDING_REVIEWS}份记实表待复核）"
    with pdfplumber.open(draft.pdf) as pdf:
        for n, page in enumerate(pdf.pages, start=1):
            head = page.crop((0, 0, page.width, TEXT_LEFT_MM * PT_PER_MM + 10 * PT_PER_MM))
            assert mark in re.sub(r"\s+", "", head.extract_text() or ""), f"draft page {n} unmarked"
    draft_texts = _page_texts(draft.pdf)
    assert draft.body_pages == final.body_pages and draft.pages == final.pages
    assert "巴市组办〔2015〕号" in draft_texts[0] and "126号" not in draft_texts[0]
    final_texts = _page_texts(final.pdf)
    assert not [n for n, text in enumerate(final_texts, start=1) if "草稿" in text]
    assert "巴市组办〔2015〕126号" in final_texts[0]
    # The .docx carries the mark too, in the headers of odd and even pages.
    section = Document(str(draft.docx)).sections[0]
    assert section.header.paragraphs[0].text == section.even_page_header.paragraphs[0].text == \
        f"草稿（尚有 {PENDING_REVIEWS} 份记实表待复核）"


# --- grid and placement -------------------------------------------------------

def test_every_full_body_line_has_28_characters(notices):
    final = notices["final"]
    lines = _body_lines(final.pdf, final.body_pages)
    full = [line for line in lines
            if line[0]["x0"] / PT_PER_MM < TEXT_LEFT_MM + 1 and line[-1]["x1"] / PT_PER_MM > TEXT_RIGHT_MM - 2]
    # Digits are proportional in the PDF's 仿宋, so only lines without them count exactly.
    cjk_only = [line for line in full if all(ord(c["text"]) > 0x2000 for c in line)]
    assert len(cjk_only) >= 5
    # A closing comma may hang in the margin (Word's and LibreOffice's default for Chinese): the grid
    # counts what stands inside the text area.
    inside = [[c for c in line if c["x1"] / PT_PER_MM <= TEXT_RIGHT_MM + 0.5] for line in cjk_only]
    counts = {len(line) for line in inside}
    assert counts == {28}, [("".join(c["text"] for c in line), len(line)) for line in inside if len(line) != 28]


def test_signature_date_and_printing_line_placement(notices):
    final = notices["final"]
    char_pt = TEXT_RIGHT_MM * 0 + (TEXT_RIGHT_MM - TEXT_LEFT_MM) * PT_PER_MM / 28
    with pdfplumber.open(final.pdf) as pdf:
        page = pdf.pages[final.body_pages - 1]
        lines = page.extract_text_lines()
        signature = next(line for line in lines if line["text"].replace(" ", "") == "中共巴中市委组织部")
        date = next(line for line in lines if line["text"].replace(" ", "") == "2015年9月5日")
        # Signature: 2 characters from the right; date: its first character 2 characters right of the signature's.
        assert abs((TEXT_RIGHT_MM * PT_PER_MM - signature["x1"]) - 2 * char_pt) <= 2
        assert abs((date["x0"] - signature["x0"]) - 2 * char_pt) <= 2
        last = pdf.pages[-1]
        assert len(pdf.pages) % 2 == 0  # the colophon on the back of a sheet
        printed = next(line for line in last.extract_text_lines() if line["text"].replace(" ", "").endswith("印发"))
        # "…印发" ends 1 character (4号, 14 pt) in from the right edge.
        assert abs((TEXT_RIGHT_MM * PT_PER_MM - printed["x1"]) - 14) <= 1.5
        rules = sorted((o for o in last.lines + last.rects if (o["x1"] - o["x0"]) / PT_PER_MM > 150),
                       key=lambda o: o["top"])
        assert abs(rules[-1]["top"] / PT_PER_MM - TEXT_BOTTOM_MM) <= 1.0


# --- tables -----------------------------------------------------------------

def test_table_cells_do_not_break_inside_names_terms_or_dates(notices):
    final = notices["final"]
    document = Document(str(final.docx))
    with pdfplumber.open(final.pdf) as pdf:
        lines = [re.sub(r"\s+", "", line["text"]) for page in pdf.pages[final.body_pages:]
                 for line in page.extract_text_lines()]
    units_table = document.tables[-2]
    units = {row.cells[1].text for row in units_table.rows[1:]}
    villages = {row.cells[2].text for row in units_table.rows[1:]}
    for name in units | villages | {"“否”"}:
        assert any(name in line for line in lines), f"“{name}” is broken over two lines"
    text = "".join(lines)
    rates = re.findall(r"\d+(?:\.\d+)?%", text)
    assert rates and all(re.fullmatch(r"\d+\.\d%", r) for r in rates), rates
    # Headings inside attachments use the heading style, hence 黑体.
    headings = [p for p in document.paragraphs if p.text in ("一、分县（区）情况", "二、分督查组情况")]
    assert [p.style.name for p in headings] == ["公文一级标题", "公文一级标题"]
    # Long tables repeat their header row; short rows may not split over a page.
    header_row = units_table.rows[0]._tr
    assert header_row.find(f"{W}trPr/{W}tblHeader") is not None
    assert all(row._tr.find(f"{W}trPr/{W}cantSplit") is not None for row in units_table.rows)


# --- portability --------------------------------------------------------------

def test_docx_parts_are_portable(notices):
    final = notices["final"]
    with zipfile.ZipFile(final.docx) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    problems = {name: order_problems(etree.fromstring(data)) for name, data in parts.items()
                if name.startswith("word/") and name.endswith(".xml")}
    assert not {name: p for name, p in problems.items() if p}
    fonts = etree.fromstring(parts["word/fontTable.xml"])
    table = {f.get(f"{W}name"): (f.find(f"{W}altName").get(f"{W}val") if f.find(f"{W}altName") is not None else None)
             for f in fonts.findall(f"{W}font")}
    assert table["仿宋_GB2312"] == "仿宋" and table["楷体_GB2312"] == "楷体" and table["方正小标宋简体"] == "宋体"
    used = set()
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml"):
            for rfonts in etree.fromstring(data).iter(f"{W}rFonts"):
                used |= {v for k, v in rfonts.attrib.items() if not k.endswith(("Theme", "hint"))}
    assert used <= set(table), used - set(table)
    assert {name for name, *_ in FONT_TABLE} == set(table)
    settings = etree.fromstring(parts["word/settings.xml"])
    assert settings.find(f"{W}themeFontLang").get(f"{W}eastAsia") == "zh-CN"
    body = parts["word/document.xml"].decode("utf-8")
    assert "txbxContent" not in body and "<w:drawing" not in body and "抄送：" in body
    core = parts["docProps/core.xml"].decode("utf-8")
    app = parts["docProps/app.xml"].decode("utf-8")
    assert "python-docx" not in core and "Macintosh" not in app
    assert f"<Pages>{final.pages}</Pages>" in app
    props = Document(str(final.docx)).core_properties
    assert props.title == "关于2015年8月驻村工作队和第一书记到村履职情况专项督查情况的通报"
    assert props.author == "中共巴中市委组织部"
    created = props.created.replace(tzinfo=None)
    assert abs((dt.datetime.now(dt.UTC).replace(tzinfo=None) - created).total_seconds()) < 3600


# --- content against the seed and the figures ---------------------------------

SEED_ASPECTS = [
    "（一）驻村工作队和第一书记人员选派情况。",
    "（二）驻村工作队和第一书记到村履职情况（驻村工作队每天至少有1人驻村工作；第一书记到村工作时间每月不少于工作日总数的2/3）。",
    "（三）驻村工作队和第一书记帮助贫困村制定帮扶规划，指导贫困村脱贫致富推进情况。",
    "（四）驻村工作队和第一书记结对帮扶贫困户情况。",
    "（五）县（区）党委对驻村干部和第一书记教育培训情况。",
    "（六）县（区）组织部门、乡镇（街道）党（工）委和选派单位对驻村干部和第一书记的日常管理考核情况。",
    "（七）驻村工作队工作经费和第一书记差旅费落实情况。",
    "（八）驻村工作队和第一书记到村工作知晓情况（联系帮扶村党员群众知晓率不低于60%）。",
]


@pytest.fixture(scope="module")
def bodies(workspace: Workspace):
    """The body text of a good, a realistic and a poor round (no rendering)."""
    out = {}
    with Session(workspace.engine(), expire_on_commit=False) as session:
        plan = round_plan(session, ROUND)
        for profile in ("good", "realistic", "poor"):
            results = round_results(ROUND, plan.villages, profile)
            document, findings, _c, _f = prepare(session, workspace, ROUND, results, number=126,
                                                 date=NOTICE_DATE, joint=False, draft=True)
            out[profile] = (body_text(document), findings)
        session.rollback()
    return out


def test_the_eight_aspects_in_the_seeds_order_and_wording(bodies):
    text, _ = bodies["realistic"]
    paragraphs = text.splitlines()
    aspects = [p for p in paragraphs if p.startswith(tuple(a[:3] for a in SEED_ASPECTS)) and "情况" in p[:60]]
    aspects = [p for p in paragraphs if any(p.startswith(a) for a in SEED_ASPECTS)]
    assert len(aspects) == 8
    for paragraph, title in zip(aspects, SEED_ASPECTS):
        assert paragraph.startswith(title)
    five, six, seven, eight = aspects[4:]
    assert "未作量化统计" in five and "未作量化统计" in six and "未作统计" in seven
    assert "知晓率未测算" in eight and "满意率" not in eight
    three = aspects[2]
    assert "扶贫基金" in three or "争取项目资金" in three
    assert "扶贫基金" not in seven and "项目资金" not in seven
    assert "签字和交回" not in text


def _check_verdicts(text: str) -> int:
    """Every evaluative phrase agrees with the figure printed just before it; returns how many were checked."""
    wording = load_wording()
    checked = 0
    for scale, pattern in (
        (wording.overall, r"各项督查指标全部达标，占(\d+\.\d)%。([^。]+。)"),
        (wording.aspect, r"该方面指标全部达标，占(\d+\.\d)%，([^。]+)。"),
        (wording.satisfaction, r"平均满意率为(\d+\.\d)%，([^。]+。)"),
    ):
        for figure, said in re.findall(pattern, text):
            expected = scale.sentence(float(figure))
            assert said == expected.rstrip("。") or said == expected, (figure, said, expected)
            others = {scale.good, scale.mixed, scale.poor} - {getattr(scale, scale.verdict(float(figure)))}
            assert not any(o.format(good_min_pct=f"{scale.good_min_pct:g}", poor_below_pct=f"{scale.poor_below_pct:g}")
                           .rstrip("。") in said for o in others)
            checked += 1
    return checked


@pytest.mark.parametrize("profile", ["good", "realistic", "poor"])
def test_golden_body_and_no_sentence_contradicts_its_figure(bodies, profile):
    text, findings = bodies[profile]
    golden = GOLDEN_DIR / f"notice_body_{profile}.txt"
    if os.environ.get("DUCHA_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert _check_verdicts(text) >= 6  # overall, satisfaction and four measured aspects
    wording = load_wording()
    overall = wording.overall.verdict(100.0 * findings.total.clean / findings.total.settled)
    assert overall == {"good": "good", "realistic": "mixed", "poor": "poor"}[profile]
    if profile == "good":
        assert "不容乐观" not in text and "问题较为突出" not in text
    if profile == "poor":
        assert "绝大多数" not in text and "总体较好" not in text
    # Deadlines come from the round's dates, after the notice's own date.
    assert "于2015年9月24日前整改到位" in text or profile == "good"
    assert "并于2015年10月5日前送市委组织部备查" in text


def test_wording_rules_report_every_error_by_key(tmp_path):
    from ducha.errors import ConfigError

    bad = {"overall": {"good_min_pct": 50, "poor_below_pct": 70}, "aspect": {"good": "很好{figure}"},
           "not_measured": {"8": ""}, "typo": 1}
    (tmp_path / "notice_wording.json").write_text(__import__("json").dumps(bad), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_wording(tmp_path)
    keys = sorted(p.split("：")[0] for p in caught.value.problems)
    assert keys == sorted(["overall", "aspect.good", "not_measured.8", "typo"]), caught.value.problems
    assert load_rules(tmp_path) is not None


# --- the group's written report ------------------------------------------------

def test_group_report_date_placement_and_no_blank_gaps_in_its_table(workspace, tmp_path):
    from ducha.group_report import write_group_report

    with Session(workspace.engine(), expire_on_commit=False) as session:
        plan = round_plan(session, ROUND)
        results = round_results(ROUND, plan.villages, "poor")
        report = write_group_report(session, workspace, 4, ROUND, out_dir=tmp_path, results=results)
        session.rollback()
    char_pt = (TEXT_RIGHT_MM - TEXT_LEFT_MM) * PT_PER_MM / 28
    with pdfplumber.open(report.pdf) as pdf:
        pages = list(pdf.pages)
        for page in pages:
            lines = page.extract_text_lines()
            signature = next((line for line in lines if line["text"].replace(" ", "") == "第四督查组"), None)
            if signature is None:
                continue
            date = next(line for line in lines if re.fullmatch(r"\d{4}年\d+月\d+日", line["text"].replace(" ", "")))
            assert abs((date["x0"] - signature["x0"]) - 2 * char_pt) <= 2
            # The date is the longer, so it keeps clear of the right edge (2 characters in Word, where
            # digits are half width; LibreOffice's 仿宋 digits are wider, which leaves at least 1).
            assert TEXT_RIGHT_MM * PT_PER_MM - date["x1"] >= char_pt - 2
            break
        else:
            pytest.fail("signature not found")
        start = next(n for n, page in enumerate(pages) if (page.extract_text() or "").lstrip().startswith("附件"))
        table_pages = pages[start:-1]
        assert table_pages, "the detail table should run over more than one page"
        for page, following in zip(table_pages, pages[start + 1:]):
            bottom = max(o["bottom"] for o in page.lines + page.rects) / PT_PER_MM
            rules = sorted({round(o["top"] / PT_PER_MM, 1) for o in following.lines + following.rects
                            if (o["x1"] - o["x0"]) / PT_PER_MM > 100})
            first_row_mm = rules[2] - rules[1]  # under the repeated header row
            # A row moves to the next page only when it does not fit: the gap left is less than that row.
            assert TEXT_BOTTOM_MM - bottom < first_row_mm + 1.0, (page.page_number, bottom, first_row_mm)
            assert TEXT_BOTTOM_MM - bottom < TEXT_BOTTOM_MM - 37.0 - 1.0
