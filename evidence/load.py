"""Step 1, load: read YAML data files, keeping the line of every value.

PyYAML's C parser reads each file's events; our own composer (`_Composer`) turns
them into Python data in one pass, records where each value stands, and refuses
what YAML would let through silently (duplicate keys, tags, octal numbers) or
dangerously (aliases, which make alias bombs; nesting that would exhaust the stack)."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from evidence.schema import Loc

MAX_FILE_BYTES = 1_000_000


# --- Problems -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the data, located to a file, line and field."""

    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{display_path(self.file)}:{self.line}" if self.line else display_path(self.file)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class DataError(Exception):
    """The data could not be built; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(set(problems))


def display_path(path: Path) -> str:
    """The path relative to the working folder, where it is inside it; links are not
    followed, so a link is named by its own name."""
    try:
        shown = str(Path(os.path.abspath(path)).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):  # outside the working folder, or the folder is gone
        shown = str(path)
    # A file name with a line break would print a line that looks like another problem.
    return shown if shown.isprintable() else repr(shown)[1:-1]


def format_loc(loc: Loc) -> str:
    """('interventions', 0, 'dose', 'value') -> 'interventions[0].dose'.

    A fact's `value` is what a contributor thinks of as the field itself, so a
    trailing `value` is dropped."""
    if loc and loc[-1] == "value":
        loc = loc[:-1]
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- 1. Load ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Document:
    """A parsed YAML file; it can tell the line of every value in it."""

    path: Path
    data: Any
    lines: Mapping[Loc, int] = dataclasses.field(repr=False)

    def line_of(self, loc: Loc) -> int:
        """Line of the value at `loc`, or of its nearest ancestor that exists."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.path, self.line_of(loc), format_loc(loc), message)


# --- The data folder ------------------------------------------------------------

# Files of records keyed by id: kind of record -> file (check.py knows each one's record type).
KEYED_FILES = {
    "reference": "references.yaml",
    "registration": "registrations.yaml",
    "commentary": "commentary.yaml",
    "claim": "claims.yaml",
    "event": "timeline.yaml",
    "term": "glossary.yaml",
    "redirect": "redirects.yaml",
}
# Files that hold one record each, named by their stem.
SINGLE_FILES = ("site", "changes", "comparison", "methods")


@dataclasses.dataclass(frozen=True)
class DataFiles:
    """Every file under data/, parsed but not yet checked. A file that could not be
    read is its DataError here, so that the check step reports it beside the rest."""

    keyed: dict[str, Document | DataError]
    single: dict[str, Document | DataError]
    studies: dict[Path, Document | DataError]
    problems: list[Problem]  # about the folder itself


def read_data(data_dir: Path) -> DataFiles:
    """Step 1: read and parse every data file under `data_dir`."""
    keyed = {kind: _read_or_error(data_dir / name, data_dir) for kind, name in KEYED_FILES.items()}
    single = {name: _read_or_error(data_dir / f"{name}.yaml", data_dir) for name in SINGLE_FILES}
    folder = data_dir / "studies"
    # Hidden files are an editor's (its lock file .#x.yaml is one), not data.
    paths = sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    problems = [] if paths else [Problem(folder, 1, "", "no study files (*.yaml) found")]
    studies = {path: _read_or_error(path, data_dir) if path.suffix == ".yaml" else _misnamed(path) for path in paths}
    return DataFiles(keyed, single, studies, problems)


def _misnamed(path: Path) -> DataError:
    if path.is_dir():
        message = "is a folder; move it out of studies/, where only study files (<id>.yaml) belong"
    elif ".yaml" in path.name.lower() and path.suffix.lower() != ".yaml":  # x.yaml.bak, x.yaml~: a copy
        message = (
            "looks like a copy of a study file; move it out of studies/, where only study files (<id>.yaml) belong"
        )
    else:
        message = f"rename it {path.stem}.yaml: study files end in .yaml, and nothing else belongs in studies/"
    return DataError([Problem(path, 1, "", message)])


def _read_or_error(path: Path, root: Path) -> Document | DataError:
    try:
        return read_document(path, root)
    except DataError as error:
        return error
    except FileNotFoundError:
        return DataError([Problem(path, 1, "", "file is missing")])


def read_document(path: Path, root: Path) -> Document:
    """Parse one YAML file under `root`, raising DataError with the line of any problem."""
    text = _read_text(path, root)
    data, lines = _parse(path, text)
    return Document(path, data, lines)


def _read_text(path: Path, root: Path) -> str:
    """The text of a plain file inside `root`: never a directory, device or FIFO
    (opened without blocking, so a FIFO cannot hang the build), never a file a
    link leads to outside `root`, and never more than MAX_FILE_BYTES read."""
    try:
        outside = not path.resolve().is_relative_to(root.resolve())
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a loop of links
        raise DataError([Problem(path, 1, "", "is a link that leads round in a loop")]) from None
    if outside:
        raise DataError(
            [Problem(path, 1, "", f"is a link to a file outside {display_path(root)}/; data files must be inside it")]
        )
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        kind = "a link to nothing" if path.is_symlink() else "missing"
        raise DataError([Problem(path, 1, "", f"file is {kind}")]) from None
    except OSError as error:
        raise DataError([Problem(path, 1, "", f"cannot be read: {error.strerror}")]) from None
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode):
        os.close(handle)
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a plain file"
        raise DataError([Problem(path, 1, "", f"is {kind}; data files must be plain YAML files")])
    with os.fdopen(handle, "rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise DataError([Problem(path, 1, "", f"file is over {MAX_FILE_BYTES:,} bytes, the limit")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(
            [Problem(path, line, "", f"byte 0x{raw[error.start]:02x} is not UTF-8; save the file as UTF-8")]
        ) from None
    forbidden = _FORBIDDEN_CHARACTER.search(text)
    if forbidden:
        line = text.count("\n", 0, forbidden.start()) + 1
        raise DataError(
            [
                Problem(
                    path, line, "", f"character U+{ord(forbidden.group()):04X} is not allowed in a data file; remove it"
                )
            ]
        )
    return text


# YAML allows tab, line feed, carriage return and NEL among the control characters.
# Bidirectional overrides and isolates are refused too: they make text read other
# than it is stored (the "Trojan Source" trick), and English text never needs them.
_FORBIDDEN_CHARACTER = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)
MAX_DEPTH = 32  # the data nests a few levels; PyYAML's composer recurses (and crashes) on thousands


# A pure function of the file's name and text. A long `make serve` parses again only the files a
# save changed (0.3 s of each re-render at 100 studies); nothing downstream mutates what it returns.
@functools.lru_cache(maxsize=1024)
def _parse(path: Path, text: str) -> tuple[Any, dict[Loc, int]]:
    for number, line_text in enumerate(text.splitlines() if "\t" in text else (), 1):
        indent = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
        if "\t" in indent:
            raise DataError([Problem(path, number, "", "tab in indentation; indent with spaces")])
    composer = _Composer(path)
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            composer.take(event)
        composer.finish()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        started = error.context_mark.line + 1 if error.context_mark else line
        context = f"{error.context} (started on line {started})" if error.context and started != line else error.context
        reason = ", ".join(filter(None, [context, error.problem]))
        raise DataError([Problem(path, line, "", f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as error:
        raise DataError([Problem(path, 1, "", f"YAML error: {excerpt_text(str(error))}")]) from None
    finally:
        composer.constructor.dispose()
    if not composer.documents:
        raise DataError([Problem(path, 1, "", "file is empty")])
    if composer.problems:
        raise DataError(composer.problems)
    return composer.root, composer.lines


@dataclasses.dataclass
class _Open:
    """A mapping or sequence being built. `named` is its loc as a problem of nesting names it
    (keys as written), and `name` the key as written or the last index."""

    loc: Loc
    named: Loc
    value: Any
    keep: bool  # False inside a value that is dropped (its key is a duplicate or not text)
    name: Any = -1
    awaiting_key: bool = True
    key: Any = None
    key_line: int = 0
    key_ok: bool = False
    first_line: dict[Any, int] = dataclasses.field(default_factory=dict)


class _Composer:
    """Python data from PyYAML's event stream, in one pass, recording the line of each value.

    PyYAML's own composer recurses (and crashes) on thousands of levels of nesting, and
    lets through what the data never needs: aliases, which make alias bombs (refused, so
    the data is bounded by the size of the file), tags, and duplicate keys (it keeps the
    last). An alias, a tag or nesting past MAX_DEPTH anywhere in the file is
    the one problem reported; otherwise every problem of every value is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.constructor = yaml.CSafeLoader("")  # resolves and constructs the scalars that are not text
        self.open: list[_Open] = []
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self.anchors: dict[str, yaml.Mark] = {}
        self.root: Any = None
        self.root_mark: yaml.Mark | None = None
        self.documents = 0
        self.pending: yaml.YAMLError | None = None  # PyYAML's composer errors, raised after the checks above

    def take(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents == 2:
                self._later("expected a single document in the stream", self.root_mark, "but found another document",
                            event.start_mark)  # fmt: skip
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            finished = self.open.pop()
            self._add(finished.value)
        elif isinstance(event, yaml.AliasEvent):
            self._refuse(event, "YAML aliases (*name) are not allowed; write the value out", self._next_field())
        elif isinstance(event, yaml.ScalarEvent):
            self._anchor(event)
            loc, _, keep = self._place(event)
            self._add(self._scalar_value(event, loc, keep))
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._start(event)

    def finish(self) -> None:
        if self.pending is not None:
            raise self.pending

    def _later(self, context: str, context_mark: yaml.Mark | None, problem: str, problem_mark: yaml.Mark) -> None:
        if self.pending is None:
            self.pending = yaml.composer.ComposerError(context, context_mark, problem, problem_mark)

    def _anchor(self, event: yaml.NodeEvent) -> None:
        if event.anchor in self.anchors:
            self._later("found duplicate anchor; first occurrence", self.anchors[event.anchor], "second occurrence",
                        event.start_mark)  # fmt: skip
        elif event.anchor is not None:
            self.anchors[event.anchor] = event.start_mark

    def _refuse(self, event: yaml.Event, message: str, field: str) -> None:
        raise DataError([Problem(self.path, event.start_mark.line + 1, field, message)])

    def _next_field(self) -> str:
        """The field the next value belongs to, as a problem names it."""
        if not self.open:
            return ""
        parent = self.open[-1]
        if isinstance(parent.value, list):
            return format_loc((*parent.named, parent.name + 1))
        return format_loc(parent.named if parent.awaiting_key else (*parent.named, parent.name))

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        if event.tag and not event.implicit:
            self._refuse(event, f"YAML tags ({event.tag}) are not allowed; remove it", self._next_field())
        self._anchor(event)
        loc, named, keep = self._place(event)
        if len(self.open) == MAX_DEPTH:
            field = format_loc(named[:4]) + ("…" if len(named) > 4 else "")
            self._refuse(event, f"nested more than {MAX_DEPTH} levels deep", field)
        value: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.open.append(_Open(loc, named, value, keep))

    def _place(self, event: yaml.NodeEvent) -> tuple[Loc, Loc, bool]:
        """Where a value that starts goes: its loc in the data, its loc as a problem of nesting
        names it, and whether it is kept. A key sits at its mapping's loc."""
        if not self.open:
            self.root_mark = self.root_mark or event.start_mark
            loc: Loc = ()
            named: Loc = ()
            keep = self.pending is None
        else:
            parent = self.open[-1]
            keep = parent.keep
            if isinstance(parent.value, list):
                parent.name += 1
                loc, named = (*parent.loc, len(parent.value)), (*parent.named, parent.name)
            elif parent.awaiting_key:
                parent.name = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                parent.key_line = event.start_mark.line + 1
                loc, named = parent.loc, (*parent.named, "?")
            else:
                loc, named = (*parent.loc, parent.key), (*parent.named, parent.name)
                keep = keep and parent.key_ok
        if keep:
            self.lines.setdefault(loc, event.start_mark.line + 1)
        return loc, named, keep

    def _scalar_value(self, event: yaml.ScalarEvent, loc: Loc, keep: bool) -> Any:
        try:
            return _scalar(event, self.constructor)
        except ValueError as error:
            if keep:
                self.problems.append(Problem(self.path, event.start_mark.line + 1, format_loc(loc), str(error)))
            return None

    def _add(self, value: Any) -> None:
        """Put a finished value (a scalar, or a collection just closed) into its parent."""
        if not self.open:
            self.root = value
            return
        parent = self.open[-1]
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.awaiting_key:
            self._take_key(parent, value)
        else:
            if parent.key_ok and parent.keep:
                parent.value[parent.key] = value  # its line is the key's, recorded in _take_key
            parent.awaiting_key = True

    def _take_key(self, parent: _Open, key: Any) -> None:
        parent.awaiting_key, parent.key, parent.key_ok = False, key, False
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            problem = Problem(self.path, parent.key_line, format_loc(parent.loc), f"key {key!r} must be text")
        elif key in parent.first_line:
            message = f"duplicate key (first given on line {parent.first_line[key]})"
            problem = Problem(self.path, parent.key_line, format_loc((*parent.loc, key)), message)
        else:
            parent.key_ok = True
            parent.first_line[key] = parent.key_line
            if parent.keep:
                self.lines[(*parent.loc, key)] = parent.key_line
            return
        if parent.keep:
            self.problems.append(problem)


def excerpt_text(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# YAML 1.1 also reads 1:20 as 80 (base 60), 0x1f, 0o17 and 1_000: the data is written
# in plain decimal, so those are refused rather than silently converted.
_PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")
# YAML 1.1 reads a whole number with a leading zero as octal (050 is 40), which plain decimal digits hide.
_LEADING_ZERO = re.compile(r"^[-+]?0\d")
# Larger whole numbers than JSON readers keep exactly (2**53) are refused.
MAX_INTEGER = 2**53


_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(event: yaml.ScalarEvent, constructor: yaml.CSafeLoader) -> Any:
    """One scalar as Python data; raises ValueError with a reason a contributor can act on."""
    if event.tag is not None:  # !!binary, !!omap, !!int on nothing: the data needs none, and some crash PyYAML
        raise ValueError(f"YAML tags ({event.tag}) are not allowed; remove it")
    tag = constructor.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR_TAG:
        value: Any = event.value
    else:
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = constructor.construct_object(node)
        except yaml.YAMLError as error:
            raise ValueError(f"cannot read value: {getattr(error, 'problem', error)}") from None
        except (ValueError, OverflowError) as error:  # PyYAML's dates: 2026-02-30, year 0
            raise ValueError(f"{event.value!r} is not a real date ({error})") from None
    if isinstance(value, str) and (forbidden := _FORBIDDEN_CHARACTER.search(value)):
        raise ValueError(f"character U+{ord(forbidden.group()):04X} (written as an escape) is not allowed; remove it")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _PLAIN_NUMBER.match(event.value):
        raise ValueError(f"write the number {event.value!r} in plain decimal digits")
    if type(value) is int and _LEADING_ZERO.match(event.value):
        raise ValueError(f"write the number {event.value!r} without its leading zero: YAML reads it as octal, {value}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{event.value!r} is not a finite number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise ValueError(f"the number {event.value[:12]}… ({len(event.value)} digits) is too large")
    return value
