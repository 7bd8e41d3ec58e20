"""The audit log: every change made through the desk (who, when, what, before, after)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import AuditEntry

AUDIT_PAGE_ROWS = 200


def _text(value: Any) -> str | None:
    """A value as a clerk reads it on the audit page: 键：值；… for a mapping, 、 between list items."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "；".join(f"{key}：{_part(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return "、".join(_part(item) for item in value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _part(value: Any) -> str:
    if value is None:
        return "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict | list | tuple):
        return _text(value) or ""
    return str(value)


def audit(session: Session, user: Any, action: str, target: str, before: Any = None, after: Any = None) -> AuditEntry:
    """Record one change. ``user`` is the signed-in user (anything with ``.name``) or a name."""
    name = user if isinstance(user, str) else user.name
    entry = AuditEntry(at=dt.datetime.now(), user_name=name, action=action, target=target,
                       before=_text(before), after=_text(after))
    session.add(entry)
    return entry


def recent(session: Session, limit: int = AUDIT_PAGE_ROWS, user_name: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if user_name:
        query = query.where(AuditEntry.user_name == user_name)
    return list(session.scalars(query))
