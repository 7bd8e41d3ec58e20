"""Safe file names for downloads: a name from a URL never leaves its folder."""

from __future__ import annotations

import re
from pathlib import Path

from ducha.desk.errors import Forbidden, NotFound

# Letters (any script), digits and a few separators; no slash, no backslash, no NUL, no leading dot.
_SAFE_NAME = re.compile(r"[^\W_][\w\-.（）〔〕]*\Z")


def safe_child(folder: Path, name: str) -> Path:
    """``folder / name`` for a plain file name, refusing ``..``, absolute paths and any separator."""
    if not name or "/" in name or "\\" in name or "\x00" in name or ".." in name or not _SAFE_NAME.match(name):
        raise Forbidden("文件名不合法")
    base = folder.resolve()
    path = (base / name).resolve()
    if path.parent != base:
        raise Forbidden("文件名不合法")
    if not path.is_file():
        raise NotFound("文件不存在，可能尚未生成")
    return path


def inside(root: Path, relative: str | None) -> Path:
    """A path stored relative to the workspace (or absolute inside it), refusing anything outside."""
    if not relative:
        raise NotFound("文件不存在，可能尚未生成")
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        raise Forbidden("文件不在工作区内")
    if not path.is_file():
        raise NotFound("文件不存在，可能尚未生成")
    return path


def upload_name(name: str) -> str:
    """A file name a browser sent, reduced to something safe to create in the inbox."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = re.sub(r"[^\w\-.（）]", "_", base).lstrip(".")
    return cleaned[:120] or "upload"
