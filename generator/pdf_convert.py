"""Batch .docx -> PDF with headless LibreOffice.

LibreOffice spends ~1 s starting up and little per document, so documents
are converted in batches: one ``soffice`` process per worker, each given a
whole slice of the documents. Every process has its own profile directory,
because two processes sharing a profile fail now and then. Profiles are
kept between calls (a fresh profile costs seconds to initialise) and
locked with ``flock`` so that concurrent ducha runs never share one. They
live in the user's private cache folder (``generator.user_cache``): a
profile another user prepared could change what LibreOffice prints.

A PDF only appears under its final name after it was checked (it opens,
and has the expected page count if one was given); a failed or hung
conversion raises ``ConversionError`` naming the documents.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pypdfium2

from forms.errors import ConversionError, DuchaError
from generator.fonts import converter_environment
from generator.user_cache import cache_dir

__all__ = ["ConversionError", "convert_documents", "convert_to_pdf", "default_workers", "pdf_page_count"]


SOFFICE_BINARY = "soffice"
CONVERT_TIMEOUT_BASE_S = 60.0  # start-up, incl. a first-time profile set-up
CONVERT_TIMEOUT_PER_DOC_S = 10.0
POLL_INTERVAL_S = 0.1
PROFILE_CACHE_NAME = "lo-profiles"
MAX_PROFILE_SLOTS = 32
# Markers, QR codes and boxes must reach the PDF pixel for pixel: no
# down-sampling to 300 dpi and no JPEG (LibreOffice's defaults).
PDF_EXPORT_OPTIONS = json.dumps(
    {
        "ReduceImageResolution": {"type": "boolean", "value": "false"},
        "UseLosslessCompression": {"type": "boolean", "value": "true"},
    },
    separators=(",", ":"),
)
# LibreOffice's --convert-to argument per output extension.
EXPORT_FILTERS = {
    "pdf": f"pdf:writer_pdf_Export:{PDF_EXPORT_OPTIONS}",
    "fodt": "fodt:OpenDocument Text Flat XML",
}
_ERROR_TAIL_CHARS = 600
LOG_CACHE_NAME = "logs"
# Words in LibreOffice's output -> what they mean for the document.
LIBREOFFICE_REASONS = (
    ("source file could not be loaded", "LibreOffice 无法打开该文件（已损坏或不是 Word 文档）"),
    ("no export filter", "LibreOffice 无法导出为所需格式"),
    ("user installation could not be completed", "LibreOffice 无法建立配置文件夹"),
)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def default_timeout_s(documents: int) -> float:
    return CONVERT_TIMEOUT_BASE_S + CONVERT_TIMEOUT_PER_DOC_S * documents


def pdf_page_count(path: Path) -> int:
    """Pages of a PDF; raises ConversionError if it does not open."""
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise ConversionError(f"PDF 文件无法打开（可能不完整）：{path.name}") from exc
    try:
        return len(pdf)
    finally:
        pdf.close()


@dataclass
class _Job:
    docs: list[Path]
    outdir: Path
    profile: Path
    proc: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path


def _lock_profile(stack: ExitStack) -> Path:
    """Take the first free profile slot; a slot is held by an open flock."""
    root = cache_dir(PROFILE_CACHE_NAME)
    for slot in range(MAX_PROFILE_SLOTS):
        lock_path = root / f"slot{slot}.lock"
        handle = stack.enter_context(open(lock_path, "a+b"))  # noqa: SIM115 - held by the ExitStack
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        return root / f"slot{slot}"
    raise ConversionError(f"同时运行的 LibreOffice 转换过多（超过 {MAX_PROFILE_SLOTS} 个），请稍后重试")


def _split(items: Sequence[Path], parts: int, weights: Mapping[Path, int] | None = None) -> list[list[Path]]:
    """Contiguous slices of near-equal weight (default: one per document), one per process."""
    parts = max(1, min(parts, len(items)))
    weight = [max(1, (weights or {}).get(item, 1)) for item in items]
    total = sum(weight)
    out: list[list[Path]] = [[] for _ in range(parts)]
    done = 0
    for i, item in enumerate(items):
        # The slice whose share of the total this document's middle falls in,
        # but late enough that every later slice still gets a document.
        slot = min(parts - 1, int((done + weight[i] / 2) * parts / total))
        slot = max(slot, parts - (len(items) - i))
        out[slot].append(item)
        done += weight[i]
    return [chunk for chunk in out if chunk]


def _start(docs: list[Path], outdir: Path, profile: Path, log_dir: Path, target: str) -> _Job:
    if shutil.which(SOFFICE_BINARY) is None:
        raise ConversionError("找不到 LibreOffice（soffice），请先运行 scripts/setup.sh 安装")
    log_path = log_dir / f"{outdir.name}.log"
    log = open(log_path, "w+b")  # noqa: SIM115 - closed by the caller's ExitStack
    cmd = [
        SOFFICE_BINARY,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        EXPORT_FILTERS[target],
        "--outdir",
        str(outdir),
        *[str(d) for d in docs],
    ]
    # A new session, so a hung soffice and its children can be killed as one.
    env = converter_environment()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    return _Job(docs=docs, outdir=outdir, profile=profile, proc=proc, log=log, log_path=log_path)


def _kill(job: _Job) -> None:
    try:
        os.killpg(job.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    job.proc.wait()


def _log_tail(job: _Job) -> str:
    job.log.flush()
    job.log.seek(0)
    text = job.log.read().decode("utf-8", "replace").strip()
    return text[-_ERROR_TAIL_CHARS:]


def _log_reason(job: _Job) -> str:
    """What LibreOffice said, in Chinese; its own (English) output is kept in a log file, not shown."""
    tail = _log_tail(job)
    reason = next((r for needle, r in LIBREOFFICE_REASONS if needle in tail.lower()), "LibreOffice 未说明原因")
    try:
        saved = cache_dir(LOG_CACHE_NAME) / f"libreoffice-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{job.outdir.name}.log"
        saved.write_text(tail + "\n", encoding="utf-8")
    except (OSError, DuchaError):
        return reason
    return f"{reason}，LibreOffice 的原始输出见 {saved}"


def _report_finished(
    job: _Job, target: str, reported: set[Path], on_converted: Callable[[Path, Path], None], *, exited: bool
) -> None:
    """Pass on each output LibreOffice is done with: it writes one document's
    output completely before it opens the next, so an output is finished
    once the next one exists or the process has exited."""
    outputs = [job.outdir / f"{doc.stem}.{target}" for doc in job.docs]
    for i, (doc, out) in enumerate(zip(job.docs, outputs)):
        if doc in reported:
            continue
        finished = exited or (i + 1 < len(outputs) and outputs[i + 1].exists())
        if not finished:
            return
        reported.add(doc)
        if out.is_file():
            on_converted(doc, out)


def _names(docs: Sequence[Path], limit: int = 10) -> str:
    shown = "、".join(d.name for d in docs[:limit])
    return shown + (f" 等 {len(docs)} 个文件" if len(docs) > limit else "")


def convert_to_pdf(
    docx_paths: Sequence[Path],
    out_dir: Path,
    *,
    workers: int | None = None,
    timeout_s: float | None = None,
    expected_pages: Mapping[Path, int] | None = None,
    on_converted: Callable[[Path, Path], None] | None = None,
) -> list[Path]:
    """Convert documents to ``out_dir/<stem>.pdf``, in the order given.

    ``workers`` soffice processes run at once (default: one per core), each
    on a contiguous slice of about the same number of pages.
    ``timeout_s`` bounds the whole call (default grows with the number of
    documents). ``expected_pages`` maps a source path to the page count its
    PDF must have.

    ``on_converted(source, output)`` is called, in the calling thread, as
    soon as LibreOffice is done with a document, while it converts the rest,
    with the output still under its temporary name, e.g. to check it. If it
    raises, the conversion stops and no output takes its final name.
    """
    return convert_documents(
        docx_paths, out_dir, workers=workers, timeout_s=timeout_s, expected_pages=expected_pages,
        on_converted=on_converted,
    )


def convert_documents(
    docx_paths: Sequence[Path],
    out_dir: Path,
    *,
    target: str = "pdf",
    workers: int | None = None,
    timeout_s: float | None = None,
    expected_pages: Mapping[Path, int] | None = None,
    on_converted: Callable[[Path, Path], None] | None = None,
) -> list[Path]:
    """``convert_to_pdf`` for any ``target`` in ``EXPORT_FILTERS``; page counts are checked for PDFs only."""
    if target not in EXPORT_FILTERS:
        raise ConversionError(f"不支持的转换格式：{target}")
    docs = [Path(p).resolve() for p in docx_paths]
    if not docs:
        return []
    stems = [d.stem for d in docs]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise ConversionError(f"待转换的文件重名，PDF 会互相覆盖：{'、'.join(duplicates[:5])}")
    missing = [d for d in docs if not d.is_file()]
    if missing:
        raise ConversionError(f"待转换的文件不存在：{_names(missing)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_workers = max(1, min(workers or default_workers(), len(docs)))
    want_pages = {Path(k).resolve(): v for k, v in (expected_pages or {}).items()}
    deadline = time.monotonic() + (timeout_s if timeout_s is not None else default_timeout_s(len(docs)))

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ducha-convert-", dir=out_dir)))
        jobs: list[_Job] = []
        failed: list[str] = []
        try:
            for i, chunk in enumerate(_split(docs, n_workers, want_pages)):
                outdir = scratch / f"w{i}"
                outdir.mkdir()
                job = _start(chunk, outdir, _lock_profile(stack), scratch, target)
                stack.callback(job.log.close)
                jobs.append(job)
            running = list(jobs)
            reported: set[Path] = set()
            while running:
                for job in list(running):
                    if job.proc.poll() is None:
                        if on_converted is not None:
                            _report_finished(job, target, reported, on_converted, exited=False)
                        continue
                    running.remove(job)
                    if job.proc.returncode != 0:
                        failed.append(
                            f"LibreOffice 退出码 {job.proc.returncode}，涉及：{_names(job.docs)}；{_log_reason(job)}"
                        )
                    elif on_converted is not None:
                        _report_finished(job, target, reported, on_converted, exited=True)
                if running and time.monotonic() > deadline:
                    for job in running:
                        _kill(job)
                        failed.append(f"LibreOffice 超时未完成，涉及：{_names(job.docs)}")
                    break
                if running:
                    time.sleep(POLL_INTERVAL_S)
        finally:
            for job in jobs:
                if job.proc.poll() is None:
                    _kill(job)
        if failed:
            raise ConversionError("PDF 转换失败：\n" + "\n".join(failed))

        produced: list[tuple[Path, Path]] = []
        bad: list[str] = []
        for job in jobs:
            for doc in job.docs:
                pdf = job.outdir / f"{doc.stem}.{target}"
                if not pdf.is_file() or pdf.stat().st_size == 0:
                    bad.append(f"{doc.name}：没有生成 PDF（{_log_reason(job)}）")
                    continue
                if target != "pdf":
                    produced.append((pdf, out_dir / pdf.name))
                    continue
                try:
                    pages = pdf_page_count(pdf)
                except ConversionError as exc:
                    bad.append(f"{doc.name}：{exc}")
                    continue
                want = want_pages.get(doc)
                if want is not None and pages != want:
                    bad.append(f"{doc.name}：PDF 有 {pages} 页，应为 {want} 页")
                    continue
                produced.append((pdf, out_dir / pdf.name))
        if bad:
            raise ConversionError("PDF 转换结果不完整：\n" + "\n".join(bad))
        # Only now do the PDFs take their final names; rename is atomic.
        for tmp, final in produced:
            os.replace(tmp, final)
        return [final for _tmp, final in produced]
