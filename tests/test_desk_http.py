"""The desk against a live ``ducha serve`` over HTTP: dashboard, downloads, upload, roles and refusals."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import numpy as np
import openpyxl
import pytest
from desk_fixtures import DESK_TEST_UPLOAD_LIMIT_MB, DeskServer
from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.db.models import AuditEntry, Job, RoundVillage, ScanFile, ScanPage, Village
from generator.record_sheet import group_label

ROUND = "2015-08"
JOB_WAIT_SECONDS = 300
GROUP_PASSWORD = "zu-mima-2015"


def _blank_page_png() -> bytes:
    """A scanned sheet of paper that is not a record sheet: text, no QR, no markers."""
    image = Image.new("L", (1240, 1754), 245)
    draw = ImageDraw.Draw(image)
    for row in range(12):
        draw.rectangle((120, 160 + row * 110, 1100, 180 + row * 110), fill=90)
    noise = np.random.default_rng(7).integers(0, 12, (1754, 1240), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8) - noise).save(out, format="PNG")
    return out.getvalue()


def _upload(server: DeskServer, client: httpx.Client, name: str, body: bytes, batch: str) -> httpx.Response:
    token = server.csrf(client, f"/round/{ROUND}/upload")
    return client.post(f"/round/{ROUND}/upload/file", params={"batch": batch, "name": name}, content=body,
                       headers={"X-CSRF-Token": token, "Content-Type": "application/octet-stream"})


def _start(server: DeskServer, client: httpx.Client, batch: str) -> int:
    token = server.csrf(client, f"/round/{ROUND}/upload")
    reply = client.post(f"/round/{ROUND}/upload/start", data={"batch": batch, "csrf_token": token})
    assert reply.status_code == 303, reply.text
    return int(reply.headers["location"].rsplit("/", 1)[1])


def _wait(server: DeskServer, job_id: int) -> Job:
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    with Session(server.workspace.engine()) as session:
        while time.monotonic() < deadline:
            job = session.get(Job, job_id)
            assert job is not None
            if job.status in ("done", "failed"):
                return job
            session.expire_all()
            time.sleep(0.5)
    raise AssertionError(f"任务 {job_id} 未在 {JOB_WAIT_SECONDS} 秒内完成")


def _first_village_of(server: DeskServer, group_no: int) -> str:
    with Session(server.workspace.engine()) as session:
        return session.scalars(
            select(Village.name).join(RoundVillage, RoundVillage.village_id == Village.id)
            .where(RoundVillage.round == ROUND, RoundVillage.group_no == group_no).order_by(RoundVillage.visit_order)
        ).first() or ""


def test_dashboard_counts_and_lists_unreturned_villages(desk_server: DeskServer) -> None:
    client = desk_server.login()
    page = client.get(f"/round/{ROUND}")
    assert page.status_code == 200
    text = page.text
    assert "各督查组进度" in text and "尚未交回的村" in text
    # Nothing printed in this workspace: no village is "not returned", each group's row says why.
    assert text.count('<td class="muted">尚未印制</td>') == 5
    assert "本轮纪实表尚未印制" in text
    assert _first_village_of(desk_server, 1) not in text
    assert "复核结果" in text and "通过" in text  # the lottery replays
    assert "生成正式通报" in text  # the admin's buttons


def test_readings_workbook_has_a_row_per_village(desk_server: DeskServer) -> None:
    client = desk_server.login()
    reply = client.get(f"/round/{ROUND}/readings.xlsx")
    assert reply.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(reply.content), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    with Session(desk_server.workspace.engine()) as session:
        planned = session.scalar(select(func.count()).select_from(RoundVillage).where(RoundVillage.round == ROUND))
    assert rows[0][:3] == ("县（区）", "乡镇", "村")
    assert len(rows) - 1 == planned
    assert {row[6] for row in rows[1:]} == {"未印发"}


@pytest.mark.parametrize("name", [
    "../secret.key", "..%2Fsecret.key", "%2e%2e%2fsecret.key", "%2e%2e/%2e%2e/ducha-data/secret.key",
    "%2Fetc%2Fpasswd", "通报_2015-08_1号%2F..%2F..%2Fsecret.key", "通报_2015-08_..%2F..%2Fsecret.key",
])
def test_path_traversal_in_download_names_is_refused(desk_server: DeskServer, name: str) -> None:
    client = desk_server.login()
    for kind in ("notices", "reports"):
        reply = client.get(httpx.URL(f"{desk_server.url}/round/{ROUND}/{kind}/{name}"))
        assert reply.status_code in (403, 404), (kind, name, reply.status_code)
        assert "secret" not in reply.text and "root:" not in reply.text
        assert reply.headers["content-type"].startswith("text/html")


def test_group_member_cannot_open_another_groups_material(desk_server: DeskServer) -> None:
    desk_server.add_user("二组联络员", "group", GROUP_PASSWORD, group=2)
    client = desk_server.login("二组联络员", GROUP_PASSWORD)
    own = client.get(f"/round/{ROUND}")
    assert own.status_code == 200
    assert group_label(2) in own.text
    assert all(group_label(n) not in own.text for n in (1, 3, 4, 5))
    for path in (f"/round/{ROUND}/group/1/sheets.pdf", f"/round/{ROUND}/sheets.zip?group=1",
                 f"/round/{ROUND}/reports/督查报告_{ROUND}_第1组.pdf", f"/round/{ROUND}/readings.xlsx"):
        reply = client.get(path)
        assert reply.status_code == 403, path
        assert "本组" in reply.text or "只供" in reply.text
    # Admin-only actions.
    token = desk_server.csrf(client)
    assert client.post(f"/round/{ROUND}/notice", data={"number": "126", "kind": "draft", "csrf_token": token}).status_code == 403
    assert client.get("/admin/users").status_code == 403


def test_viewer_reads_but_cannot_change(desk_server: DeskServer) -> None:
    desk_server.add_user("只读人员", "viewer", "zhidu-mima-2015")
    client = desk_server.login("只读人员", "zhidu-mima-2015")
    assert client.get(f"/round/{ROUND}").status_code == 200
    assert client.get(f"/round/{ROUND}/upload").status_code == 403
    token = desk_server.csrf(client)
    assert client.post(f"/round/{ROUND}/upload/start", data={"batch": "0" * 32, "csrf_token": token}).status_code == 403


def test_upload_refuses_what_is_not_a_scan(desk_server: DeskServer) -> None:
    client = desk_server.login()
    batch = "ab" * 16
    reply = _upload(desk_server, client, "名单.xlsx", b"PK\x03\x04" + b"\x00" * 4000, batch)
    assert reply.status_code == 415 and "不是扫描件" in reply.json()["message"]
    reply = _upload(desk_server, client, "说明.txt", "这不是扫描件".encode() * 100, batch)
    assert reply.status_code == 415
    inbox = desk_server.workspace.root / "inbox" / ROUND / batch
    assert not [p for p in inbox.iterdir() if p.name != "manifest.json"]


def test_upload_refuses_an_oversized_file(desk_server: DeskServer) -> None:
    client = desk_server.login()
    batch = "cd" * 16
    body = b"%PDF-1.4\n" + b"0" * int(DESK_TEST_UPLOAD_LIMIT_MB * 1024 * 1024)
    reply = _upload(desk_server, client, "大文件.pdf", body, batch)
    assert reply.status_code == 413 and "超过上传上限" in reply.json()["message"]
    # Also when the browser does not say the size in advance (chunked): counted while streamed.
    token = desk_server.csrf(client, f"/round/{ROUND}/upload")

    def chunks():  # type: ignore[no-untyped-def]
        yield b"%PDF-1.4\n"
        for _ in range(int(DESK_TEST_UPLOAD_LIMIT_MB) + 1):
            yield b"0" * (1024 * 1024)

    reply = client.post(f"/round/{ROUND}/upload/file", params={"batch": batch, "name": "大文件2.pdf"}, content=chunks(),
                        headers={"X-CSRF-Token": token, "Content-Type": "application/octet-stream"})
    assert reply.status_code == 413
    inbox = desk_server.workspace.root / "inbox" / ROUND / batch
    assert list(inbox.iterdir()) == []


def test_upload_without_csrf_token_is_refused(desk_server: DeskServer) -> None:
    client = desk_server.login()
    reply = client.post(f"/round/{ROUND}/upload/file", params={"batch": "ef" * 16, "name": "a.png"},
                        content=_blank_page_png())
    assert reply.status_code == 403


def test_uploaded_page_is_scanned_by_the_worker_and_a_rejected_page_shows_image_and_reason(
    desk_server: DeskServer,
) -> None:
    client = desk_server.login()
    batch = "12" * 16
    assert _upload(desk_server, client, "白纸.png", _blank_page_png(), batch).status_code == 200
    job_id = _start(desk_server, client, batch)
    job = _wait(desk_server, job_id)
    assert job.status == "done", job.message
    assert job.result is not None and job.result["summary"] == {"input_pages": 1, "recorded": 0, "review": 0, "rejected": 1}
    page = client.get(f"/jobs/{job_id}")
    assert "已拒收" in page.text and "白纸.png" in page.text
    with Session(desk_server.workspace.engine()) as session:
        row = session.scalars(select(ScanPage).join(ScanFile).where(ScanFile.path.contains(batch))).one()
        reason = row.reason
    assert reason and reason in page.text
    image = client.get(f"/pages/{row.id}/image")
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    # A group member cannot open a page that is not their group's, by editing the URL.
    desk_server.add_user("三组成员", "group", GROUP_PASSWORD, group=3)
    other = desk_server.login("三组成员", GROUP_PASSWORD)
    assert other.get(f"/pages/{row.id}/image").status_code == 403
    assert other.get(f"/jobs/{job_id}").status_code == 403
    # The upload is in the audit log with the user's name.
    audit = client.get("/audit").text
    assert "上传扫描件" in audit and desk_server.admin in audit


def test_errors_never_show_a_stack_trace(desk_server: DeskServer) -> None:
    client = desk_server.login()
    for path in ("/round/2015-13", "/round/abc", "/jobs/999999", "/pages/999999/image", "/nowhere",
                 "/round/2015-08/group/x/sheets.pdf"):
        reply = client.get(path)
        assert reply.status_code in (400, 404), path
        assert "Traceback" not in reply.text and "File \"" not in reply.text
        assert "无法完成" in reply.text or "找不到" in reply.text


def test_interrupted_scan_job_resumes_after_restart_without_duplicates(fresh_desk_server: DeskServer) -> None:
    server = fresh_desk_server
    pages = 8
    image = Image.open(io.BytesIO(_blank_page_png()))
    pdf = io.BytesIO()
    image.save(pdf, format="PDF", save_all=True, append_images=[image] * (pages - 1), resolution=150)
    server.stop()
    # The scan service's own test switch: the worker dies as if killed once 4 pages are stored.
    server.extra_env = {"DUCHA_SCAN_STOP_AFTER_PAGES": "4"}
    server.start()
    client = server.login()
    batch = "34" * 16
    assert _upload(server, client, "八页.pdf", pdf.getvalue(), batch).status_code == 200
    job_id = _start(server, client, batch)
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    with Session(server.workspace.engine()) as session:
        while time.monotonic() < deadline:
            stored = session.scalar(select(func.count()).select_from(ScanPage).join(ScanFile)
                                    .where(ScanFile.path.contains(batch)))
            if stored:
                break
            time.sleep(0.5)
        time.sleep(2)  # the worker is gone: nothing more is stored
        job = session.get(Job, job_id)
        assert job is not None and job.status == "running"
    server.extra_env = {}
    server.restart()
    job = _wait(server, job_id)
    assert job.status == "done", job.message
    assert job.attempts == 2
    with Session(server.workspace.engine()) as session:
        numbers = session.scalars(select(ScanPage.page_no).join(ScanFile).where(ScanFile.path.contains(batch))).all()
        audits = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "上传扫描件"))
    assert sorted(numbers) == list(range(1, pages + 1))
    assert audits == 1
    assert job.result is not None and job.result["summary"]["input_pages"] == pages


def test_desk_runs_on_each_database(desk_server_any_db: DeskServer) -> None:
    server = desk_server_any_db
    client = server.login()
    dashboard = client.get(f"/round/{ROUND}").text
    assert all(group_label(n) in dashboard for n in range(1, 6)) and "尚未印制" in dashboard
    token = server.csrf(client, "/admin/users")
    reply = client.post("/admin/users", data={"name": "四组组长", "role": "group", "group": "4",
                                              "password": "sizu-mima-2015", "csrf_token": token})
    assert reply.status_code == 303
    audit = client.get("/audit").text
    assert "添加用户" in audit and "四组组长" in audit and server.admin in audit
    server.login("四组组长", "sizu-mima-2015").close()


def test_served_files_are_the_vendored_htmx_and_no_cdn(desk_server: DeskServer) -> None:
    client = desk_server.login()
    html = client.get(f"/round/{ROUND}").text
    assert "https://" not in html and "http://" not in html
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:200]
    assert Path(__file__).resolve().parent.parent.joinpath("ducha/desk/static/htmx.LICENSE").is_file()
