"""The one exception base of the project.

It lives in ``forms`` because ``forms`` is the package every other package
depends on; ``ducha.errors`` re-exports it and adds application errors.
Every message is in Chinese, because it is shown to office staff as it is.
"""


class DuchaError(Exception):
    """Base of every error ducha raises on purpose."""


class FormDefinitionError(DuchaError):
    """The form definition or a stored layout is inconsistent."""


class PayloadError(DuchaError):
    """A QR payload is malformed or its signature does not verify."""


class LayoutMismatchError(DuchaError):
    """A rendered sheet departs from its stored layout."""
