"""Step 1, load: read YAML data files, keeping the line of every value.

PyYAML's C loader builds the node tree; our own walk turns it into Python data,
records where each value stands, and refuses what YAML would let through
silently (duplicate keys) or dangerously (aliases, which make alias bombs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]
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
        where = f"{display_path(self.file)}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class DataError(Exception):
    """The data could not be built; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(set(problems))


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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


def read_document(path: Path) -> Document:
    """Parse one YAML file, raising DataError with the line of any problem."""
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise DataError([Problem(path, 1, "", f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(
            [Problem(path, line, "", f"byte 0x{raw[error.start]:02x} is not UTF-8; save the file as UTF-8")]
        ) from None
    data, lines = _parse(path, text)
    return Document(path, data, lines)


def _parse(path: Path, text: str) -> tuple[Any, dict[Loc, int]]:
    for number, line_text in enumerate(text.splitlines(), 1):
        indent = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
        if "\t" in indent:
            raise DataError([Problem(path, number, "", "tab in indentation; indent with spaces")])
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        started = error.context_mark.line + 1 if error.context_mark else line
        context = f"{error.context} (started on line {started})" if error.context and started != line else error.context
        reason = ", ".join(filter(None, [context, error.problem]))
        raise DataError([Problem(path, line, "", f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as error:
        raise DataError([Problem(path, 1, "", f"YAML error: {error}")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise DataError([Problem(path, 1, "", "file is empty")])
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    data = _construct(node, (), lines, problems, set(), path, loader)
    if problems:
        raise DataError(problems)
    return data, lines


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
            return loader.construct_object(node)
        except yaml.YAMLError as error:
            problems.append(
                Problem(
                    path,
                    node.start_mark.line + 1,
                    format_loc(loc),
                    f"cannot read value: {getattr(error, 'problem', error)}",
                )
            )
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
