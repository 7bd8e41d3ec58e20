"""The signed ID carried by each printed page, in its QR code and as text.

Format (ASCII, upper case so it also survives OCR of the printed line)::

    DC1-201508-511902101201-P1-RS1-7Q2J5KX3MZ4A6B

i.e. prefix, round as YYYYMM, village code, page, layout version and a
truncated HMAC-SHA256 (base32) over everything before it, keyed with the
workspace's secret. The form ID that people quote is ``round-village``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from forms.errors import PayloadError

PAYLOAD_PREFIX = "DC1"
MAC_LENGTH_CHARS = 16  # 80 bits of HMAC-SHA256, base32
_PAYLOAD_RE = re.compile(
    r"^DC1-(?P<year>\d{4})(?P<month>\d{2})-(?P<village>[0-9A-Z]+)-P(?P<page>\d{1,2})"
    rf"-(?P<layout>[0-9A-Z]+)-(?P<mac>[A-Z2-7]{{{MAC_LENGTH_CHARS}}})$"
)


@dataclass(frozen=True)
class SheetId:
    round: str  # "2015-08"
    village_code: str
    page: int
    layout: str  # forms.record_sheet.LAYOUT_VERSION, lower case

    @property
    def form_id(self) -> str:
        return form_id(self.round, self.village_code)


def form_id(round_: str, village_code: str) -> str:
    return f"{round_}-{village_code}"


def _unsigned_text(sheet: SheetId) -> str:
    year, month = sheet.round.split("-")
    return f"{PAYLOAD_PREFIX}-{year}{month}-{sheet.village_code.upper()}-P{sheet.page}-{sheet.layout.upper()}"


def _mac(key: bytes, text: str) -> str:
    digest = hmac.new(key, text.encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH_CHARS]


def encode(sheet: SheetId, key: bytes) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}", sheet.round):
        raise PayloadError(f"轮次格式应为 YYYY-MM：{sheet.round}")
    if not re.fullmatch(r"[0-9A-Za-z]+", sheet.village_code):
        raise PayloadError(f"村代码只能含字母和数字：{sheet.village_code}")
    text = _unsigned_text(sheet)
    return f"{text}-{_mac(key, text)}"


def parse(payload: str) -> tuple[SheetId, str]:
    """Split a payload into its ID and MAC without checking the MAC."""
    match = _PAYLOAD_RE.match(payload.strip().upper())
    if match is None:
        raise PayloadError(f"不是本系统的纪实表编码：{payload[:60]!r}")
    sheet = SheetId(
        round=f"{match['year']}-{match['month']}",
        village_code=match["village"],
        page=int(match["page"]),
        layout=match["layout"].lower(),
    )
    return sheet, match["mac"]


def decode(payload: str, key: bytes) -> SheetId:
    """Parse and verify; a sheet this workspace did not issue fails here."""
    sheet, mac = parse(payload)
    if not hmac.compare_digest(mac, _mac(key, _unsigned_text(sheet))):
        raise PayloadError("纪实表编码的签名校验失败：不是本工作区印发的纪实表，或编码被改动")
    return sheet
