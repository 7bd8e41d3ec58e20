"""The lottery (摇号抽查): a draw anyone can repeat from the announced seed.

Algorithm ``hmac-sha256-rank``, version 1, for one round:

1. Population. For each county, the villages whose sponsor units are all
   county units, listed by village code (ascending).
2. Rank. For each village, ``HMAC-SHA256(key=seed, msg="county|code")`` with
   seed, county name and code as UTF-8 bytes; sort by the hex digest.
3. Draw. Take the first ``ceil(N * min_ratio)`` villages (10% rounded up).

The population's fingerprint is the SHA-256 of the lines ``county|code\\n``
for every county (sorted by name) and code (sorted), as UTF-8; it shows
later whether the registry was changed after the draw.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ducha.db.models import Lottery, Village
from ducha.errors import LotteryError
from ducha.workspace import Workspace

ALGORITHM = "hmac-sha256-rank"
ALGORITHM_VERSION = "1"
SEED_MIN_CHARS = 4

Population = dict[str, list[str]]  # county -> sorted village codes


def result_record(
    population: Population, drawn: dict[str, list[str]], min_ratio: Decimal
) -> dict[str, dict[str, object]]:
    """What ``Lottery.result`` stores: enough to replay the draw without the registry."""
    return {
        county: {"population": list(codes), "drawn": list(drawn[county]), "min_ratio": str(min_ratio)}
        for county, codes in population.items()
    }


def check_seed(seed: str) -> str:
    text = seed.strip()
    if len(text) < SEED_MIN_CHARS:
        raise LotteryError(f"摇号种子至少 {SEED_MIN_CHARS} 个字符，应由现场公开产生（例如当日彩票开奖号码）并记录在案")
    return text


def lottery_population(session: Session) -> Population:
    """Per county, the villages helped only by county units (the lottery's population)."""
    population: Population = {}
    villages = session.scalars(select(Village).options(selectinload(Village.units)))
    for village in villages:
        levels = {link.unit.level for link in village.units}
        if levels == {"county"}:
            population.setdefault(village.county, []).append(village.code)
    return {county: sorted(codes) for county, codes in sorted(population.items())}


def population_sha256(population: Population) -> str:
    digest = hashlib.sha256()
    for county in sorted(population):
        for code in sorted(population[county]):
            digest.update(f"{county}|{code}\n".encode())
    return digest.hexdigest()


def draw_size(population_size: int, min_ratio: Decimal) -> int:
    """At least ``min_ratio`` of the population, rounded up; exact, no float rounding."""
    return math.ceil(Fraction(population_size) * Fraction(min_ratio))


def rank_key(seed: str, county: str, code: str) -> str:
    return hmac.new(seed.encode(), f"{county}|{code}".encode(), hashlib.sha256).hexdigest()


def draw(seed: str, population: Population, min_ratio: Decimal) -> dict[str, list[str]]:
    """Per county, the drawn codes in rank order."""
    result = {}
    for county in sorted(population):
        ranked = sorted(population[county], key=lambda code: rank_key(seed, county, code))
        result[county] = ranked[: draw_size(len(ranked), min_ratio)]
    return result


@dataclass(frozen=True)
class Verification:
    round: str
    replay_matches: bool  # the recorded population, re-drawn with the recorded seed, gives the recorded result
    population_unchanged: bool  # today's registry gives the recorded population
    recorded_sha256: str
    current_sha256: str
    changed_counties: list[str]

    @property
    def ok(self) -> bool:
        return self.replay_matches and self.population_unchanged


def stored_lottery(session: Session, round_id: str) -> Lottery:
    record = session.get(Lottery, round_id)
    if record is None:
        raise LotteryError(f"{round_id} 轮还没有摇号，请先运行：ducha round plan {round_id} --seed 种子")
    return record


def verify(session: Session, round_id: str) -> Verification:
    record = stored_lottery(session, round_id)
    if record.algorithm != ALGORITHM or record.algorithm_version != ALGORITHM_VERSION:
        raise LotteryError(
            f"{round_id} 轮的摇号用的是 {record.algorithm} {record.algorithm_version}，本程序只能复核 {ALGORITHM} {ALGORITHM_VERSION}"
        )
    recorded_population: Population = {c: list(v["population"]) for c, v in record.result.items()}
    replay_ok = population_sha256(recorded_population) == record.population_sha256
    for county, entry in record.result.items():
        ratio = Decimal(entry["min_ratio"])
        redrawn = draw(record.seed, {county: list(entry["population"])}, ratio)[county]
        replay_ok = replay_ok and redrawn == list(entry["drawn"])
    current = lottery_population(session)
    counties = sorted(set(current) | set(recorded_population))
    changed = [c for c in counties if current.get(c, []) != recorded_population.get(c, [])]
    return Verification(
        round=round_id,
        replay_matches=replay_ok,
        population_unchanged=not changed,
        recorded_sha256=record.population_sha256,
        current_sha256=population_sha256(current),
        changed_counties=changed,
    )


def record_path(workspace: Workspace, round_id: str) -> Path:
    """Where a round's printable lottery record is written unless told otherwise (CLI and desk alike)."""
    return workspace.output_dir("lottery") / f"摇号记录_{round_id}.docx"
