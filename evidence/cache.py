"""Content-keyed caches in .cache/ (or the folder named by EVIDENCE_CACHE).

A result that depends only on its inputs is kept under a digest of those inputs,
the code that computes it included, so a rebuild repeats no work whose inputs
are unchanged, and an entry can never be stale. Deleting the folder is always
safe: the next build computes everything again.

The cache is one SQLite database, cache.sqlite. Entries are pickled: the folder
is local and written only by this code."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYOUT_VERSION = 1  # of the database's tables; change it with them
MAX_BYTES = 256 * 2**20  # per store; past it the least recently used entries go
RECENT = 3600  # seconds: an entry's last use is noted at most once in this time, and it is kept that long


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
    """One kind of cached result (parsed files, citations, pages): key -> value,
    kept in the cache folder's SQLite database.

    A lookup reads one entry, never the whole store, and additions are written
    in one transaction at `save`, so a rebuild that changes one page writes one
    page. Each save also notes which entries the run used (unless noted within
    the hour) and lets the least recently used go once a store outgrows its budget."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._added: dict[str, bytes] = {}
        self._used: set[str] = set()
        self._db = _connect(cache_dir() / "cache.sqlite")
        self._now = time.time()
        self._fetched: dict[str, tuple[bytes, float]] = {}

    def prefetch(self, keys: Iterable[str]) -> None:
        """Read these entries in one query, for the `get`s to come: a thousand single
        lookups cost a tenth of a second."""
        rows = self._db.execute(
            "SELECT key, value, used FROM entries JOIN usage USING (store, key)"
            " WHERE store = ? AND key IN (SELECT value FROM json_each(?))",
            (self.name, json.dumps(list(keys))),
        )
        self._fetched.update((key, (value, used)) for key, value, used in rows)

    def get(self, key: str) -> Any | None:
        """A fresh copy of the value, or None."""
        data = self._added.get(key)
        if data is None:
            row = (
                self._fetched.get(key)
                or self._db.execute(
                    "SELECT value, used FROM entries JOIN usage USING (store, key) WHERE store = ? AND key = ?",
                    (self.name, key),
                ).fetchone()
            )
            if row is None:
                return None
            data, used = row
            if used < self._now - RECENT:
                self._used.add(key)
        return pickle.loads(data)

    def put(self, key: str, value: Any) -> None:
        self._added[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def values(self, keys: Sequence[str], make: Callable[[int], Any]) -> list[Any]:
        """The value under each key, in order, read in one query; where one is missing,
        `make(index)` makes it and it is kept. Then `save`."""
        self.prefetch(keys)
        values = []
        for index, key in enumerate(keys):
            value = self.get(key)
            if value is None:
                value = make(index)
                self.put(key, value)
            values.append(value)
        self.save()
        return values

    def save(self) -> None:
        """Write what was added, mark what was used, and trim the store to its budget."""
        if not self._added and not self._used:
            return
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO entries (store, key, value) VALUES (?, ?, ?)",
                [(self.name, key, data) for key, data in self._added.items()],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO usage (store, key, size, used) VALUES (?, ?, ?, ?)",
                [(self.name, key, len(data), now) for key, data in self._added.items()],
            )
            self._db.executemany(
                "UPDATE usage SET used = ? WHERE store = ? AND key = ?",
                [(now, self.name, key) for key in self._used if key not in self._added],
            )
            if self._added:
                self._trim(now)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._added.clear()
        self._used.clear()

    def _trim(self, now: float) -> None:
        """Past the budget the least recently used entries go; what was used within the hour stays."""
        size = self._db.execute("SELECT SUM(size) FROM usage WHERE store = ?", (self.name,)).fetchone()[0]
        if size <= MAX_BYTES:
            return
        stale = """SELECT key FROM (SELECT key, used, SUM(size) OVER (ORDER BY used DESC, key) AS total
                                      FROM usage WHERE store = ?1)
                   WHERE total > ?2 AND used < ?3"""
        for table in ("entries", "usage"):
            self._db.execute(
                f"DELETE FROM {table} WHERE store = ?1 AND key IN ({stale})", (self.name, MAX_BYTES, now - RECENT)
            )


@functools.cache
def _connect(path: Path) -> sqlite3.Connection:
    """The cache database, one connection per process (live preview rebuilds for
    hours). One that is damaged, or not a database, is started afresh: it is only
    a cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path)
    except sqlite3.DatabaseError:
        for damaged in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            damaged.unlink(missing_ok=True)
        return _open(path)


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)  # autocommit: no transaction is left open
    try:
        # Write-ahead logging without a sync per commit: a crash may lose the last
        # entries, never the database.
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("BEGIN IMMEDIATE")  # two builds starting at once make the tables once
        if db.execute("PRAGMA user_version").fetchone()[0] != LAYOUT_VERSION:  # made by other code: start afresh
            db.execute("DROP TABLE IF EXISTS entries")
            db.execute("DROP TABLE IF EXISTS usage")
            db.execute(f"PRAGMA user_version = {LAYOUT_VERSION}")
        # Values are large, so they live apart from the small rows that every run updates.
        db.execute(
            "CREATE TABLE IF NOT EXISTS entries (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
            " PRIMARY KEY (store, key))"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS usage (store TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,"
            " used REAL NOT NULL, PRIMARY KEY (store, key)) WITHOUT ROWID"
        )
        db.execute("COMMIT")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db
