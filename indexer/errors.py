"""Specific exceptions. Each message is one line a person can act on; `fix` names the command that helps.

Three kinds of failure matter to callers, whatever the component: the caller's input is wrong
(`BadInputError`), something is busy (`BusyError`), or something is not there (`NotFoundError`). The CLI and
the HTTP API map them once, by class (`exit_code`, `http_status`); anything else that escapes is a fault.
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
        msg = super().__str__()
        return f"{msg} (fix: {self.fix})" if self.fix else msg


class BadInputError(PeelqaError):
    """A question, argument, file or upload that peelqa will not take (too long, wrong type, not text)."""

    exit_code = 2
    http_status = 400


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


class IndexNotFoundError(NotFoundError):
    """There is no index at the given folder."""

    http_status = 503


class IndexCorruptError(PeelqaError):
    """The index folder exists but cannot be trusted."""

    http_status = 503


class IndexModelMismatchError(PeelqaError):
    """The index was built with a different embedding model."""

    http_status = 503
