"""Specific exceptions. Each message is one line a person can act on; `fix` names the command that helps.

Three kinds of failure matter to callers, whatever the component: the caller's input is wrong
(`BadInputError`), something is busy (`BusyError`), or something is not there (`NotFoundError`). The CLI and
the HTTP API map them once, by class (`exit_code`, `http_status`, `http_headers`); anything else that escapes is
a fault.
"""

from __future__ import annotations

REPAIR = "peelqa index --repair"  # the fix for a damaged index


class PeelqaError(Exception):
    """Base class: `str(err)` is the one-line message, `err.fix` the command or step that fixes it."""

    exit_code = 1
    http_status = 500

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix

    def __str__(self) -> str:
        msg = self.message
        return f"{msg} (fix: {self.fix})" if self.fix else msg

    @property
    def message(self) -> str:
        """The message without its fix (the JSON API gives the two apart)."""
        return super().__str__()

    def http_headers(self) -> dict[str, str]:
        """Headers an HTTP answer to this error carries (what to send, when to come back)."""
        return {}


class BadInputError(PeelqaError):
    """A question, argument, file or upload that peelqa will not take (too long, wrong type, not text)."""

    exit_code = 2
    http_status = 400


class TooLargeError(BadInputError):
    """A request to the JSON API whose body is over its size limit (refused before it is read)."""

    http_status = 413


class UnauthorizedError(PeelqaError):
    """A request to the JSON API without the token the server was started with."""

    http_status = 401

    def http_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class RateLimitedError(PeelqaError):
    """A client past the JSON API's rate limit; `retry_after`: whole seconds until a request of its is taken."""

    http_status = 429

    def __init__(self, message: str, retry_after: int, fix: str | None = None):
        super().__init__(message, fix)
        self.retry_after = retry_after

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class BusyError(PeelqaError):
    """Another build of the same index is running; try again when it ends."""

    exit_code = 3
    http_status = 409


class NotFoundError(PeelqaError):
    """Something asked for is not there (an index, a report, a passage)."""

    http_status = 404


class ModelError(PeelqaError):
    """The embedding model cannot be found or loaded."""


class ModelChecksumError(ModelError):
    """The model's weights are not the ones recorded for it."""


class SeedsError(PeelqaError):
    """The seeds folder is missing, empty, or holds no readable report."""

    # Over HTTP, a rebuild with nothing to index: no index can be provided until reports are added.
    http_status = 503


class IndexNotFoundError(NotFoundError):
    """There is no index at the given folder."""

    http_status = 503


class IndexCorruptError(PeelqaError):
    """The index folder exists but cannot be trusted."""

    http_status = 503


class IndexModelMismatchError(PeelqaError):
    """The index was built with a different embedding model."""

    http_status = 503
