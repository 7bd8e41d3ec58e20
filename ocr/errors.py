"""Errors of the reader. Each carries the Chinese reason a page ends with."""

from forms.errors import DuchaError


class ReaderError(DuchaError):
    """Base of reader errors; the message is the page's reason."""


class SourceError(ReaderError):
    """A file or page cannot be opened or decoded."""


class AlignmentError(ReaderError):
    """The corner markers are not found, or do not fit the layout."""


class IdentificationError(ReaderError):
    """The page's QR code and printed ID cannot be read or verified."""


class ToolFailureError(IdentificationError):
    """An external tool (tesseract) failed to run: the page may read on a later try."""
