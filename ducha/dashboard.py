"""Where a round stands: per group, sheets issued, pages back, page states and villages not yet returned.

Read-only: the desk's round dashboard shows it, and it counts from the
same rows the scanner writes and the notice reads (``load_form_results``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, ReviewItem, ScanPage
from ducha.lottery import Verification, verify
from ducha.results import load_form_results
from ducha.rounds import PlannedVillage, RoundPlan, round_plan


@dataclass
class GroupStatus:
    group_no: int
    villages: int = 0
    sheets_issued: int = 0
    pages_returned: int = 0
    recorded: int = 0
    review: int = 0
    rejected: int = 0
    open_items: int = 0
    # Sheets back by validity (decided once no signature or whole-page item is open; open amounts do not wait).
    valid: int = 0
    invalid: int = 0
    validity_open: int = 0
    only_amounts_open: int = 0  # sheets whose only open items are amounts: ticks and signatures settled
    group_pdf: str | None = None  # relative to the workspace
    not_returned: list[PlannedVillage] = field(default_factory=list)


@dataclass
class RoundStatus:
    plan: RoundPlan
    groups: list[GroupStatus]
    verification: Verification
    rejected_unidentified: int

    @property
    def round(self) -> str:
        return self.plan.round

    def group(self, group_no: int) -> GroupStatus | None:
        return next((g for g in self.groups if g.group_no == group_no), None)


def _relative(path: str | None, root: Path) -> str | None:
    if not path:
        return None
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return None  # printed to a folder outside the workspace: not offered for download


def round_status(session: Session, round_id: str, root: Path) -> RoundStatus:
    plan = round_plan(session, round_id)
    groups: dict[int, GroupStatus] = {}
    for village in plan.villages:
        groups.setdefault(village.group, GroupStatus(village.group)).villages += 1
    sheets = session.scalars(select(IssuedSheet).where(IssuedSheet.round == round_id)).all()
    group_of_form = {s.form_id: s.group_no for s in sheets}
    for sheet in sheets:
        status = groups.setdefault(sheet.group_no, GroupStatus(sheet.group_no))
        status.sheets_issued += 1
        status.group_pdf = status.group_pdf or _relative(sheet.pdf_path, root)
    if group_of_form:
        page_counts = session.execute(
            select(ScanPage.form_id, ScanPage.status, func.count())
            .where(ScanPage.form_id.in_(group_of_form))
            .group_by(ScanPage.form_id, ScanPage.status)
        )
        for form_id, state, count in page_counts:
            status = groups[group_of_form[str(form_id)]]
            status.pages_returned += count
            if state in ("recorded", "review", "rejected"):
                setattr(status, state, getattr(status, state) + count)
        open_counts = session.execute(
            select(ReviewItem.form_id, func.count())
            .where(ReviewItem.form_id.in_(group_of_form), ReviewItem.status == "open")
            .group_by(ReviewItem.form_id)
        )
        for form_id, count in open_counts:
            groups[group_of_form[str(form_id)]].open_items += count
    # A village whose sheet is not printed yet is not "not returned": its group's row says so instead.
    results = load_form_results(session, round_id)
    missing = {r.village_id for r in results if r.status == "missing"}
    for village in plan.villages:
        if village.id in missing:
            groups[village.group].not_returned.append(village)
    for result in results:
        group = groups[group_of_form[result.form_id]]
        if result.status == "missing":
            continue
        if result.validity == "valid":
            group.valid += 1
        elif result.validity == "invalid":
            group.invalid += 1
        else:
            group.validity_open += 1
        group.only_amounts_open += result.only_amounts_open
    unidentified = session.scalar(
        select(func.count()).select_from(ScanPage).where(ScanPage.status == "rejected", ScanPage.form_id.is_(None))
    ) or 0
    return RoundStatus(plan=plan, groups=[groups[g] for g in sorted(groups)], verification=verify(session, round_id),
                       rejected_unidentified=int(unidentified))


def page_state_counts(session: Session, form_ids: list[str]) -> Counter[str]:
    rows = session.execute(
        select(ScanPage.status, func.count()).where(ScanPage.form_id.in_(form_ids)).group_by(ScanPage.status)
    )
    return Counter({state: count for state, count in rows})
