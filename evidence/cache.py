"""What builds keep between runs: results that are slow to make and depend only on their input.

resvg takes about 0.13 s to draw each figure's PNG, citeproc-py takes about half of
a render to format the citations, segno about 15 ms per QR code, and pybtex (BibTeX
entries) and pydantic (the data's JSON Schema) longer to import and run than the rest
of the downloads; each is a pure function of its input. Each result is kept as a
file named by the SHA-256 of all that it is made from (the input, the version of
the library that makes it, and the style, fonts, options or code of ours it is made
with), so an entry cannot go stale: a change to any of them names a different
file. Each file begins with the SHA-256 of its content, so a damaged entry is
noticed and made again.

The folder is the user's cache folder (`default_folder`), chosen at the edge
(build.py); until `use` is called nothing is kept, as in the unit tests.
`build.py --check` reads the cache but never writes it. An entry that cannot be read
is made again, and one that cannot be written is not kept: the cache never fails a
build or changes its output, and deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

APP = "ketamine-naltrexone-evidence"

_folder: Path | None = None
_writable = False


def default_folder() -> Path:
    """The user's cache folder: $XDG_CACHE_HOME or ~/.cache on Linux, then APP."""
    import platformdirs  # a MkDocs dependency

    return platformdirs.user_cache_path(APP, appauthor=False)


def use(folder: Path | None, *, writable: bool) -> None:
    """Keep results in `folder` (None: keep nothing); `writable` false only reads it."""
    global _folder, _writable
    _folder, _writable = folder, writable


@functools.cache
def version(distribution: str) -> str:
    return importlib.metadata.version(distribution)


@functools.cache
def file_digest(path: Path) -> str:
    """A file's SHA-256, once per process: the styles, fonts and code a result is made with."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def key(*parts: str | bytes) -> str:
    """The name of the result made from `parts` (each length-prefixed, so none runs into the next)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def get(kind: str, name: str) -> bytes | None:
    """The kept result, or None if there is none, or it cannot be read, or it is damaged."""
    if _folder is None:
        return None
    try:
        stored = (_folder / kind / name).read_bytes()
    except OSError:
        return None
    checksum, content = stored[:32], stored[32:]
    return content if hashlib.sha256(content).digest() == checksum else None


def put(kind: str, name: str, content: bytes) -> None:
    """Keep a result, written whole (a temporary file renamed over the entry) or not at all."""
    if _folder is None or not _writable:
        return
    folder = _folder / kind
    temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".")
        with os.fdopen(descriptor, "wb") as file:
            file.write(hashlib.sha256(content).digest() + content)
        os.replace(temporary, folder / name)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def kept(kind: str, name: str, make: Callable[[], bytes]) -> bytes:
    """The kept result named `name`, or else `make()`, kept for next time."""
    found = get(kind, name)
    if found is None:
        found = make()
        put(kind, name, found)
    return found
