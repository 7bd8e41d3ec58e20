"""Fault injection for the command line (issue 14, items 5, 6, 7, 11 and 12).

Each test names a failure a hostile but fair tester caused, and checks what
the user sees: a one-line Chinese message and the exit code (0 / 1 user
error / 2 internal), files no one else can read, caches no one else can
prepare, and no English from argparse, PDFium, OpenCV or stored value codes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE_ROSTERS, SAMPLE_SEED
from docx import Document
from PIL import Image
from sqlalchemy.orm import Session

from ducha.cli import main as cli_main
from ducha.db.models import ReviewItem, ScanFile, ScanPage
from ducha.workspace import KEY_FILE_NAME, Workspace, create
from generator.pdf_convert import convert_to_pdf

FOREIGN_BITS = stat.S_IRWXG | stat.S_IRWXO
NOBODY_UID = 65534
CACHE_DIR_ENV = "DUCHA_CACHE_DIR"
# Words of the libraries' and argparse's English that must never reach a user.
ENGLISH_LEAKS = ("Traceback", "Error", "error:", "usage:", "PDFium", "Failed", "assert", "invalid", "required")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_chinese_line(err: str) -> str:
    """The user's whole error: one line, Chinese, none of the libraries' English."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert re.search(r"[\u4e00-\u9fff]", lines[0]), err
    for word in ENGLISH_LEAKS:
        assert word not in lines[0], (word, err)
    return lines[0]


@pytest.fixture
def fresh(tmp_path: Path) -> Workspace:
    """An initialised, empty SQLite workspace."""
    return create(tmp_path / "ws")


@pytest.fixture
def umask_000() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def ws_args(ws: Workspace) -> list[str]:
    return ["--workspace", str(ws.root)]


# --- 5. keys -----------------------------------------------------------------

DAMAGED_KEYS = {
    "empty": b"",
    "blank line": b"\n",
    "short": b"00112233445566778899aabbccddeeff\n",  # 16 bytes of hex
    "not hex": ("z" * 64 + "\n").encode(),
    "not text": bytes(range(200, 256)),
}
EVERY_KIND_OF_COMMAND = (
    ["calendar", "2015-08"],
    ["review"],
    ["round", "show", "2015-08"],
    ["registry", "export"],
    ["scan", "nothing.pdf"],
    ["init"],
)


@pytest.mark.parametrize("damage", DAMAGED_KEYS, ids=list(DAMAGED_KEYS))
def test_a_damaged_key_stops_every_command_and_says_restore_it(fresh, capsys, damage) -> None:
    fresh.key_path.write_bytes(DAMAGED_KEYS[damage])
    for command in EVERY_KIND_OF_COMMAND:
        code, _out, err = run(capsys, *ws_args(fresh), *command)
        assert code == 1, (command, err)
        line = assert_one_chinese_line(err)
        assert "签名密钥" in line and "备份" in line and KEY_FILE_NAME in line, line
    # init never replaces it: sheets already printed carry its signature.
    assert fresh.key_path.read_bytes() == DAMAGED_KEYS[damage]


def test_a_key_or_database_open_to_others_is_warned_about(fresh, capsys) -> None:
    code, _out, err = run(capsys, *ws_args(fresh), "review")
    assert code == 0 and "警告" not in err
    os.chmod(fresh.key_path, 0o644)
    os.chmod(fresh.root / "ducha.sqlite3", 0o640)
    code, out, err = run(capsys, *ws_args(fresh), "review")
    assert code == 0 and "没有待复核的项目" in out
    warnings = [line for line in err.splitlines() if line.startswith("警告")]
    assert len(warnings) == 2, err
    assert "签名密钥" in warnings[0] and "0644" in warnings[0] and "chmod 600" in warnings[0]
    assert "数据库文件" in warnings[1] and "0640" in warnings[1]
    # Running init again tightens the whole workspace, and the warnings stop.
    assert run(capsys, *ws_args(fresh), "init")[0] == 0
    assert "警告" not in run(capsys, *ws_args(fresh), "review")[2]


# --- 6. private by default ---------------------------------------------------

def foreign_accessible(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & FOREIGN_BITS:
                found.append(f"{path.relative_to(root)} {stat.S_IMODE(mode):04o}")
    return found


def test_init_makes_a_private_workspace_whatever_the_umask(tmp_path, capsys, umask_000) -> None:
    root = tmp_path / "ws"
    assert run(capsys, "--workspace", str(root), "init")[0] == 0
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert foreign_accessible(root) == []
    assert {p.name for p in root.iterdir()} >= {"secret.key", "ducha.sqlite3", "workspace.json", "config.json"}


def test_init_tightens_a_workspace_left_open_by_an_older_version(fresh, capsys) -> None:
    for path in [fresh.root, *fresh.root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    (fresh.root / "evidence" / "old.jpg").write_bytes(b"\xff\xd8")
    os.chmod(fresh.root / "evidence" / "old.jpg", 0o644)
    assert run(capsys, *ws_args(fresh), "init")[0] == 0
    assert foreign_accessible(fresh.root) == []
    assert stat.S_IMODE(fresh.root.stat().st_mode) == 0o700


def test_every_file_of_a_round_is_private_whatever_the_umask(tmp_path, capsys, umask_000, small_registry) -> None:
    """init, import, plan, sheets, simulate, scan and notice under umask 000: nothing readable by others."""
    root = tmp_path / "ws"
    ws = ["--workspace", str(root)]
    assert run(capsys, *ws, "init")[0] == 0
    assert run(capsys, *ws, "registry", "import", str(small_registry))[0] == 0
    assert run(capsys, *ws, "groups", "import", str(SAMPLE_ROSTERS["2015-08"]), "--round", "2015-08")[0] == 0
    code, out, _err = run(capsys, *ws, "round", "plan", "2015-08", "--seed", SAMPLE_SEED, "--json")
    assert code == 0
    groups = sorted({v["group"] for v in json.loads(out)["villages"]})
    assert run(capsys, *ws, "sheets", "2015-08", "--group", str(groups[0]), "--workers", "1")[0] == 0
    returned = root / "scans" / "returned"
    assert run(capsys, *ws, "simulate", "2015-08", "--out", str(returned), "--limit", "1", "--workers", "1")[0] == 0
    code, out, err = run(capsys, *ws, "scan", str(returned), "--workers", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["summary"]["input_pages"] >= 1
    assert run(capsys, *ws, "notice", "2015-08", "--number", "126", "--date", "2015-09-05", "--draft")[0] == 0
    kinds = {p.suffix for p in root.rglob("*") if p.is_file()}
    assert {".sqlite3", ".docx", ".pdf", ".jpg"} <= kinds, kinds
    assert foreign_accessible(root) == []


# --- 7. caches ---------------------------------------------------------------

@pytest.fixture
def tiny_docx(tmp_path: Path) -> Path:
    path = tmp_path / "doc" / "tiny.docx"
    path.parent.mkdir()
    document = Document()
    document.add_paragraph("督查")
    document.save(str(path))
    return path


@pytest.mark.parametrize("planted", ["another user's", "world-writable", "symlink"])
def test_a_cache_folder_someone_else_could_have_prepared_is_refused(tmp_path, monkeypatch, tiny_docx, planted) -> None:
    cache = tmp_path / "cache"
    if planted == "symlink":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        cache.symlink_to(tmp_path / "elsewhere")
    else:
        cache.mkdir(mode=0o700)
        if planted == "another user's":
            os.chown(cache, NOBODY_UID, NOBODY_UID)
        else:
            os.chmod(cache, 0o777)
    monkeypatch.setenv(CACHE_DIR_ENV, str(cache))
    from forms.errors import UnsafeCacheError

    with pytest.raises(UnsafeCacheError) as info:
        convert_to_pdf([tiny_docx], tmp_path / "out", workers=1)
    message = str(info.value)
    assert str(cache) in message and "不予使用" in message and CACHE_DIR_ENV in message
    assert not (tmp_path / "out" / "tiny.pdf").exists()
    # Nothing was put in it either.
    assert list(cache.iterdir()) == []


def test_a_poisoned_cache_stops_sheets_with_a_chinese_message(copy_planned_workspace, tmp_path, capsys,
                                                              monkeypatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.chown(cache, NOBODY_UID, NOBODY_UID)
    monkeypatch.setenv(CACHE_DIR_ENV, str(cache))
    code, _out, err = run(capsys, *ws_args(copy_planned_workspace), "sheets", "2015-08", "--group", "1")
    assert code == 1
    assert "属于另一个用户" in assert_one_chinese_line(err)


def test_caches_are_private_per_user_folders_not_shared_tmp_paths(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    from generator.user_cache import cache_dir

    previous = os.umask(0)
    try:
        folder = cache_dir("lo-profiles")
    finally:
        os.umask(previous)
    assert folder == tmp_path / "home" / ".cache" / "ducha" / "lo-profiles"
    for path in (folder, folder.parent):
        info = os.lstat(path)
        assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700


# --- 11. no tracebacks on user errors -----------------------------------------

def _corrupt_workspace_json(ws: Workspace) -> None:
    (ws.root / "workspace.json").write_text('{"db_url": ', encoding="utf-8")


def _corrupt_database(ws: Workspace) -> None:
    database = ws.root / "ducha.sqlite3"
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    database.write_bytes(np.random.default_rng(14).integers(0, 256, 200_000, dtype=np.uint8).tobytes())


USER_ERRORS = {
    "sheets --out /dev/null/x": (None, ["sheets", "2015-08", "--out", "/dev/null/x"], "不是文件夹"),
    "simulate --out /proc/nope": (None, ["simulate", "2015-08", "--out", "/proc/nope"], "/proc/nope"),
    "--db notaurl": (None, ["--db", "notaurl", "review"], "数据库地址"),
    "--db unknown dialect": (None, ["--db", "mongodb://x/y", "review"], "不支持的数据库类型"),
    "--db server not running": (None, ["--db", "postgresql://ducha@127.0.0.1:1/ducha", "review"], "无法连接"),
    "scan --workers -3": (None, ["scan", "--workers", "-3", "x.pdf"], "正整数"),
    "sheets --workers 0": (None, ["sheets", "2015-08", "--workers", "0"], "正整数"),
    "corrupt workspace.json": (_corrupt_workspace_json, ["review"], "workspace.json"),
    "corrupt database file": (_corrupt_database, ["review"], "已损坏"),
    "corrupt database file, scan": (_corrupt_database, ["scan", "x.pdf"], "已损坏"),
    "corrupt database file, init": (_corrupt_database, ["init"], "已损坏"),
    "non-hex key": (lambda ws: ws.key_path.write_text("g" * 64), ["review"], "不是十六进制"),
}


@pytest.mark.parametrize("case", USER_ERRORS, ids=list(USER_ERRORS))
def test_a_user_error_is_one_chinese_line_and_exit_1(fresh, capsys, case) -> None:
    damage, command, expected = USER_ERRORS[case]
    if damage is not None:
        damage(fresh)
    code, _out, err = run(capsys, *ws_args(fresh), *command)
    assert code == 1, err
    assert expected in assert_one_chinese_line(err)


def test_an_internal_error_exits_2_with_a_log_file_not_a_traceback(fresh, capsys, monkeypatch) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("an injected bug")

    monkeypatch.delenv("DUCHA_DEBUG", raising=False)
    monkeypatch.setattr("ducha.commands.calendar.month_workdays", broken)
    code, _out, err = run(capsys, *ws_args(fresh), "calendar", "2015-08")
    assert code == 2
    line = assert_one_chinese_line(err)
    assert "内部错误" in line
    logs = list((fresh.root / "logs").iterdir())
    assert len(logs) == 1 and str(logs[0]) in line
    assert stat.S_IMODE(logs[0].stat().st_mode) & FOREIGN_BITS == 0
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "an injected bug" in text
    assert text.splitlines()[0].endswith("calendar 2015-08")


def test_the_installed_command_under_umask_000(tmp_path) -> None:
    """The real ``ducha`` process: a private workspace, Chinese usage errors with exit 1, no traceback."""
    ducha = Path(sys.executable).with_name("ducha")
    root = tmp_path / "ws"

    def ducha_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ducha), "--workspace", str(root), *args], capture_output=True, text=True,
                              timeout=120, preexec_fn=lambda: os.umask(0), check=False)

    done = ducha_run("init")
    assert done.returncode == 0, done.stderr
    assert foreign_accessible(root) == [] and stat.S_IMODE(root.stat().st_mode) == 0o700
    done = ducha_run("scan", "--workers", "-3", "x.pdf")
    assert done.returncode == 1
    assert assert_one_chinese_line(done.stderr) == "错误：参数 --workers：应为正整数，实际为“-3”（用法见 ducha scan --help）"


# --- 12. English never reaches the user --------------------------------------

def test_unreadable_files_are_rejected_with_chinese_reasons(fresh, tmp_path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "garbage.pdf").write_bytes(b"%PDF-1.4\n" + b"random garbage " * 40)
    for suffix in (".png", ".jpg", ".tif"):
        Image.new("L", (1, 1), 255).save(folder / f"one-pixel{suffix}")
    code, out, err = run(capsys, *ws_args(fresh), "scan", str(folder), "--workers", "1", "--json")
    assert code == 0, err
    reasons = {Path(p["source"]).name: p["reason"] for p in json.loads(out)["pages"]}
    assert reasons["garbage.pdf"] == "PDF 文件已损坏或不完整：文件内容不是有效的 PDF 格式"
    for suffix in (".png", ".jpg", ".tif"):
        assert reasons[f"one-pixel{suffix}"] == "图像过小（1×1 像素），不是纪实表的扫描件"


def test_library_errors_are_translated_without_their_english() -> None:
    from ocr.pages import library_reason

    with pytest.raises(cv2.error) as opencv:
        cv2.resize(np.zeros((1, 1), np.uint8), (0, 0), fx=0, fy=0)
    with pytest.raises(OSError) as pillow:
        Image.open(__import__("io").BytesIO(b"not an image"))
    for error, expected in ((opencv.value, "图像尺寸或格式异常，无法处理"), (pillow.value, "无法识别的图像格式")):
        assert library_reason(error) == expected
    assert library_reason(ValueError("something nobody foresaw")) == "文件内容无法解析"


def test_libreoffice_output_is_kept_in_a_log_not_shown(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    broken = tmp_path / "broken-sheet.docx"
    broken.write_bytes(b"PK\x03\x04 this is not a real docx")
    from forms.errors import ConversionError

    with pytest.raises(ConversionError) as info:
        convert_to_pdf([broken], tmp_path / "out", workers=1)
    message = str(info.value)
    assert "broken-sheet.docx" in message and "LibreOffice 无法打开该文件（已损坏或不是 Word 文档）" in message
    assert "source file could not be loaded" not in message and "Error" not in message
    logs = list((tmp_path / "cache" / "logs").iterdir())
    assert len(logs) == 1 and str(logs[0]) in message
    assert "source file could not be loaded" in logs[0].read_text(encoding="utf-8")


HELP_ENGLISH = ("usage:", "positional arguments", "options:", "optional arguments", "show this help message")


@pytest.mark.parametrize("command", [[], ["scan"], ["review", "set"], ["round", "plan"], ["notice"]])
def test_help_is_chinese(capsys, command) -> None:
    code, out, _err = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("用法：ducha")
    assert "\n选项：\n" in out and "显示本帮助并退出" in out
    for english in HELP_ENGLISH:
        assert english not in out


ARGPARSE_ERRORS = {
    "no command": ([], "缺少必填参数：命令"),
    "missing argument": (["round", "plan", "2015-08"], "缺少必填参数：--seed"),
    "missing positional": (["scan"], "缺少必填参数：路径"),
    "bad choice": (["scann"], "参数 命令：没有“scann”这一项，可选：attendance、awareness、calendar"),
    "bad int": (["review", "--limit", "x"], "参数 --limit：应为整数，实际为“x”"),
    "bad date": (["notice", "2015-08", "--number", "1", "--date", "9月5日"], "参数 --date：日期“9月5日”格式不对"),
    "unknown option": (["review", "--colour"], "无法识别的参数：--colour"),
    "option without value": (["review", "--round"], "参数 --round：后面缺少取值"),
}


@pytest.mark.parametrize("case", ARGPARSE_ERRORS, ids=list(ARGPARSE_ERRORS))
def test_command_line_mistakes_are_chinese_and_exit_1(capsys, case) -> None:
    argv, expected = ARGPARSE_ERRORS[case]
    code, _out, err = run(capsys, *argv)
    assert code == 1
    line = assert_one_chinese_line(err)
    assert line.startswith("错误：") and expected in line and "--help" in line


def test_the_review_table_shows_chinese_value_names(fresh, capsys) -> None:
    machine_values = {"team_1": "yes", "team_2": "no", "team_3": "blank", "sec_1": "uncertain",
                      "village_head": "signed", "first_secretary": "empty", "poverty_fund": None}
    with Session(fresh.engine()) as session, session.begin():
        scan_file = ScanFile(sha256="0" * 64, path="a.pdf", page_count=1, status="done", reason=None,
                             scanned_at=dt.datetime(2015, 8, 30))
        session.add(scan_file)
        session.flush()
        page = ScanPage(file_id=scan_file.id, page_no=1, status="review", reason=None,
                        form_id="2015-08-511902101201", read_at=dt.datetime(2015, 8, 30))
        session.add(page)
        session.flush()
        session.add_all([
            ReviewItem(scan_page_id=page.id, form_id=page.form_id, field_key=key, reason="需要核对",
                       machine_value=value, crop_path=None, status="open")
            for key, value in machine_values.items()
        ])
    code, out, _err = run(capsys, *ws_args(fresh), "review")
    assert code == 0
    cells = {cell.strip() for line in out.splitlines() for cell in line.split("│")}
    assert {"是", "否", "未填", "不确定", "已签", "未签", "未读出"} <= cells
    assert not {"yes", "no", "blank", "uncertain", "signed", "empty", "None"} & cells
