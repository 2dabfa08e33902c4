"""Step 1, load: read YAML data files, keeping the line of every value.

PyYAML's C loader builds the node tree; our own walk turns it into Python data,
records where each value stands, and refuses what YAML would let through
silently (duplicate keys) or dangerously (aliases, which make alias bombs)."""

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
    try:
        _check_depth(path, text)
        loader = yaml.CSafeLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        started = error.context_mark.line + 1 if error.context_mark else line
        context = f"{error.context} (started on line {started})" if error.context and started != line else error.context
        reason = ", ".join(filter(None, [context, error.problem]))
        raise DataError([Problem(path, line, "", f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as error:
        raise DataError([Problem(path, 1, "", f"YAML error: {excerpt_text(str(error))}")]) from None
    if node is None:
        raise DataError([Problem(path, 1, "", "file is empty")])
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    data = _construct(node, (), lines, problems, set(), path, loader)
    if problems:
        raise DataError(problems)
    return data, lines


def _check_depth(path: Path, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before PyYAML builds its node tree: the
    event stream is read without recursion, the tree is built with it. The path of
    keys and indexes is followed, to name the field."""
    open_nodes: list[list[Any]] = []  # [loc, next index or key, whether a key comes next]
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            open_nodes.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if isinstance(event, yaml.AliasEvent):
            line, message = event.start_mark.line + 1, "YAML aliases (*name) are not allowed; write the value out"
            raise DataError([Problem(path, line, _field_at(open_nodes), message)])
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)) and event.tag and not event.implicit:
            line, message = event.start_mark.line + 1, f"YAML tags ({event.tag}) are not allowed; remove it"
            raise DataError([Problem(path, line, _field_at(open_nodes), message)])
        loc: Loc = ()
        if open_nodes:
            parent = open_nodes[-1]
            if parent[2] is None:  # a sequence: parent[1] counts its items
                parent[1] += 1
                loc = (*parent[0], parent[1])
            elif parent[2]:  # a mapping's key
                parent[1] = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                parent[2] = False
                loc = (*parent[0], "?")
            else:  # a mapping's value
                loc = (*parent[0], parent[1])
                parent[2] = True
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(open_nodes) == MAX_DEPTH:
                field = format_loc(loc[:4]) + ("…" if len(loc) > 4 else "")
                raise DataError(
                    [Problem(path, event.start_mark.line + 1, field, f"nested more than {MAX_DEPTH} levels deep")]
                )
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            open_nodes.append([loc, None if is_mapping else -1, True if is_mapping else None])


def _field_at(open_nodes: list[list[Any]]) -> str:
    """The field the next event of the stream belongs to, as a problem names it."""
    if not open_nodes:
        return ""
    loc, key, is_key = open_nodes[-1]
    if is_key is None:
        return format_loc((*loc, key + 1))
    return format_loc(loc if is_key else (*loc, key))


def excerpt_text(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# YAML 1.1 also reads 1:20 as 80 (base 60), 0x1f, 0o17 and 1_000: the data is written
# in plain decimal, so those are refused rather than silently converted.
_PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")
# YAML 1.1 reads a whole number with a leading zero as octal (050 is 40), which plain decimal digits hide.
_LEADING_ZERO = re.compile(r"^[-+]?0\d")
# Larger whole numbers than JSON readers keep exactly (2**53) are refused.
MAX_INTEGER = 2**53


def _scalar(node: yaml.ScalarNode, loader: yaml.CSafeLoader) -> Any:
    """One scalar as Python data; raises ValueError with a reason a contributor can act on."""
    try:
        value = loader.construct_object(node)
    except yaml.YAMLError as error:
        raise ValueError(f"cannot read value: {getattr(error, 'problem', error)}") from None
    except (ValueError, OverflowError) as error:  # PyYAML's dates: 2026-02-30, year 0
        raise ValueError(f"{node.value!r} is not a real date ({error})") from None
    if isinstance(value, str) and (forbidden := _FORBIDDEN_CHARACTER.search(value)):
        raise ValueError(f"character U+{ord(forbidden.group()):04X} (written as an escape) is not allowed; remove it")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _PLAIN_NUMBER.match(node.value):
        raise ValueError(f"write the number {node.value!r} in plain decimal digits")
    if type(value) is int and _LEADING_ZERO.match(node.value):
        raise ValueError(f"write the number {node.value!r} without its leading zero: YAML reads it as octal, {value}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{node.value!r} is not a finite number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise ValueError(f"the number {node.value[:12]}… ({len(node.value)} digits) is too large")
    return value


def _construct(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[Problem],
    seen: set[int],
    path: Path,
    loader: yaml.CSafeLoader,
) -> Any:
    """Turn a YAML node into Python data, recording the line of each value.

    Aliases are refused: the data never needs them, and refusing them bounds an
    alias bomb to the size of the file."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        try:
            return _scalar(node, loader)
        except ValueError as error:
            problems.append(Problem(path, node.start_mark.line + 1, format_loc(loc), str(error)))
            return None
    if id(node) in seen:
        problems.append(
            Problem(
                path,
                node.start_mark.line + 1,
                format_loc(loc),
                "YAML aliases (*name) are not allowed; write the value out",
            )
        )
        return None
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), lines, problems, seen, path, loader) for i, item in enumerate(node.value)]
    result: dict[Any, Any] = {}
    first_line: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = _construct(key_node, loc, {}, problems, seen, path, loader)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            problems.append(Problem(path, line, format_loc(loc), f"key {key!r} must be text"))
            continue
        if key in first_line:
            problems.append(
                Problem(path, line, format_loc((*loc, key)), f"duplicate key (first given on line {first_line[key]})")
            )
            continue
        first_line[key] = line
        lines[(*loc, key)] = line
        result[key] = _construct(value_node, (*loc, key), lines, problems, seen, path, loader)
        lines[(*loc, key)] = line
    return result
