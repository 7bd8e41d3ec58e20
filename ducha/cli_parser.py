"""argparse in Chinese: usage, help headings and every error message.

argparse builds its English text inside its own methods, so the headings
are renamed after construction, ``-h`` is added with a Chinese help line,
and ``error`` translates the message (every template argparse 3.11 can
produce is listed in ``_TEMPLATES``) and raises ``UsageError`` instead of
exiting, so ``ducha.cli.main`` reports it like any user error (exit 1).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from typing import Any, NoReturn

from ducha.errors import DuchaError

USAGE_PREFIX = "用法："
POSITIONALS_TITLE = "位置参数"
OPTIONALS_TITLE = "选项"
HELP_HELP = "显示本帮助并退出"
TYPE_NAMES = {"int": "整数", "float": "数字", "Path": "路径"}
# Placeholders shown in usage for options that name none themselves (argparse would show DEST upper-cased).
METAVARS = {
    "workspace": "目录", "db": "数据库地址", "round": "轮次", "workers": "进程数", "out": "目录",
    "output": "文件", "group": "组号", "seed": "种子", "limit": "数量", "number": "顺序号",
    "date": "日期", "by": "姓名", "stop_after": "页数",
}
DEFAULT_METAVAR = "值"


class UsageError(DuchaError):
    """The command line does not match the command's arguments."""

    def __init__(self, prog: str, message: str):
        self.prog = prog
        super().__init__(f"{message}（用法见 {prog} --help）")


class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(
        self, usage: str | None, actions: Iterable[argparse.Action], groups: Iterable[Any], prefix: str | None = None
    ) -> None:
        super().add_usage(usage, actions, groups, USAGE_PREFIX if prefix is None else prefix)

    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        return METAVARS.get(action.dest, DEFAULT_METAVAR)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose every word reaches the user in Chinese.

    Subparsers are made of the same class (argparse's default), so the
    whole tree is covered by using it once at the top.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        add_help = kwargs.get("add_help", True)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = POSITIONALS_TITLE
        self._optionals.title = OPTIONALS_TITLE
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP_HELP)

    def format_help(self) -> str:
        # argparse ends a heading with an ASCII colon; Chinese text takes the full-width one.
        text = super().format_help()
        for group in self._action_groups:
            if group.title:
                text = text.replace(f"{group.title}:\n", f"{group.title}：\n")
        return text

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, translate(message))


def _names(text: str) -> str:
    return "、".join(part.strip() for part in text.split(","))


def _value(text: str) -> str:
    """A repr()'d value as the user typed it."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _invalid_type(match: re.Match[str]) -> str:
    kind = TYPE_NAMES.get(match["type"], "取值")
    return f"应为{kind}，实际为“{_value(match['value'])}”"


def _invalid_choice(match: re.Match[str]) -> str:
    choices = "、".join(_value(c.strip()) for c in match["choices"].split(","))
    return f"没有“{_value(match['value'])}”这一项，可选：{choices}"


_TEMPLATES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^the following arguments are required: (?P<names>.*)$"), lambda m: f"缺少必填参数：{_names(m['names'])}"),
    (re.compile(r"^invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)$"), _invalid_choice),
    (re.compile(r"^invalid (?P<type>\S+) value: (?P<value>.*)$"), _invalid_type),
    (re.compile(r"^unrecognized arguments: (?P<args>.*)$"), lambda m: f"无法识别的参数：{m['args']}"),
    (re.compile(r"^expected one argument$"), lambda m: "后面缺少取值"),
    (re.compile(r"^expected at most one argument$"), lambda m: "最多只能有一个取值"),
    (re.compile(r"^expected at least one argument$"), lambda m: "后面至少要有一个取值"),
    (re.compile(r"^expected (?P<n>\d+) arguments?$"), lambda m: f"后面应有 {m['n']} 个取值"),
    (re.compile(r"^not allowed with argument (?P<other>.*)$"), lambda m: f"不能与 {m['other']} 同时使用"),
    (re.compile(r"^one of the arguments (?P<names>.*) is required$"), lambda m: f"必须给出其中之一：{m['names']}"),
    (
        re.compile(r"^ambiguous option: (?P<option>\S+) could match (?P<matches>.*)$"),
        lambda m: f"选项 {m['option']} 不明确，可能是：{_names(m['matches'])}",
    ),
    (re.compile(r"^ignored explicit argument (?P<value>.*)$"), lambda m: f"不接受取值“{_value(m['value'])}”"),
]
_ARGUMENT_PREFIX = re.compile(r"^argument (?P<name>[^:]+): (?P<rest>.*)$", re.DOTALL)
_HAS_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def translate(message: str) -> str:
    """argparse's English error message in Chinese; our own (Chinese) messages pass through."""
    prefix = ""
    match = _ARGUMENT_PREFIX.match(message)
    if match:
        prefix, message = f"参数 {match['name']}：", match["rest"]
    for pattern, render in _TEMPLATES:
        found = pattern.match(message)
        if found:
            return prefix + str(render(found))
    if _HAS_CHINESE.search(message):
        return prefix + message
    # A template of a newer argparse: say what is known, never the English.
    return prefix + "命令行参数有误"


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts such as ``--workers``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为正整数，实际为“{text}”") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数，实际为“{text}”")
    return value
