"""Upload returned scans: each file streamed to the workspace inbox, then one scan job for the batch.

The browser sends every file as the raw body of its own request, so the
server writes it to disk in chunks as it arrives and never holds a whole
file; it checks the first bytes (a scan is a PDF, TIFF, JPEG or PNG) and
stops counting at the size limit.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ducha.desk.audit import audit
from ducha.desk.deps import Changer, DbSession, render
from ducha.desk.errors import HTTP_TOO_LARGE, HTTP_UNSUPPORTED, DeskError
from ducha.desk.files import upload_name
from ducha.desk.jobs import INBOX_DIR, enqueue
from ducha.desk.routes_dashboard import _round

router = APIRouter()
MAGIC_BYTES_NEEDED = 8
SCAN_SIGNATURES = {
    b"%PDF-": "PDF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
}
_BATCH = re.compile(r"[0-9a-f]{16,64}\Z")
BYTES_PER_MB = 1024 * 1024
MANIFEST_NAME = "manifest.json"


def scan_kind(head: bytes) -> str | None:
    return next((kind for magic, kind in SCAN_SIGNATURES.items() if head.startswith(magic)), None)


def _batch_dir(request: Request, round_id: str, batch: str) -> Path:
    if not _BATCH.match(batch):
        raise DeskError("上传批次编号不合法，请刷新页面后重试")
    folder = request.app.state.workspace.output_dir(INBOX_DIR) / round_id / batch
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _limit_text(limit: int) -> str:
    return f"{limit / BYTES_PER_MB:g} MB"


@router.get("/round/{round_id}/upload")
def upload_page(request: Request, round_id: str, session: DbSession, user: Changer) -> Response:
    _round(session, round_id)
    return render(request, "upload.html", {"round_id": round_id,
                                           "limit_text": _limit_text(request.app.state.settings.upload_limit_bytes)})


@router.post("/round/{round_id}/upload/file")
async def upload_file(request: Request, round_id: str, batch: str, name: str, session: DbSession,
                      user: Changer) -> Response:
    _round(session, round_id)
    folder = _batch_dir(request, round_id, batch)
    limit: int = request.app.state.settings.upload_limit_bytes
    target = folder / upload_name(name)
    while target.exists():
        target = target.with_stem(target.stem + "_1")
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    head = b""
    size = 0
    refused: DeskError | None = None
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        refused = DeskError(f"文件 {name} 超过上传上限 {_limit_text(limit)}，未保存", HTTP_TOO_LARGE)
    with partial.open("wb") as out:
        async for chunk in request.stream():
            if refused is not None:
                continue  # read to the end, so the browser gets the answer instead of a broken connection
            if len(head) < MAGIC_BYTES_NEEDED:
                head += chunk[:MAGIC_BYTES_NEEDED]
                if len(head) >= MAGIC_BYTES_NEEDED and scan_kind(head) is None:
                    refused = DeskError(f"文件 {name} 不是扫描件（只接受 PDF、TIFF、JPEG、PNG），未保存", HTTP_UNSUPPORTED)
                    continue
            size += len(chunk)
            if size > limit:
                refused = DeskError(f"文件 {name} 超过上传上限 {_limit_text(limit)}，未保存", HTTP_TOO_LARGE)
                continue
            digest.update(chunk)
            out.write(chunk)
    if refused is None and scan_kind(head) is None:
        refused = DeskError(f"文件 {name} 不是扫描件（只接受 PDF、TIFF、JPEG、PNG），未保存", HTTP_UNSUPPORTED)
    if refused is not None:
        partial.unlink(missing_ok=True)
        return JSONResponse({"ok": False, "message": str(refused)}, status_code=refused.status)
    partial.rename(target)
    entry = {"name": name, "path": str(target.relative_to(request.app.state.workspace.root)),
             "sha256": digest.hexdigest(), "bytes": size}
    with (folder / MANIFEST_NAME).open("a", encoding="utf-8") as manifest:
        manifest.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return JSONResponse({"ok": True, "name": name, "bytes": size})


@router.post("/round/{round_id}/upload/start")
def start_scan(request: Request, round_id: str, session: DbSession, user: Changer,
               batch: Annotated[str, Form()]) -> Response:
    _round(session, round_id)
    folder = _batch_dir(request, round_id, batch)
    manifest = folder / MANIFEST_NAME
    if not manifest.exists():
        raise DeskError("这一批还没有上传成功的文件")
    files = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    params = {"paths": [f["path"] for f in files], "files": files, "group": user.group_no}
    job = enqueue(session, "scan", round_id, params, user.name)
    audit(session, user, "上传扫描件", f"{round_id} 轮，任务 {job.id}", None,
          {"文件": [f["name"] for f in files], "字节": sum(f["bytes"] for f in files)})
    session.commit()
    manifest.rename(folder / f"{MANIFEST_NAME}.job{job.id}")  # a second click cannot queue the batch twice
    if request.headers.get("HX-Request") or request.headers.get("X-Requested-With"):
        return JSONResponse({"ok": True, "job": job.id, "url": f"/jobs/{job.id}"})
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
