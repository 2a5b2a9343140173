"""Passage records on disk, read by row without loading them all.

    passages.jsonl        one Passage per line, in row order (the order of the vectors)
    passages.offsets.npy  byte offset of each line, and the file's length after the last (n + 1 values)
    passages.crc.npy      CRC-32 of each line: a record is checked when it is read, so a changed byte is never
                          quoted, without hashing a gigabyte of records each time an index is opened

At a million passages the records are about a gigabyte and, as Python objects, several; a search reads only
the few it quotes (a few microseconds each).
"""

from __future__ import annotations

import json
import os
import weakref
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from .errors import REPAIR, IndexCorruptError
from .passage import Passage

PASSAGES = "passages.jsonl"
OFFSETS = "passages.offsets.npy"
CRC = "passages.crc.npy"


def encode(passage: Passage) -> bytes:
    return (json.dumps(passage.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")


def write(folder: Path, passages: Iterable[Passage | bytes]) -> int:
    """Write the records (Passages, or lines already encoded) and their offsets and checksums; returns n."""
    offsets, crcs = [0], []
    with open(Path(folder) / PASSAGES, "wb") as f:
        for p in passages:
            line = p if isinstance(p, bytes) else encode(p)
            f.write(line)
            offsets.append(offsets[-1] + len(line))
            crcs.append(zlib.crc32(line))
    np.save(Path(folder) / OFFSETS, np.array(offsets, dtype=np.int64), allow_pickle=False)
    np.save(Path(folder) / CRC, np.array(crcs, dtype=np.uint32), allow_pickle=False)
    return len(crcs)


class PassageStore(Sequence):
    """The passages of an index as a read-only sequence: `store[row]` reads one record from disk."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.offsets = np.load(self.folder / OFFSETS, allow_pickle=False)
        self.crcs = np.load(self.folder / CRC, allow_pickle=False)
        # Held open: a rebuild that swaps a new index in removes this folder, and searches still running on
        # this index read on from the file they started with.
        self._fd = os.open(self.folder / PASSAGES, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)
        size = os.fstat(self._fd).st_size
        if (self.offsets.ndim != 1 or len(self.offsets) != len(self.crcs) + 1 or self.offsets[0] != 0
                or int(self.offsets[-1]) != size or np.any(np.diff(self.offsets) <= 0)):
            raise IndexCorruptError(f"{PASSAGES}, {OFFSETS} and {CRC} do not agree")

    def __len__(self) -> int:
        return len(self.crcs)

    def line(self, row: int) -> bytes:
        """The record's bytes as written, checked against its CRC."""
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        line = os.pread(self._fd, end - start, start)
        if zlib.crc32(line) != int(self.crcs[row]):
            raise _changed(self.folder, row)
        return line

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        try:
            return Passage.from_dict(json.loads(self.line(row)))
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexCorruptError(f"index at {self.folder} is damaged ({PASSAGES}: the record at row {row} cannot "
                                    f"be read: {exc})", fix=REPAIR) from exc

    def rows(self, rows: Iterable[int]) -> list[Passage]:
        return [self[i] for i in rows]

    def __iter__(self) -> Iterator[Passage]:
        """Every passage in row order, read in one pass (for whole-corpus tools; searches read by row)."""
        with os.fdopen(os.dup(self._fd), "rb") as f:
            f.seek(0)
            for row, line in enumerate(f):
                if zlib.crc32(line) != int(self.crcs[row]):
                    raise _changed(self.folder, row)
                yield Passage.from_dict(json.loads(line))



def _changed(folder: Path, row: int) -> IndexCorruptError:
    return IndexCorruptError(f"index at {folder} is damaged ({PASSAGES}: the record at row {row} was changed after "
                             "the index was built)", fix=REPAIR)
