"""Application errors. ``DuchaError`` is the one base, defined in ``forms``.

The CLI prints ``str(error)`` to the user and exits 1, so every message
is a complete Chinese sentence that says what to do.
"""

from forms.errors import (
    ConversionError,
    DuchaError,
    FormDefinitionError,
    LayoutMismatchError,
    PayloadError,
    UnsafeCacheError,
)

__all__ = [
    "CalendarError",
    "ConfigError",
    "ConversionError",
    "DuchaError",
    "FormDefinitionError",
    "LayoutMismatchError",
    "LotteryError",
    "OutputPathError",
    "PayloadError",
    "RegistryImportError",
    "RoundError",
    "ScanError",
    "UnsafeCacheError",
    "WorkspaceError",
]


class WorkspaceError(DuchaError):
    """The workspace is missing, not initialised or damaged."""


class RegistryImportError(DuchaError):
    """A registry file has bad cells. Carries every problem, not just the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = f"台账导入失败，共 {len(problems)} 处错误，未导入任何数据：\n"
        super().__init__(head + "\n".join(f"  - {p}" for p in problems))


class RoundError(DuchaError):
    """A round cannot be planned, shown or used as asked."""


class CalendarError(DuchaError):
    """Holiday data is missing for a year."""


class LotteryError(DuchaError):
    """A lottery draw cannot be made or verified."""


class ScanError(DuchaError):
    """A scan batch cannot run (not a per-page problem: those are page states)."""


class ConfigError(DuchaError):
    """A hand-edited configuration file does not match its schema."""

    def __init__(self, path: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"配置文件 {path} 有 {len(problems)} 处错误：\n" + "\n".join(f"  - {p}" for p in problems))


class OutputPathError(DuchaError):
    """An output folder or file the user named cannot be used."""
