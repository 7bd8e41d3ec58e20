"""The counties' self-inspection reports on the round dashboard: status, downloads, and the office's upload.

Status and receiving are ``ducha.county_reports`` (the service ``ducha counties
status`` and ``receive`` call): the due day and the on-time rule live there.
An upload is the raw file as the request body (like a scan upload), written to
a temporary file in the workspace in chunks and stopped at the size limit, then
handed to ``receive_report``, which copies it beside the others with its date
and SHA-256.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from ducha.county_reports import (
    REPORTS_DIR_NAME,
    CountyReportError,
    county_name,
    county_reports_status,
    receive_report,
)
from ducha.db.models import CountyReport
from ducha.desk.audit import audit
from ducha.desk.auth import CurrentUser
from ducha.desk.deps import Admin, DbSession, User, render
from ducha.desk.errors import HTTP_BAD_REQUEST, HTTP_TOO_LARGE, Forbidden, NotFound
from ducha.desk.files import inside
from ducha.desk.routes_dashboard import _round
from ducha.errors import DuchaError

router = APIRouter()
BYTES_PER_MB = 1024 * 1024
INCOMING_DIR_NAME = ".incoming"
PANEL_TEMPLATE = "county_reports.html"
AUDIT_RECEIVE = "登记县区自查报告"
MAX_NAME_CHARS = 200


def may_download(user: CurrentUser) -> bool:
    """A county's report covers all its villages, across groups: the office and viewers, as for readings.xlsx."""
    return user.role != "group"


def panel_context(session: DbSession, request: Request, round_id: str) -> dict[str, Any]:
    status = county_reports_status(session, request.app.state.workspace.root, round_id)
    return {"county_status": status, "county_download": may_download(request.state.user),
            "today": dt.date.today().isoformat()}


def _panel(request: Request, session: DbSession, round_id: str, message: str | None = None,
           error: str | None = None, status_code: int = 200) -> Response:
    context = panel_context(session, request, round_id)
    context.update({"round_id": round_id, "county_message": message, "county_error": error})
    return render(request, PANEL_TEMPLATE, context, status_code=status_code)


@router.get("/round/{round_id}/counties")
def county_panel(request: Request, round_id: str, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    return _panel(request, session, round_id)


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CountyReportError(f"收到日期应为 年-月-日，例如 2015-09-04，收到：{text}") from exc


@router.post("/round/{round_id}/counties/{county}/report")
async def upload_report(request: Request, round_id: str, county: str, session: DbSession, user: Admin,
                        name: str = "", date: str = "") -> Response:
    """One county's report file as the raw body; answers with the panel, showing the result or the refusal."""
    _round(session, round_id)
    limit: int = request.app.state.settings.upload_limit_bytes
    refusal: str | None = None
    status_code = HTTP_BAD_REQUEST
    canonical, day = "", None
    try:
        canonical = county_name(county)
        day = _day(date)
    except DuchaError as exc:
        refusal = str(exc)
    shown = Path(name.replace("\\", "/")).name.strip()[:MAX_NAME_CHARS]
    if refusal is None and not shown:
        refusal = "请选择要上传的自查报告文件"
    declared = request.headers.get("content-length")
    if refusal is None and declared and declared.isdigit() and int(declared) > limit:
        refusal, status_code = f"文件 {shown} 超过上传上限 {limit / BYTES_PER_MB:g} MB，未登记", HTTP_TOO_LARGE
    folder = request.app.state.workspace.root / REPORTS_DIR_NAME / INCOMING_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(dir=folder, suffix=".part")
    temporary = Path(temporary_name)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                if refusal is not None:
                    continue  # read to the end, so the browser gets the answer instead of a broken connection
                size += len(chunk)
                if size > limit:
                    refusal, status_code = f"文件 {shown} 超过上传上限 {limit / BYTES_PER_MB:g} MB，未登记", HTTP_TOO_LARGE
                    continue
                out.write(chunk)
        if refusal is None and size == 0:
            refusal = f"文件 {shown} 是空文件，未登记"
        if refusal is not None:
            return _panel(request, session, round_id, error=refusal, status_code=status_code)
        try:
            got = receive_report(session, request.app.state.workspace.root, round_id, canonical, temporary, day,
                                 original_name=shown)
        except DuchaError as exc:
            session.rollback()
            return _panel(request, session, round_id, error=str(exc), status_code=HTTP_BAD_REQUEST)
    finally:
        temporary.unlink(missing_ok=True)
    if got.duplicate:
        session.rollback()
        message = f"{got.county}的这份报告已于 {got.received_on.isoformat()} 登记过，未重复登记。"
    else:
        audit(session, user, AUDIT_RECEIVE, f"{round_id} 轮 {got.county}", None,
              {"文件": got.original_name, "收到日期": got.received_on.isoformat(), "SHA-256": got.sha256})
        session.commit()
        message = f"已登记{got.county}自查报告：{got.original_name}，收到日期 {got.received_on.isoformat()}。"
    return _panel(request, session, round_id, message=message)


@router.get("/round/{round_id}/counties/report/{report_id}")
def download_report(request: Request, round_id: str, report_id: int, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    if not may_download(user):
        raise Forbidden("各县（区）自查报告只供办公室和只读账号下载")
    report = session.get(CountyReport, report_id)
    if report is None or report.round != round_id:
        raise NotFound("没有这份自查报告")
    path = inside(request.app.state.workspace.root, report.path)
    return FileResponse(path, filename=report.original_name)
