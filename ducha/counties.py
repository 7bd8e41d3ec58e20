"""The counties (县区) of 巴中市 that the inspection covers.

巴中经济开发区 is not a county but is treated like one (GLOSSARY); its short
name 经开区, as Annex 1 writes it, is accepted on input.
"""

from __future__ import annotations

COUNTIES: tuple[str, ...] = ("巴州区", "恩阳区", "南江县", "通江县", "平昌县", "巴中经济开发区")

COUNTY_ALIASES: dict[str, str] = {
    "经开区": "巴中经济开发区",
    "巴中经开区": "巴中经济开发区",
    "开发区": "巴中经济开发区",
}

COUNTY_SHORT_NAMES: dict[str, str] = {"巴中经济开发区": "经开区"}


def canonical_county(text: str) -> str | None:
    """The canonical county name for ``text``, or None when it is not one of ours."""
    name = text.strip()
    if name in COUNTIES:
        return name
    return COUNTY_ALIASES.get(name)


def county_order(county: str) -> int:
    return COUNTIES.index(county) if county in COUNTIES else len(COUNTIES)


def short_name(county: str) -> str:
    return COUNTY_SHORT_NAMES.get(county, county)
