"""A job's page, with live progress (htmx polls the fragment until the job ends)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from ducha.db.models import Job, ScanFile, ScanPage
from ducha.desk.deps import DbSession, User, render
from ducha.desk.errors import Forbidden, NotFound
from ducha.desk.jobs import KINDS, STATUS_LABELS

router = APIRouter()
PAGE_STATUS_LABELS = {"recorded": "已录入", "review": "待复核", "rejected": "已拒收"}


def _job(session: DbSession, user: User, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("没有这个任务")
    if user.role == "group" and job.created_by != user.name:
        raise Forbidden("只能查看自己提交的任务")
    return job


def _scan_pages(session: DbSession, job: Job) -> list[dict[str, object]]:
    if job.kind != "scan" or job.status != "done":
        return []
    shas = [f["sha256"] for f in job.params.get("files", [])]
    if not shas:
        return []
    names = {f["sha256"]: f["name"] for f in job.params.get("files", [])}
    rows = session.execute(
        select(ScanPage, ScanFile.sha256).join(ScanFile, ScanFile.id == ScanPage.file_id)
        .where(ScanFile.sha256.in_(shas)).order_by(ScanFile.id, ScanPage.page_no)
    ).all()
    return [{"page": page, "name": names.get(sha, Path(page.image_path or "").name), "label": PAGE_STATUS_LABELS.get(page.status, page.status)}
            for page, sha in rows]


def _context(session: DbSession, user: User, job_id: int) -> dict[str, object]:
    job = _job(session, user, job_id)
    percent = None
    if job.progress_total:
        percent = round(100 * job.progress_done / job.progress_total)
    return {"job": job, "kinds": KINDS, "job_status": STATUS_LABELS, "percent": percent,
            "pages": _scan_pages(session, job)}


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int, session: DbSession, user: User) -> Response:
    return render(request, "job.html", _context(session, user, job_id))


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, job_id: int, session: DbSession, user: User) -> Response:
    return render(request, "job_progress.html", _context(session, user, job_id))
