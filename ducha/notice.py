"""The monthly red-header notice (通报): its content, assembled from the data.

``assemble_notice`` is pure: findings, consequences and plan facts in, a
``generator.notice_docx.OfficialDocument`` out. Every figure in the text is
taken from the same tallies as the attachment tables, so they agree.
``write_notice`` is the application side: it reads the database, records
the rectification items and writes the .docx and the PDF.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.config import load_config
from ducha.consequences import (
    ConsequenceRules,
    Consequences,
    UnitInfo,
    apply_rules,
    load_rules,
    rectification_deadline,
    unit_order_key,
)
from ducha.counties import short_name
from ducha.db.models import RectificationItem, SponsorUnit, Village
from ducha.duty_notice import duty_notice_facts, load_duty_facts
from ducha.errors import RoundError
from ducha.findings import AspectFigures, AspectFinding, RoundFindings, Tally, VillageFinding, compute_findings
from ducha.notice_detail import write_detail
from ducha.notice_wording import NoticeWording, load_wording
from ducha.rectification import record_round
from ducha.results import FormResult
from ducha.rounds import CountyDraw, RoundDates, RoundPlan, parse_round_id, round_dates, round_plan
from ducha.workspace import Workspace
from generator.build_notice_template import (
    COLOPHON_SPACER_STYLE,
    END_PARAGRAPH_PT,
    LINE_PITCH_TWIPS,
    MARGIN_TOP_MM,
    NOTIFICATION_TEMPLATE,
    TEXT_HEIGHT_MM,
)
from generator.docx_package import rewrite_app_properties
from generator.notice_docx import (
    PT_PER_MM,
    Attachment,
    Block,
    ColophonPlacement,
    Lines,
    OfficialDocument,
    Table,
    write_document,
)

LINE_PITCH_PT = LINE_PITCH_TWIPS / 20

LEAD_ISSUER = "中共巴中市委组织部"
JOINT_ISSUERS = ("中共巴中市委组织部", "中共巴中市直属机关工作委员会", "巴中市委目标督查办公室", "巴中市扶贫和移民工作局")
ORGANISERS_SHORT = "市委组织部、市直工委、市委目督办、市扶贫移民局"
CC_SINGLE = "市直工委，市委目督办，市扶贫移民局"
CC_JOINT = "市委办公室，市政府办公室"
PRINTING_OFFICE = "中共巴中市委组织部办公室"
DOC_NUMBER_PREFIX = "巴市组办"
SOURCE_NOTICE = "《关于开展驻村工作队和第一书记到村履职情况专项督查的通知》（巴市组办〔2015〕125号）"
ORDINALS = "一二三四五六七八九十"
CITY_LEVEL = "city"
DRAFT_MARK = "草稿"
ATTACHMENT_SUMMARY = "督查情况汇总表"
ATTACHMENT_UNITS = "存在问题的帮扶单位及问题清单"
# The width a draft leaves for the number to be written in: "巴市组办〔2015〕  号".
DRAFT_NUMBER_BLANK = "\u3000"


def date_cn(day: dt.date) -> str:
    """2015年9月5日: Arabic numerals, no zero padding."""
    return f"{day.year}年{day.month}月{day.day}日"


def date_range_cn(start: dt.date, end: dt.date) -> str:
    if start.year == end.year:
        return f"{date_cn(start)}至{end.month}月{end.day}日"
    return f"{date_cn(start)}至{date_cn(end)}"


def pct_value(part: int, whole: int) -> float:
    return 0.0 if whole == 0 else round(100.0 * part / whole, 1)


def percent_cn(part: int, whole: int) -> str:
    """12.5%, always one decimal (49.3%, 55.0%): a column of rates lines up."""
    return f"{pct_value(part, whole):.1f}%"


def rate_cn(value: float) -> str:
    return f"{value:.1f}%"


def points_cn(points: float) -> str:
    return f"{points:g}"


def doc_number(year: int, number: int | None) -> str:
    """巴市组办〔2015〕126号; a draft (None) leaves the number blank."""
    return f"{DOC_NUMBER_PREFIX}〔{year}〕{DRAFT_NUMBER_BLANK if number is None else number}号"


def ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 1 <= n <= len(ORDINALS) else str(n)


def _join(items: Sequence[str]) -> str:
    return "、".join(items)


VillageKey = tuple[str, str, str]  # county, town, name


def village_labels(registry: Iterable[VillageKey]) -> dict[VillageKey, str]:
    """The shortest unambiguous name of each village: 村; 乡镇+村; or 县（区）+乡镇+村.

    The sample registry alone has four 桂花村; a bare name must not leave a
    reader guessing which one is meant.
    """
    keys = list(registry)
    by_name = Counter(name for _c, _t, name in keys)
    by_town = Counter((town, name) for _c, town, name in keys)
    labels = {}
    for county, town, name in keys:
        if by_name[name] == 1:
            labels[(county, town, name)] = name
        elif by_town[(town, name)] == 1:
            labels[(county, town, name)] = f"{town}{name}"
        else:
            labels[(county, town, name)] = f"{short_name(county)}{town}{name}"
    return labels


@dataclass(frozen=True)
class NoticeFacts:
    """What the notice needs beyond findings and consequences, as plain values."""

    round: str
    dates: RoundDates
    # None on a draft: the number is given when the notice is signed off.
    number: int | None
    date: dt.date
    joint: bool
    groups: int
    lottery: dict[str, CountyDraw]
    rectification_deadline: dt.date
    next_round_month: int
    # The counties' report on next month's self-inspection (seed 六（一）: 次月5日前).
    next_self_inspection_due: dt.date
    draft: bool = False
    # Group number -> the counties it covered, for the summary by group.
    group_counties: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # Aspects measured by other means this round (a hook for the 知晓率 survey and
    # attendance figures); an aspect in neither the sheet nor here is "not measured".
    aspect_figures: Mapping[int, AspectFigures] = field(default_factory=dict)
    # Sentences measured outside the sheet that belong to an aspect the sheet
    # also measures (attendance under (二)).
    aspect_notes: Mapping[int, str] = field(default_factory=dict)
    # The counties' self-inspection reports (seed 六（一）), when any is late or missing.
    counties_note: str | None = None
    # Summary tables measured outside the sheet, appended to attachment 1.
    extra_summary: tuple[Block | Table, ...] = ()
    labels: Mapping[VillageKey, str] = field(default_factory=dict)


def _key(finding: VillageFinding) -> VillageKey:
    v = finding.village
    return (v.county, v.town, v.name)


class _Namer:
    def __init__(self, facts: NoticeFacts, findings: RoundFindings) -> None:
        self.labels = dict(facts.labels) or village_labels(_key(x) for x in findings.villages)

    def __call__(self, finding: VillageFinding) -> str:
        return self.labels.get(_key(finding)) or f"{short_name(finding.village.county)}{finding.village.town}{finding.village.name}"


def _opening(facts: NoticeFacts) -> Block:
    return Block("body", (
        f"按照{SOURCE_NOTICE}要求，{date_range_cn(facts.dates.start, facts.dates.end)}，{ORGANISERS_SHORT}"
        f"组建{facts.groups}个联合督查组，对全市驻村工作队和第一书记到村履职情况进行了专项督查。现将有关情况通报如下。"
    ))


def _basic_facts(f: RoundFindings, facts: NoticeFacts, city_units: int) -> list[Block]:
    reasons = Counter(v.village.reason for v in f.villages)
    draws = [
        f"{short_name(county)}{draw.population}个村抽查{len(draw.drawn)}个（{percent_cn(len(draw.drawn), draw.population)}）"
        for county, draw in facts.lottery.items()
    ]
    scope = (
        f"本次共督查贫困村{f.total.villages}个。其中，对{city_units}个市级部门（单位）帮扶的"
        f"{reasons['full']}个贫困村进行全面督查；对县（区）部门（单位）帮扶村摇号抽查{reasons['lottery']}个"
    )
    scope += f"（{_join(draws)}）" if draws else ""
    if reasons["rectification"]:
        scope += f"；对上月存在问题的{reasons['rectification']}个村进行整改复查"
    t = f.total
    sheets = (
        f"。各督查组共填写督查记实表{t.villages}份，收回{t.returned}份，未收回{t.missing}份；"
        f"经村级党组织负责人、第一书记、督查组成员三方签字的有效督查{t.valid}份，签字不全的无效督查{t.invalid}份"
    )
    sheets += f"，待复核{t.review}份。" if t.review else "。"
    if t.invalid or t.missing:
        sheets += "未收回和无效督查的村及其帮扶单位见附件2。"
    return [Block("h1", "一、基本情况"), Block("body", scope + sheets)]


def _overall(f: RoundFindings, wording: NoticeWording) -> list[Block]:
    settled = [x for x in f.villages if x.status in ("valid", "invalid")]
    t = f.total
    pct = pct_value(t.clean, t.settled)
    text = (
        f"收回记实表的{t.settled}个村中，{t.clean}个村各项督查指标全部达标，"
        f"占{percent_cn(t.clean, t.settled)}。{wording.overall.sentence(pct)}"
    )
    mean = f.total.satisfaction_mean_pct
    if mean is not None:
        visited = sum(x.visited or 0 for x in settled)
        people = f"走访群众{visited}人，" if visited else ""
        text += f"{people}群众对驻村工作队和第一书记工作的平均满意率为{rate_cn(mean)}，{wording.satisfaction.sentence(mean)}"
    units = f.units_without_problems()
    if units:
        text += f"{len(units)}个帮扶单位的帮扶村未发现问题。"
    return [Block("h1", "二、总体情况"), Block("body", text)]


def _aspect_text(aspect: AspectFinding, facts: NoticeFacts, wording: NoticeWording) -> str:
    if aspect.measured:
        pct = pct_value(aspect.passed_villages, aspect.measured_villages)
        text = (
            f"收回记实表的{aspect.measured_villages}个村中，{aspect.passed_villages}个村该方面指标全部达标，"
            f"占{percent_cn(aspect.passed_villages, aspect.measured_villages)}，{wording.aspect.sentence(pct)}。"
        )
        if aspect.items:
            parts = [f"{item.short}的{len(item.villages)}个村" for item in aspect.items]
            text += f"存在的问题是：{'；'.join(parts)}。"
        return text
    figures = facts.aspect_figures.get(aspect.number)
    if figures is not None:
        pct = pct_value(figures.passed, figures.total)
        return f"{figures.detail}达标率{percent_cn(figures.passed, figures.total)}，{wording.aspect.sentence(pct)}。"
    return wording.not_measured.of(aspect.number)


def _aspect_block(aspect: AspectFinding, facts: NoticeFacts, wording: NoticeWording) -> Block:
    lead = f"（{ordinal(aspect.number)}）{aspect.title}。"
    return Block("body", _aspect_text(aspect, facts, wording) + facts.aspect_notes.get(aspect.number, ""), lead=lead)


def _problems(f: RoundFindings, facts: NoticeFacts, wording: NoticeWording) -> list[Block]:
    blocks = [
        Block("h1", "三、督查发现的问题"),
        Block("body", "按照督查通知确定的8个方面，督查情况如下（存在问题的帮扶单位及问题见附件2）。"),
    ]
    blocks += [_aspect_block(aspect, facts, wording) for aspect in f.aspects]
    return blocks


def _named(units: Sequence[str]) -> str:
    return f"{_join(units)}共{len(units)}个部门（单位）"


def _use_of_results(c: Consequences) -> list[Block]:
    blocks = [
        Block("h1", "四、督查结果运用"),
        Block("body", "根据督查通知要求，本次督查结果纳入市委对县（区）、市级部门（单位）年度党建工作目标考核内容。"),
    ]
    if c.criticised:
        text = f"对{_named(c.criticised_units)}予以通报批评。"
    else:
        text = "本次督查没有需要通报批评的部门（单位）。"
    blocks.append(Block("body", text, lead="（一）通报批评。"))
    if c.admonitions:
        text = (f"由市委组织部约谈{_named([a.unit for a in c.admonitions])}负责人，"
                "提出具体到时间节点的改进要求。")
    else:
        text = "本次督查没有需要约谈的部门（单位）负责人。"
    blocks.append(Block("body", text, lead="（二）约谈。"))
    if c.deductions:
        counties = [d for d in c.deductions if d.kind == "county"]
        city = [d for d in c.deductions if d.kind != "county"]
        parts = []
        if counties:
            parts.append("县（区）：" + "，".join(f"{d.target}{points_cn(d.points)}分" for d in counties))
        if city:
            parts.append("市级部门（单位）：" + "，".join(f"{d.target}{points_cn(d.points)}分" for d in city))
        text = f"扣减年度综合目标考核得分，{'；'.join(parts)}。"
    else:
        text = "本次督查不扣减年度综合目标考核得分。"
    blocks.append(Block("body", text, lead="（三）扣减目标考核得分。"))
    if c.replacements:
        parts = [
            f"{r.village}连续{r.rounds}次专项督查发现问题，建议{_join(list(r.units))}调整驻村工作队及第一书记人选"
            for r in c.replacements
        ]
        blocks.append(Block("body", "；".join(parts) + "。", lead="（四）调整人选建议。"))
    return blocks


def _demands(facts: NoticeFacts, items: int) -> list[Block]:
    next_month = facts.next_round_month
    rectify = (
        f"各县（区）、各有关部门（单位）要对照督查发现的问题，逐项制定整改措施，于{date_cn(facts.rectification_deadline)}前"
        f"整改到位，并将整改情况书面报市委组织部。市委组织部将在{next_month}月专项督查中逐村复查，"
        "对整改不到位的从严通报问责。"
    ) if items else (
        f"各县（区）、各部门（单位）要巩固督查成果，市委组织部将在{next_month}月专项督查中继续检查。"
    )
    return [
        Block("h1", "五、有关要求"),
        Block("body", rectify, lead="（一）抓好整改。"),
        Block("body", (
            f"各县（区）要落实组织部门牵头每月开展对本辖区驻村工作队和第一书记履职情况的专项督查，"
            f"通报{next_month}月督查结果，并于{date_cn(facts.next_self_inspection_due)}前送市委组织部备查。"
        ), lead="（二）认真自查。"),
    ]


def _tally_row(label: str, t: Tally) -> tuple[str, ...]:
    settled, clean = t.settled, t.clean
    mean = t.satisfaction_mean_pct
    return (label, str(t.villages), str(t.returned), str(t.valid), str(t.invalid), str(t.missing),
            str(t.problem_villages), str(t.no_answers), percent_cn(clean, settled) if settled else "—",
            "—" if mean is None else rate_cn(mean))


SUMMARY_HEADER = ("{label}", "督查\n村数", "收回", "有效\n督查", "无效\n督查", "未收回", "存在问题\n村数", "“否”\n项数",
                  "全部达标\n比例", "平均\n满意率")


def _summary_tables(f: RoundFindings, facts: NoticeFacts) -> tuple[Block | Table, ...]:
    county_rows = [_tally_row(short_name(county), t) for county, t in f.by_county.items()]
    county_rows.append(_tally_row("合计", f.total))
    by_county = Table(("县（区）", *SUMMARY_HEADER[1:]), tuple(county_rows))
    groups: dict[int, Tally] = {}
    for x in f.villages:
        groups.setdefault(x.village.group, Tally()).add(x, f.definition)
    group_rows = []
    for no, t in sorted(groups.items()):
        counties = facts.group_counties.get(no, ())
        label = f"第{ordinal(no)}组" + (f"\n{_join([short_name(c) for c in counties])}" if counties else "")
        group_rows.append(_tally_row(label, t))
    group_rows.append(_tally_row("合计", f.total))
    by_group = Table(("督查组", *SUMMARY_HEADER[1:]), tuple(group_rows))
    return (Block("h1", "一、分县（区）情况"), by_county, Block("h1", "二、分督查组情况"), by_group)


def _units_table(f: RoundFindings, c: Consequences, units: Mapping[str, UnitInfo],
                 name: Callable[[VillageFinding], str]) -> tuple[Block | Table, ...]:
    rows: list[tuple[str, ...]] = []
    per_unit: dict[str, list[VillageFinding]] = {}
    for x in f.villages:
        if x.problems(f.definition):
            for unit in x.village.units:
                per_unit.setdefault(unit, []).append(x)
    for unit in sorted(per_unit, key=lambda u: unit_order_key(u, units)):
        for x in per_unit[unit]:
            problems = "\n".join(x.short_problems(f.definition))
            rows.append((str(len(rows) + 1), unit, name(x), problems))
    if not rows:
        return (Block("attachment_text", "本次督查未发现问题。"),)
    return (Table(("序号", "帮扶单位", "帮扶村", "存在问题"), tuple(rows), left_columns=frozenset({3})),)


def assemble_notice(
    f: RoundFindings, c: Consequences, facts: NoticeFacts, units: dict[str, UnitInfo],
    wording: NoticeWording | None = None,
) -> OfficialDocument:
    wording = wording or load_wording()
    year, month = parse_round_id(facts.round)
    city_units = len({u for x in f.villages if x.village.reason == "full" for u in x.village.units
                      if (units.get(u) is None or units[u].level == CITY_LEVEL)})
    name = _Namer(facts, f)
    rect_items = sum(len(x.no_keys) for x in f.villages)
    body = [_opening(facts)]
    body += _basic_facts(f, facts, city_units)
    body += _overall(f, wording)
    if facts.counties_note:
        body.append(Block("body", facts.counties_note))
    body += _problems(f, facts, wording)
    body += _use_of_results(c)
    body += _demands(facts, rect_items + len(f.with_problems()))
    signer = JOINT_ISSUERS if facts.joint else (LEAD_ISSUER,)
    title = f"关于{year}年{month}月驻村工作队和第一书记到村履职情况专项督查情况的通报"
    fields: dict[str, object] = {
        "joint": facts.joint,
        "issuer": LEAD_ISSUER,
        "joint_issuers": Lines(JOINT_ISSUERS),
        "number": doc_number(year, None if facts.draft else facts.number),
        "year": year,
        "month": month,
        "signer": Lines(signer),
        "date": date_cn(facts.date),
        "cc": CC_JOINT if facts.joint else CC_SINGLE,
        "printing_office": PRINTING_OFFICE,
        "printing_date": date_cn(facts.date),
    }
    attachments = [
        Attachment(1, ATTACHMENT_SUMMARY, _summary_tables(f, facts) + facts.extra_summary),
        Attachment(2, ATTACHMENT_UNITS, _units_table(f, c, units, name)),
    ]
    mark = None
    if facts.draft:
        mark = f"{DRAFT_MARK}（尚有 {f.total.review} 份记实表待复核）" if f.total.review else DRAFT_MARK
    return OfficialDocument(fields=fields, body=body, attachments=attachments, draft_mark=mark,
                            title=title, author=LEAD_ISSUER)


def body_text(document: OfficialDocument) -> str:
    """The body as plain text, one paragraph a line: the golden-file form."""
    return "\n".join(block.lead + block.text for block in document.body) + "\n"


# --- application side ----------------------------------------------------

def next_round_id(round_id: str) -> str:
    year, month = parse_round_id(round_id)
    return f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"


def unit_infos(session: Session) -> dict[str, UnitInfo]:
    return {u.name: UnitInfo(u.name, u.level, u.county, u.sort_order) for u in session.scalars(select(SponsorUnit))}


def registry_labels(session: Session) -> dict[VillageKey, str]:
    rows = session.execute(select(Village.county, Village.town, Village.name)).all()
    return village_labels((county, town, name) for county, town, name in rows)


def problem_streaks(session: Session, round_id: str, village_ids: Sequence[int]) -> dict[int, int]:
    """Rounds in a row before ``round_id`` in which a village got a rectification item."""
    rows = session.execute(
        select(RectificationItem.village_id, RectificationItem.origin_round).where(
            RectificationItem.origin_round < round_id, RectificationItem.village_id.in_(list(village_ids))
        )
    )
    rounds_of: dict[int, set[str]] = {}
    for village_id, origin in rows:
        rounds_of.setdefault(village_id, set()).add(origin)
    streaks: dict[int, int] = {}
    for village_id, rounds in rounds_of.items():
        count = 0
        current = round_id
        while True:
            year, month = parse_round_id(current)
            previous = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
            if previous not in rounds:
                break
            count += 1
            current = previous
        streaks[village_id] = count
    return streaks


def load_results(session: Session, round_id: str) -> list[FormResult]:
    from ducha.results import load_form_results

    return list(load_form_results(session, round_id))


@dataclass(frozen=True)
class NoticeOutput:
    docx: Path
    pdf: Path
    pages: int
    # Pages before the first attachment: the body's length.
    body_pages: int
    detail_xlsx: Path
    detail_pdf: Path
    criticised: list[str]
    invalid: list[str]
    findings: RoundFindings
    consequences: Consequences


CLI_REVIEW_HINT = "请先完成复核（ducha review），或加 --draft 生成草稿"


def require_no_open_reviews(round_id: str, findings: RoundFindings, hint: str = CLI_REVIEW_HINT) -> None:
    """The final notice waits until no sheet of the round is still in review."""
    if findings.total.review:
        pending = [x.form_id or x.village.name for x in findings.of_status("review")]
        raise RoundError(f"{round_id} 轮还有 {len(pending)} 份记实表待复核（{_join(pending[:5])}），{hint}")


def check_final_notice(session: Session, workspace: Workspace, round_id: str, hint: str = CLI_REVIEW_HINT) -> None:
    """Refuse, before any work is queued, a final notice that ``prepare`` would refuse."""
    plan = round_plan(session, round_id)
    rules = load_rules(workspace.root)
    findings = compute_findings(round_id, plan.villages, load_results(session, round_id), rules.problem_definition())
    require_no_open_reviews(round_id, findings, hint)


def prepare(
    session: Session, workspace: Workspace, round_id: str, results: list[FormResult], *,
    number: int | None, date: dt.date, joint: bool, draft: bool = False,
    rules: ConsequenceRules | None = None,
) -> tuple[OfficialDocument, RoundFindings, Consequences, NoticeFacts]:
    plan: RoundPlan = round_plan(session, round_id)
    rules = rules or load_rules(workspace.root)
    wording = load_wording(workspace.root)
    findings = compute_findings(round_id, plan.villages, results, rules.problem_definition())
    if not draft:
        require_no_open_reviews(round_id, findings)
    if number is None and not draft:
        raise RoundError("正式通报须给出发文字号的顺序号（--number），草稿可不给")
    units = unit_infos(session)
    streaks = problem_streaks(session, round_id, [v.id for v in plan.villages])
    consequences = apply_rules(findings, rules, units, streaks)
    config = load_config(workspace.root)
    next_id = next_round_id(round_id)
    next_dates = round_dates(next_id, config.rounds)
    deadline = rectification_deadline(rules, next_dates.start, date)
    if not draft:
        # A draft changes nothing: the rectification items are opened by the signed notice.
        record_round(session, findings, results, deadline)
    facts = NoticeFacts(
        round=round_id, dates=plan.dates, number=number, date=date, joint=joint,
        groups=len(plan.roster.groups), lottery=dict(plan.lottery.per_county),
        rectification_deadline=deadline, next_round_month=parse_round_id(next_id)[1],
        next_self_inspection_due=next_dates.self_inspection_due, draft=draft,
        group_counties={g.no: tuple(g.counties) for g in plan.roster.groups},
        labels=registry_labels(session),
        **duty_notice_facts(load_duty_facts(session, workspace.root, round_id, date)),
    )
    return assemble_notice(findings, consequences, facts, units, wording), findings, consequences, facts


# The colophon's last rule must sit on the text area's bottom edge; what is
# left between them after the first rendering goes into the spacer.
TEXT_BOTTOM_PT = (MARGIN_TOP_MM + TEXT_HEIGHT_MM) * PT_PER_MM
TEXT_TOP_PT = MARGIN_TOP_MM * PT_PER_MM
# Kept free under the colophon so that a renderer a hair taller than
# LibreOffice does not push the document's end paragraph onto a new page.
COLOPHON_SLACK_PT = 2.5
COLOPHON_RULE_MIN_MM = 150.0


@dataclass(frozen=True)
class ColophonSeen:
    page: int  # from 1
    top_pt: float  # the first rule
    bottom_pt: float  # the last rule
    whole: bool  # both rows on the same page


def find_colophon(pdf_path: Path) -> ColophonSeen:
    """Where LibreOffice put the colophon: its page and its rules."""
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        pages = [(n, page) for n, page in enumerate(pdf.pages, start=1)
                 if "抄送" in re.sub(r"\s+", "", page.extract_text() or "")]
        if not pages:
            raise RoundError(f"通报 PDF 中找不到版记（抄送）：{pdf_path.name}")
        n, page = pages[-1]
        text = re.sub(r"\s+", "", page.extract_text() or "")
        rules = sorted(
            (o for o in page.lines + page.rects if (o["x1"] - o["x0"]) / PT_PER_MM >= COLOPHON_RULE_MIN_MM
             and o["top"] > page.height * 0.1),
            key=lambda o: o["top"],
        )
        whole = "印发" in text and len(rules) >= 3
        if not rules:
            raise RoundError(f"通报 PDF 中找不到版记的分隔线：{pdf_path.name}")
        return ColophonSeen(n, float(rules[-3]["top"]) if whole else float(rules[0]["top"]),
                            float(rules[-1]["top"]), whole)


def colophon_placement(seen: ColophonSeen, first: ColophonPlacement) -> ColophonPlacement:
    """From a first rendering with a 1 pt spacer: on an even page, at the bottom of the text area."""
    height = seen.bottom_pt - seen.top_pt if seen.whole else 2 * LINE_PITCH_PT
    if seen.whole and seen.page % 2 == 0:
        gap = TEXT_BOTTOM_PT - seen.bottom_pt - COLOPHON_SLACK_PT
        return ColophonPlacement(0, first.spacer_pt + max(0.0, gap))
    # A new page for it: the next even one, with a blank page between if need be.
    # seen.page is where the text ends (and the colophon starts, if split).
    ahead = 1 if seen.page % 2 == 1 else 2
    spacer = TEXT_BOTTOM_PT - TEXT_TOP_PT - height - END_PARAGRAPH_PT - COLOPHON_SLACK_PT
    return ColophonPlacement(ahead, spacer)


def attachment_start_page(pdf_path: Path) -> int | None:
    """The page on which 附件1 starts (its label alone at the head of a page)."""
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        for n, page in enumerate(pdf.pages, start=1):
            text = re.sub(r"\s+", "", page.extract_text() or "")
            # A draft's pages open with the draft mark in the header.
            if re.sub(rf"^{DRAFT_MARK}(（[^）]*）)?", "", text).startswith("附件1"):
                return n
    return None


def render(
    document: OfficialDocument, out_dir: Path, stem: str, template: Path = NOTIFICATION_TEMPLATE,
) -> tuple[Path, Path, int]:
    """Write the .docx and its PDF; a template with a colophon is laid out twice to place it."""
    from generator.pdf_convert import convert_to_pdf, pdf_page_count

    created = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    docx_path = write_document(template, document, out_dir / f"{stem}.docx", created=created)
    (pdf_path,) = convert_to_pdf([docx_path], out_dir, workers=1)
    if _has_colophon(docx_path):
        placement = colophon_placement(find_colophon(pdf_path), ColophonPlacement())
        docx_path = write_document(template, document, docx_path, colophon=placement, created=created)
        (pdf_path,) = convert_to_pdf([docx_path], out_dir, workers=1)
    pages = pdf_page_count(pdf_path)
    rewrite_app_properties(docx_path, pages=pages, company=document.author, title=document.title)
    return docx_path, pdf_path, pages


def _has_colophon(docx_path: Path) -> bool:
    from docx import Document

    return any(p.style is not None and p.style.name == COLOPHON_SPACER_STYLE
               for p in Document(str(docx_path)).paragraphs)


def write_notice(
    session: Session, workspace: Workspace, round_id: str, *, number: int | None, date: dt.date, joint: bool,
    out_dir: Path | None = None, draft: bool = False, results: list[FormResult] | None = None,
) -> NoticeOutput:
    if results is None:
        results = load_results(session, round_id)
    document, findings, consequences, facts = prepare(
        session, workspace, round_id, results, number=number, date=date, joint=joint, draft=draft
    )
    target = out_dir or workspace.output_dir("notices")
    stem = f"通报_{round_id}_草稿" if draft else f"通报_{round_id}_{number}号"
    docx_path, pdf_path, pages = render(document, target, stem)
    detail_xlsx, detail_pdf = write_detail(findings, facts, target, f"{stem}_各村明细")
    return NoticeOutput(
        docx=docx_path, pdf=pdf_path, pages=pages, body_pages=(attachment_start_page(pdf_path) or pages + 1) - 1,
        detail_xlsx=detail_xlsx, detail_pdf=detail_pdf, criticised=consequences.criticised_units,
        invalid=[f"{x.village.county}{x.village.name}" for x in findings.of_status("invalid")],
        findings=findings, consequences=consequences,
    )
