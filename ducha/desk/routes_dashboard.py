"""The list of rounds, each round's dashboard, and its downloads."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask

from ducha.dashboard import round_status
from ducha.db.models import IssuedSheet, Job, Round, ScanFile, ScanPage
from ducha.desk.auth import CurrentUser
from ducha.desk.deps import DbSession, User, render
from ducha.desk.errors import Forbidden, NotFound
from ducha.desk.files import inside, safe_child
from ducha.desk.jobs import KINDS, STATUS_LABELS
from ducha.lottery import record_path
from ducha.readings_export import write_readings_xlsx
from ducha.rounds import parse_round_id
from ducha.workspace import Workspace
from generator.record_sheet import group_label

router = APIRouter()
RECENT_JOBS = 10
REJECTED_PAGE_ROWS = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workspace(request: Request) -> Workspace:
    return request.app.state.workspace  # type: ignore[no-any-return]


def _round(session: DbSession, round_id: str) -> str:
    try:
        parse_round_id(round_id)
    except Exception as exc:
        raise NotFound("没有这一轮督查") from exc
    if session.get(Round, round_id) is None:
        raise NotFound(f"{round_id} 轮还没有安排")
    return round_id


def _check_group(user: CurrentUser, group_no: int | None) -> None:
    if not user.may_see_group(group_no):
        raise Forbidden("督查组账号只能查看本组的材料")


def _temp_file(suffix: str) -> Path:
    """A named temporary file, removed after the response is sent (a download is built on disk, not in memory)."""
    descriptor, name = tempfile.mkstemp(prefix="ducha-desk-", suffix=suffix)
    os.close(descriptor)
    return Path(name)


def documents(workspace: Workspace, round_id: str) -> dict[str, list[Path]]:
    """The round's generated documents, found where the services write them."""
    notices = sorted(workspace.output_dir("notices").glob(f"通报_{round_id}_*"))
    reports = sorted(workspace.output_dir("reports").glob(f"督查报告_{round_id}_*"))
    return {"notices": [p for p in notices if p.suffix in (".pdf", ".docx")],
            "reports": [p for p in reports if p.suffix in (".pdf", ".docx")]}


@router.get("/")
def index(request: Request, session: DbSession, user: User) -> Response:
    rounds = list(session.scalars(select(Round.id).order_by(Round.id.desc())))
    return render(request, "index.html", {"rounds": rounds})


@router.get("/round/{round_id}")
def dashboard(request: Request, round_id: str, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    workspace = _workspace(request)
    status = round_status(session, round_id, workspace.root)
    groups = [g for g in status.groups if user.may_see_group(g.group_no)]
    jobs = session.scalars(select(Job).where(Job.round == round_id).order_by(Job.id.desc()).limit(RECENT_JOBS)).all()
    if user.role == "group":
        jobs = [j for j in jobs if j.created_by == user.name]
    docs = documents(workspace, round_id)
    if user.role == "group":
        docs["reports"] = [p for p in docs["reports"] if p.stem.endswith(f"第{user.group_no}组")]
    totals = {k: sum(getattr(g, k) for g in groups)
              for k in ("villages", "sheets_issued", "pages_returned", "recorded", "review", "rejected", "open_items",
                        "valid", "invalid", "validity_open", "only_amounts_open")}
    totals["not_returned"] = sum(len(g.not_returned) for g in groups)
    return render(request, "dashboard.html", {
        "round_id": round_id, "status": status, "groups": groups, "totals": totals, "jobs": jobs,
        "kinds": KINDS, "job_status": STATUS_LABELS, "docs": docs, "group_label": group_label,
        "lottery_record": record_path(workspace, round_id).is_file(),
        "has_review": request.app.state.has_review,
        "today": dt.date.today().isoformat(),
        **_county_panel(session, request, round_id),
    })


def _county_panel(session: DbSession, request: Request, round_id: str) -> dict[str, object]:
    from ducha.desk.routes_counties import panel_context

    return panel_context(session, request, round_id)


@router.get("/round/{round_id}/group/{group_no}/sheets.pdf")
def group_pdf(request: Request, round_id: str, group_no: int, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    _check_group(user, group_no)
    sheet = session.scalars(select(IssuedSheet).where(IssuedSheet.round == round_id, IssuedSheet.group_no == group_no,
                                                      IssuedSheet.pdf_path.is_not(None))).first()
    if sheet is None:
        raise NotFound("这一组的纪实表尚未印制")
    path = inside(_workspace(request).root, sheet.pdf_path)
    return FileResponse(path, filename=path.name, media_type="application/pdf")


@router.get("/round/{round_id}/sheets.zip")
def sheets_zip(request: Request, round_id: str, session: DbSession, user: User, group: int | None = None) -> Response:
    """Every sheet's .docx (one group's with ``?group=N``), zipped in a temporary file, never in memory."""
    _round(session, round_id)
    if user.role == "group":
        if group is None:
            group = user.group_no
        _check_group(user, group)
    query = select(IssuedSheet).where(IssuedSheet.round == round_id).order_by(IssuedSheet.group_no, IssuedSheet.form_id)
    if group is not None:
        query = query.where(IssuedSheet.group_no == group)
    sheets = session.scalars(query).all()
    if not sheets:
        raise NotFound("纪实表尚未印制")
    root = _workspace(request).root
    target = _temp_file(".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in sheets:
            path = inside(root, sheet.docx_path)
            archive.write(path, f"{group_label(sheet.group_no)}/{path.name}")
    name = f"{round_id}-纪实表" + (f"-{group_label(group)}" if group is not None else "") + ".zip"
    return FileResponse(target, filename=name, media_type="application/zip", background=BackgroundTask(target.unlink))


@router.get("/round/{round_id}/lottery-record.docx")
def lottery_record(request: Request, round_id: str, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    path = record_path(_workspace(request), round_id)
    if not path.is_file():
        raise NotFound("摇号记录尚未生成")
    return FileResponse(path, filename=path.name)


@router.get("/round/{round_id}/readings.xlsx")
def readings(request: Request, round_id: str, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    if user.role == "group":
        raise Forbidden("全部村的读表结果只供办公室和只读账号下载")
    target = write_readings_xlsx(session, round_id, _temp_file(".xlsx"))
    return FileResponse(target, filename=f"{round_id}-各村读表结果.xlsx", media_type=XLSX_TYPE,
                        background=BackgroundTask(target.unlink))


@router.get("/round/{round_id}/notices/{name:path}")
def notice_file(request: Request, round_id: str, name: str, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    if not name.startswith(f"通报_{round_id}_"):
        raise Forbidden("文件名不合法")
    path = safe_child(_workspace(request).output_dir("notices"), name)
    return FileResponse(path, filename=path.name)


@router.get("/round/{round_id}/reports/{name:path}")
def report_file(request: Request, round_id: str, name: str, session: DbSession, user: User) -> Response:
    _round(session, round_id)
    prefix = f"督查报告_{round_id}_第"
    if not name.startswith(prefix):
        raise Forbidden("文件名不合法")
    group_text = name[len(prefix):].split("组", 1)[0]
    _check_group(user, int(group_text) if group_text.isdigit() else None)
    path = safe_child(_workspace(request).output_dir("reports"), name)
    return FileResponse(path, filename=path.name)


def page_group(session: DbSession, page: ScanPage) -> int | None:
    if page.form_id is None:
        return None
    sheet = session.get(IssuedSheet, page.form_id)
    return sheet.group_no if sheet is not None else None


@router.get("/pages/{page_id}/image")
def page_image(request: Request, page_id: int, session: DbSession, user: User) -> Response:
    """A scanned page's stored image: the page itself when rejected, else its evidence sheet."""
    page = session.get(ScanPage, page_id)
    if page is None:
        raise NotFound("没有这一页")
    _check_group(user, page_group(session, page))
    relative = page.image_path or ((page.reading or {}).get("evidence") or {}).get("sheet")
    path = inside(_workspace(request).root, relative)
    return FileResponse(path, media_type="image/jpeg")


@router.get("/round/{round_id}/rejected")
def rejected_pages(request: Request, round_id: str, session: DbSession, user: User) -> Response:
    """Rejected pages with their image and reason: this round's, and (for the office) pages not identified."""
    _round(session, round_id)
    forms = {s.form_id: s.group_no for s in session.scalars(select(IssuedSheet).where(IssuedSheet.round == round_id))}
    rows = session.execute(
        select(ScanPage, ScanFile.path).join(ScanFile, ScanFile.id == ScanPage.file_id)
        .where(ScanPage.status == "rejected").order_by(ScanPage.id.desc()).limit(REJECTED_PAGE_ROWS)
    ).all()
    pages = []
    for page, source in rows:
        group = forms.get(page.form_id) if page.form_id else None
        if page.form_id is not None and page.form_id not in forms:
            continue  # another round's sheet
        if user.role == "group" and group != user.group_no:
            continue
        pages.append({"page": page, "source": Path(source).name, "group": group})
    return render(request, "rejected.html", {"round_id": round_id, "pages": pages})
