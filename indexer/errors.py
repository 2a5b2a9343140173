"""Specific exceptions. Each message is one line a person can act on; `fix` names the command that helps."""

from __future__ import annotations


class PeelqaError(Exception):
    """Base class: `str(err)` is the one-line message, `err.fix` the command or step that fixes it."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg} (fix: {self.fix})" if self.fix else msg


class ModelError(PeelqaError):
    """The embedding model cannot be found or loaded."""


class ModelChecksumError(ModelError):
    """The model's weights are not the ones recorded for it."""


class SeedsError(PeelqaError):
    """The seeds folder is missing, empty, or holds no readable report."""


class IndexNotFoundError(PeelqaError):
    """There is no index at the given folder."""


class IndexCorruptError(PeelqaError):
    """The index folder exists but cannot be trusted."""


class IndexModelMismatchError(PeelqaError):
    """The index was built with a different embedding model."""
