"""Fills the group cover (roster in the style of Annex 1 and village list)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from generator.build_templates import GROUP_COVER_TEMPLATE
from generator.fast_template import FastDocxTemplate


@dataclass(frozen=True)
class CoverMember:
    role: str  # 组长 / 成员 / 联络人
    name: str
    title: str = ""
    phone: str = ""


@dataclass(frozen=True)
class CoverVillage:
    order: int
    county: str
    town: str
    name: str
    units: str
    reason: str


@dataclass
class CoverData:
    round_label: str
    group_label: str
    counties: str
    dates: str
    members: list[CoverMember] = field(default_factory=list)
    villages: list[CoverVillage] = field(default_factory=list)


def _title_line(member: CoverMember) -> str:
    # Annex 1 writes the liaison's phone in brackets after the title.
    if member.phone:
        return f"{member.title}（{member.phone}）" if member.title else f"（{member.phone}）"
    return member.title


def render_cover(data: CoverData, out_path: Path, template: Path = GROUP_COVER_TEMPLATE) -> Path:
    tpl = FastDocxTemplate(io.BytesIO(template.read_bytes()))
    context = {
        "round_label": data.round_label,
        "group_label": data.group_label,
        "counties": data.counties,
        "dates": data.dates,
        "members": [
            {"role": m.role, "name": m.name, "title": _title_line(m)} for m in data.members
        ],
        "villages": [
            {"order": v.order, "county": v.county, "town": v.town, "name": v.name, "units": v.units, "reason": v.reason}
            for v in data.villages
        ],
    }
    tpl.render_fast(context)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    tpl.save(str(tmp))
    tmp.replace(out_path)
    return out_path
