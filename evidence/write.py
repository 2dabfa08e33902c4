"""Step 4, write: put the generated files under docs/ without ever leaving it half
written, and never touching a file a person wrote (those carry no generated marker)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from evidence.render import GENERATED_FOLDERS, GENERATED_MARKER


def is_generated(path: Path) -> bool:
    """True for a file build.py wrote: its marker is on the first line, or the second
    when the first opens front matter."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return _has_marker(handle.readline() + handle.readline())


def _has_marker(head: bytes) -> bool:
    return GENERATED_MARKER.encode() in b"".join(head.split(b"\n", 2)[:2])


def files_under(folder: Path) -> set[str]:
    """Paths of the files under folder, relative to it, with /."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if not path.is_dir()}


class WriteClash(Exception):
    """Something on disk stands where build.py must write (paths relative to `folder`)."""

    HAND_WRITTEN = "a hand-written file is in the way of a generated page; move it"

    def __init__(self, folder: Path, relatives: list[str], reason: str = HAND_WRITTEN) -> None:
        super().__init__(", ".join(relatives))
        self.paths = [folder / relative for relative in relatives]
        self.reason = reason


def write_pages(pages: Mapping[str, str | bytes], docs_dir: Path) -> list[str]:
    """Make docs_dir hold exactly these generated pages, in place; return the paths changed.

    Unchanged files are not touched, so live preview rebuilds little. Hand-written
    files are never overwritten (WriteClash); generated pages no longer in `pages`
    are removed, and so are temporary files that a killed run left behind."""
    on_disk = files_under(docs_dir)
    current = {relative: (docs_dir / relative).read_bytes() for relative in pages.keys() & on_disk}
    clashes = [
        relative
        for relative, data in sorted(current.items())
        if relative.split("/")[0] not in GENERATED_FOLDERS and not _has_marker(data)
    ]
    if clashes:
        raise WriteClash(docs_dir, clashes)
    stale = {
        relative
        for relative in on_disk - set(pages)
        if relative.split("/")[0] in GENERATED_FOLDERS
        or Path(relative).name.startswith(TEMP_PREFIX)
        or is_generated(docs_dir / relative)
    }
    changed = []
    for relative, text in sorted(pages.items()):
        data = text.encode("utf-8") if isinstance(text, str) else text
        if current.get(relative) != data:
            _write_atomically(docs_dir / relative, data)
            changed.append(relative)
    for relative in sorted(stale):
        (docs_dir / relative).unlink()
        changed.append(relative)
        for parent in (docs_dir / relative).parents:
            if parent == docs_dir or any(parent.iterdir()):
                break
            parent.rmdir()
    return changed


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}-{target.name}")
    # Made as a plain new file is, under the umask (mkstemp's 0600 would keep the file from the host).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except BaseException:
        os.unlink(temporary)
        raise
    os.replace(temporary, target)


def _umask() -> int:
    """The process's umask (only setting it reads it): what a plain new folder is made with."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


TEMP_PREFIX = ".tmp-"


STAGING_PREFIX = ".build-"  # staging folders beside docs/ and site/, on the same file system


_RENAME_EXCHANGE = 2


_AT_FDCWD = -100


def exchange(staging: Path, target: Path) -> None:
    """Put the folder `staging` at `target` in one step; the old `target`, if any, is
    left at `staging`.

    Linux swaps two paths atomically (renameat2 with RENAME_EXCHANGE, which Python
    does not wrap), so `target` is never missing and never half old, half new, even
    if the process is killed. Elsewhere, two renames leave `target` briefly absent."""
    if not target.exists():
        staging.rename(target)
        staging.mkdir()
        return
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is not None:
        result = renameat2(_AT_FDCWD, os.fsencode(staging), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE)
        if result == 0:
            return
        if ctypes.get_errno() not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(target))
    retired = staging.with_name(staging.name + "-old")
    target.rename(retired)
    staging.rename(target)
    retired.rename(staging)


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One build at a time writes docs/ and site/; the holder first removes what a
    killed build left behind (staging folders), which no running build can own."""
    with (root / ".build.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy(root / ".build.lock") from None
        for debris in root.glob(f"{STAGING_PREFIX}*"):
            if debris.is_dir() and not debris.is_symlink():
                shutil.rmtree(debris, ignore_errors=True)
            else:
                debris.unlink(missing_ok=True)
        yield


class BuildBusy(Exception):
    """Another build.py holds the build lock."""


@contextlib.contextmanager
def staging_folder(root: Path, name: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{name}-", dir=root))
    # mkdtemp makes the folder private (0700); swapped in as site/, it would keep a web server out.
    os.chmod(folder, 0o777 & ~_umask())
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_name(folder.name + ".yml").unlink(missing_ok=True)


def _link_or_copy(source: str, target: str) -> None:
    """A hard link to `source` (the staging copy of docs/ shares the files that do not change,
    and write_pages replaces a file rather than writing into it), or a copy where links fail."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@contextlib.contextmanager
def write_docs(files: Mapping[str, str | bytes], docs_dir: Path) -> Iterator[list[str]]:
    """Step 4: write the generated files into a copy of docs/ and swap it in whole;
    yield the paths that changed. The caller publishes inside the `with` block: if
    that fails, the old docs/ goes back, so a failed build leaves docs/ and site/ as
    they were, and a killed one leaves each either old or new. One build at a time
    holds the lock for the whole block."""
    root = docs_dir.absolute().parent
    for folder in (docs_dir, root / "site"):
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise WriteClash(
                root, [folder.name], "is a link or a file; it must be a plain folder, which build.py replaces whole"
            )
    with build_lock(root), staging_folder(root, "docs") as staging:
        if docs_dir.exists():
            shutil.copytree(docs_dir, staging, symlinks=True, dirs_exist_ok=True, copy_function=_link_or_copy)
        try:
            changed = write_pages(files, staging)
        except WriteClash as clash:
            raise WriteClash(docs_dir, [str(path.relative_to(staging)) for path in clash.paths], clash.reason) from None
        if changed or not docs_dir.exists():
            exchange(staging, docs_dir)
        try:
            yield changed
        except BaseException:
            if changed:
                exchange(staging, docs_dir)
            raise
