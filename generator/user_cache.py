"""Private per-user folders for caches (LibreOffice profiles, flat-ODT prototypes).

What is cached decides what is printed: a prototype holds a sheet's text,
a LibreOffice profile its settings and macros. A folder at a guessable
shared path (``/tmp/ducha-...-<uid>``) can be made first by another local
user and filled with doctored content, so a cache folder is used only if
it is a real folder (not a symlink), owned by this user and writable by
no one else. It is created 0700.

Where: ``$DUCHA_CACHE_DIR``, else ``$XDG_CACHE_HOME/ducha``, else
``~/.cache/ducha``; only if the home folder cannot be used, the system's
temporary folder (``ducha-cache-<uid>``, checked the same way).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from forms.errors import UnsafeCacheError

CACHE_DIR_ENV = "DUCHA_CACHE_DIR"
PRIVATE_DIR_MODE = 0o700
# Group or others may write: someone else could have put files there.
FOREIGN_WRITE_BITS = stat.S_IWGRP | stat.S_IWOTH
FOREIGN_ANY_BITS = stat.S_IRWXG | stat.S_IRWXO


def ensure_private_dir(path: Path) -> Path:
    """``path`` as a folder only this user can use; created 0700, else refused with ``UnsafeCacheError``."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError as exc:
        raise UnsafeCacheError(f"无法建立缓存文件夹 {path}（{exc.strerror}）") from exc
    hint = f"请删除它，或用环境变量 {CACHE_DIR_ENV} 指定一个只有自己能写入的文件夹"
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeCacheError(f"缓存文件夹 {path} 不是普通文件夹（可能是符号链接），为安全起见不予使用；{hint}")
    if info.st_uid != os.geteuid():
        raise UnsafeCacheError(
            f"缓存文件夹 {path} 属于另一个用户（uid {info.st_uid}），其中的内容可能被改动过，为安全起见不予使用；{hint}"
        )
    if info.st_mode & FOREIGN_WRITE_BITS:
        raise UnsafeCacheError(
            f"缓存文件夹 {path} 其他用户也能写入（权限 {stat.S_IMODE(info.st_mode):04o}），"
            f"其中的内容可能被改动过，为安全起见不予使用；{hint}"
        )
    if info.st_mode & FOREIGN_ANY_BITS:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def _home_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "ducha" if xdg else Path.home() / ".cache" / "ducha"


def cache_root() -> Path:
    """The user's private cache folder, checked (and created) on every call."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return ensure_private_dir(Path(explicit))
    try:
        home = _home_cache()
        home.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    except (OSError, RuntimeError):
        # No usable home (a service account): the temporary folder, under the same checks.
        return ensure_private_dir(Path(tempfile.gettempdir()) / f"ducha-cache-{os.geteuid()}")
    return ensure_private_dir(home)


def cache_dir(name: str) -> Path:
    """A named private sub-folder of ``cache_root()``."""
    return ensure_private_dir(cache_root() / name)
