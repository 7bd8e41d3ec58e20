"""What a round's returned sheets say, per form: the contract between the
scanner (which writes readings) and findings (which reads them).

Values resolved by a person in review take the place of machine values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TickValue = Literal["yes", "no", "blank", "uncertain"]
RectificationValue = Literal["done", "not_done", "blank", "uncertain"]
FormStatus = Literal["valid", "invalid", "review", "missing"]


@dataclass
class FormResult:
    round: str
    village_id: int
    form_id: str
    # valid: all three signed; invalid: a slot empty; review: open doubts;
    # missing: no page of this form came back.
    status: FormStatus
    indicators: dict[str, TickValue] = field(default_factory=dict)
    # Numbers as read (or resolved); None when blank or unreadable.
    numbers: dict[str, float | None] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    # rectification item id -> what page 2 says about it.
    rectification: dict[int, RectificationValue] = field(default_factory=dict)
    open_reviews: int = 0
