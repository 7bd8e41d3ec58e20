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


class ConversionError(DuchaError):
    """LibreOffice failed, hung or produced an incomplete PDF.

    Defined here, not in ``ducha.errors``, because ``generator`` raises it
    and must not import ``ducha``; ``ducha.errors`` re-exports it.
    """


class DigitModelError(DuchaError):
    """The shipped handwritten-digit model is missing or damaged."""


class SimulationError(DuchaError):
    """A simulated return was asked for with impossible or forbidden inputs."""


class UnsafeCacheError(DuchaError):
    """A cache folder could have been prepared by another user, so it is not used.

    Defined here because ``generator`` keeps the caches and must not import ``ducha``.
    """
