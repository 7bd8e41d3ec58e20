"""The desk over a round with printed and scanned sheets: dashboard figures, documents and the screenshot.

One group is printed and a few of its sheets are filled in and scanned
(the same services as ``ducha sheets``, ``simulate`` and ``scan``), then
``ducha serve`` runs over that workspace for the module.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pytest
from conftest import smallest_group
from desk_fixtures import ADMIN_NAME, ADMIN_PASSWORD, DESK_TEST_UPLOAD_LIMIT_MB, DeskServer, ducha_cli
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, Job, ReviewItem, ScanPage
from ducha.scan import scan
from ducha.sheets import issue_sheets
from ducha.simulate import simulate_round
from ducha.workspace import Workspace, copy_workspace

ROUND = "2015-08"
SIM_SHEETS = 6
SIM_PAGES_PER_FILE = 3
JOB_WAIT_SECONDS = 600
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
COUNTY_SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "county_reports"
CHROMIUM = "/usr/bin/chromium"
SCREEN_WIDTH_PX = 1280
SCREEN_HEIGHT_PX = 900


@pytest.fixture(scope="module")
def round_desk(planned_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskServer]:
    ws = copy_workspace(planned_workspace, tmp_path_factory.mktemp("round-desk") / "ducha-data")
    group = smallest_group(ws, ROUND)
    with Session(ws.engine(), expire_on_commit=False) as session, session.begin():
        issue_sheets(ws, session, ROUND, group=group, workers=1)
    returned = tmp_path_factory.mktemp("round-desk-returned")
    with Session(ws.engine()) as session:
        simulate_round(session, ROUND, returned, seed=5, limit_sheets=SIM_SHEETS, workers=1, pages_per_file=SIM_PAGES_PER_FILE)
    files = sorted(p for p in returned.iterdir() if p.suffix in (".pdf", ".tif"))
    assert len(files) >= 2
    # The last file is kept back, to be handed in through the desk.
    scan(ws, files[:-1], round_id=ROUND, workers=1)
    server = DeskServer(ws, upload_limit_mb=DESK_TEST_UPLOAD_LIMIT_MB)
    server.add_user_by_cli(ADMIN_NAME, "admin", ADMIN_PASSWORD)
    server.group = group  # type: ignore[attr-defined]
    server.held_back = files[-1]  # type: ignore[attr-defined]
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _wait(server: DeskServer, job_id: int) -> Job:
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    with Session(server.workspace.engine()) as session:
        while time.monotonic() < deadline:
            job = session.get(Job, job_id)
            assert job is not None
            if job.status in ("done", "failed"):
                return job
            session.expire_all()
            time.sleep(1)
    raise AssertionError(f"任务 {job_id} 未在 {JOB_WAIT_SECONDS} 秒内完成")


def test_dashboard_figures_match_the_database(round_desk: DeskServer) -> None:
    group = round_desk.group  # type: ignore[attr-defined]
    client = round_desk.login()
    html = client.get(f"/round/{ROUND}").text
    with Session(round_desk.workspace.engine()) as session:
        forms = session.scalars(select(IssuedSheet.form_id).where(IssuedSheet.round == ROUND)).all()
        states = dict(session.execute(select(ScanPage.status, func.count()).where(ScanPage.form_id.in_(forms))
                                      .group_by(ScanPage.status)).all())
        back = len(set(session.scalars(select(ScanPage.form_id).where(ScanPage.form_id.in_(forms),
                                                                       ScanPage.status != "rejected"))))
    pages = sum(states.values())
    assert pages >= SIM_SHEETS
    from generator.record_sheet import group_label

    row = html.split(f"<th>{group_label(group)}</th>", 1)[1].split("</tr>", 1)[0]
    cells = [c.split("</td>")[0].rsplit(">", 1)[-1] for c in row.split("<td")[1:]]
    assert cells[1] == str(len(forms))  # sheets issued
    assert cells[2] == str(pages)  # pages returned
    assert cells[3:6] == [str(states.get(s, 0)) for s in ("recorded", "review", "rejected")]
    assert cells[7] == str(len(forms) - back)  # villages not yet returned
    assert f"/round/{ROUND}/group/{group}/sheets.pdf" in html


def test_final_notice_is_refused_with_the_reason_while_items_are_open(round_desk: DeskServer) -> None:
    with Session(round_desk.workspace.engine()) as session:
        open_items = session.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "open"))
    assert open_items, "样本中应有待复核项目"
    client = round_desk.login()
    token = round_desk.csrf(client)
    reply = client.post(f"/round/{ROUND}/notice", data={"number": "126", "date": "2015-09-05", "kind": "final",
                                                        "csrf_token": token})
    assert reply.status_code == 409
    assert "不能生成正式通报" in reply.text and "待复核" in reply.text
    with Session(round_desk.workspace.engine()) as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "notice")) == 0


def test_draft_notice_is_made_by_the_worker_and_downloaded(round_desk: DeskServer) -> None:
    client = round_desk.login()
    token = round_desk.csrf(client)
    reply = client.post(f"/round/{ROUND}/notice", data={"number": "126", "date": "2015-09-05", "kind": "draft",
                                                        "joint": "1", "csrf_token": token})
    assert reply.status_code == 303
    job_id = int(reply.headers["location"].rsplit("/", 1)[1])
    job = _wait(round_desk, job_id)
    assert job.status == "done", job.message
    page = client.get(f"/jobs/{job_id}").text
    assert "通报已生成" in page
    pdf_name = Path(job.result["pdf"]).name  # type: ignore[index]
    assert "草稿" in pdf_name
    download = client.get(f"/round/{ROUND}/notices/{pdf_name}")
    assert download.status_code == 200 and download.content[:5] == b"%PDF-"
    with pdfplumber.open(io.BytesIO(download.content)) as pdf:
        text = "".join(p.extract_text() or "" for p in pdf.pages)
    # A draft carries no number yet: the office fills it in when the notice is signed off.
    assert re.search(r"巴市组办〔2015〕\s*号", text), text[:300]
    assert "126号" not in text.replace(" ", "")
    assert "驻村工作队和第一书记" in text
    dashboard = client.get(f"/round/{ROUND}").text
    assert pdf_name in dashboard and "草稿" in dashboard
    audit = client.get("/audit").text
    assert "生成通报" in audit and round_desk.admin in audit


def test_sheet_downloads(round_desk: DeskServer) -> None:
    group = round_desk.group  # type: ignore[attr-defined]
    client = round_desk.login()
    pdf = client.get(f"/round/{ROUND}/group/{group}/sheets.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    archive = client.get(f"/round/{ROUND}/sheets.zip")
    assert archive.status_code == 200
    with Session(round_desk.workspace.engine()) as session:
        issued = session.scalar(select(func.count()).select_from(IssuedSheet).where(IssuedSheet.round == ROUND))
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        names = zipped.namelist()
    assert len(names) == issued and all(n.endswith(".docx") for n in names)


def test_dashboard_screenshot(round_desk: DeskServer) -> None:
    """``docs/desk_dashboard.png``: the dashboard as a clerk sees it, in Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    DOCS_DIR.mkdir(exist_ok=True)
    target = DOCS_DIR / "desk_dashboard.png"
    # Two counties' reports, as the demo receives them: one on time by the CLI, one late through the panel's form.
    done = ducha_cli(round_desk.workspace, "counties", "receive", ROUND, "巴州区",
                     str(COUNTY_SAMPLES / f"巴州区_{ROUND}_自查报告.txt"), "--date", "2015-09-04")
    assert done.returncode == 0, done.stderr
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": SCREEN_WIDTH_PX, "height": SCREEN_HEIGHT_PX}, locale="zh-CN")
            page.goto(round_desk.url + "/login")
            page.fill("input[name=name]", round_desk.admin)
            page.fill("input[name=password]", round_desk.admin_password)
            page.click("button[type=submit]")
            page.wait_for_url(round_desk.url + "/")
            page.click(f"text={ROUND[:4]}年{int(ROUND[5:])}月")
            page.wait_for_selector("text=各督查组进度")
            form = page.locator('form.county-upload[data-county="南江县"]')
            form.locator("input[type=file]").set_input_files(str(COUNTY_SAMPLES / f"南江县_{ROUND}_自查报告.txt"))
            form.locator("input[name=received_on]").fill("2015-09-07")
            form.locator("button").click()
            page.wait_for_selector('#county-reports tr[data-county="南江县"][data-state="late"]')
            assert page.locator('#county-reports tr[data-county="巴州区"][data-state="on_time"]').count() == 1
            assert "已登记南江县自查报告" in page.locator("#county-reports").inner_text()
            page.screenshot(path=str(target), full_page=True)
        finally:
            browser.close()
    assert target.stat().st_size > 20_000


def test_group_member_upload_rejects_another_groups_sheets(round_desk: DeskServer) -> None:
    group = round_desk.group  # type: ignore[attr-defined]
    other = 1 if group != 1 else 2
    round_desk.add_user("别组联络员", "group", "biezu-mima-2015", group=other)
    client = round_desk.login("别组联络员", "biezu-mima-2015")
    held: Path = round_desk.held_back  # type: ignore[attr-defined]
    token = round_desk.csrf(client, f"/round/{ROUND}/upload")
    batch = "56" * 16
    reply = client.post(f"/round/{ROUND}/upload/file", params={"batch": batch, "name": held.name},
                        content=held.read_bytes(), headers={"X-CSRF-Token": token})
    assert reply.status_code == 200, reply.text
    reply = client.post(f"/round/{ROUND}/upload/start", data={"batch": batch, "csrf_token": token})
    assert reply.status_code == 303
    job = _wait(round_desk, int(reply.headers["location"].rsplit("/", 1)[1]))
    assert job.status == "done", job.message
    summary = job.result["summary"]  # type: ignore[index]
    assert summary["input_pages"] >= 1 and summary["rejected"] == summary["input_pages"]
    page = client.get(f"/jobs/{job.id}").text
    assert f"此页是第{group}组的纪实表" in page
