"""The whole round in a real browser: sign in, upload a return, review every item by keyboard, final notice.

``ducha serve`` runs as a subprocess over a copy of the planned sample
round with one group's sheets printed; ``ducha simulate`` fills and scans
ten of them (eleven pages with its duplicate), and one more sheet is
scanned twice with 是 on one copy and 否 on the other, so the conflict
screen is used too. The browser is Debian's Chromium driven by Playwright.
Each value typed is the simulation's truth, and the test then checks that
the round's results hold exactly those values.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pdfplumber
import pytest
from conftest import EVERY_INDICATOR_YES, smallest_group
from desk_fixtures import ADMIN_NAME, ADMIN_PASSWORD, DESK_TEST_UPLOAD_LIMIT_MB, DeskServer
from desk_review_clerk import KINDS, Settled, settle_grid, truth_label, wait_idle
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.cli import main as cli_main
from ducha.db.models import AuditEntry, IssuedSheet, ReviewItem, ScanPage
from ducha.results import load_form_results
from ducha.review import CONFLICT_REASON_PREFIX
from ducha.simulate import _render
from ducha.workspace import Workspace, copy_workspace
from forms.geometry import load_layout
from forms.record_sheet import NUMERIC_FIELDS_BY_KEY, SIGNATURE_SLOTS, field_label
from generator import simulate as sim
from ocr.align import align

ROUND = "2015-08"
SIM_SHEETS = 10
# This return leaves amounts, ticks and signatures for review (and the copies below a conflict).
SIM_SEED = 5
CONFLICT_FIELD = "team_1"
BOTH_TICKED_FIELD = "team_2"
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "desk_review.png"
VIEWPORT = {"width": 1400, "height": 1000}
JOB_TIMEOUT_MS = 600_000
ACTION_TIMEOUT_MS = 60_000
GROUP_PASSWORD = "zuyuan-mima-2015"
def _cli(ws: Workspace, *args: str) -> int:
    return cli_main(["--workspace", str(ws.root), "--db", ws.db_url, *args])


def _conflict_copies(sheet: IssuedSheet, out: Path) -> tuple[list[Path], dict[str, Any]]:
    """Two scans of one sheet that differ in one tick, and what the paper says apart from that tick."""
    layout = load_layout(sheet.layout_version, 1)
    signatures = {slot.key: "signed" for slot in SIGNATURE_SLOTS}
    paths = []
    for n, answer in enumerate(("yes", "no")):
        page = _render(sheet.pdf_path or "", sheet.pdf_pages[0])
        homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
        plan = sim.PagePlan(form_id=sheet.form_id, sheet_page=1, fields={**EVERY_INDICATOR_YES, CONFLICT_FIELD: answer},
                            signatures=signatures)
        sim.fill_page(page, homography, layout, plan, np.random.default_rng(n), seal_probability=0.0)
        path = out / f"twice-{n + 1}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)[::2, ::2])
        paths.append(path)
    fields: dict[str, Any] = dict(EVERY_INDICATOR_YES)
    fields.update({key: None for key in NUMERIC_FIELDS_BY_KEY})
    del fields[CONFLICT_FIELD]  # the person chooses between the two scans
    return paths, {"form_id": sheet.form_id, "sheet_page": 1, "fields": fields, "signatures": signatures}


def _sealed_copy(sheet: IssuedSheet, out: Path) -> tuple[Path, dict[str, Any]]:
    """A sheet whose village head's slot is empty under the seal: the reader cannot tell, a person must look."""
    layout = load_layout(sheet.layout_version, 1)
    signatures = {slot.key: "signed" for slot in SIGNATURE_SLOTS}
    signatures["village_head"] = "empty"
    page = _render(sheet.pdf_path or "", sheet.pdf_pages[0])
    homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
    plan = sim.PagePlan(form_id=sheet.form_id, sheet_page=1, fields=dict(EVERY_INDICATOR_YES), signatures=signatures)
    sim.fill_page(page, homography, layout, plan, np.random.default_rng(7), seal_probability=1.0)
    # And an indicator ticked both 是 and 否, so the return always leaves a tick item; the clerk decides 是.
    sim.tick_both(page, homography, layout, BOTH_TICKED_FIELD, np.random.default_rng(8))
    path = out / "sealed.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)[::2, ::2])
    fields: dict[str, Any] = dict(EVERY_INDICATOR_YES)
    fields.update({key: None for key in NUMERIC_FIELDS_BY_KEY})
    fields[CONFLICT_FIELD] = "yes"
    fields[BOTH_TICKED_FIELD] = "yes"
    return path, {"form_id": sheet.form_id, "sheet_page": 1, "fields": fields, "signatures": signatures}


@pytest.fixture(scope="module")
def desk(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    ws = copy_workspace(planned_workspace, tmp_path_factory.mktemp("e2e") / "ducha-data")
    group = smallest_group(ws, ROUND)
    assert _cli(ws, "sheets", ROUND, "--group", str(group)) == 0
    out = tmp_path_factory.mktemp("returned")
    assert _cli(ws, "simulate", ROUND, "--out", str(out), "--seed", str(SIM_SEED), "--limit", str(SIM_SHEETS)) == 0
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    pages = {(p["form_id"], p["sheet_page"]): p for f in truth["files"] for p in f["pages"]}
    with Session(ws.engine()) as session:
        sheets = session.scalars(select(IssuedSheet).where(IssuedSheet.round == ROUND).order_by(IssuedSheet.form_id)).all()
    spare, sealed = [s for s in sheets if (s.form_id, 1) not in pages][:2]
    copies, copy_truth = _conflict_copies(spare, out)
    sealed_path, sealed_truth = _sealed_copy(sealed, out)
    pages[(spare.form_id, 1)] = copy_truth
    pages[(sealed.form_id, 1)] = sealed_truth
    files = sorted(p for p in out.iterdir() if p.suffix in (".pdf", ".tif")) + copies + [sealed_path]
    # The simulator's colour scans of a multi-page return can pass the desk tests' usual limit; this test
    # is about the round's work, so the limit fits the return (the limit itself is tested elsewhere).
    largest_mb = max(p.stat().st_size for p in files) / 1024 / 1024
    server = DeskServer(ws, upload_limit_mb=max(DESK_TEST_UPLOAD_LIMIT_MB, float(int(largest_mb) + 2)))
    server.add_user_by_cli(ADMIN_NAME, "admin", ADMIN_PASSWORD)
    server.add_user_by_cli("本组组员", "group", GROUP_PASSWORD, group=group)
    server.add_user_by_cli("其他组组员", "group", GROUP_PASSWORD, group=group % 5 + 1)
    server.add_user_by_cli("只读用户", "viewer", GROUP_PASSWORD)
    server.start()
    try:
        yield {"server": server, "ws": ws, "files": files, "truth": pages, "group": group,
               "conflict_form": spare.form_id, "sim_pages": sum(len(f["pages"]) for f in truth["files"])}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield chromium
        finally:
            chromium.close()


def _sign_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(url + "/")


def test_a_round_from_upload_to_final_notice_by_keyboard(desk: dict[str, Any], browser: Browser) -> None:
    server: DeskServer = desk["server"]
    url, ws = server.url, desk["ws"]
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    _sign_in(page, url, ADMIN_NAME, ADMIN_PASSWORD)

    # Upload the return and wait for the scan job.
    page.goto(f"{url}/round/{ROUND}/upload")
    page.set_input_files("#picker", [str(p) for p in desk["files"]])
    page.wait_for_function(f"document.querySelectorAll('#files li.ok, #files li.bad').length === {len(desk['files'])}")
    assert page.locator("#files li.bad").all_inner_texts() == []
    page.click("#start")
    page.wait_for_url(f"{url}/jobs/*")
    page.wait_for_selector("#job-progress[data-status=done]", timeout=JOB_TIMEOUT_MS)
    with Session(ws.engine()) as session:
        stored = session.scalar(select(func.count()).select_from(ScanPage))
        open_rows = session.scalars(select(ReviewItem).where(ReviewItem.status == "open")).all()
    # Both copies of the sheet scanned twice carry its conflict; the desk shows it once, as one decision.
    opened = len({(r.form_id, r.field_key) if r.reason.startswith(CONFLICT_REASON_PREFIX) else r.id
                  for r in open_rows})
    assert stored == desk["sim_pages"] + 3
    assert opened, "the return leaves items for a person"

    # The grid of the first kind with items: what a clerk sees first.
    page.goto(f"{url}/review/{ROUND}")
    first_kind = page.url.rsplit("/", 1)[1]
    assert first_kind in KINDS
    page.wait_for_load_state("networkidle")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # P shows the whole page with the item's box; Esc closes it.
    page.keyboard.press("p")
    page.wait_for_selector("#rv-page:not([hidden]) img")
    page.wait_for_function("document.querySelector('#rv-page img').complete && document.querySelector('#rv-page img').naturalWidth > 0")
    if first_kind != "page":
        box = page.locator("#rv-page .rv-box").bounding_box()
        image = page.locator("#rv-page img").bounding_box()
        assert box is not None and image is not None
        assert image["x"] <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"] + 1
        assert 0 < box["height"] < image["height"] / 4
    page.keyboard.press("Escape")
    assert page.locator("#rv-page").is_hidden()

    # A wrong value is refused in place, in Chinese; U undoes a confirmation.
    amounts = page.locator(".rv-card[data-kind=amount]").count() if first_kind == "amount" else 0
    if amounts:
        page.keyboard.type("99999")
        page.keyboard.press("Enter")
        wait_idle(page)
        current = page.locator(".rv-card.current")
        assert "位整数" in current.locator(".rv-msg").inner_text() or "不在允许范围" in current.locator(".rv-msg").inner_text()
        page.keyboard.press("Control+a")
    first_id = page.locator(".rv-card.current").get_attribute("data-id")
    left = int(page.inner_text("#rv-left"))
    page.keyboard.press("Enter" if first_kind == "page" else ("0" if first_kind == "tick" else
                                                              ("e" if first_kind == "signature" else "-")))
    if first_kind != "page":
        page.keyboard.press("Enter")
    wait_idle(page)
    assert int(page.inner_text("#rv-left")) == left - 1
    page.keyboard.press("u")
    wait_idle(page)
    assert page.locator(".rv-card.current").get_attribute("data-id") == first_id
    assert int(page.inner_text("#rv-left")) == left
    assert "已撤销" in page.locator(".rv-card.current .rv-msg").inner_text()
    with Session(ws.engine()) as session:
        row = session.get(ReviewItem, int(first_id or 0))
        assert row is not None and row.status == "open"

    # Every item, one kind after another, by keyboard.
    settled: list[Settled] = []
    for kind in KINDS:
        settled += settle_grid(page, url, ROUND, kind, desk["truth"])
    assert len(settled) == opened
    assert {"amount", "tick", "signature"} <= {item.kind for item in settled if not item.conflict}
    assert any(item.conflict for item in settled)
    with Session(ws.engine()) as session:
        assert session.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "open")) == 0
        assert session.scalar(select(func.count()).select_from(ScanPage).where(ScanPage.status == "review")) == 0
        results = {r.form_id: r for r in load_form_results(session, ROUND)}
    # The results hold what the clerk typed: the simulation's truth, or the scan chosen on the conflict screen.
    for item in settled:
        if item.kind == "page":
            continue
        result = results[item.form]
        merged: dict[str, Any] = {**result.indicators, **result.numbers, **result.signatures}
        assert truth_label(item.kind, merged[item.field]) == item.chosen, item

    # The final notice, made and downloaded from the desk.
    page.goto(f"{url}/round/{ROUND}")
    page.fill("input[name=number]", "126")
    page.fill("input[name=date]", "2015-09-05")
    page.click("button[name=kind][value=final]")
    page.wait_for_url(f"{url}/jobs/*")
    page.wait_for_selector("#job-progress[data-status=done]", timeout=JOB_TIMEOUT_MS)
    link = page.locator("#job-progress a[href$='.pdf']").first
    href = link.get_attribute("href") or ""
    assert "草稿" not in href
    with page.expect_download() as download_info:
        link.click()
    pdf_path = download_info.value.path()
    with pdfplumber.open(io.BytesIO(Path(pdf_path).read_bytes())) as pdf:
        text = "".join(p.extract_text() or "" for p in pdf.pages)
    for words in ("中共巴中市委组织部", "〔2015〕126号", "2015年9月5日", "驻村工作队和第一书记到村履职情况"):
        assert words in text.replace(" ", ""), words
    assert "草稿" not in text

    # The audit log page lists every settled item with the clerk's name.
    page.goto(f"{url}/audit")
    rows = page.locator("tr")
    for item in settled:
        row = rows.filter(has_text=item.form).filter(has_text=field_label(item.field)).filter(has_text="复核确认")
        assert row.count() >= 1, item
        assert ADMIN_NAME in row.first.inner_text()
    with Session(ws.engine()) as session:
        logged = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "复核确认", AuditEntry.user_name == ADMIN_NAME))
    assert logged == len(settled) + 1  # and the one settled before the undo
    context.close()

    item = next(i.id for i in settled if i.kind != "page" and not i.conflict)
    _refusals(server, ws, item)


def _refusals(server: DeskServer, ws: Workspace, item: int) -> None:
    """Over HTTP: another group's member, a viewer, a stranger and a forged request get nothing."""
    own = server.login("本组组员", GROUP_PASSWORD)
    other = server.login("其他组组员", GROUP_PASSWORD)
    viewer = server.login("只读用户", GROUP_PASSWORD)
    try:
        assert own.get(f"/review/item/{item}/crop.jpg").status_code == 200
        assert own.get(f"/review/item/{item}/page").json()["ok"]
        for path in (f"/review/item/{item}/crop.jpg", f"/review/item/{item}/page.jpg", f"/review/item/{item}/page",
                     f"/review/item/{item}/conflict/this.jpg"):
            reply = other.get(path)
            assert reply.status_code == 403, path
            assert "其他督查组" in reply.text, path
        token = server.csrf(other, f"/review/{ROUND}/amount")
        reply = other.post(f"/review/item/{item}/settle", data={"value": "是"}, headers={"X-CSRF-Token": token})
        assert reply.status_code == 403 and "其他督查组" in reply.json()["error"]
        reply = other.post(f"/review/{ROUND}/undo", headers={"X-CSRF-Token": token})
        assert reply.status_code == 409 and "没有可以撤销" in reply.json()["error"]
        grid = other.get(f"/review/{ROUND}/amount")
        assert grid.status_code == 200 and "data-id=" not in grid.text
        assert viewer.get(f"/review/{ROUND}/amount").status_code == 403
        assert viewer.get(f"/review/item/{item}/crop.jpg").status_code == 403
        # No CSRF token: refused before anything is looked at.
        assert own.post(f"/review/item/{item}/settle", data={"value": "是"}).status_code == 403
        assert own.get("/review/item/999999/crop.jpg").status_code == 404
        assert own.get(f"/review/{ROUND}/nonsense").status_code == 404
        assert own.get("/review/..%2F..%2Fsecret.key/amount").status_code in (400, 404, 422)
    finally:
        for client in (own, other, viewer):
            client.close()
    with httpx.Client(base_url=server.url) as stranger:
        assert stranger.get(f"/review/item/{item}/crop.jpg").status_code == 401
        assert stranger.post(f"/review/item/{item}/settle", data={"value": "是"}).status_code in (401, 403)
    with Session(ws.engine()) as session:
        row = session.get(ReviewItem, item)
        assert row is not None and row.resolved_by == ADMIN_NAME


