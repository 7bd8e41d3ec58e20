"""Operating-system errors as a Chinese sentence a user can act on.

A missing folder, a full disk or a denied permission is a problem of the
machine or of the path the user gave, not a bug: the CLI reports it as a
user error (exit 1) and the web desk shows the same sentence.
"""

from __future__ import annotations

import errno

# errno -> what it means for the path, in words an office user knows.
ERRNO_REASONS: dict[int, str] = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "操作不被允许（没有权限）",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "磁盘配额已用完",
    errno.EROFS: "位于只读的磁盘或分区上",
    errno.EEXIST: "已经存在",
    errno.ENAMETOOLONG: "名称过长",
    errno.ELOOP: "符号链接循环",
    errno.EIO: "读写出错（磁盘或设备故障）",
    errno.EXDEV: "不能跨磁盘移动",
    errno.EMFILE: "同时打开的文件过多",
    errno.ENXIO: "设备不存在",
    errno.ETXTBSY: "文件正被使用",
    errno.EBUSY: "文件或设备正忙",
}


def is_user_os_error(error: OSError) -> bool:
    """Errors caused by a path or the machine (exit 1); others are internal (exit 2)."""
    return error.errno in ERRNO_REASONS


def os_error_reason(error: OSError) -> str:
    """Only the reason, for a message that already names the path."""
    return ERRNO_REASONS.get(error.errno or 0, f"系统错误 {error.errno}")


def describe_os_error(error: OSError) -> str:
    """The path(s) and the reason."""
    reason = os_error_reason(error)
    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    if not paths:
        return f"文件操作失败：{reason}"
    return f"{' → '.join(paths)}：{reason}"
