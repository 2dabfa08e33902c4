"""Build the evidence site, in five steps, each a module of evidence/:

    load -> check -> render -> write -> publish

    python build.py            render data/ into Markdown pages under docs/
    python build.py --check    check data/ (and render it) only; write nothing
    python build.py --site     ... then build the static site into site/ with MkDocs
    python build.py --serve    render and serve with live reload, re-rendering
                               whenever a file in data/ or templates/ changes

1. load (evidence/load.py): read every YAML file under data/, keeping the line of
   every value; refuse what YAML would let through silently or dangerously.
2. check (evidence/check.py): validate every record against evidence/schema.py,
   then the rules that span records. Every problem is reported at once, as
   `data/studies/x.yaml:14: field: message`, then a count and exit status 1.
3. render (evidence/render/): pages through templates/ (Jinja, every data value
   escaped), their metadata, and the downloads.
4. write (evidence/write.py): only once everything above succeeded, into a copy of
   docs/ that is swapped in whole; hand-written files are never touched.
5. publish (evidence/publish.py): MkDocs builds site/ strictly, swapped in whole;
   if it fails, docs/ goes back as it was.

Core code raises typed errors; this file, the edge, turns them into messages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

from evidence import cache
from evidence.check import SiteData, check_data
from evidence.load import DataError, display_path, read_data
from evidence.publish import ENGINES, ConfigError, MkDocsFailed, build_offline, build_site
from evidence.render import RenderError, render_site
from evidence.render.environment import TEMPLATES
from evidence.render.figures import with_pngs
from evidence.write import BuildBusy, WriteClash, write_docs, write_pages

ROOT = Path(__file__).resolve().parent


def build(
    data_dir: Path, docs_dir: Path, config_file: Path | None, engine: str, environ: Mapping[str, str]
) -> tuple[SiteData, list[str]]:
    """The pipeline. With no config file it stops after writing docs/. Raises a
    BuildError before anything is written, or after putting back what was there."""
    files = read_data(data_dir)
    site = check_data(files, dt.date.today(), site_url=environ.get("SITE_URL") or None, release=is_release(environ))
    rendered = render_site(site)
    with write_docs(with_pngs(rendered), docs_dir) as changed:
        if config_file is not None:
            build_site(config_file, site.last_reviewed, engine)
    return site, changed


def is_release(environ: Mapping[str, str]) -> bool:
    """A release build is asked for with RELEASE=1 (`make release`) or by setting SITE_URL."""
    return environ.get("RELEASE", "") not in ("", "0") or bool(environ.get("SITE_URL"))


def render_only(data_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Steps 1 to 3, writing nothing: what `--check` and each live-preview edit run."""
    site = check_data(
        read_data(data_dir), dt.date.today(), site_url=environ.get("SITE_URL") or None, release=is_release(environ)
    )
    return render_site(site)


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


def serve(data_dir: Path, docs_dir: Path, config_file: Path, address: str) -> int:
    """Serve with live reload, in this process (evidence/preview.py `LivePreview`): each
    save re-renders the pages, writes those that changed into docs/ in place, and
    MkDocs rebuilds them. A bad edit prints its errors and the last good site stays
    served. Ctrl-C or SIGTERM ends it."""

    def update() -> list[str] | None:
        try:
            changed = write_pages(with_pngs(render_only(data_dir, os.environ)), docs_dir)
        except (DataError, RenderError, WriteClash, OSError) as error:
            report(error)
        except Exception:  # a bug of ours: show it whole, but keep the preview alive
            traceback.print_exc()
        else:
            print(f"build.py: re-rendered {len(changed)} page(s)", file=sys.stderr)
            return changed
        print("build.py: still serving the last good site", file=sys.stderr)
        return None

    from evidence.preview import LivePreview  # the server and file watcher, which a build does not need

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        LivePreview(config_file.resolve(), docs_dir.resolve(), data_dir.resolve(), TEMPLATES, update).serve(address)
    except KeyboardInterrupt:
        pass
    except MkDocsFailed as error:
        report(error)
        return 1
    return 0


def _interrupt(*_: object) -> None:
    """SIGTERM ends the live preview as Ctrl-C does."""
    raise KeyboardInterrupt


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
    cache.use(cache.default_folder(), writable=not args.check)
    if args.site and args.docs.absolute() != (args.config.absolute().parent / "docs"):
        print(f"--docs must be the docs/ beside {display_path(args.config)}, which MkDocs builds from", file=sys.stderr)
        return 2
    try:
        if args.check:
            render_only(args.data, os.environ)
            print("build.py: data is valid")
            return 0
        site, changed = build(args.data, args.docs, args.config if args.site else None, args.engine, os.environ)
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
