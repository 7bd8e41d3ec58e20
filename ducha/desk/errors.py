"""Errors the desk shows as a Chinese page with an HTTP status."""

from __future__ import annotations

from ducha.errors import DuchaError

HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_TOO_LARGE = 413
HTTP_UNSUPPORTED = 415
HTTP_LOCKED = 423


class DeskError(DuchaError):
    """A request the desk refuses; ``status`` is the HTTP status, the message is for the user."""

    status = HTTP_BAD_REQUEST

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class NotSignedIn(DeskError):
    status = HTTP_UNAUTHORIZED


class Forbidden(DeskError):
    status = HTTP_FORBIDDEN


class NotFound(DeskError):
    status = HTTP_NOT_FOUND


class CsrfError(DeskError):
    status = HTTP_FORBIDDEN


class AccountLocked(DeskError):
    status = HTTP_LOCKED


class UserError(DeskError):
    """``ducha user`` was asked for something impossible (unknown role, duplicate name)."""
