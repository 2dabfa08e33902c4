"""`make serve`: the live preview. Step 5's MkDocs build (evidence/publish.py), run again
on each save by MkDocs' development server. Only `build.py --serve` imports this module,
so a build does not load the server and the file watcher."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import traceback
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import watchdog.events
import watchdog.observers
from mkdocs.livereload import LiveReloadServer
from mkdocs.structure.files import File

from evidence.publish import MkDocsFailed, run_mkdocs
from evidence.render import GENERATED_CONFIG, GENERATED_FOLDERS
from evidence.write import TEMP_PREFIX, files_under, is_generated

# What a save is: a file written, made, moved or removed (not one opened to be read).
_WRITES: list[type[watchdog.events.FileSystemEvent]] = [
    watchdog.events.FileCreatedEvent,
    watchdog.events.FileModifiedEvent,
    watchdog.events.FileMovedEvent,
    watchdog.events.FileDeletedEvent,
]


class LivePreview:
    """`make serve`: MkDocs' development server, on a folder this process builds.

    A save is reported at once by inotify (watchdog's Observer, where `mkdocs serve`
    polls every 0.5 s); MkDocs' server waits 0.1 s for more, then calls `rebuild`:
    `update` renders and writes the changed pages into docs/, in place, MkDocs builds
    in this process, and open pages reload. A request waits while a build runs, so
    nothing half built is served; a bad edit (`update` returns None) leaves the last
    good site served.

    When only data/ changed, and neither the set of files nor the navigation did,
    MkDocs builds dirty: only the pages whose Markdown changed. That is exact here,
    because generated.yml names every page's title in the navigation, so pages not
    rebuilt are what a whole build would make; and the search index, which a dirty
    build writes for the rebuilt pages alone, is merged into the last one."""

    def __init__(
        self, config_file: Path, docs_dir: Path, data_dir: Path, templates: Path, update: Callable[[], list[str] | None]
    ) -> None:
        self.config_file, self.docs_dir, self.data_dir, self.templates = config_file, docs_dir, data_dir, templates
        self.update = update
        self.site_dir = Path(tempfile.mkdtemp(prefix="mkdocs_"))
        self.url = ""
        self.touched: set[Path] = set()
        self.lock = threading.Lock()
        self.generated = {relative for relative in files_under(docs_dir) if is_generated(docs_dir / relative)}
        self.search: dict[str, list[Any]] = {}  # the last whole search index, page by page
        self.whole_next = False  # after MkDocs failed, the next build is whole

    def serve(self, address: str) -> None:
        """Build the site whole, then serve it at `address` (host:port) until interrupted."""
        host, port = address.rsplit(":", 1)
        from mkdocs.config import load_config

        mount = urllib.parse.urlsplit(load_config(str(self.config_file)).site_url or "/").path
        server = _PreviewServer(self, host.strip("[]"), int(port), mount)
        self.url = server.url
        try:
            self.build(None)
            for folder in (self.data_dir, self.templates, self.docs_dir):
                server.watch(str(folder))
            server.watch(str(self.config_file))
            server.serve()  # type: ignore[no-untyped-call]
        finally:
            server.shutdown()
            shutil.rmtree(self.site_dir, ignore_errors=True)

    def is_own(self, path: Path) -> bool:
        """True for a file under docs/ that build.py writes (so its writes are not edits)."""
        if not path.is_relative_to(self.docs_dir):
            return False
        relative = path.relative_to(self.docs_dir).as_posix()
        return (
            path.name.startswith(TEMP_PREFIX)
            or relative.split("/")[0] in GENERATED_FOLDERS
            or relative in self.generated
            or is_generated(path)
        )

    def saved(self, paths: list[Path]) -> bool:
        """Note the files an editor saved; False if all of them were build.py's own writes."""
        edits = {path for path in paths if not self.is_own(path)}
        with self.lock:
            self.touched |= edits
        return bool(edits)

    def rebuild(self) -> None:
        """What MkDocs' server runs after a save: re-render, write, build (see the class)."""
        with self.lock:
            touched, self.touched = self.touched, set()
        before = files_under(self.docs_dir)
        changed = self.update()
        if changed is None:
            return
        self.generated.update(changed)
        whole = (
            self.whole_next
            or GENERATED_CONFIG in changed
            or files_under(self.docs_dir) != before
            or not all(path.is_relative_to(self.data_dir) for path in touched)
        )
        if changed or whole:
            self.build(None if whole else changed)

    def build(self, dirty: list[str] | None) -> None:
        """MkDocs, whole (`dirty` None) or only the pages among `dirty`; the search index merged."""
        try:
            run_mkdocs(self.config_file, self.site_dir, serve_url=self.url, dirty=dirty is not None)
        except Exception as error:  # MkDocsFailed, or a bug (in the theme, say): shown, and the preview goes on
            if not isinstance(error, MkDocsFailed):
                traceback.print_exc()
            print("build.py: MkDocs failed; still serving what it built", file=sys.stderr)
            self.whole_next = True
            return
        self.whole_next = False
        self.merge_search_index(dirty)

    def merge_search_index(self, rebuilt: list[str] | None) -> None:
        """Keep the whole build's search index, page by page; after a dirty build, put the
        rebuilt pages' entries in their places and write the whole index back."""
        path = self.site_dir / "search" / "search_index.json"
        if not path.is_file():
            return
        index = json.loads(path.read_text(encoding="utf-8"))
        pages: dict[str, list[Any]] = {}
        for entry in index["docs"]:
            pages.setdefault(entry["location"].split("#")[0], []).append(entry)
        if rebuilt is None:
            self.search = pages
            return
        for page in rebuilt:
            if page.endswith(".md"):
                url = File(page, None, "", use_directory_urls=True).url.removeprefix("./")  # as Page.url
                self.search[url] = pages.get(url, [])
        index["docs"] = [entry for entries in self.search.values() for entry in entries]
        path.write_text(json.dumps(index, separators=(",", ":"), default=str), encoding="utf-8")


class _PreviewServer(LiveReloadServer):
    """MkDocs' development server, told of saves by inotify, and of nothing else: not of
    files opened to be read (which inotify reports too), nor of build.py's own writes."""

    def __init__(self, preview: LivePreview, host: str, port: int, mount_path: str) -> None:
        super().__init__(
            builder=preview.rebuild, host=host, port=port, root=str(preview.site_dir), mount_path=mount_path
        )
        self.observer = watchdog.observers.Observer()  # type: ignore[assignment]  # inotify on Linux
        self.preview = preview

    def watch(self, path: str, func: None = None, *, recursive: bool = True) -> None:
        self._watched_paths[path] = 1  # also what makes MkDocs add its reload script to pages
        folder, only = (path, None) if Path(path).is_dir() else (str(Path(path).parent), Path(path))
        handler = _Saves(self, only)
        self.observer.schedule(handler, folder, recursive=recursive and only is None, event_filter=_WRITES)

    def saved(self) -> None:
        with self._rebuild_cond:
            self._want_rebuild = True
            self._rebuild_cond.notify_all()


class _Saves(watchdog.events.FileSystemEventHandler):
    def __init__(self, server: _PreviewServer, only: Path | None) -> None:
        self.server, self.only = server, only

    def on_any_event(self, event: watchdog.events.FileSystemEvent) -> None:
        paths = [Path(os.fsdecode(path)) for path in (event.src_path, event.dest_path) if path]
        paths = [path for path in paths if self.only is None or path == self.only]
        if not event.is_directory and paths and self.server.preview.saved(paths):
            self.server.saved()
