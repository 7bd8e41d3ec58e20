"""Fonts for the PDFs that LibreOffice makes.

The .docx files keep the standard names of official documents (方正小标宋简体,
仿宋_GB2312, 楷体_GB2312, 黑体) so that Word on the users' PCs uses its own
fonts. For the PDF, ``fonts.conf`` maps those names to the free fonts that
scripts/setup.sh installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FONTCONFIG_FILE = Path(__file__).resolve().parent / "fonts.conf"
# There is no free 小标宋; the bold Noto Serif CJK SC comes closest.
XIAOBIAOSONG_SOURCE_PATTERN = "Noto Serif CJK SC:style=Bold"
XIAOBIAOSONG_FILE_NAME = "xiaobiaosong-NotoSerifCJK-Bold.ttc"


def font_data_dir() -> Path:
    """The folder that ``<dir prefix="xdg">ducha/fonts</dir>`` in fonts.conf names."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ducha" / "fonts"


def ensure_xiaobiaosong_face() -> Path | None:
    """Place the bold Noto Serif CJK face where fonts.conf renames it 方正小标宋简体.

    LibreOffice takes only the family from a fontconfig substitution and
    keeps the weight the document asks for, so an alias to the bold face
    would still give the regular one; a face whose family *is* the standard
    name does not have that problem. Returns the placed file, or None when
    the system has no such face (the PDF then uses the regular serif face).
    """
    target = font_data_dir() / XIAOBIAOSONG_FILE_NAME
    if target.is_file():
        return target
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(
        ["fc-match", "--format=%{file}", XIAOBIAOSONG_SOURCE_PATTERN], capture_output=True, text=True, check=False
    )
    source = Path(found.stdout.strip())
    if found.returncode != 0 or not source.is_file() or "Bold" not in source.name:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        os.link(source, partial)
    except OSError:
        # Another file system: a copy, since a symbolic link is not enough
        # (LibreOffice sees the original file behind it).
        shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target


def converter_environment() -> dict[str, str]:
    """The environment for a LibreOffice that renders our documents."""
    ensure_xiaobiaosong_face()
    return {**os.environ, "FONTCONFIG_FILE": str(FONTCONFIG_FILE)}
