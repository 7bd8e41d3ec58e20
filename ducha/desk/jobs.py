"""Jobs: heavy work queued by the desk and done by a separate worker process.

A job is a row in ``job``. The web server only inserts rows and reads
progress; ``python -m ducha.desk.jobs`` (started by ``ducha serve``) claims
queued rows one at a time and runs the same service functions the CLI
runs. A job still ``running`` when the worker starts was cut off by a
restart: it is queued again, and its service is rerun-safe (a scan skips
pages already stored, a document is rewritten in place).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ducha.db.models import Job
from ducha.errors import DuchaError
from ducha.workspace import Workspace, open_workspace

JOB_POLL_SECONDS = 0.5
PROGRESS_WRITE_SECONDS = 0.5
KINDS = {
    "scan": "读取扫描件",
    "notice": "生成通报",
    "report": "生成督查组书面报告",
    "sheets": "印制纪实表",
    "lottery_record": "生成摇号记录",
}
STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "未完成"}
INBOX_DIR = "inbox"


def enqueue(session: Session, kind: str, round_id: str | None, params: dict[str, Any], by: str) -> Job:
    if kind not in KINDS:
        raise DuchaError(f"未知的任务类型：{kind}")
    job = Job(kind=kind, round=round_id, params=params, status="queued", progress_done=0, attempts=0,
              created_by=by, created_at=dt.datetime.now())
    session.add(job)
    session.flush()
    return job


def requeue_interrupted(session: Session) -> int:
    """Jobs cut off by a restart go back to the queue; returns how many."""
    result = session.execute(update(Job).where(Job.status == "running").values(status="queued"))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_next(session: Session) -> Job | None:
    """Take the oldest queued job; the conditional update makes two workers never take the same one."""
    job_id = session.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)).first()
    if job_id is None:
        return None
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=dt.datetime.now(), attempts=Job.attempts + 1)
    )
    session.commit()
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return session.get(Job, job_id)


# --- what each kind does: the same service the CLI command calls ------------

Runner = Callable[[Workspace, Job, Callable[[int, int], None]], dict[str, Any]]


def _in_transaction(workspace: Workspace, work: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
    from ducha.cli_helpers import transaction

    with transaction(workspace) as session:
        return work(session)


def run_scan(workspace: Workspace, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    from ducha.scan import scan

    paths = [workspace.root / p for p in job.params["paths"]]
    report = scan(workspace, paths, round_id=job.round, workers=job.params.get("workers"), progress=progress,
                  group_no=job.params.get("group"))
    return {"summary": report.summary, "notes": report.notes}


def run_notice(workspace: Workspace, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    from ducha.notice import write_notice

    p = job.params
    assert job.round is not None

    def work(session: Session) -> dict[str, Any]:
        out = write_notice(session, workspace, job.round or "", number=int(p["number"]),
                           date=dt.date.fromisoformat(p["date"]), joint=bool(p.get("joint")), draft=bool(p.get("draft")))
        return {"docx": _rel(workspace, out.docx), "pdf": _rel(workspace, out.pdf), "pages": out.pages,
                "criticised": out.criticised}

    return _in_transaction(workspace, work)


def run_report(workspace: Workspace, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    from ducha.group_report import write_group_report

    groups: list[int] = list(job.params["groups"])
    files: list[dict[str, Any]] = []
    for index, group_no in enumerate(groups):
        progress(index, len(groups))

        def work(session: Session, group_no: int = group_no) -> dict[str, Any]:
            out = write_group_report(session, workspace, group_no, job.round or "")
            return {"group": group_no, "docx": _rel(workspace, out.docx), "pdf": _rel(workspace, out.pdf)}

        files.append(_in_transaction(workspace, work))
    progress(len(groups), len(groups))
    return {"files": files}


def run_sheets(workspace: Workspace, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    from ducha.sheets import issue_sheets

    def work(session: Session) -> dict[str, Any]:
        report = issue_sheets(workspace, session, job.round or "", group=job.params.get("group"))
        return {"sheets": len(report.sheets), "group_pdfs": [_rel(workspace, g.pdf) for g in report.group_pdfs],
                "warnings": report.warnings[:20]}

    return _in_transaction(workspace, work)


def run_lottery_record(workspace: Workspace, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    from ducha.lottery import record_path
    from ducha.lottery_record import write_lottery_record

    path = record_path(workspace, job.round or "")

    def work(session: Session) -> dict[str, Any]:
        write_lottery_record(session, job.round or "", path)
        return {"docx": _rel(workspace, path)}

    return _in_transaction(workspace, work)


RUNNERS: dict[str, Runner] = {
    "scan": run_scan, "notice": run_notice, "report": run_report, "sheets": run_sheets,
    "lottery_record": run_lottery_record,
}


def _rel(workspace: Workspace, path: Path) -> str:
    return str(Path(path).resolve().relative_to(workspace.root))


def run_job(workspace: Workspace, make_session: sessionmaker[Session], job_id: int, log: Callable[[str], None]) -> None:
    with make_session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
    last_write = [0.0]

    def progress(done: int, total: int) -> None:
        moment = time.monotonic()
        if done < total and moment - last_write[0] < PROGRESS_WRITE_SECONDS:
            return
        last_write[0] = moment
        with make_session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(progress_done=done, progress_total=total))
            session.commit()

    status, message, result = "done", None, None
    try:
        result = RUNNERS[job.kind](workspace, job, progress)
    except DuchaError as exc:
        status, message = "failed", str(exc)
    except Exception:  # noqa: BLE001 - one failed job must not stop the worker; the trace goes to the log
        status, message = "failed", "内部错误，详情已记入工作区 logs/desk.log"
        log(f"job {job_id} ({job.kind}) failed:\n{traceback.format_exc()}")
    with make_session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(
            status=status, message=message, result=result, finished_at=dt.datetime.now()))
        session.commit()


def work_forever(workspace: Workspace, parent_pid: int | None = None) -> None:
    from ducha.desk.app import desk_logger

    logger = desk_logger(workspace)
    make_session = sessionmaker(workspace.engine(), expire_on_commit=False)
    with make_session() as session:
        resumed = requeue_interrupted(session)
    if resumed:
        logger.info("重新排队 %d 个被中断的任务", resumed)
    while True:
        if parent_pid is not None and os.getppid() != parent_pid:
            return  # the desk is gone; a fresh start requeues anything half done
        with make_session() as session:
            job = claim_next(session)
            job_id = job.id if job is not None else None
        if job_id is None:
            time.sleep(JOB_POLL_SECONDS)
            continue
        run_job(workspace, make_session, job_id, logger.error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="督查工作台的后台任务进程（由 ducha serve 启动）")
    parser.add_argument("--workspace")
    parser.add_argument("--db")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    workspace = open_workspace(args.workspace, args.db)
    try:
        work_forever(workspace, args.parent_pid)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
