"""The notice's evaluative wording, chosen by rules on the figures.

Thresholds and the good / mixed / poor sentences ship in
``ducha/defaults/notice_wording.json``; a workspace may override any key
with its own ``notice_wording.json``. The merged file is checked against
a schema and every problem is reported at once, by key. No praise in the
notice is fixed: each evaluative sentence is picked here from a figure
that is printed next to it.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ducha.consequences import load_layered

DEFAULT_WORDING_PATH = Path(__file__).resolve().parent / "defaults" / "notice_wording.json"
WORKSPACE_WORDING_FILE_NAME = "notice_wording.json"
# Placeholders a sentence may use; anything else is a typo that would print "{...}".
ALLOWED_PLACEHOLDERS = frozenset({"good_min_pct", "poor_below_pct"})
UNMEASURABLE_ASPECTS = ("5", "6", "7", "8")

Verdict = Literal["good", "mixed", "poor"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_placeholders(text: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"花括号不成对：{text}") from exc
    unknown = names - ALLOWED_PLACEHOLDERS
    if unknown:
        raise ValueError(f"未知的占位符 {'、'.join('{' + n + '}' for n in sorted(unknown))}"
                         f"（可用：{'、'.join('{' + n + '}' for n in sorted(ALLOWED_PLACEHOLDERS))}）")
    return text


class Scale(_Strict):
    """A percentage judged good at ``good_min_pct`` and up, poor below ``poor_below_pct``."""

    measure: str = Field(min_length=1)
    good_min_pct: float = Field(ge=0, le=100)
    poor_below_pct: float = Field(ge=0, le=100)
    good: str = Field(min_length=1)
    mixed: str = Field(min_length=1)
    poor: str = Field(min_length=1)

    @field_validator("good", "mixed", "poor")
    @classmethod
    def _placeholders(cls, text: str) -> str:
        return _check_placeholders(text)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.poor_below_pct > self.good_min_pct:
            raise ValueError(f"poor_below_pct（{self.poor_below_pct:g}）不能大于 good_min_pct（{self.good_min_pct:g}）")
        return self

    def verdict(self, pct: float) -> Verdict:
        if pct >= self.good_min_pct:
            return "good"
        if pct < self.poor_below_pct:
            return "poor"
        return "mixed"

    def sentence(self, pct: float) -> str:
        text: str = getattr(self, self.verdict(pct))
        return text.format(good_min_pct=f"{self.good_min_pct:g}", poor_below_pct=f"{self.poor_below_pct:g}")


class NotMeasured(_Strict):
    # Keyed by the aspect's number in the seed's 三、督查内容 ("5" for （五）).
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    five: str = Field(alias="5", min_length=1)
    six: str = Field(alias="6", min_length=1)
    seven: str = Field(alias="7", min_length=1)
    eight: str = Field(alias="8", min_length=1)

    def of(self, aspect: int) -> str:
        return {5: self.five, 6: self.six, 7: self.seven, 8: self.eight}[aspect]


class NoticeWording(_Strict):
    version: Literal[1]
    overall: Scale
    satisfaction: Scale
    aspect: Scale
    not_measured: NotMeasured


def load_wording(workspace_root: Path | None = None) -> NoticeWording:
    """The default wording rules, overridden key by key by the workspace's own file."""
    return load_layered(NoticeWording, DEFAULT_WORDING_PATH, workspace_root, WORKSPACE_WORDING_FILE_NAME)
