"""The monthly red-header notice (通报): its content, assembled from the data.

``assemble_notice`` is pure: findings, consequences and plan facts in, a
``generator.notice_docx.OfficialDocument`` out. Every figure in the text is
taken from the same tallies as the attachment tables, so they agree.
``write_notice`` is the application side: it reads the database, records
the rectification items and writes the .docx and the PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
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
)
from ducha.counties import county_order, short_name
from ducha.db.models import RectificationItem, SponsorUnit
from ducha.errors import RoundError
from ducha.findings import RoundFindings, Tally, VillageFinding, compute_findings
from ducha.rectification import record_round
from ducha.results import FormResult
from ducha.rounds import CountyDraw, RoundDates, RoundPlan, parse_round_id, round_dates, round_plan
from ducha.workspace import Workspace
from generator.build_notice_template import NOTIFICATION_TEMPLATE
from generator.notice_docx import (
    Attachment,
    Block,
    Lines,
    OfficialDocument,
    Table,
    write_document,
)

LEAD_ISSUER = "中共巴中市委组织部"
JOINT_ISSUERS = ("中共巴中市委组织部", "中共巴中市直属机关工作委员会", "巴中市委目标督查办公室", "巴中市扶贫和移民工作局")
ORGANISERS_SHORT = "市委组织部、市直工委、市委目督办、市扶贫移民局"
CC_SINGLE = "市直工委，市委目督办，市扶贫移民局"
CC_JOINT = "市委办公室，市政府办公室"
PRINTING_OFFICE = "中共巴中市委组织部办公室"
DOC_NUMBER_PREFIX = "巴市组办"
SOURCE_NOTICE = "《关于开展驻村工作队和第一书记到村履职情况专项督查的通知》（巴市组办〔2015〕125号）"
ORDINALS = "一二三四五六七八九十"
# Longer lists are cut in the body ("…等140个村"); the attachments list everything.
INLINE_NAMES_MAX = 10
CITY_LEVEL = "city"


def date_cn(day: dt.date) -> str:
    """2015年9月5日: Arabic numerals, no zero padding."""
    return f"{day.year}年{day.month}月{day.day}日"


def date_range_cn(start: dt.date, end: dt.date) -> str:
    if start.year == end.year:
        return f"{date_cn(start)}至{end.month}月{end.day}日"
    return f"{date_cn(start)}至{date_cn(end)}"


def percent_cn(part: int, whole: int) -> str:
    """12.5%: one decimal at most, none when whole."""
    if whole == 0:
        return "0%"
    value = round(100.0 * part / whole, 1)
    return f"{value:g}%"


def points_cn(points: float) -> str:
    return f"{points:g}"


def doc_number(year: int, number: int) -> str:
    return f"{DOC_NUMBER_PREFIX}〔{year}〕{number}号"


def ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 1 <= n <= len(ORDINALS) else str(n)


def _village_ref(finding: VillageFinding) -> str:
    units = "、".join(finding.village.units)
    return f"{finding.village.county}{finding.village.town}{finding.village.name}（{units}）"


def _join(items: Sequence[str]) -> str:
    return "、".join(items)


def _counted(items: Sequence[str], measure: str) -> str:
    """"A、B共2个部门（单位）", or when long "A…J等150个部门（单位）"."""
    if len(items) <= INLINE_NAMES_MAX:
        return f"{_join(items)}共{len(items)}{measure}"
    return _join_capped(items, measure)


def _join_capped(items: Sequence[str], measure: str) -> str:
    """All names when few; else the first ones and the count: "A、B…等140个村"."""
    if len(items) <= INLINE_NAMES_MAX:
        return _join(items)
    return f"{_join(items[:INLINE_NAMES_MAX])}等{len(items)}{measure}"


@dataclass(frozen=True)
class NoticeFacts:
    """What the notice needs beyond findings and consequences, as plain values."""

    round: str
    dates: RoundDates
    number: int
    date: dt.date
    joint: bool
    groups: int
    lottery: dict[str, CountyDraw]
    rectification_deadline: dt.date
    next_round_month: int


def _basic_facts(f: RoundFindings, facts: NoticeFacts, city_units: int) -> list[Block]:
    reasons = {"full": 0, "lottery": 0, "rectification": 0}
    for v in f.villages:
        reasons[v.village.reason] = reasons.get(v.village.reason, 0) + 1
    draws = []
    for county, draw in facts.lottery.items():
        drawn = len(draw.drawn)
        draws.append(f"{county}{draw.population}个村抽查{drawn}个（抽查比例{percent_cn(drawn, draw.population)}）")
    scope = (
        f"本次督查共督查贫困村{f.total.villages}个。其中，对{city_units}个市级部门（单位）帮扶的"
        f"{reasons['full']}个贫困村进行全面督查；对各县（区）部门（单位）帮扶村进行摇号抽查，"
        f"共抽查{reasons['lottery']}个村"
    )
    scope += f"，其中{_join(draws)}" if draws else ""
    if reasons["rectification"]:
        scope += f"；对上月存在问题的{reasons['rectification']}个村进行整改复查"
    scope += "。"
    t = f.total
    sheets = (
        f"各督查组共填写督查记实表{t.villages}份，收回{t.returned}份，未收回{t.missing}份。"
        f"收回的记实表中，经村级党组织负责人、第一书记、督查组成员签字的有效督查{t.valid}份，"
        f"签字不全的无效督查{t.invalid}份"
    )
    sheets += f"，待复核{t.review}份。" if t.review else "。"
    invalid = f.of_status("invalid")
    if invalid:
        sheets += f"无效督查的村是：{_join_capped([_village_ref(x) for x in invalid], '个村')}。"
    sheets += "各县（区）和各部门（单位）督查情况见附件1。"
    return [Block("h1", "一、基本情况"), Block("body", scope), Block("body", sheets)]


def _achievements(f: RoundFindings) -> list[Block]:
    clean = [x for x in f.villages if not x.has_problem(f.definition)]
    text = (
        f"从督查情况看，多数驻村工作队和第一书记能够按要求到村履职。督查的{f.total.villages}个村中，"
        f"{len(clean)}个村各项督查指标全部达标，占{percent_cn(len(clean), f.total.villages)}；"
        f"{f.total.fund_at_least_min}个村扶贫基金到位不低于10万元。"
    )
    mean = f.total.satisfaction_mean_pct
    if mean is not None:
        text += f"走访群众对驻村工作队和第一书记的平均满意率为{mean:g}%。"
    units = f.units_without_problems()
    blocks = [Block("h1", "二、主要成效"), Block("body", text)]
    if units:
        blocks.append(Block(
            "body",
            f"{_counted(units, '个部门（单位）')}帮扶村督查中未发现问题，驻村工作队和第一书记履职情况较好，予以肯定。",
        ))
    return blocks


def _problems(f: RoundFindings) -> list[Block]:
    problem_villages = f.with_problems()
    no_total = sum(len(x.no_keys) for x in f.villages)
    blocks = [Block("h1", "三、存在的问题")]
    if not problem_villages:
        blocks.append(Block("body", "本次督查未发现问题。"))
        return blocks
    blocks.append(Block(
        "body",
        f"督查发现，{len(problem_villages)}个村存在问题，共有{no_total}项督查指标为“否”。按督查内容归类如下。",
    ))
    n = 0
    for aspect in f.aspects:
        n += 1
        blocks.append(Block("h2", f"（{ordinal(n)}）{aspect.title}。"))
        parts = [
            f"{item.text}的有{len(item.villages)}个村：{_join_capped([_village_ref(x) for x in item.villages], '个村')}"
            for item in aspect.items
        ]
        blocks.append(Block("body", f"{aspect.village_count}个村存在问题。其中，" + "；".join(parts) + "。"))
    invalid = f.of_status("invalid") if f.definition.invalid_inspection else []
    missing = f.of_status("missing") if f.definition.missing_sheet else []
    if invalid or missing:
        n += 1
        blocks.append(Block("h2", f"（{ordinal(n)}）督查记实表签字和交回情况。"))
        parts = []
        if invalid:
            refs = _join_capped([_village_ref(x) for x in invalid], "个村")
            parts.append(f"{len(invalid)}个村的督查记实表签字不全，视为无效督查：{refs}")
        if missing:
            parts.append(f"{len(missing)}个村未交回督查记实表：{_join_capped([_village_ref(x) for x in missing], '个村')}")
        blocks.append(Block("body", "；".join(parts) + "。"))
    return blocks


def _use_of_results(c: Consequences) -> list[Block]:
    blocks = [
        Block("h1", "四、督查结果运用"),
        Block("body", "根据通知要求，本次督查结果纳入市委对县（区）、市级部门（单位）年度党建工作目标考核内容。"),
        Block("h2", "（一）通报批评。"),
    ]
    if c.criticised:
        blocks.append(Block(
            "body",
            f"对{_counted(c.criticised_units, '个部门（单位）')}予以通报批评（名单见附件2）。",
        ))
    else:
        blocks.append(Block("body", "本次督查没有需要通报批评的部门（单位）。"))
    blocks.append(Block("h2", "（二）约谈。"))
    if c.admonitions:
        blocks.append(Block(
            "body",
            f"市委组织部将约谈{_counted([a.unit for a in c.admonitions], '个部门（单位）')}负责人，"
            "提出具体到时间节点的改进要求。",
        ))
    else:
        blocks.append(Block("body", "本次督查没有需要约谈的部门（单位）负责人。"))
    blocks.append(Block("h2", "（三）扣减目标考核得分。"))
    if c.deductions:
        parts = [f"{d.target}{points_cn(d.points)}分" for d in c.deductions]
        blocks.append(Block("body", f"扣减年度综合目标考核得分：{_join(parts)}。"))
    else:
        blocks.append(Block("body", "本次督查不扣减年度综合目标考核得分。"))
    if c.replacements:
        blocks.append(Block("h2", "（四）调整人选建议。"))
        parts = [
            f"{r.village}连续{r.rounds}次专项督查发现问题，建议{_join(list(r.units))}调整驻村工作队及第一书记人选"
            for r in c.replacements
        ]
        blocks.append(Block("body", "；".join(parts) + "。"))
    return blocks


def _rectification_demands(f: RoundFindings, facts: NoticeFacts, items: int) -> list[Block]:
    return [
        Block("h1", "五、整改要求"),
        Block(
            "body",
            f"各县（区）、各有关部门（单位）要对照督查发现的问题（整改事项清单见附件3，共{items}项），"
            f"逐项制定整改措施，于{date_cn(facts.rectification_deadline)}前整改到位，"
            "并将整改情况书面报市委组织部。",
        ),
        Block(
            "body",
            f"市委组织部将在{facts.next_round_month}月专项督查中对整改情况逐村复查，"
            "对整改不到位的部门（单位）从严通报问责。",
        ),
        Block(
            "body",
            f"各县（区）要落实组织部门牵头每月开展专项督查，通报督查结果，"
            f"并于{date_cn(facts.dates.self_inspection_due)}前送市委组织部备查。",
        ),
    ]


def _summary_tables(f: RoundFindings, units: dict[str, UnitInfo]) -> tuple[Block | Table, ...]:
    def satisfaction(t: Tally) -> str:
        mean = t.satisfaction_mean_pct
        return "—" if mean is None else f"{mean:g}%"

    county_rows = []
    for county, t in [*f.by_county.items(), ("合计", f.total)]:
        county_rows.append((county, str(t.villages), str(t.returned), str(t.valid), str(t.invalid), str(t.missing),
                            str(t.problem_villages), str(t.no_answers), satisfaction(t)))
    header = ("县（区）", "督查村数", "收回", "有效督查", "无效督查", "未收回", "存在问题村数", "“否”项数", "平均满意率")
    by_county = Table(header, tuple(county_rows), (28.0, 16.0, 13.0, 16.0, 16.0, 14.0, 18.0, 16.0, 19.0), frozenset())
    unit_rows = []
    ordered = sorted(
        f.by_unit.items(),
        key=lambda kv: (
            (units.get(kv[0]) or UnitInfo(kv[0], CITY_LEVEL, None)).level != CITY_LEVEL,
            county_order((units.get(kv[0]) or UnitInfo(kv[0], CITY_LEVEL, None)).county or ""),
            kv[0],
        ),
    )
    for unit, u in ordered:
        info = units.get(unit)
        level = "市级" if info is None or info.level == CITY_LEVEL else short_name(info.county or "县级")
        unit_rows.append((unit, level, _join(u.names), str(u.valid), str(u.invalid), str(u.missing),
                          str(u.problem_villages), str(u.no_answers)))
    unit_header = ("帮扶单位", "所属", "帮扶村", "有效督查", "无效督查", "未收回", "存在问题村数", "“否”项数")
    by_unit = Table(unit_header, tuple(unit_rows), (36.0, 20.0, 28.0, 14.0, 14.0, 14.0, 15.0, 15.0),
                    frozenset({0, 2}))
    return (Block("attachment_text", "一、分县（区）情况"), by_county,
            Block("attachment_text", "二、分帮扶单位情况"), by_unit)


def _criticised_table(c: Consequences) -> tuple[Block | Table, ...]:
    if not c.criticised:
        return (Block("attachment_text", "本次督查无通报批评单位。"),)
    rows = tuple(
        (str(i), entry.unit, _join(entry.villages), "；".join(entry.reasons))
        for i, entry in enumerate(c.criticised, start=1)
    )
    return (Table(("序号", "单位", "帮扶村", "通报批评原因"), rows, (12.0, 44.0, 32.0, 68.0), frozenset({1, 2, 3})),)


def rectification_rows(f: RoundFindings, deadline: dt.date) -> list[tuple[str, str, str, str, str]]:
    """One row per 否, as RectificationItem rows are created: county, village, units, problem, deadline."""
    from ducha.findings import PROBLEM_TEXT

    rows = []
    for x in f.villages:
        for key in x.no_keys:
            rows.append((x.village.county, f"{x.village.town}{x.village.name}", _join(x.village.units),
                         PROBLEM_TEXT[key], date_cn(deadline)))
    return rows


def _rectification_table(rows: list[tuple[str, str, str, str, str]]) -> tuple[Block | Table, ...]:
    if not rows:
        return (Block("attachment_text", "本次督查无整改事项。"),)
    numbered = tuple((str(i), *row) for i, row in enumerate(rows, start=1))
    return (Table(("序号", "县（区）", "帮扶村", "帮扶单位", "存在问题", "整改时限"), numbered,
                  (11.0, 19.0, 27.0, 33.0, 42.0, 24.0), frozenset({2, 3, 4})),)


def assemble_notice(
    f: RoundFindings, c: Consequences, facts: NoticeFacts, units: dict[str, UnitInfo]
) -> OfficialDocument:
    year, month = parse_round_id(facts.round)
    city_units = len({u for x in f.villages if x.village.reason == "full" for u in x.village.units
                      if (units.get(u) is None or units[u].level == CITY_LEVEL)})
    rect_rows = rectification_rows(f, facts.rectification_deadline)
    opening = (
        f"按照{SOURCE_NOTICE}要求，{date_range_cn(facts.dates.start, facts.dates.end)}，{ORGANISERS_SHORT}"
        f"组建{facts.groups}个联合督查组，对全市驻村工作队和第一书记到村履职情况进行了专项督查。现将有关情况通报如下。"
    )
    body = [Block("body", opening)]
    body += _basic_facts(f, facts, city_units)
    body += _achievements(f)
    body += _problems(f)
    body += _use_of_results(c)
    body += _rectification_demands(f, facts, len(rect_rows))
    signer = "\n".join(JOINT_ISSUERS) if facts.joint else LEAD_ISSUER
    fields: dict[str, object] = {
        "joint": facts.joint,
        "issuer": LEAD_ISSUER,
        "joint_issuers": Lines(JOINT_ISSUERS),
        "number": doc_number(year, facts.number),
        "year": year,
        "month": month,
        "signer": Lines(tuple(signer.split("\n"))),
        "date": date_cn(facts.date),
        "cc": CC_JOINT if facts.joint else CC_SINGLE,
        "printing_office": PRINTING_OFFICE,
        "printing_date": date_cn(facts.date),
    }
    attachments = [
        Attachment(1, "督查情况汇总表", _summary_tables(f, units)),
        Attachment(2, "通报批评单位名单", _criticised_table(c)),
        Attachment(3, "整改事项清单", _rectification_table(rect_rows)),
    ]
    return OfficialDocument(fields=fields, body=body, attachments=attachments)


def body_text(document: OfficialDocument) -> str:
    """The body as plain text, one paragraph a line: the golden-file form."""
    return "\n".join(block.text for block in document.body) + "\n"


# --- application side ----------------------------------------------------

def next_round_id(round_id: str) -> str:
    year, month = parse_round_id(round_id)
    return f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"


def unit_infos(session: Session) -> dict[str, UnitInfo]:
    return {u.name: UnitInfo(u.name, u.level, u.county) for u in session.scalars(select(SponsorUnit))}


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
    try:
        from ducha.results import load_form_results  # type: ignore[attr-defined]
    except ImportError as exc:
        raise RoundError("读表结果尚不可用（ducha.results.load_form_results 缺失），请先运行 ducha scan") from exc
    return list(load_form_results(session, round_id))


@dataclass(frozen=True)
class NoticeOutput:
    docx: Path
    pdf: Path
    pages: int
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
    number: int, date: dt.date, joint: bool, draft: bool = False,
    rules: ConsequenceRules | None = None,
) -> tuple[OfficialDocument, RoundFindings, Consequences]:
    plan: RoundPlan = round_plan(session, round_id)
    rules = rules or load_rules(workspace.root)
    findings = compute_findings(round_id, plan.villages, results, rules.problem_definition())
    if not draft:
        require_no_open_reviews(round_id, findings)
    units = unit_infos(session)
    streaks = problem_streaks(session, round_id, [v.id for v in plan.villages])
    consequences = apply_rules(findings, rules, units, streaks)
    config = load_config(workspace.root)
    next_id = next_round_id(round_id)
    next_start = round_dates(next_id, config.rounds).start
    deadline = rectification_deadline(rules, next_start, date)
    record_round(session, findings, results, deadline)
    facts = NoticeFacts(
        round=round_id, dates=plan.dates, number=number, date=date, joint=joint,
        groups=len(plan.roster.groups), lottery=dict(plan.lottery.per_county),
        rectification_deadline=deadline, next_round_month=parse_round_id(next_id)[1],
    )
    return assemble_notice(findings, consequences, facts, units), findings, consequences


def render(document: OfficialDocument, out_dir: Path, stem: str, template: Path = NOTIFICATION_TEMPLATE) -> tuple[Path, Path, int]:
    """Write the .docx and convert it to PDF with the standard fonts mapped."""
    from generator.pdf_convert import convert_to_pdf, pdf_page_count

    docx_path = write_document(template, document, out_dir / f"{stem}.docx")
    (pdf_path,) = convert_to_pdf([docx_path], out_dir, workers=1)
    return docx_path, pdf_path, pdf_page_count(pdf_path)


def write_notice(
    session: Session, workspace: Workspace, round_id: str, *, number: int, date: dt.date, joint: bool,
    out_dir: Path | None = None, draft: bool = False, results: list[FormResult] | None = None,
) -> NoticeOutput:
    if results is None:
        results = load_results(session, round_id)
    document, findings, consequences = prepare(
        session, workspace, round_id, results, number=number, date=date, joint=joint, draft=draft
    )
    target = out_dir or workspace.output_dir("notices")
    stem = f"通报_{round_id}_{number}号" + ("_草稿" if draft else "")
    docx_path, pdf_path, pages = render(document, target, stem)
    return NoticeOutput(
        docx=docx_path, pdf=pdf_path, pages=pages, criticised=consequences.criticised_units,
        invalid=[f"{x.village.county}{x.village.name}" for x in findings.of_status("invalid")],
        findings=findings, consequences=consequences,
    )
