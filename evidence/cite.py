"""Citations: every reference as CSL-JSON, formatted by a CSL processor, exported.

`data/references.yaml` is the only source. `csl_item` turns a reference into
CSL-JSON; citeproc-py formats it with the shipped AMA and APA styles
(templates/csl/); BibTeX is written with pybtex and RIS with rispy. No
citation is built by hand.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
import rispy

from evidence import cache
from evidence.schema import Reference

STYLES = Path(__file__).resolve().parent.parent / "templates" / "csl"
AMA = "american-medical-association"
APA = "apa"

CSL_TYPES = {
    "article-journal": "article-journal",
    "letter": "article-journal",
    "editorial": "article-journal",
    "news-article": "webpage",
    "registry-record": "webpage",
    "press-release": "webpage",
    "webpage": "webpage",
}


def csl_item(key: str, reference: Reference) -> dict[str, Any]:
    """A reference as CSL-JSON. Unknown fields are left out, never filled in. `issued`
    is the print issue where there is one, and `available-date` the online date."""
    title = f"[{reference.title}]" if reference.title_supplied else reference.title
    item: dict[str, Any] = {"id": key, "type": CSL_TYPES[reference.type], "title": title}
    if reference.authors:
        item["author"] = [
            {"family": author.family, **({"given": author.given} if author.given else {})}
            for author in reference.authors
        ]
    optional = {
        "container-title": reference.container,
        "container-title-short": reference.container_short,
        "volume": reference.volume,
        "issue": reference.issue,
        "page": reference.pages,
        "DOI": reference.doi,
        "PMID": reference.pmid,
        "PMCID": reference.pmcid,
        "URL": reference.url,
    }
    item.update({name: value for name, value in optional.items() if value})
    # An article known only online was issued online: the reference managers' year.
    if reference.issued or reference.online:
        item["issued"] = {"date-parts": [date_parts(reference.issued or reference.online or "")]}
    if reference.online:
        item["available-date"] = {"date-parts": [date_parts(reference.online)]}
    item_notes = [note for note in notes(reference) if note]
    if item_notes:
        item["note"] = "; ".join(item_notes)
    return item


def date_parts(text: str) -> list[int]:
    return [int(part) for part in text.split("-")]


def notes(reference: Reference) -> list[str]:
    """What an export's note says of the dates and authors that its fields cannot."""
    return [
        f"ClinicalTrials.gov {reference.nct}" if reference.nct else "",
        f"Published online {reference.online}" if reference.online else "",
        f"Print issue {reference.issued}" if reference.online and reference.issued else "",
        "Year inferred, not seen" if reference.issued_inferred else "",
        "Date of the last update" if reference.issued_is_update else "",
        "Co-authors, if any, not known" if reference.coauthors_unknown else "",
        "" if reference.authors_complete or reference.coauthors_unknown else "Author list incomplete",
    ]


def ama_item(key: str, reference: Reference) -> dict[str, Any]:
    """The CSL item to format in AMA style: an incomplete author list ends in et al.,
    and a work with no volume is dated by its online date (AMA: "Published online")."""
    item = csl_item(key, reference)
    item.pop("note", None)
    if reference.authors and not reference.authors_complete and not reference.coauthors_unknown:
        item["author"] = [*item["author"], {"literal": "et al"}]
    online = item.pop("available-date", None)  # citeproc-py knows CSL 1.0.1 only
    if online and not reference.volume:
        item["issued"] = online
    return item


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


def month_year(text: str) -> str:
    parts = date_parts(text)
    return f"{MONTHS[parts[1] - 1]} {parts[0]}" if len(parts) > 1 else str(parts[0])


def finish_ama(entry: str, reference: Reference) -> str:
    """What the AMA style cannot say itself: no comma between a lone author and et al.
    ("Heifets et al.", as CSL's contextual rule has it; after several names AMA keeps
    it: "Williams NR, Heifets BD, Blasey C, et al."), a print issue beside the online
    date, an inferred year, an update date, unknown co-authors."""
    entry = re.sub(r"^([^,.]+), et al\b", r"\1 et al", entry)
    if reference.coauthors_unknown:
        entry = entry.replace(
            f"{reference.authors[0].family}.", f"{reference.authors[0].family} [co-authors not known].", 1
        )
    if reference.online and reference.issued and not reference.volume:
        entry = re.sub(
            r"(Published online [^.]+\.)", rf"\1 Print issue {month_year(reference.issued)}.", entry, count=1
        )
    if reference.issued_inferred and reference.issued:
        year = reference.issued[:4]
        entry = re.sub(rf"Published online {year}\.", f"[{year}, year inferred].", entry, count=1)
        entry = (
            re.sub(rf"\b{year}\.(?=\s|$)", f"[{year}, year inferred].", entry, count=1)
            if "inferred" not in entry
            else entry
        )
    if reference.issued_is_update:
        entry = re.sub(r"(?:Published |Accessed )?(\w+ \d{1,2}, \d{4})", r"Updated \1", entry, count=1)
    return entry


# --- Formatting with citeproc-py --------------------------------------------------


def _uses_title(element: Any, seen: tuple[str, ...] = ()) -> bool:
    for node in element.iter():
        if "title" in (node.get("variable") or "").split():
            return True
        macro = node.get("macro")
        if macro and macro not in seen and _uses_title(node.get_macro(macro), (*seen, macro)):
            return True
    return False


@functools.cache
def _citeproc() -> Any:
    """citeproc-py, imported when an entry is first formatted rather than taken from
    the cache (a build whose citations are all kept never loads it), and patched once."""
    import citeproc.model
    import citeproc.source.json

    original = citeproc.model.Substitute.add_to_repressed_list

    def repress_substituted_title(self: Any, child: Any, context: Any) -> None:
        """CSL suppresses a variable once it has stood in for a missing author. citeproc-py
        0.11 does so only when the substitute is a bare variable; the AMA and APA styles
        substitute the title through macros, which printed it twice. Suppress it here too."""
        original(self, child, context)
        if _uses_title(child):
            tag = child.tag.rsplit("}", 1)[0] + "}text"
            context.get_layout().repressed.setdefault(tag, []).append("title")

    citeproc.model.Substitute.add_to_repressed_list = repress_substituted_title
    return citeproc


@functools.cache
def _style(name: str) -> Any:
    return _citeproc().CitationStylesStyle(str(STYLES / f"{name}.csl"), validate=False)


# Formatted entries by (style, HTML or plain, item): citeproc-py is slow, and a long
# `make serve` session formats the same references on every rebuild.
_FORMATTED: dict[tuple[str, bool, bytes], str] = {}


def format_bibliography(items: list[dict[str, Any]], style: str, *, as_html: bool) -> list[str]:
    """Format CSL-JSON items in the given order with a shipped CSL style.

    Returns one entry per item, without the number AMA puts in front (citeproc-py
    cannot set it in a margin); the caller numbers the list. An entry depends only
    on the style and its item, so entries are remembered for the life of the process,
    and kept between builds (evidence/cache.py)."""
    keys = [(style, as_html, orjson.dumps(item, option=orjson.OPT_SORT_KEYS)) for item in items]
    for key in keys:
        if key not in _FORMATTED and (kept := cache.get("citation", _cache_name(key))) is not None:
            _FORMATTED[key] = kept.decode("utf-8")
    missing = [(item, key) for item, key in zip(items, keys, strict=True) if key not in _FORMATTED]
    if missing:
        formatted = _format([item for item, _ in missing], style, as_html)
        for (_, key), entry in zip(missing, formatted, strict=True):
            _FORMATTED[key] = entry
            cache.put("citation", _cache_name(key), entry.encode("utf-8"))
    return [_FORMATTED[key] for key in keys]


def _cache_name(key: tuple[str, bool, bytes]) -> str:
    """What an entry is made from: citeproc-py, the style, this module (its fixes to
    citeproc-py and to what it prints), HTML or plain text, and the item."""
    style, as_html, item = key
    return cache.key(cache.version("citeproc-py"), cache.file_digest(STYLES / f"{style}.csl"),
                     cache.file_digest(Path(__file__)), str(as_html), item)  # fmt: skip


def _format(items: list[dict[str, Any]], style: str, as_html: bool) -> list[str]:
    citeproc = _citeproc()
    output = citeproc.formatter.html if as_html else citeproc.formatter.plain
    bibliography = citeproc.CitationStylesBibliography(_style(style), citeproc.source.json.CiteProcJSON(items), output)
    for item in items:
        bibliography.register(citeproc.Citation([citeproc.CitationItem(item["id"])]))
    entries = []
    for number, entry in enumerate(bibliography.bibliography(), 1):
        text = re.sub(rf"^{number}\.\s*", "", str(entry))
        entries.append(re.sub(r"([?!])\.", r"\1", text))  # CSL's rule against "?." that citeproc-py misses
    return entries


def to_csl_json(items: Iterable[dict[str, Any]]) -> str:
    return json_text(list(items))


# --- BibTeX and RIS ----------------------------------------------------------------

BIBTEX_TYPES = {"article-journal": "article", "webpage": "misc"}
RIS_TYPES = {"article-journal": "JOUR", "webpage": "ELEC"}


class _UnnumberedRisWriter(rispy.RisWriter):  # type: ignore[misc]  # rispy ships no types
    """rispy writes a line "1." before each record; RIS has no such line, and readers show it."""

    def _format_reference(self, ref: dict[str, Any], count: int, n: int) -> Any:
        header = self.set_header(count)
        return (line for line in super()._format_reference(ref, count, n) if line != header)


def bibtex_entries(items: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The BibTeX entry of each CSL-JSON item, by id, written by pybtex and kept
    (evidence/cache.py), as a formatted citation is: pybtex takes longer to import and
    write than the rest of the exports."""
    return {item["id"]: _kept_bibtex_entry(item) for item in items}


def _kept_bibtex_entry(item: dict[str, Any]) -> str:
    name = cache.key(cache.version("pybtex"), cache.file_digest(Path(__file__)),
                     orjson.dumps(item, option=orjson.OPT_SORT_KEYS))  # fmt: skip
    return cache.kept("bibtex", name, lambda: _bibtex_entry(item).encode("utf-8")).decode("utf-8")


# BibTeX counts braces to find where a value ends, escaped or not, so a lone brace in
# the data is written as the LaTeX command for it.
_BIBTEX_BRACES = str.maketrans({"{": r"\textbraceleft{}", "}": r"\textbraceright{}"})


def _brace_safe(value: Any) -> Any:
    if isinstance(value, str):
        return value.translate(_BIBTEX_BRACES)
    if isinstance(value, dict):
        return {key: _brace_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_brace_safe(item) for item in value]
    return value


def _name(part: str) -> str:
    """A name part as BibTeX reads it back: one holding " and " or a comma (a corporate
    author, "Tester, Jr") is braced, or BibTeX would split it into several people."""
    return f"{{{part}}}" if re.search(r"\band\b|,", part, flags=re.IGNORECASE) else part


def _bibtex_entry(item: dict[str, Any]) -> str:
    from pybtex.database import BibliographyData, Entry, Person  # only for an entry not kept

    item = _brace_safe(item)
    fields = {"title": "{" + item["title"] + "}"}  # braces keep the title's capitals
    date = item.get("issued", {}).get("date-parts", [[]])[0]
    if date:
        fields["year"] = str(date[0])
    if len(date) > 1:
        fields["month"] = str(date[1])
    container = "journal" if item["type"] == "article-journal" else "howpublished"
    names = {"container-title": container, "volume": "volume", "issue": "number", "page": "pages",
             "DOI": "doi", "URL": "url", "PMID": "pmid", "note": "note"}  # fmt: skip
    fields.update({field: str(item[name]) for name, field in names.items() if item.get(name)})
    persons = {
        "author": [Person(first=_name(a.get("given", "")), last=_name(a["family"])) for a in item.get("author", [])]
    }
    if persons["author"] and "Author list incomplete" in item.get("note", ""):
        persons["author"].append(Person("others"))  # BibTeX's own "and others"
    entry = Entry(BIBTEX_TYPES[item["type"]], fields=fields, persons=persons)
    text: str = _bibtex_writer().to_string(BibliographyData({item["id"]: entry}))
    return text


@functools.cache
def _bibtex_writer() -> Any:
    """One writer for every entry: pybtex looks its writer up through package entry
    points on each to_string("bibtex") call."""
    from pybtex.database.output.bibtex import Writer

    return Writer()


def _one_line(value: Any) -> Any:
    """RIS has one field per line: a line break in a value would start a forged field
    (or a forged record), so white space runs fold to one space."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_one_line(item) for item in value]
    if isinstance(value, dict):
        return {key: _one_line(item) for key, item in value.items()}
    return value


def to_ris(items: Iterable[dict[str, Any]]) -> str:
    """RIS for CSL-JSON items, written by rispy; one reference is always one record."""
    records = []
    for item in map(_one_line, items):
        record: dict[str, Any] = {
            "type_of_reference": RIS_TYPES[item["type"]],
            "id": item["id"],
            "title": item["title"],
        }
        if item.get("author"):
            # RIS has no "and others": an incomplete list says so in its note (N1), since
            # an "et al." author would become a person in a reference manager.
            record["authors"] = [", ".join(filter(None, [a["family"], a.get("given")])) for a in item["author"]]
        date = item.get("issued", {}).get("date-parts", [[]])[0]
        if date:
            record["year"] = str(date[0])
            record["date"] = "/".join(f"{part:02d}" if i else str(part) for i, part in enumerate(date))
        names = {"container-title": "secondary_title", "volume": "volume", "issue": "number", "DOI": "doi",
                 "URL": "urls", "PMID": "accession_number", "note": "notes"}  # fmt: skip
        for name, field in names.items():
            if item.get(name):
                record[field] = [item[name]] if field in {"notes", "urls"} else item[name]
        if item.get("page"):
            start, _, end = item["page"].partition("-")
            record["start_page"] = start
            if end:
                record["end_page"] = end
        records.append(record)
    text: str = rispy.dumps(records, implementation=_UnnumberedRisWriter)
    return text


def exports(items: list[dict[str, Any]], folder: str, bibtex: Mapping[str, str]) -> dict[str, str]:
    """The three export files for a set of items, under docs/<folder>/; `bibtex`
    holds each item's entry (`bibtex_entries`), which pybtex separates with a blank line."""
    return {
        f"{folder}/references.bib": "\n".join(bibtex[item["id"]] for item in items),
        f"{folder}/references.ris": to_ris(items),
        f"{folder}/references.json": to_csl_json(items),
    }


def escaped_item(item: dict[str, Any], escape: Any) -> dict[str, Any]:
    """A copy of a CSL item with every text value escaped, for citeproc's HTML output,
    which does not escape the data it prints. `escape` must produce numeric character
    references: a style's case changes would turn `&lt;` into `&Lt;`."""

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return escape(value) if isinstance(value, str) and key not in {"id", "type"} else value

    escaped: dict[str, Any] = walk(item)
    return escaped


def numbering(order: Iterable[str], known: Mapping[str, Reference]) -> dict[str, int]:
    """One number per reference, site-wide: order of first use, then the unused ones."""
    numbers: dict[str, int] = {}
    for key in [*order, *known]:
        numbers.setdefault(key, len(numbers) + 1)
    return numbers


def plain_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def json_text(data: Any) -> str:
    """JSON as the downloads print it: keys sorted, two-space indent, UTF-8. orjson
    writes what `json.dumps(indent=2, sort_keys=True, ensure_ascii=False)` would;
    the standard library falls back to pure Python whenever it indents."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
