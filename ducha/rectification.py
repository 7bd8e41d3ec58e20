"""Rectification (整改): every 否 becomes an item that must be fixed and re-checked.

An item is created from round N's results, printed on the village's sheet
of the next round (the sheets code lists the open items of the village and
stores their ids in ``IssuedSheet.rectification_item_ids``), and closed
when that sheet, validly signed, marks it 已整改.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import RectificationItem
from ducha.findings import PROBLEM_TEXT, RoundFindings
from ducha.results import FormResult

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True)
class RectificationSummary:
    created: int
    existing: int
    closed: int


def create_items(session: Session, findings: RoundFindings, deadline: dt.date | None) -> tuple[int, int]:
    """One item per 否 of the round; running it again creates nothing new.

    Returns (created, already there).
    """
    existing_keys = {
        (row.village_id, row.indicator_key)
        for row in session.scalars(select(RectificationItem).where(RectificationItem.origin_round == findings.round))
    }
    created = 0
    already = 0
    for finding in findings.villages:
        for key in finding.no_keys:
            if (finding.village.id, key) in existing_keys:
                already += 1
                continue
            session.add(RectificationItem(
                village_id=finding.village.id,
                origin_round=findings.round,
                indicator_key=key,
                description=PROBLEM_TEXT[key],
                deadline=deadline,
                status=OPEN,
            ))
            existing_keys.add((finding.village.id, key))
            created += 1
    session.flush()
    return created, already


def close_items(session: Session, results: Iterable[FormResult]) -> int:
    """Close the items a validly signed sheet marks 已整改; returns how many closed.

    An unsigned sheet proves nothing, so its ticks leave the items open.
    """
    closed = 0
    for result in results:
        if result.status != "valid":
            continue
        for item_id, value in result.rectification.items():
            if value != "done":
                continue
            item = session.get(RectificationItem, item_id)
            if item is None or item.status != OPEN or item.village_id != result.village_id:
                continue
            if item.origin_round >= result.round:
                continue
            item.status = CLOSED
            item.closed_round = result.round
            item.closed_form_id = result.form_id
            closed += 1
    session.flush()
    return closed


def open_items(session: Session, village_id: int | None = None, before_round: str | None = None) -> list[RectificationItem]:
    query = select(RectificationItem).where(RectificationItem.status == OPEN)
    if village_id is not None:
        query = query.where(RectificationItem.village_id == village_id)
    if before_round is not None:
        query = query.where(RectificationItem.origin_round < before_round)
    return list(session.scalars(query.order_by(RectificationItem.village_id, RectificationItem.origin_round,
                                               RectificationItem.id)))


def items_of_round(session: Session, round_id: str) -> list[RectificationItem]:
    return list(session.scalars(
        select(RectificationItem).where(RectificationItem.origin_round == round_id).order_by(RectificationItem.id)
    ))


def record_round(
    session: Session, findings: RoundFindings, results: Iterable[FormResult], deadline: dt.date | None
) -> RectificationSummary:
    """After a round: close what its sheets show fixed, open what they show wrong."""
    closed = close_items(session, results)
    created, existing = create_items(session, findings, deadline)
    return RectificationSummary(created=created, existing=existing, closed=closed)
