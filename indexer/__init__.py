"""peelqa indexer: reports → cited passages → embeddings → an index folder on disk."""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    IndexCorruptError,
    IndexModelMismatchError,
    IndexNotFoundError,
    ModelChecksumError,
    ModelError,
    PeelqaError,
    SeedsError,
)
from .passage import Passage  # noqa: E402

__all__ = [
    "Passage",
    "PeelqaError",
    "ModelError",
    "ModelChecksumError",
    "SeedsError",
    "IndexNotFoundError",
    "IndexCorruptError",
    "IndexModelMismatchError",
    "__version__",
]
