"""Three kinds of round for the notice tests: all good, realistic (mixed) and poor.

Results are drawn per village without rendering scans: the ticks with the
simulator's own answer mixes (``generator.simulate.ANSWER_MIXES``), the
signatures, returns and amounts with the shares below. A blank tick stays
blank, as a reviewer would settle a box nobody ticked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ducha.results import FormResult
from ducha.rounds import PlannedVillage
from forms.record_sheet import INDICATORS
from generator.simulate import ANSWER_MIXES


@dataclass(frozen=True)
class RoundProfile:
    yes: float
    no: float
    invalid_share: float
    missing_share: float
    fund_below_min_share: float
    satisfaction_pct: tuple[float, float]


PROFILES = {
    "good": RoundProfile(1.0, 0.0, 0.0, 0.0, 0.0, (92.0, 100.0)),
    "realistic": RoundProfile(*ANSWER_MIXES["realistic"], 0.03, 0.01, 0.05, (72.0, 100.0)),
    "poor": RoundProfile(*ANSWER_MIXES["poor"], 0.2, 0.05, 0.4, (35.0, 90.0)),
}


def round_results(round_id: str, villages: list[PlannedVillage], profile: str, seed: int = 1) -> list[FormResult]:
    p = PROFILES[profile]
    rng = random.Random(f"{profile}-{seed}")
    out = []
    for v in villages:
        r = rng.random()
        if r < p.missing_share:
            continue
        status = "invalid" if r < p.missing_share + p.invalid_share else "valid"
        ticks = {}
        for indicator in INDICATORS:
            t = rng.random()
            ticks[indicator.key] = "yes" if t < p.yes else "no" if t < p.yes + p.no else "blank"
        fund = round(rng.uniform(0.5, 9.9) if rng.random() < p.fund_below_min_share else rng.uniform(10, 60), 1)
        satisfaction = round(rng.uniform(*p.satisfaction_pct), 1)
        visited = rng.randrange(8, 25)
        out.append(FormResult(
            round=round_id, village_id=v.id, form_id=f"{round_id}-{v.code}", status=status,  # type: ignore[arg-type]
            indicators=ticks,  # type: ignore[arg-type]
            numbers={"poverty_fund": fund, "project_funds": round(rng.uniform(0, 200), 1),
                     "visited_satisfied": visited, "satisfaction_pct": satisfaction,
                     "visited_dissatisfied": visited, "dissatisfaction_pct": round(100 - satisfaction, 1)},
        ))
    return out
