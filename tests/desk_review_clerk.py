"""A clerk at the review grid, for the browser test and the review benchmark.

Given what the paper says (a simulation's truth), the clerk presses what
the desk asks for: Enter alone when the prefilled guess is right, else the
value's key (or the digits) and Enter; on the conflict screen an arrow
key picks the scan that shows the truth. Every key press is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page

from ducha.desk.routes_review import AMOUNT_BLANK_KEY, RECTIFICATION_KEYS, SIGNATURE_KEYS, TICK_KEYS

KINDS = ("amount", "tick", "signature", "page", "conflict")
PENDING_TIMEOUT_MS = 60_000
# Not on the paper's truth: the clerk of the browser test takes the left scan on the conflict screen.
UNKNOWN = object()
_LABELS = {"yes": "是", "no": "否", "blank": "未填", "done": "已整改", "not_done": "未整改",
           "signed": "已签", "empty": "未签", "ok": "已核对"}
# The current card's data in one step, as the page has it between two key presses.
CURRENT_CARD_JS = """() => {
  const card = document.querySelector('.rv-card.current');
  return card ? Object.assign({value: card.querySelector('.rv-value').value, left: card.dataset.left || '',
                               right: card.dataset.right || ''}, card.dataset) : null;
}"""


@dataclass
class Settled:
    id: int
    form: str
    field: str
    kind: str  # the field's kind: amount, tick, signature, page
    conflict: bool
    keys: list[str] = field(default_factory=list)
    typed: str = ""  # what the truth looks like typed (an amount's characters)
    chosen: str = ""  # the value the clerk ended with, as shown


def truth_label(kind: str, value: Any) -> str:
    """A truth value as the grid shows it."""
    if kind == "amount":
        return "未填" if value is None else f"{float(value):g}"
    return _LABELS[value]


def truth_value(kind: str, field_key: str, page_truth: dict[str, Any] | None) -> Any:
    if kind == "page":
        return "ok"
    if page_truth is None:
        return UNKNOWN
    table = page_truth["signatures"] if kind == "signature" else page_truth["fields"]
    return table.get(field_key, UNKNOWN)


def keys_for(kind: str, field_key: str, value: Any, card: dict[str, str]) -> tuple[list[str], str]:
    """The keys a clerk who reads the crop right presses, and the value shown after them."""
    conflict = card.get("conflict") == "1"
    if value is UNKNOWN:
        assert conflict, f"no truth for {field_key} of {card.get('form')}"
        return ["ArrowLeft", "Enter"], card["left"]
    label = truth_label(kind, value)
    if card["value"] == label:
        return ["Enter"], label
    if conflict and label in (card["left"], card["right"]):
        return ["ArrowLeft" if label == card["left"] else "ArrowRight", "Enter"], label
    if kind == "amount":
        return ([AMOUNT_BLANK_KEY] if value is None else list(label)) + ["Enter"], label
    keys = SIGNATURE_KEYS if kind == "signature" else RECTIFICATION_KEYS if field_key.startswith("rect_") else TICK_KEYS
    return [next(k for k, v in keys.items() if v == label), "Enter"], label


def wait_idle(page: Page) -> None:
    """Every confirmation sent and answered."""
    page.wait_for_function("document.getElementById('rv').dataset.pending === '0'", timeout=PENDING_TIMEOUT_MS)


def settle_grid(page: Page, url: str, round_id: str, kind: str,
                truth: dict[tuple[str, int], dict[str, Any]]) -> list[Settled]:
    """Every card of one grid, in order, by keyboard; returns what was pressed for each."""
    page.goto(f"{url}/review/{round_id}/{kind}")
    total = page.locator(".rv-card").count()
    assert int(page.inner_text("#rv-left")) == total
    settled: list[Settled] = []
    while (card := page.evaluate(CURRENT_CARD_JS)) is not None:
        card["conflict"] = "1" if kind == "conflict" else "0"
        value = truth_value(card["kind"], card["field"], truth.get((card["form"], int(card["sheetPage"]))))
        keys, shown = keys_for(card["kind"], card["field"], value, card)
        for key in keys:
            page.keyboard.press(key)
        typed = "" if value is UNKNOWN or card["kind"] != "amount" else (
            AMOUNT_BLANK_KEY if value is None else truth_label("amount", value))
        settled.append(Settled(int(card["id"]), card["form"], card["field"], card["kind"], kind == "conflict",
                               keys, typed, shown))
        assert len(settled) <= total, "the grid came back to a card it had settled"
    wait_idle(page)
    assert len(settled) == total
    assert page.inner_text("#rv-left") == "0"
    assert page.locator(".rv-card.done").count() == total
    return settled
