"""Buttons that make documents: the notice (draft or final), group reports, sheets, the lottery record.

Each queues a job for the worker, which calls the same service as the CLI
command; the final notice is first checked here with the notice's own rule,
so a refusal comes back at once with its reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ducha.desk.audit import audit
from ducha.desk.deps import Admin, DbSession, render
from ducha.desk.errors import DeskError
from ducha.desk.jobs import KINDS, enqueue
from ducha.desk.routes_dashboard import _round
from ducha.errors import DuchaError
from ducha.notice import check_final_notice
from ducha.rounds import round_plan

router = APIRouter()
DESK_REVIEW_HINT = "请先在“复核”页处理完这些项目，或先生成通报草稿"


def _queued(session: DbSession, user: Admin, kind: str, round_id: str, params: dict[str, object],
            shown: dict[str, object]) -> Response:
    """Queue the job; the audit log gets ``shown``, the same choices in the words of the form."""
    job = enqueue(session, kind, round_id, params, user.name)
    audit(session, user, f"提交任务：{KINDS[kind]}", f"{round_id} 轮，任务 {job.id}", None, shown)
    session.commit()
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _optional_int(text: str | None, what: str) -> int | None:
    if text is None or not text.strip():
        return None
    if not text.strip().isdigit() or int(text) <= 0:
        raise DeskError(f"{what}应为正整数")
    return int(text)


@router.post("/round/{round_id}/notice")
def make_notice(
    request: Request, round_id: str, session: DbSession, user: Admin,
    number: Annotated[str, Form()], kind: Annotated[str, Form()],
    date: Annotated[str, Form()] = "", joint: Annotated[str, Form()] = "",
) -> Response:
    _round(session, round_id)
    doc_number = _optional_int(number, "发文字号的顺序号（不加“第”，不补零）")
    if doc_number is None:
        raise DeskError("请填写发文字号的顺序号，例如 126")
    try:
        day = dt.date.fromisoformat(date) if date.strip() else dt.date.today()
    except ValueError as exc:
        raise DeskError(f"日期“{date}”格式不对，应为 YYYY-MM-DD") from exc
    if kind not in ("draft", "final"):
        raise DeskError("请选择生成草稿或正式通报")
    if kind == "final":
        try:
            check_final_notice(session, request.app.state.workspace, round_id, DESK_REVIEW_HINT)
        except DuchaError as exc:
            return render(request, "error.html", {"message": f"不能生成正式通报：{exc}",
                                                  "back": f"/round/{round_id}"}, status_code=409)
    params = {"number": doc_number, "date": day.isoformat(), "joint": bool(joint), "draft": kind == "draft"}
    shown: dict[str, object] = {"类型": "草稿" if kind == "draft" else "正式通报", "发文字号": doc_number, "成文日期": day.isoformat(),
             "联合发文": bool(joint)}
    return _queued(session, user, "notice", round_id, params, shown)


def _groups(session: DbSession, round_id: str, group: str) -> list[int]:
    chosen = _optional_int(group, "督查组编号")
    available = sorted({v.group for v in round_plan(session, round_id).villages})
    if chosen is not None and chosen not in available:
        raise DeskError(f"{round_id} 轮没有第{chosen}组")
    return [chosen] if chosen is not None else available


@router.post("/round/{round_id}/reports")
def make_reports(round_id: str, session: DbSession, user: Admin, group: Annotated[str, Form()] = "") -> Response:
    _round(session, round_id)
    groups = _groups(session, round_id, group)
    return _queued(session, user, "report", round_id, {"groups": groups}, {"督查组": [f"第{g}组" for g in groups]})


@router.post("/round/{round_id}/sheets")
def make_sheets(round_id: str, session: DbSession, user: Admin, group: Annotated[str, Form()] = "") -> Response:
    _round(session, round_id)
    chosen = _optional_int(group, "督查组编号")
    if chosen is not None:
        _groups(session, round_id, group)
    return _queued(session, user, "sheets", round_id, {"group": chosen},
                   {"督查组": f"第{chosen}组" if chosen is not None else "全部"})


@router.post("/round/{round_id}/lottery-record")
def make_lottery_record(round_id: str, session: DbSession, user: Admin) -> Response:
    _round(session, round_id)
    return _queued(session, user, "lottery_record", round_id, {}, {})
