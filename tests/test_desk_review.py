"""The review service that the desk's grid and ``ducha review`` share.

One group of round 2015-08 is printed once for the module, a few of its
sheets are filled in and scanned by ``ducha simulate``, and one sheet is
scanned twice with different answers, so the queue holds every kind of
item, read by the real reader from real scans.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from conftest import EVERY_INDICATOR_YES, smallest_group
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha import review
from ducha.cli import main as cli_main
from ducha.db.models import AuditEntry, IssuedSheet, ReviewItem, ScanFile, ScanPage, Village
from ducha.results import load_form_results
from ducha.review import ReviewScope
from ducha.scan import scan
from ducha.simulate import _render
from ducha.workspace import Workspace, copy_workspace, create
from forms.geometry import load_layout
from generator import simulate as sim
from ocr.align import align

ROUND = "2015-08"
SIM_SHEETS = 10
SIM_SEED = 5
CONFLICT_FIELD = "team_1"
BOTH_TICKED_FIELD = "team_2"


def _cli(ws: Workspace, *args: str) -> int:
    return cli_main(["--workspace", str(ws.root), "--db", ws.db_url, *args])


@pytest.fixture(scope="module")
def scanned(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ws = copy_workspace(planned_workspace, tmp_path_factory.mktemp("review") / "ducha-data")
    group = smallest_group(ws, ROUND)
    assert _cli(ws, "sheets", ROUND, "--group", str(group)) == 0
    out = tmp_path_factory.mktemp("returned")
    assert _cli(ws, "simulate", ROUND, "--out", str(out), "--seed", str(SIM_SEED), "--limit", str(SIM_SHEETS)) == 0
    files = sorted(p for p in out.iterdir() if p.suffix in (".pdf", ".tif"))
    # The last sheet scanned twice, ticked 是 on one copy and 否 on the other.
    with Session(ws.engine()) as session:
        sheet = session.scalars(select(IssuedSheet).order_by(IssuedSheet.form_id.desc())).first()
        assert sheet is not None
    layout = load_layout("rs1", 1)
    for n, answer in enumerate(("yes", "no")):
        page = _render(sheet.pdf_path or "", sheet.pdf_pages[0])
        homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
        plan = sim.PagePlan(form_id=sheet.form_id, sheet_page=1, fields={**EVERY_INDICATOR_YES, CONFLICT_FIELD: answer},
                            signatures={"village_head": "signed", "first_secretary": "signed", "group_member": "signed"})
        sim.fill_page(page, homography, layout, plan, np.random.default_rng(n))
        path = out / f"copy{n}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)[::2, ::2])
        files.append(path)
    # Another sheet whose village head's slot is empty under the village's seal: the reader cannot
    # tell a signature from the seal's ink, so a person must look (a signature item).
    with Session(ws.engine()) as session:
        sealed = session.scalars(select(IssuedSheet).order_by(IssuedSheet.form_id.desc()).offset(1)).first()
        assert sealed is not None
    page = _render(sealed.pdf_path or "", sealed.pdf_pages[0])
    homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
    plan = sim.PagePlan(form_id=sealed.form_id, sheet_page=1, fields=dict(EVERY_INDICATOR_YES),
                        signatures={"village_head": "empty", "first_secretary": "signed", "group_member": "signed"})
    sim.fill_page(page, homography, layout, plan, np.random.default_rng(7), seal_probability=1.0)
    # And an indicator ticked both 是 and 否, so the queue holds a tick item whatever the simulated return leaves.
    sim.tick_both(page, homography, layout, BOTH_TICKED_FIELD, np.random.default_rng(8))
    path = out / "sealed.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)[::2, ::2])
    files.append(path)
    scan(ws, files, round_id=ROUND, workers=2)
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    return {"ws": ws, "group": group, "conflict_form": sheet.form_id, "truth": truth, "files": files}


@pytest.fixture
def ws(scanned: dict[str, Any], tmp_path: Path) -> Workspace:
    """A private copy: each test settles items of its own."""
    return copy_workspace(scanned["ws"], tmp_path / "ducha-data")


def _queue(ws: Workspace, scope: ReviewScope | None = None) -> list[review.QueueItem]:
    with Session(ws.engine()) as session:
        return review.review_queue(session, scope or ReviewScope(ROUND))


def test_the_queue_holds_every_open_item_once_grouped_by_kind_with_its_village(scanned: dict[str, Any]) -> None:
    ws = scanned["ws"]
    items = _queue(ws)
    with Session(ws.engine()) as session:
        open_rows = session.scalars(select(ReviewItem).where(ReviewItem.status == "open")).all()
        villages = {s.form_id: session.get(Village, s.village_id) for s in session.scalars(select(IssuedSheet))}
    # Every open item once, except that both copies of a sheet scanned twice carry the conflict,
    # and that is one decision: shown once.
    places = sorted((r.form_id, r.field_key) for r in open_rows if review.is_conflict(r.reason))
    assert len(places) > len(set(places))
    assert len(items) == len(open_rows) - (len(places) - len(set(places)))
    assert {i.id for i in items} <= {r.id for r in open_rows}
    assert sorted((i.form_id, i.field_key) for i in items if i.conflict) == sorted(set(places))
    kinds = {i.kind for i in items if not i.conflict}
    assert {"amount", "tick", "signature"} <= kinds, kinds
    for item in items:
        village = villages[item.form_id]
        assert village is not None
        assert (item.county, item.town, item.village) == (village.county, village.town, village.name)
        assert item.group_no == scanned["group"]
        if item.kind != "page":
            crop = review.crop_file(ws.root, item)
            assert crop is not None and cv2.imread(str(crop)) is not None, item
    with Session(ws.engine()) as session:
        counts = review.queue_counts(session, ReviewScope(ROUND))
    assert sum(counts.values()) == len(items)
    assert counts["conflict"] == sum(i.conflict for i in items) >= 1


def test_an_amount_is_prefilled_with_the_classifier_best_guess() -> None:
    assert review.best_guess("poverty_fund", None, "数字看不清（识别为 _6?.5，最像 _61.5）") == "61.5"
    assert review.best_guess("visited_satisfied", None, "数字看不清（识别为 1_2）") is None
    assert review.best_guess("visited_satisfied", None, "数字看不清（识别为 ?12，最像 ?12）") is None
    assert review.best_guess("poverty_fund", "3.7", "整数部分以 0 开头（读到 03.7），前面的数字可能漏读") == "3.7"
    assert review.best_guess("satisfaction_pct", "blank", "同一张表扫描了两次") == "未填"
    assert review.best_guess("team_3", "no", "同一张表扫描了两次且读数不同") == "否"
    assert review.best_guess("rect_1", "done", "同一张表扫描了两次且读数不同") == "已整改"
    assert review.best_guess("team_3", "uncertain", "“是”框的记号不清楚") is None
    assert review.best_guess("page", None, "对齐误差较大") == "已核对"


def test_a_signature_is_never_prefilled_as_signed() -> None:
    for machine in ("signed", "uncertain", None):
        assert review.best_guess("village_head", machine, "同一张表扫描了两次且读数不同") is None
    assert review.best_guess("group_member", "empty", "同一张表扫描了两次且读数不同") == "未签"


def test_the_guesses_of_the_scanned_amounts_come_from_the_reader(scanned: dict[str, Any]) -> None:
    amounts = [i for i in _queue(scanned["ws"]) if i.kind == "amount" and "最像" in i.reason]
    assert amounts, "the simulated batch has an amount the classifier half read"
    for item in amounts:
        shown = item.reason.split("最像 ")[1].rstrip("）")
        assert item.guess is not None and float(item.guess) == float(shown.replace("_", "") or 0)


def test_settling_one_item_records_its_page_only_when_the_last_item_is_settled(ws: Workspace) -> None:
    items = _queue(ws)
    by_page: dict[int, list[review.QueueItem]] = {}
    for item in items:
        by_page.setdefault(item.page_id, []).append(item)
    page_id, page_items = max(by_page.items(), key=lambda kv: len(kv[1]))
    assert len(page_items) >= 2, "a page with two open items"
    values = {"amount": "12", "tick": "否", "signature": "已签", "page": "已核对"}
    for n, item in enumerate(page_items):
        with Session(ws.engine()) as session, session.begin():
            done = review.settle(session, item.id, values[item.kind] if item.kind != "tick" or not
                                 item.field_key.startswith("rect_") else "未整改", "李文静", ReviewScope(ROUND))
        last = n == len(page_items) - 1
        assert done.page_recorded is last and done.before is None
        with Session(ws.engine()) as session:
            page = session.get(ScanPage, page_id)
            row = session.get(ReviewItem, item.id)
            assert page is not None and row is not None
            assert page.status == ("recorded" if last else "review")
            assert (row.status, row.resolved_by) == ("resolved", "李文静")
            assert row.machine_value == item.machine_value  # the machine's reading is kept beside
            # The other items of the page are untouched until their turn.
            rest = session.scalars(select(ReviewItem.status).where(
                ReviewItem.id.in_([i.id for i in page_items[n + 1:]]))).all()
            assert set(rest) <= {"open"}


def test_a_settled_value_is_what_the_results_use(ws: Workspace) -> None:
    item = next(i for i in _queue(ws) if i.kind == "amount" and not i.conflict)
    with Session(ws.engine()) as session, session.begin():
        review.settle(session, item.id, "37.5" if item.field_key in ("poverty_fund", "project_funds") else "37", "李文静")
    with Session(ws.engine()) as session:
        result = {r.form_id: r for r in load_form_results(session, ROUND)}[item.form_id]
    assert result.numbers[item.field_key] in (37.5, 37.0)


def test_a_wrong_value_is_refused_in_chinese_and_changes_nothing(ws: Workspace) -> None:
    items = _queue(ws)
    tick = next(i for i in items if i.kind == "tick" and not i.conflict)
    amount = next(i for i in items if i.kind == "amount")
    signature = next(i for i in items if i.kind == "signature")
    cases = [(tick, "3", "只能填"), (amount, "abc", "应填数字"), (amount, "12345", "最多 "),
             (signature, "是", "只能填")]
    if amount.field_key in ("visited_satisfied", "visited_dissatisfied", "satisfaction_pct", "dissatisfaction_pct"):
        cases.append((amount, "12.5", "应为整数"))
    else:
        cases.append((amount, "12.25", "位小数"))
    for item, value, words in cases:
        with Session(ws.engine()) as session, session.begin(), pytest.raises(review.ReviewError) as caught:
            review.settle(session, item.id, value, "李文静")
        assert words in str(caught.value) and item.field_label in str(caught.value), str(caught.value)
    with Session(ws.engine()) as session:
        assert session.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.status != "open")) == 0


def test_an_item_settled_once_is_not_settled_again(ws: Workspace) -> None:
    item = next(i for i in _queue(ws) if i.kind == "signature")
    with Session(ws.engine()) as session, session.begin():
        review.settle(session, item.id, "未签", "李文静")
    with Session(ws.engine()) as session, session.begin(), pytest.raises(review.ReviewStaleError, match="李文静"):
        review.settle(session, item.id, "已签", "王小明")
    with Session(ws.engine()) as session:
        row = session.get(ReviewItem, item.id)
        assert row is not None and (row.resolved_value, row.resolved_by) == ("empty", "李文静")


def test_undo_reopens_the_reviewers_own_last_item_and_its_page(ws: Workspace) -> None:
    items = [i for i in _queue(ws) if not i.conflict]
    single = next(i for i in items if sum(j.page_id == i.page_id for j in _queue(ws)) == 1)
    other = next(i for i in items if i.page_id != single.page_id)
    with Session(ws.engine()) as session, session.begin():
        review.settle(session, other.id, "已签" if other.kind == "signature" else
                      review.best_guess(other.field_key, "no", "") or "5", "王小明")
        done = review.settle(session, single.id, {"amount": "8", "tick": "未填", "signature": "未签",
                                                  "page": "已核对"}[single.kind], "李文静")
        assert done.page_recorded
    with Session(ws.engine()) as session, session.begin():
        undone = review.undo_last(session, "李文静", ReviewScope(ROUND))
    assert undone.item_id == single.id and undone.after is None and undone.before is not None
    with Session(ws.engine()) as session:
        row = session.get(ReviewItem, single.id)
        page = session.get(ScanPage, single.page_id)
        assert row is not None and page is not None
        assert (row.status, row.resolved_value, row.resolved_by) == ("open", None, None)
        assert page.status == "review"
        # Another reviewer's settlement stays.
        kept = session.get(ReviewItem, other.id)
        assert kept is not None and kept.status == "resolved"
    with Session(ws.engine()) as session, pytest.raises(review.NothingToUndoError):
        review.undo_last(session, "李文静", ReviewScope(ROUND))


def test_a_group_member_sees_and_settles_only_its_own_groups_villages(scanned: dict[str, Any], ws: Workspace) -> None:
    own, other = scanned["group"], scanned["group"] % 5 + 1
    assert _queue(ws, ReviewScope(ROUND, own)) == _queue(ws)
    assert _queue(ws, ReviewScope(ROUND, other)) == []
    item = _queue(ws)[0]
    with Session(ws.engine()) as session:
        with pytest.raises(review.ReviewForbiddenError, match="其他督查组"):
            review.settle(session, item.id, "已核对", "赵刚", ReviewScope(ROUND, other))
        with pytest.raises(review.ReviewForbiddenError):
            review.queue_item(session, item.id, ReviewScope(ROUND, other))
        with pytest.raises(review.ReviewForbiddenError):
            review.page_view(session, ws.root, item.id, ReviewScope(ROUND, other))
        with pytest.raises(review.ReviewForbiddenError):
            review.settle(session, item.id, "已核对", "赵刚", ReviewScope("2015-09"))
        with pytest.raises(review.ReviewItemNotFoundError):
            review.settle(session, 10_000_000, "是", "赵刚")
    with Session(ws.engine()) as session:
        row = session.get(ReviewItem, item.id)
        assert row is not None and row.status == "open"


BOX_SHIFT_MAX_PX = 2


def test_the_whole_page_shows_the_items_box_where_its_crop_was_cut(ws: Workspace) -> None:
    items = [i for i in _queue(ws) if i.kind in ("amount", "tick", "signature") and i.crop_path and not i.conflict]
    for item in items[:4]:
        with Session(ws.engine()) as session:
            view = review.page_view(session, ws.root, item.id, ReviewScope(ROUND))
        assert view.whole_page and view.box is not None
        page = cv2.imread(str(view.path), cv2.IMREAD_GRAYSCALE)
        crop_path = review.crop_file(ws.root, item)
        assert crop_path is not None
        crop = cv2.imread(str(crop_path), cv2.IMREAD_GRAYSCALE)
        assert page is not None and crop is not None
        assert page.shape == (view.height_px, view.width_px)
        # An upright A4 sheet: taller than wide.
        assert view.height_px > view.width_px
        x, y, w, h = view.box
        assert 0 <= x and 0 <= y and x + w <= view.width_px and y + h <= view.height_px
        # The boxed area on the page is the item's own crop: the same ink, at another scale. The two are
        # resampled apart, so a comb's thin lines may land a pixel off: the best of shifts up to
        # BOX_SHIFT_MAX_PX counts. A box on another field holds other ink and still fails.
        shrunk = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
        correlation = max(
            float(np.corrcoef(page[y + dy : y + dy + h, x + dx : x + dx + w].astype(np.float32).ravel(),
                              shrunk.ravel())[0, 1])
            for dy in range(-BOX_SHIFT_MAX_PX, BOX_SHIFT_MAX_PX + 1)
            for dx in range(-BOX_SHIFT_MAX_PX, BOX_SHIFT_MAX_PX + 1)
            if 0 <= y + dy and y + dy + h <= view.height_px and 0 <= x + dx and x + dx + w <= view.width_px)
        assert correlation > 0.8, (item.field_key, correlation)


def test_without_its_scan_file_the_page_view_falls_back_to_the_evidence_sheet(ws: Workspace) -> None:
    item = next(i for i in _queue(ws) if i.kind == "signature")
    with Session(ws.engine()) as session, session.begin():
        page = session.get(ScanPage, item.page_id)
        assert page is not None
        scan_file = session.get(ScanFile, page.file_id)
        assert scan_file is not None
        scan_file.path = str(ws.root / "gone.pdf")
    with Session(ws.engine()) as session:
        view = review.page_view(session, ws.root, item.id, ReviewScope(ROUND))
    assert not view.whole_page and view.box is not None
    assert view.path.is_relative_to(ws.root.resolve())


def test_a_sheet_scanned_twice_shows_both_readings_and_the_choice_is_what_counts(
        scanned: dict[str, Any], ws: Workspace) -> None:
    conflicts = [i for i in _queue(ws) if i.conflict]
    assert conflicts
    assert all(i.reason.startswith(review.CONFLICT_REASON_PREFIX) for i in conflicts)
    item = next(i for i in conflicts if i.field_key == CONFLICT_FIELD)
    assert item.form_id == scanned["conflict_form"]
    with Session(ws.engine()) as session:
        view = review.conflict_view(session, item.id, ReviewScope(ROUND))
        assert view.other is not None
        assert {view.this.label, view.other.label} == {"是", "否"}
        assert view.this.page_id == item.page_id != view.other.page_id
        copies = set(session.scalars(select(ReviewItem.scan_page_id).where(
            ReviewItem.form_id == item.form_id, ReviewItem.field_key == CONFLICT_FIELD)))
        assert copies == {view.this.page_id, view.other.page_id}
        assert sorted(view.choices) == ["否", "是"]
        sides = {}
        for side in ("this", "other"):
            data = review.conflict_crop(session, ws.root, item.id, side, ReviewScope(ROUND))  # type: ignore[arg-type]
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            assert image is not None and image.shape[1] > image.shape[0] > 10
            sides[side] = image
        # Two different scans of the box pair: the ink differs where the ticks differ.
        assert sides["this"].shape == sides["other"].shape
        assert float(np.abs(sides["this"].astype(int) - sides["other"].astype(int)).mean()) > 2
    with Session(ws.engine()) as session, session.begin():
        review.settle(session, item.id, view.other.label, "李文静")
    with Session(ws.engine()) as session:
        result = {r.form_id: r for r in load_form_results(session, ROUND)}[item.form_id]
    assert result.indicators[CONFLICT_FIELD] == view.other.value
    # One decision settles the conflict on both copies; undoing it reopens both.
    with Session(ws.engine()) as session:
        rows = session.scalars(select(ReviewItem).where(
            ReviewItem.form_id == item.form_id, ReviewItem.field_key == CONFLICT_FIELD)).all()
        assert len(rows) == 2 and all((r.status, r.resolved_value) == ("resolved", view.other.value) for r in rows)
    assert not [i for i in _queue(ws) if i.form_id == item.form_id and i.field_key == CONFLICT_FIELD]
    with Session(ws.engine()) as session, session.begin():
        review.undo_last(session, "李文静", ReviewScope(ROUND))
    with Session(ws.engine()) as session:
        assert {r.status for r in session.scalars(select(ReviewItem).where(
            ReviewItem.form_id == item.form_id, ReviewItem.field_key == CONFLICT_FIELD))} == {"open"}


def test_the_cli_review_set_goes_through_the_same_rules(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    item = next(i for i in _queue(ws) if i.kind == "amount")
    capsys.readouterr()
    assert _cli(ws, "review", "set", item.form_id, item.field_key, "12345", "--by", "王小明") == 1
    assert item.field_label in capsys.readouterr().err
    assert _cli(ws, "review", "set", item.form_id, item.field_key, "7", "--by", "王小明") == 0
    assert "已记录" in capsys.readouterr().out
    with Session(ws.engine()) as session:
        rows = session.scalars(select(ReviewItem).where(
            ReviewItem.form_id == item.form_id, ReviewItem.field_key == item.field_key)).all()
        assert rows and all((r.status, r.resolved_value, r.resolved_by) == ("resolved", "7", "王小明") for r in rows)
        # The command line's settlements are in the same audit log as the desk's.
        logged = session.scalars(select(AuditEntry).where(AuditEntry.user_name == "王小明")).all()
        assert [(e.action, e.before, e.after) for e in logged] == [("复核确认", "待复核", "7")] * len(rows)
        assert all(item.form_id in e.target and item.field_label in e.target and item.village in e.target
                   for e in logged)


def test_the_same_return_reviews_the_same_on_either_database(scanned: dict[str, Any], db_url: str,
                                                            tmp_path: Path) -> None:
    """The queue, settling, recording a page and undo, on SQLite and on PostgreSQL (``DUCHA_TEST_PG_URL``)."""
    from conftest import fill_workspace

    source: Workspace = scanned["ws"]
    ws = create(tmp_path / "ws", db_url)
    # The same signing key and the same issued sheets, so the same scans are this workspace's own.
    ws.key_path.write_bytes(source.key_path.read_bytes())
    fill_workspace(ws)
    with Session(source.engine()) as old, Session(ws.engine()) as new, new.begin():
        village_ids = {code: vid for code, vid in new.execute(select(Village.code, Village.id))}
        for sheet in old.scalars(select(IssuedSheet)):
            village = old.get(Village, sheet.village_id)
            assert village is not None
            new.add(IssuedSheet(
                form_id=sheet.form_id, round=sheet.round, village_id=village_ids[village.code], group_no=sheet.group_no,
                layout_version=sheet.layout_version, pages=sheet.pages, rectification_item_ids=[],
                docx_path=sheet.docx_path, pdf_path=sheet.pdf_path, pdf_pages=sheet.pdf_pages, issued_at=sheet.issued_at))
    scan(ws, scanned["files"], round_id=ROUND, workers=1)

    def shape(items: list[review.QueueItem]) -> list[tuple[str, str, str, bool, str]]:
        return sorted((i.form_id, i.field_key, i.kind, i.conflict, i.village) for i in items)

    items = _queue(ws)
    assert shape(items) == shape(_queue(source))
    single = next(i for i in items if sum(j.page_id == i.page_id for j in items) == 1 and not i.conflict)
    value = {"amount": "未填", "tick": "未填", "signature": "未签", "page": "已核对"}[single.kind]
    with Session(ws.engine()) as session, session.begin():
        done = review.settle(session, single.id, value, "李文静", ReviewScope(ROUND, scanned["group"]))
    assert done.page_recorded and done.page_status == "recorded" and done.place.endswith(single.village)
    with Session(ws.engine()) as session, session.begin(), pytest.raises(review.ReviewStaleError):
        review.settle(session, single.id, value, "王小明")
    with Session(ws.engine()) as session, session.begin():
        undone = review.undo_last(session, "李文静", ReviewScope(ROUND))
    assert (undone.item_id, undone.page_status) == (single.id, "review")
    assert shape(_queue(ws)) == shape(items)
    with Session(ws.engine()) as session:
        assert session.get(ScanPage, single.page_id).status == "review"  # type: ignore[union-attr]
