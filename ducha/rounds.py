"""Planning a monthly round: its dates, its villages, their groups and order.

Other stages (sheets, scanning, notification) call ``round_plan`` to read a
planned round and ``round_dates`` for its deadlines.
"""

from __future__ import annotations

import calendar as std_calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from ducha.config import Config, RoundsConfig
from ducha.counties import county_order
from ducha.db.models import (
    IssuedSheet,
    Lottery,
    RectificationItem,
    Round,
    RoundVillage,
    SponsorUnit,
    Village,
    VillageUnit,
)
from ducha.errors import RoundError
from ducha.groups import Roster, ensure_roster, roster_of
from ducha.lottery import (
    ALGORITHM,
    ALGORITHM_VERSION,
    check_seed,
    draw,
    lottery_population,
    population_sha256,
    result_record,
)

ROUND_ID_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
REASONS = ("full", "lottery", "rectification")
REASON_LABELS = {"full": "全面督查", "lottery": "摇号抽查", "rectification": "整改复查"}


@dataclass(frozen=True)
class RoundDates:
    round: str
    start: dt.date
    end: dt.date
    group_report_due: dt.date  # each group's written report (结束后2天内)
    self_inspection_due: dt.date  # the counties' self-inspection reports (次月5日前)


@dataclass(frozen=True)
class PlannedVillage:
    id: int
    code: str
    name: str
    county: str
    town: str
    group: int
    reason: str
    units: list[str]
    visit_order: int

    @property
    def reason_label(self) -> str:
        return REASON_LABELS[self.reason]


@dataclass(frozen=True)
class CountyDraw:
    population: int
    drawn: list[str]


@dataclass(frozen=True)
class LotterySummary:
    seed: str
    algorithm: str
    algorithm_version: str
    population_sha256: str
    drawn_at: dt.datetime
    per_county: dict[str, CountyDraw]


@dataclass
class RoundPlan:
    dates: RoundDates
    villages: list[PlannedVillage]
    lottery: LotterySummary
    roster: Roster
    open_rectification_village_ids: list[int] = field(default_factory=list)

    @property
    def round(self) -> str:
        return self.dates.round

    def villages_of_group(self, group_no: int) -> list[PlannedVillage]:
        return [v for v in self.villages if v.group == group_no]

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "start": self.dates.start.isoformat(),
            "end": self.dates.end.isoformat(),
            "group_report_due": self.dates.group_report_due.isoformat(),
            "self_inspection_due": self.dates.self_inspection_due.isoformat(),
            "villages": [
                {
                    "id": v.id,
                    "code": v.code,
                    "name": v.name,
                    "county": v.county,
                    "town": v.town,
                    "group": v.group,
                    "reason": v.reason,
                    "units": v.units,
                    "visit_order": v.visit_order,
                }
                for v in self.villages
            ],
            "lottery": {
                "seed": self.lottery.seed,
                "algorithm": self.lottery.algorithm,
                "algorithm_version": self.lottery.algorithm_version,
                "population_sha256": self.lottery.population_sha256,
                "per_county": {
                    county: {"population": d.population, "drawn": d.drawn}
                    for county, d in self.lottery.per_county.items()
                },
            },
        }


def parse_round_id(round_id: str) -> tuple[int, int]:
    match = ROUND_ID_RE.match(round_id.strip())
    if match is None:
        raise RoundError(f"轮次“{round_id}”格式不对，应为 年-月，例如 2015-08")
    return int(match.group(1)), int(match.group(2))


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def round_dates(round_id: str, config: RoundsConfig) -> RoundDates:
    """Dates by the notice: explicit overrides (the first round), else the 25th to the 30th,
    or to the last day of a shorter month."""
    year, month = parse_round_id(round_id)
    if round_id < config.first_round:
        raise RoundError(f"{round_id} 早于首轮专项督查（{config.first_round}），不能安排")
    override = config.overrides.get(round_id)
    if round_id == config.first_round:
        start, end = config.first_round_start, config.first_round_end
    elif override is not None:
        start, end = override.start, override.end
    else:
        last_day = std_calendar.monthrange(year, month)[1]
        start = dt.date(year, month, min(config.start_day, last_day))
        end = dt.date(year, month, min(config.end_day, last_day))
    next_year, next_month = _next_month(year, month)
    return RoundDates(
        round=round_id,
        start=start,
        end=end,
        group_report_due=end + dt.timedelta(days=config.group_report_days_after_end),
        self_inspection_due=dt.date(next_year, next_month, config.self_inspection_due_day),
    )


def _open_rectification_village_ids(session: Session, round_id: str) -> set[int]:
    rows = session.scalars(
        select(RectificationItem.village_id).where(
            RectificationItem.status == "open", RectificationItem.origin_round < round_id
        )
    )
    return set(rows)


def _city_village_ids(session: Session) -> set[int]:
    rows = session.scalars(
        select(VillageUnit.village_id)
        .join(SponsorUnit, SponsorUnit.id == VillageUnit.unit_id)
        .where(SponsorUnit.level == "city")
    )
    return set(rows)


def plan_round(
    session: Session,
    round_id: str,
    seed: str,
    config: Config | None = None,
    replace: bool = False,
    now: dt.datetime | None = None,
) -> RoundPlan:
    """Plan a round: dates, scope (full, lottery, rectification), groups and visiting order.

    The seed is required and recorded; the clock is used only for the time stamp.
    """
    config = config or Config()
    seed = check_seed(seed)
    dates = round_dates(round_id, config.rounds)
    existing = session.get(Round, round_id)
    if existing is not None:
        if not replace:
            raise RoundError(f"{round_id} 轮已经安排过。若确要重新摇号，请加 --replace（已印发督查表的轮次不能重排）")
        issued = session.scalar(select(func.count()).select_from(IssuedSheet).where(IssuedSheet.round == round_id))
        if issued:
            raise RoundError(f"{round_id} 轮已印发 {issued} 张督查表，不能重新安排")
        session.execute(delete(RoundVillage).where(RoundVillage.round == round_id))
        session.execute(delete(Lottery).where(Lottery.round == round_id))
        session.delete(existing)
        session.flush()
    roster = ensure_roster(session, round_id)

    ratio: Decimal = config.lottery.min_ratio
    population = lottery_population(session)
    drawn = draw(seed, population, ratio)
    drawn_codes = {code for codes in drawn.values() for code in codes}
    city_ids = _city_village_ids(session)
    rectification_ids = _open_rectification_village_ids(session, round_id)

    villages = session.scalars(select(Village).options(selectinload(Village.units)))
    chosen: list[tuple[Village, str]] = []
    for village in villages:
        if village.id in city_ids:
            chosen.append((village, "full"))
        elif village.code in drawn_codes:
            chosen.append((village, "lottery"))
        elif village.id in rectification_ids:
            chosen.append((village, "rectification"))

    stamp = now or dt.datetime.now()
    session.add(
        Round(
            id=round_id,
            start=dates.start,
            end=dates.end,
            group_report_due=dates.group_report_due,
            self_inspection_due=dates.self_inspection_due,
            planned_at=stamp,
        )
    )
    session.flush()
    session.add(
        Lottery(
            round=round_id,
            seed=seed,
            algorithm=ALGORITHM,
            algorithm_version=ALGORITHM_VERSION,
            population_sha256=population_sha256(population),
            result=result_record(population, drawn, ratio),
            drawn_at=stamp,
        )
    )
    by_group: dict[int, list[Village]] = {}
    reasons: dict[int, str] = {}
    for village, reason in chosen:
        group = roster.group_for_county(village.county)
        by_group.setdefault(group.no, []).append(village)
        reasons[village.id] = reason
    for group_no, members in by_group.items():
        # Statistical codes are county(6) + town(3) + village(3): code order is the
        # official listing of towns and villages, a better route than name order.
        members.sort(key=lambda v: (county_order(v.county), v.code[:9], v.town, v.code))
        for order, village in enumerate(members, start=1):
            session.add(
                RoundVillage(
                    round=round_id,
                    village_id=village.id,
                    group_no=group_no,
                    reason=reasons[village.id],
                    visit_order=order,
                )
            )
    session.flush()
    return round_plan(session, round_id)


def round_plan(session: Session, round_id: str) -> RoundPlan:
    """A planned round as stored; raises RoundError when it is not planned."""
    parse_round_id(round_id)
    stored = session.get(Round, round_id)
    if stored is None:
        raise RoundError(f"{round_id} 轮还没有安排，请先运行：ducha round plan {round_id} --seed 种子")
    lottery = session.get(Lottery, round_id)
    roster = roster_of(session, round_id)
    if lottery is None or roster is None:
        raise RoundError(f"{round_id} 轮的安排不完整，请用 ducha round plan {round_id} --seed 种子 --replace 重新安排")
    rows = session.scalars(
        select(RoundVillage)
        .where(RoundVillage.round == round_id)
        .options(selectinload(RoundVillage.village).selectinload(Village.units).selectinload(VillageUnit.unit))
        .order_by(RoundVillage.group_no, RoundVillage.visit_order)
    )
    villages = [
        PlannedVillage(
            id=r.village.id,
            code=r.village.code,
            name=r.village.name,
            county=r.village.county,
            town=r.village.town,
            group=r.group_no,
            reason=r.reason,
            units=sorted(link.unit.name for link in r.village.units),
            visit_order=r.visit_order,
        )
        for r in rows
    ]
    dates = RoundDates(
        round=round_id,
        start=stored.start,
        end=stored.end,
        group_report_due=stored.group_report_due,
        self_inspection_due=stored.self_inspection_due,
    )
    summary = LotterySummary(
        seed=lottery.seed,
        algorithm=lottery.algorithm,
        algorithm_version=lottery.algorithm_version,
        population_sha256=lottery.population_sha256,
        drawn_at=lottery.drawn_at,
        per_county={
            county: CountyDraw(population=len(entry["population"]), drawn=list(entry["drawn"]))
            for county, entry in sorted(lottery.result.items(), key=lambda kv: county_order(kv[0]))
        },
    )
    rect = sorted(_open_rectification_village_ids(session, round_id))
    return RoundPlan(
        dates=dates, villages=villages, lottery=summary, roster=roster, open_rectification_village_ids=rect
    )
