"""Users, passwords (argon2), server-side sessions, CSRF tokens and lockout.

The session cookie holds a random token signed with a key derived from the
workspace key; the server keeps only the token's SHA-256 in ``desk_session``.
Logging out deletes the row, so a copied cookie is worthless afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ducha.db.models import DeskSession, DeskUser
from ducha.desk.errors import AccountLocked, NotSignedIn, UserError

ROLES = {"admin": "管理员", "group": "督查组", "viewer": "只读"}
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW_MINUTES = 15
LOCKOUT_MINUTES = 15
SESSION_HOURS = 12
SESSION_TOKEN_BYTES = 32
CSRF_TOKEN_BYTES = 24
PASSWORD_MIN_CHARS = 8
SESSION_COOKIE = "ducha_session"
PRELOGIN_COOKIE = "ducha_prelogin"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
COOKIE_SALT = b"ducha-desk-session-v1"

_hasher = PasswordHasher()


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in person, detached from the database session."""

    id: int
    name: str
    role: str  # admin | group | viewer
    group_no: int | None
    csrf_token: str

    @property
    def role_label(self) -> str:
        return ROLES[self.role]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_see_group(self, group_no: int | None) -> bool:
        return self.role != "group" or (group_no is not None and group_no == self.group_no)

    @property
    def may_change(self) -> bool:
        return self.role in ("admin", "group")


def now() -> dt.datetime:
    return dt.datetime.now()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < PASSWORD_MIN_CHARS:
        raise UserError(f"密码至少 {PASSWORD_MIN_CHARS} 个字符")


def add_user(session: Session, name: str, role: str, password: str, group_no: int | None = None) -> DeskUser:
    name = name.strip()
    if not name:
        raise UserError("用户名不能为空")
    if role not in ROLES:
        raise UserError(f"角色只能是：{'、'.join(ROLES)}；收到：{role}")
    if role == "group" and (group_no is None or group_no <= 0):
        raise UserError("督查组用户必须用 --group N 指定组号，例如 --group 1")
    if role != "group" and group_no is not None:
        raise UserError("只有督查组用户（--role group）才指定组号")
    check_password_rules(password)
    if session.scalars(select(DeskUser).where(DeskUser.name == name)).first() is not None:
        raise UserError(f"用户“{name}”已存在")
    user = DeskUser(name=name, role=role, group_no=group_no, password_hash=hash_password(password), active=True,
                    failed_logins=0, created_at=now())
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[DeskUser]:
    return list(session.scalars(select(DeskUser).order_by(DeskUser.name)))


def disable_user(session: Session, name: str) -> DeskUser:
    user = session.scalars(select(DeskUser).where(DeskUser.name == name)).first()
    if user is None:
        raise UserError(f"没有用户“{name}”")
    user.active = False
    session.execute(delete(DeskSession).where(DeskSession.user_id == user.id))
    return user


def _lock_message(until: dt.datetime) -> str:
    return f"密码错误次数过多，账号已锁定，请于 {until:%H:%M} 后再试"


def authenticate(session: Session, name: str, password: str) -> DeskUser:
    """The user, or an error. Wrong passwords count towards a lockout; the message never says which part was wrong."""
    wrong = NotSignedIn("用户名或密码错误")
    user = session.scalars(select(DeskUser).where(DeskUser.name == name.strip())).first()
    if user is None or not user.active:
        # Same work as a real check, so timing does not tell which names exist.
        _hasher.hash(password)
        raise wrong
    moment = now()
    if user.locked_until is not None and user.locked_until > moment:
        raise AccountLocked(_lock_message(user.locked_until))
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        window_start = moment - dt.timedelta(minutes=LOCKOUT_WINDOW_MINUTES)
        if user.first_failed_at is None or user.first_failed_at < window_start:
            user.first_failed_at = moment
            user.failed_logins = 0
        user.failed_logins += 1
        if user.failed_logins >= LOCKOUT_FAILURES:
            user.locked_until = moment + dt.timedelta(minutes=LOCKOUT_MINUTES)
            user.failed_logins = 0
            user.first_failed_at = None
            raise AccountLocked(_lock_message(user.locked_until)) from None
        raise wrong from None
    user.failed_logins = 0
    user.first_failed_at = None
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _serializer(workspace_key: bytes) -> URLSafeSerializer:
    secret = hmac.new(workspace_key, COOKIE_SALT, hashlib.sha256).hexdigest()
    return URLSafeSerializer(secret, salt="session")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: DeskUser, workspace_key: bytes) -> str:
    """A new server-side session; returns the signed cookie value."""
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    moment = now()
    session.execute(delete(DeskSession).where(DeskSession.expires_at < moment))
    session.add(DeskSession(token_sha256=_token_hash(token), user_id=user.id,
                            csrf_token=secrets.token_urlsafe(CSRF_TOKEN_BYTES), created_at=moment,
                            expires_at=moment + dt.timedelta(hours=SESSION_HOURS)))
    return str(_serializer(workspace_key).dumps(token))


def _unsign(cookie: str | None, workspace_key: bytes) -> str | None:
    if not cookie:
        return None
    try:
        value = _serializer(workspace_key).loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def session_user(session: Session, cookie: str | None, workspace_key: bytes) -> CurrentUser | None:
    token = _unsign(cookie, workspace_key)
    if token is None:
        return None
    row = session.scalars(select(DeskSession).where(DeskSession.token_sha256 == _token_hash(token))).first()
    if row is None or row.expires_at < now():
        return None
    user = session.get(DeskUser, row.user_id)
    if user is None or not user.active:
        return None
    return CurrentUser(id=user.id, name=user.name, role=user.role, group_no=user.group_no, csrf_token=row.csrf_token)


def close_session(session: Session, cookie: str | None, workspace_key: bytes) -> None:
    token = _unsign(cookie, workspace_key)
    if token is not None:
        session.execute(delete(DeskSession).where(DeskSession.token_sha256 == _token_hash(token)))


def prelogin_token(workspace_key: bytes) -> tuple[str, str]:
    """(token for the form, signed cookie value): the sign-in form's own CSRF pair."""
    token = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
    return token, str(URLSafeSerializer(_serializer(workspace_key).secret_key, salt="prelogin").dumps(token))


def check_prelogin(cookie: str | None, sent: str | None, workspace_key: bytes) -> bool:
    if not cookie or not sent:
        return False
    try:
        token = URLSafeSerializer(_serializer(workspace_key).secret_key, salt="prelogin").loads(cookie)
    except BadSignature:
        return False
    return isinstance(token, str) and hmac.compare_digest(token, sent)
