"""Content-keyed caches in .cache/ (or the folder named by EVIDENCE_CACHE).

A result that depends only on its inputs is kept under a digest of those inputs,
the code that computes it included, so a rebuild repeats no work whose inputs
are unchanged, and an entry can never be stale. Deleting the folder is always
safe: the next build computes everything again.

Entries are pickled: the folder is local and written only by this code."""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MAX_ENTRIES = 20_000  # per store; the least recently used go first


def cache_dir() -> Path:
    return Path(os.environ.get("EVIDENCE_CACHE") or ROOT / ".cache")


def digest(*parts: str | bytes) -> str:
    """One digest of several inputs; each is length-prefixed, so ("ab", "c") != ("a", "bc")."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def code_digest(*files: Path, versions: Iterable[str] = ()) -> str:
    """A digest of the code behind a result: source files and library versions."""
    return digest(*(path.read_bytes() for path in files), *versions)


class Store:
    """One cache file: key -> pickled value. Read once; written once, at `save`,
    if anything was added."""

    def __init__(self, name: str) -> None:
        self.path = cache_dir() / f"{name}.pickle"
        try:
            self._entries: dict[str, bytes] = pickle.loads(self.path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            self._entries = {}
        self._used: dict[str, None] = {}
        self._added = False

    def get(self, key: str) -> Any | None:
        """A fresh copy of the value, or None."""
        if key not in self._entries:
            return None
        self._used[key] = None
        return pickle.loads(self._entries[key])

    def put(self, key: str, value: Any) -> None:
        self._entries[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self._used[key] = None
        self._added = True

    def save(self) -> None:
        """Write the file if anything was added, keeping the entries used most recently."""
        if not self._added:
            return
        order = [key for key in self._entries if key not in self._used] + list(self._used)
        kept = {key: self._entries[key] for key in order[-MAX_ENTRIES:]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, self.path)
        self._added = False
