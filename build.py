"""Build the evidence site: load -> validate -> render -> write -> MkDocs.

    python build.py            render data/ into Markdown pages under docs/
    python build.py --check    validate data/ only; write nothing
    python build.py --site     render, then build the static site into site/
    python build.py --serve    render and serve with live reload, re-rendering
                               whenever a file in data/ or templates/ changes

1. load (evidence/load.py): read every YAML file under data/ with PyYAML's C
   loader, keeping the line of every value; refuse duplicate keys and aliases.
2. validate (evidence/validate.py): check every record against
   evidence/schema.py, then the rules that span fields and records. Every
   problem is reported at once, as `data/studies/x.yaml:14: field: message`,
   followed by a count and exit status 1.
3. render (evidence/render.py): turn the records into Markdown pages through
   templates/ (Jinja, StrictUndefined, every data value escaped).
4. write (here): only once everything above succeeded. Changed pages are replaced
   atomically, unchanged ones are left alone, and generated pages whose record
   is gone are removed. A failed run leaves docs/ and site/ as they were.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import watchfiles
import yaml

from evidence.load import DataError, display_path
from evidence.render import GENERATED_FOLDERS, GENERATED_MARKER, TEMPLATES, RenderError, render_site
from evidence.validate import SiteData, load_site

ROOT = Path(__file__).resolve().parent


def is_generated(path: Path) -> bool:
    """True for a file build.py wrote: its marker is on the first line, or the second
    when the first opens front matter."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return _has_marker(handle.readline() + handle.readline())


def _has_marker(head: bytes) -> bool:
    return GENERATED_MARKER.encode() in b"".join(head.split(b"\n", 2)[:2])


def _files_under(folder: Path) -> set[str]:
    """Paths of the files under folder, relative to it, with /."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if not path.is_dir()}


class WriteClash(Exception):
    """Something on disk stands where build.py must write (paths relative to `folder`)."""

    HAND_WRITTEN = "a hand-written file is in the way of a generated page; move it"

    def __init__(self, folder: Path, relatives: list[str], reason: str = HAND_WRITTEN) -> None:
        super().__init__(", ".join(relatives))
        self.paths = [folder / relative for relative in relatives]
        self.reason = reason


def write_pages(pages: Mapping[str, str], docs_dir: Path) -> list[str]:
    """Make docs_dir hold exactly these generated pages, in place; return the paths changed.

    Unchanged files are not touched, so live preview rebuilds little. Hand-written
    files are never overwritten (WriteClash); generated pages no longer in `pages`
    are removed, and so are temporary files that a killed run left behind."""
    on_disk = _files_under(docs_dir)
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
        data = text.encode("utf-8")
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
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=TEMP_PREFIX, delete=False) as handle:
        try:
            handle.write(data)
        except BaseException:
            os.unlink(handle.name)
            raise
    os.replace(handle.name, target)


# --- Swapping docs/ and site/ whole ------------------------------------------------

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
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_name(folder.name + ".yml").unlink(missing_ok=True)


def publish(
    pages: Mapping[str, str], docs_dir: Path, config_file: Path | None, content_date: dt.date, engine: str = "mkdocs"
) -> list[str]:
    """Step 4 and 5: write the pages into a copy of docs/ and swap it in whole; then,
    with a config file, build site/ from it the same way. If MkDocs fails, the old
    docs/ goes back, so a failed build leaves both as they were; a killed one leaves
    each either old or new."""
    root = docs_dir.absolute().parent
    for folder in (docs_dir, root / "site"):
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise WriteClash(
                root, [folder.name], "is a link or a file; it must be a plain folder, which build.py replaces whole"
            )
    with build_lock(root), staging_folder(root, "docs") as staging:
        if docs_dir.exists():
            shutil.copytree(docs_dir, staging, symlinks=True, dirs_exist_ok=True)
        try:
            changed = write_pages(pages, staging)
        except WriteClash as clash:
            raise WriteClash(docs_dir, [str(path.relative_to(staging)) for path in clash.paths], clash.reason) from None
        if changed or not docs_dir.exists():
            exchange(staging, docs_dir)
        if config_file is not None:
            try:
                build_site(config_file, content_date, engine)
            except BaseException:
                if changed:
                    exchange(staging, docs_dir)
                raise
    return changed


ENGINES = ("mkdocs", "properdocs", "zensical")


def engine_command(engine: str, config_file: Path, site_dir: Path) -> list[str]:
    """The command that builds `config_file` into `site_dir`, strictly, with one of
    the engines the site is tested on: MkDocs (the default), ProperDocs (the
    continuation of MkDocs 1.x) or Zensical (Material's successor). Zensical has no
    option for the output folder, so a config beside the real one inherits it and
    names the folder."""
    scripts = Path(sys.executable).parent
    if engine == "mkdocs":  # not --quiet: that hides the warnings strict mode must fail on
        return [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file), "-d", str(site_dir)]
    if engine == "properdocs":
        return [str(scripts / "properdocs"), "build", "--strict", "-f", str(config_file), "-d", str(site_dir)]
    # Zensical's classic variant is Material's look, which site.css and the theme's
    # accessibility fixes were made for (its modern one fails colour contrast).
    settings = {"INHERIT": config_file.name, "site_dir": str(site_dir), "theme": {"variant": "classic"}}
    inheriting = site_dir.with_name(site_dir.name + ".yml")
    inheriting.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return [str(scripts / "zensical"), "build", "--strict", "--clean", "-f", str(inheriting)]


def build_site(config_file: Path, content_date: dt.date, engine: str = "mkdocs") -> None:
    """Build the site with `engine` into a staging folder, then swap it in for site/.

    The build is dated by the data (SOURCE_DATE_EPOCH), not the clock, so that the
    same data always gives the same bytes, sitemap included."""
    root = config_file.resolve().parent
    epoch = dt.datetime.combine(content_date, dt.time(), tzinfo=dt.UTC).timestamp()
    with staging_folder(root, "site") as staging:
        result = subprocess.run(
            engine_command(engine, config_file.resolve(), staging),
            check=False,
            env={**os.environ, "SOURCE_DATE_EPOCH": str(int(max(epoch, 0)))},
            preexec_fn=_die_with_parent,
        )
        if result.returncode != 0:
            raise MkDocsFailed(engine, result.returncode)
        exchange(staging, root / "site")


def _die_with_parent() -> None:
    """In the MkDocs child: end when build.py ends, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG), so that no orphan goes on writing a staging folder."""
    prctl = getattr(ctypes.CDLL(None), "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_PR_SET_PDEATHSIG = 1


class MkDocsFailed(Exception):
    """The engine's strict build exited non-zero (it printed why)."""


class ConfigError(Exception):
    """The MkDocs configuration could not be read."""


def build_offline(site: SiteData, config_file: Path, docs_dir: Path, archive: Path) -> None:
    """Build a copy of the site that works opened from the file system, and zip it.

    The pages are rendered again with file URLs (x.html), and MkDocs runs with
    Material's offline plugin, which makes search work without a server. The zip
    is deterministic (sorted names, timestamps from the data) and replaces the
    target only once it is complete."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copytree(docs_dir / "assets", work / "docs" / "assets", ignore=lambda d, names: [
            n for n in names if is_generated(Path(d) / n)
        ])  # fmt: skip
        write_pages(render_site(site, directory_urls=False), work / "docs")
        shutil.copytree(TEMPLATES / "theme", work / "templates" / "theme")
        try:
            config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ConfigError(f"{display_path(config_file)}: {error}") from None
        config["plugins"] = [*config.get("plugins", []), "offline"]
        config["use_directory_urls"] = False
        # The offline plugin would load this shim from a CDN unless it is already listed.
        config.setdefault("extra", {})["polyfills"] = ["assets/vendor/iframe-worker-shim.js"]
        (work / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        build_site(work / "mkdocs.yml", site.last_reviewed)
        # A zip cannot hold dates before 1980.
        day = max(site.last_reviewed, dt.date(1980, 1, 1))
        stamp = (day.year, day.month, day.day, 0, 0, 0)
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = work / "offline.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted((work / "site").rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(f"ketamine-naltrexone/{path.relative_to(work / 'site').as_posix()}", stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    bundle.writestr(info, path.read_bytes())
        shutil.move(partial, archive)


# --- The edge: errors become messages -----------------------------------------------

BuildError = DataError | RenderError | WriteClash | BuildBusy | MkDocsFailed | ConfigError | OSError


def report(error: BuildError) -> None:
    """Print what went wrong in plain words: one located line per data problem, then a count."""
    unchanged = "docs/ and site/ are unchanged"
    if isinstance(error, DataError):
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = len(error.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found; nothing was written.", file=sys.stderr)
    elif isinstance(error, RenderError):
        print(f"{error}\ntemplate error; nothing was written.", file=sys.stderr)
    elif isinstance(error, WriteClash):
        for path in error.paths:
            print(f"{display_path(path)}: {error.reason}", file=sys.stderr)
        print(f"nothing was written; {unchanged}.", file=sys.stderr)
    elif isinstance(error, BuildBusy):
        print(f"another build.py is writing docs/ and site/ (it holds {display_path(error.args[0])}); "
              "try again when it has finished", file=sys.stderr)  # fmt: skip
    elif isinstance(error, MkDocsFailed):
        print(f"{error.args[0]} build failed (exit {error.args[1]}); {unchanged}", file=sys.stderr)
    elif isinstance(error, ConfigError):
        print(f"{error}; {unchanged}", file=sys.stderr)
    else:
        where = f" {display_path(Path(error.filename))}" if isinstance(error.filename, str) else ""
        print(f"could not write{where}: {error.strerror or error}; {unchanged}", file=sys.stderr)


def rebuild(
    data_dir: Path, docs_dir: Path, config_file: Path | None, engine: str = "mkdocs"
) -> tuple[SiteData, list[str]]:
    """The pipeline: load and validate, render, write docs/ and (with a config
    file) build site/. Raises a BuildError before anything is written, or after
    putting back what was there."""
    site = load_site(data_dir, dt.date.today())
    pages = render_site(site)
    return site, publish(pages, docs_dir, config_file, site.last_reviewed, engine)


def serve(data_dir: Path, docs_dir: Path, config_file: Path, address: str) -> int:
    """Serve with MkDocs' live reload; re-render docs/ whenever data or templates change.

    MkDocs watches docs/ and reloads the open page once the new pages land, so
    here pages are written in place, not swapped in whole. A bad edit prints its
    errors and the last good site stays served."""
    command = [sys.executable, "-m", "mkdocs", "serve", "--livereload", "--config-file", str(config_file),
               "--dev-addr", address]  # fmt: skip
    server = subprocess.Popen(command, preexec_fn=_die_with_parent)
    stop = threading.Event()
    # Stop MkDocs with us, whether stopped by Ctrl-C or by a plain kill.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for changes in watchfiles.watch(data_dir, TEMPLATES, stop_event=stop, rust_timeout=500, yield_on_timeout=True):
            if server.poll() is not None:
                break
            if not changes:
                continue
            try:
                site = load_site(data_dir, dt.date.today())
                changed = write_pages(render_site(site), docs_dir)
                print(f"build.py: re-rendered {len(changed)} page(s)", file=sys.stderr)
            except (DataError, RenderError, WriteClash, OSError) as error:
                report(error)
                print("build.py: still serving the last good site", file=sys.stderr)
            except Exception:  # a bug of ours: show it whole, but keep the preview alive
                traceback.print_exc()
                print("build.py: still serving the last good site", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="validate the data only; write nothing")
    mode.add_argument("--site", action="store_true", help="also build the static site into site/")
    mode.add_argument("--serve", action="store_true", help="serve with live reload")
    mode.add_argument(
        "--offline", type=Path, metavar="ZIP", help="write a zip of the site that works from the file system"
    )
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="data folder (default: data/)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="docs folder (default: docs/)")
    parser.add_argument("--config", type=Path, default=ROOT / "mkdocs.yml", help="MkDocs config (default: mkdocs.yml)")
    parser.add_argument("--dev-addr", default="127.0.0.1:8000", help="address for --serve")
    parser.add_argument("--engine", choices=ENGINES, default="mkdocs", help="what builds site/ (default: mkdocs)")
    args = parser.parse_args(argv)
    if args.site and args.docs.absolute() != (args.config.absolute().parent / "docs"):
        print(f"--docs must be the docs/ beside {display_path(args.config)}, which MkDocs builds from", file=sys.stderr)
        return 2
    try:
        if args.check:
            render_site(load_site(args.data, dt.date.today()))
            print("build.py: data is valid")
            return 0
        site, changed = rebuild(args.data, args.docs, args.config if args.site else None, args.engine)
        print(f"build.py: {len(changed)} generated file(s) changed under {display_path(args.docs)}")
        if args.site:
            print(f"build.py: site written to {display_path(args.config.parent / 'site')} by {args.engine}")
        if args.offline:
            build_offline(site, args.config, args.docs, args.offline)
            print(f"build.py: offline copy written to {display_path(args.offline)}")
    except (DataError, RenderError, WriteClash, BuildBusy, MkDocsFailed, ConfigError, OSError) as error:
        report(error)
        return 1
    except KeyboardInterrupt:
        print("build.py: interrupted; docs/ and site/ are each as they were or wholly new", file=sys.stderr)
        return 130
    if args.serve:
        return serve(args.data, args.docs, args.config, args.dev_addr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
