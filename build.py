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
import datetime as dt
import gc
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import yaml

from evidence.cache import Store, digest
from evidence.load import DataError, Problem, display_path
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
    """Paths of the files under folder, relative to it, with / (plain strings: pathlib
    costs tens of milliseconds over thousands of files)."""
    start = len(str(folder)) + 1
    return {
        os.path.join(parent, name)[start:].replace(os.sep, "/")
        for parent, _, names in os.walk(folder)
        for name in names
    }


def write_pages(pages: Mapping[str, str], docs_dir: Path) -> list[str]:
    """Make docs_dir hold exactly these generated pages; return the paths changed.

    Unchanged files are not touched, so their modification times stay put and
    live preview rebuilds little. Hand-written files are never overwritten. A file
    is compared with its new text by reading it, unless its size and modification
    time are those this function recorded (in the cache) when it last wrote or
    checked that same text: at a thousand studies, reading every file back was a
    tenth of a rebuild."""
    on_disk = _files_under(docs_dir)
    encoded = {relative: text.encode("utf-8") for relative, text in pages.items()}
    digests = {relative: hashlib.sha256(data).digest() for relative, data in encoded.items()}
    record = Store("written")
    folder = str(docs_dir.resolve())
    keys = {relative: digest(folder, relative) for relative in pages}
    record.prefetch(keys.values())
    current = {}  # what is on disk, for the files not known to match
    for relative in pages.keys() & on_disk:
        stat = os.stat(os.path.join(folder, relative))
        if record.get(keys[relative]) != (stat.st_size, stat.st_mtime_ns, digests[relative]):
            current[relative] = (docs_dir / relative).read_bytes()
    clashes = [
        relative
        for relative, data in current.items()
        if relative.split("/")[0] not in GENERATED_FOLDERS and not _has_marker(data)
    ]
    if clashes:
        raise DataError(
            [
                Problem(docs_dir / p, 1, "", "hand-written file is in the way of a generated page; move it")
                for p in sorted(clashes)
            ]
        )
    stale = {
        relative
        for relative in on_disk - set(pages)
        if relative.split("/")[0] in GENERATED_FOLDERS or is_generated(docs_dir / relative)
    }
    changed = []
    for relative in sorted(pages):
        if relative in on_disk and relative not in current:
            continue  # as recorded: unchanged
        target = docs_dir / relative
        if current.get(relative) != encoded[relative]:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle:
                handle.write(encoded[relative])
            os.replace(handle.name, target)
            changed.append(relative)
        stat = target.stat()
        record.put(keys[relative], (stat.st_size, stat.st_mtime_ns, digests[relative]))
    record.save()
    for relative in sorted(stale):
        (docs_dir / relative).unlink()
        changed.append(relative)
        for parent in (docs_dir / relative).parents:
            if parent == docs_dir or any(parent.iterdir()):
                break
            parent.rmdir()
    return changed


def build_site(config_file: Path, content_date: dt.date) -> None:
    """Run `mkdocs build --strict` into a fresh folder, then swap it in for site/.

    A failed MkDocs build leaves the previous site/ untouched. The build is dated
    by the data (SOURCE_DATE_EPOCH), not the clock, so that the same data always
    gives the same bytes, sitemap included."""
    site_dir = config_file.parent / "site"
    staging = Path(tempfile.mkdtemp(prefix=".site-", dir=config_file.parent))
    epoch = dt.datetime.combine(content_date, dt.time(), tzinfo=dt.UTC).timestamp()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mkdocs",
                "build",
                "--strict",  # not --quiet: that hides the warnings strict mode must fail on
                "--config-file",
                str(config_file),
                "--site-dir",
                str(staging),
            ],
            check=False,
            env={**os.environ, "SOURCE_DATE_EPOCH": str(int(epoch))},
        )
        if result.returncode != 0:
            raise SystemExit(f"mkdocs build failed (exit {result.returncode}); {display_path(site_dir)} is unchanged")
        retired = staging.with_name(staging.name + "-old")
        if site_dir.exists():
            site_dir.rename(retired)
        staging.rename(site_dir)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build_offline(site: SiteData, config_file: Path, docs_dir: Path, archive: Path) -> None:
    """Build a copy of the site that works opened from the file system, and zip it.

    The pages are rendered again with file URLs (x.html), and MkDocs runs with
    Material's offline plugin, which makes search work without a server. The zip
    is deterministic: sorted names, fixed timestamps."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copytree(docs_dir / "assets", work / "docs" / "assets", ignore=lambda d, names: [
            n for n in names if is_generated(Path(d) / n)
        ])  # fmt: skip
        write_pages(render_site(site, directory_urls=False), work / "docs")
        shutil.copytree(TEMPLATES / "theme", work / "templates" / "theme")
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        config["plugins"] = [*config.get("plugins", []), "offline"]
        config["use_directory_urls"] = False
        # The offline plugin would load this shim from a CDN unless it is already listed.
        config.setdefault("extra", {})["polyfills"] = ["assets/vendor/iframe-worker-shim.js"]
        (work / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        build_site(work / "mkdocs.yml", site.last_reviewed)
        stamp = (site.last_reviewed.year, site.last_reviewed.month, site.last_reviewed.day, 0, 0, 0)
        archive.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted((work / "site").rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(f"ketamine-naltrexone/{path.relative_to(work / 'site').as_posix()}", stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    bundle.writestr(info, path.read_bytes())


def report(error: DataError | RenderError) -> None:
    """Print what went wrong, one located line per problem, then a count."""
    if isinstance(error, RenderError):
        print(f"{error}\ntemplate error; nothing was written.", file=sys.stderr)
        return
    for problem in error.problems:
        print(problem, file=sys.stderr)
    count = len(error.problems)
    print(f"{count} problem{'s' if count != 1 else ''} found; nothing was written.", file=sys.stderr)


def rebuild(data_dir: Path, docs_dir: Path) -> tuple[SiteData, list[str]]:
    """Steps 1 to 4: load, validate, render, write. Raises DataError or RenderError
    before anything is written."""
    site = load_site(data_dir, dt.date.today())
    pages = render_site(site)
    return site, write_pages(pages, docs_dir)


def _snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    return {
        str(path): (path.stat().st_mtime_ns, path.stat().st_size)
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file()
    }


def serve(data_dir: Path, docs_dir: Path, config_file: Path, address: str) -> int:
    """Serve with MkDocs' live reload; re-render docs/ whenever data or templates change.

    MkDocs watches docs/ and reloads the open page once the new pages land."""
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "serve",
        "--livereload",
        "--config-file",
        str(config_file),
        "--dev-addr",
        address,
    ]
    server = subprocess.Popen(command)
    # Stop MkDocs with us, whether stopped by Ctrl-C or by a plain kill.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    watched = [data_dir, TEMPLATES]
    before = _snapshot(watched)
    try:
        while server.poll() is None:
            time.sleep(0.5)
            now = _snapshot(watched)
            if now == before:
                continue
            before = now
            try:
                _, changed = rebuild(data_dir, docs_dir)
                print(f"build.py: re-rendered {len(changed)} page(s)", file=sys.stderr)
            except (DataError, RenderError) as error:
                report(error)
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    # CPython looks for reference cycles after every 700 new objects. A build makes
    # millions that live to its end (records, cached pages) and few cycles, so most
    # collections scan the same objects again: after an edit at 1,000 studies, the
    # render took 2.3 s with the default and 1.9 s with this.
    gc.set_threshold(100_000, 50, 100)
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
    args = parser.parse_args(argv)
    try:
        if args.check:
            render_site(load_site(args.data, dt.date.today()))
            print("build.py: data is valid")
            return 0
        site, changed = rebuild(args.data, args.docs)
    except (DataError, RenderError) as error:
        report(error)
        return 1
    print(f"build.py: {len(changed)} generated file(s) changed under {display_path(args.docs)}")
    if args.site:
        build_site(args.config, site.last_reviewed)
        print(f"build.py: site written to {display_path(args.config.parent / 'site')}")
    if args.serve:
        return serve(args.data, args.docs, args.config, args.dev_addr)
    if args.offline:
        build_offline(site, args.config, args.docs, args.offline)
        print(f"build.py: offline copy written to {display_path(args.offline)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
