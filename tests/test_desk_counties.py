"""The counties' self-inspection reports on the round dashboard: status, upload, download, refusals.

A real ``ducha serve`` over the planned sample round (``desk_server``); the
panel must say what ``ducha counties status`` says, and an upload must be the
same record ``ducha counties receive`` makes.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import quote

import httpx
from desk_fixtures import DESK_TEST_UPLOAD_LIMIT_MB, DeskServer, ducha_cli
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ducha.db.models import AuditEntry, CountyReport

ROUND = "2015-08"
_ROW = re.compile(r'<tr data-county="([^"]+)" data-state="([^"]+)">(.*?)</tr>', re.DOTALL)


def _panel(client: httpx.Client) -> dict[str, tuple[str, str]]:
    """county -> (state, the row's html), from the round dashboard."""
    html = client.get(f"/round/{ROUND}").text
    assert "各县（区）自查报告" in html
    return {county: (state, row) for county, state, row in _ROW.findall(html)}


def _upload(server: DeskServer, client: httpx.Client, county: str, body: bytes, name: str, date: str,
            token: str | None = None) -> httpx.Response:
    headers = {} if token == "" else {"X-CSRF-Token": token or server.csrf(client, f"/round/{ROUND}")}
    return client.post(f"/round/{ROUND}/counties/{quote(county)}/report", params={"name": name, "date": date},
                       content=body, headers=headers)


def _reports(server: DeskServer, county: str | None = None) -> list[CountyReport]:
    with Session(server.workspace.engine()) as session:
        query = select(CountyReport).where(CountyReport.round == ROUND)
        if county is not None:
            query = query.where(CountyReport.county == county)
        return list(session.scalars(query))


def test_an_upload_marks_the_county_on_time_or_late_by_its_date(desk_server: DeskServer) -> None:
    client = desk_server.login()
    before = _panel(client)
    assert before["巴州区"][0] == "missing" and before["南江县"][0] == "missing"
    on_time = "巴州区2015年8月自查情况.docx".encode() + b" fictional report body"
    reply = _upload(desk_server, client, "巴州区", on_time, "巴州区2015年8月自查情况.docx", "2015-09-04")
    assert reply.status_code == 200, reply.text
    assert "已登记巴州区自查报告" in reply.text
    late = b"%PDF-1.4 nanjiang, fictional"
    reply = _upload(desk_server, client, "南江县", late, "南江县自查报告.pdf", "2015-09-07")
    assert reply.status_code == 200, reply.text

    panel = _panel(client)
    assert panel["巴州区"][0] == "on_time" and "按时报送" in panel["巴州区"][1]
    assert panel["南江县"][0] == "late" and "逾期报送" in panel["南江县"][1]
    assert panel["恩阳区"][0] == "missing" and "未报送" in panel["恩阳区"][1]
    sha = hashlib.sha256(on_time).hexdigest()
    row = panel["巴州区"][1]
    assert "2015-09-04" in row and "巴州区2015年8月自查情况.docx" in row and sha[:12] in row

    (record,) = _reports(desk_server, "巴州区")
    assert record.sha256 == sha and str(record.received_on) == "2015-09-04"
    copied = Path(record.path)
    assert copied.read_bytes() == on_time and desk_server.workspace.root in copied.parents
    download = client.get(f"/round/{ROUND}/counties/report/{record.id}")
    assert download.status_code == 200 and download.content == on_time
    assert f"/round/{ROUND}/counties/report/{record.id}" in row

    # The same file again is one report, as with ``ducha counties receive``.
    reply = _upload(desk_server, client, "巴州区", on_time, "copy.docx", "2015-09-06")
    assert reply.status_code == 200 and "登记过，未重复登记" in reply.text
    assert len(_reports(desk_server, "巴州区")) == 1
    with Session(desk_server.workspace.engine()) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "登记县区自查报告")).all()
    assert {e.target for e in entries} == {f"{ROUND} 轮 巴州区", f"{ROUND} 轮 南江县"}
    assert all(e.user_name == desk_server.admin for e in entries)
    assert "登记县区自查报告" in client.get("/audit").text


def test_the_cli_status_agrees_with_the_panel(desk_server: DeskServer) -> None:
    client = desk_server.login()
    reply = _upload(desk_server, client, "经开区", b"jingkai, fictional", "经开区.txt", "2015-09-05")
    assert reply.status_code == 200, reply.text
    panel = _panel(client)
    done = ducha_cli(desk_server.workspace, "counties", "status", ROUND, "--json")
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)["counties"]
    assert {c["county"]: c["state"] for c in cli} == {county: state for county, (state, _row) in panel.items()}
    assert panel["巴中经济开发区"][0] == "on_time"  # due day itself is on time
    for c in cli:
        row = panel[c["county"]][1]
        assert c["label"] in row
        if c["first_received_on"]:
            assert c["first_received_on"] in row
        for report in c["reports"]:
            assert report["sha256"][:12] in row and report["original_name"] in row


def test_refusals_are_in_chinese_and_record_nothing(desk_server: DeskServer) -> None:
    client = desk_server.login()
    before = len(_reports(desk_server))
    reply = _upload(desk_server, client, "通江县", b"", "空文件.docx", "2015-09-04")
    assert reply.status_code == 400 and "是空文件，未登记" in reply.text
    reply = _upload(desk_server, client, "不存在县", b"some report", "报告.docx", "2015-09-04")
    assert reply.status_code == 400 and "不是县（区）" in reply.text
    reply = _upload(desk_server, client, "通江县", b"some report", "报告.docx", "2015年9月4日")
    assert reply.status_code == 400 and "收到日期应为" in reply.text
    too_big = b"x" * (int(DESK_TEST_UPLOAD_LIMIT_MB * 1024 * 1024) + 1)
    reply = _upload(desk_server, client, "通江县", too_big, "大文件.pdf", "2015-09-04")
    assert reply.status_code == 413 and "超过上传上限" in reply.text
    assert len(_reports(desk_server)) == before
    assert _panel(client)["通江县"][0] == "missing"


def test_a_missing_csrf_token_is_refused(desk_server: DeskServer) -> None:
    client = desk_server.login()
    before = len(_reports(desk_server))
    reply = _upload(desk_server, client, "平昌县", b"pingchang, fictional", "平昌县.docx", "2015-09-04", token="")
    assert reply.status_code == 403 and "CSRF" in reply.text
    reply = _upload(desk_server, client, "平昌县", b"pingchang, fictional", "平昌县.docx", "2015-09-04",
                    token="not-the-token")
    assert reply.status_code == 403
    assert len(_reports(desk_server)) == before


def test_a_viewer_sees_and_downloads_but_cannot_upload_and_a_group_cannot_upload(desk_server: DeskServer) -> None:
    admin = desk_server.login()
    assert _upload(desk_server, admin, "恩阳区", b"enyang, fictional", "恩阳区.docx", "2015-09-03").status_code == 200
    (record,) = _reports(desk_server, "恩阳区")
    desk_server.add_user("只读甲", "viewer", "zhidu-mima-2015")
    desk_server.add_user("组员乙", "group", "zuyuan-mima-2015", group=1)
    viewer = desk_server.login("只读甲", "zhidu-mima-2015")
    html = viewer.get(f"/round/{ROUND}").text
    assert "各县（区）自查报告" in html and "county-upload" not in html
    assert _panel(viewer)["恩阳区"][0] == "on_time"
    assert viewer.get(f"/round/{ROUND}/counties/report/{record.id}").content == b"enyang, fictional"
    group = desk_server.login("组员乙", "zuyuan-mima-2015")
    assert "county-upload" not in group.get(f"/round/{ROUND}").text
    assert group.get(f"/round/{ROUND}/counties/report/{record.id}").status_code == 403
    before = len(_reports(desk_server))
    for client in (viewer, group):
        reply = _upload(desk_server, client, "平昌县", b"pingchang, fictional", "平昌县.docx", "2015-09-04")
        assert reply.status_code == 403 and "没有此项操作的权限" in reply.text
    assert len(_reports(desk_server)) == before
    with Session(desk_server.workspace.engine()) as session:
        assert session.scalar(select(func.count()).select_from(CountyReport).where(CountyReport.county == "平昌县")) == 0
