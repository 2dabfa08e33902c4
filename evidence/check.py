"""Step 2, check: check every record against the schema, then the rules that
span fields and records. Every problem is collected and reported at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import re
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, RootModel, TypeAdapter, ValidationError

from evidence import schema
from evidence.load import KEYED_FILES, DataError, DataFiles, Document, Problem, display_path
from evidence.schema import (
    CertaintyRating,
    Change,
    Claim,
    Commentary,
    Comparison,
    Fact,
    GlossaryTerm,
    Loc,
    Methods,
    Redirect,
    Reference,
    Registration,
    SiteInfo,
    Study,
    TimelineEvent,
    format_number,
    iter_facts,
    sources_of,
)

# --- 2. Validate ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SiteData:
    """Every validated record, with the document each came from."""

    info: SiteInfo
    comparison: Comparison
    changes: list[Change]
    methods: Methods
    studies: dict[str, Study]
    references: dict[str, Reference]
    registrations: dict[str, Registration]
    commentary: dict[str, Commentary]
    claims: dict[str, Claim]
    events: dict[str, TimelineEvent]
    glossary: dict[str, GlossaryTerm]
    redirects: dict[str, Redirect]
    documents: dict[tuple[str, str], Document]  # (kind, id) -> its file
    url: str  # where the site is published, ending in /
    preview: bool  # True while the address is the placeholder: pages then name no address

    @property
    def last_reviewed(self) -> dt.date:
        return max(study.last_reviewed for study in self.studies.values())

    @functools.cached_property
    def study_sources(self) -> dict[str, list[str]]:
        """The references each study's page cites, once each, in the order the page
        cites them: its paper and registration, the sources of its facts and its
        registration's, then the commentary on it. Several pages need them."""
        discussed: dict[str, list[str]] = {}
        for item in self.commentary.values():
            for study_id in item.discusses:
                discussed.setdefault(study_id, []).append(item.reference)
        sources = {}
        for study in self.studies.values():
            registration = self.registrations.get(study.registration.value or "")
            keys = sources_of(study, [study.reference] + ([registration.reference] if registration else []))
            keys += sources_of(registration, []) if registration else []
            sources[study.id] = list(dict.fromkeys(keys + discussed.get(study.id, [])))
        return sources


def _type_name(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a mapping",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def describe_error(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """Turn one pydantic error into a sentence that quotes the bad value."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    got = f"got {excerpt(value)}" if isinstance(value, (str, int, float, bool)) else f"got {_type_name(value)}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown field{_did_you_mean(str(error['loc'][-1]), model, error['loc'])}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, {got}"
    if kind == "string_pattern_mismatch":
        return f"expected {schema.PATTERN_DESCRIPTIONS.get(ctx.get('pattern', ''), 'text matching ' + str(ctx.get('pattern')))}, {got}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters, {got}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind in _EXPECTED:
        quoted = "; remove the quotes, which make it text" if _quoted(kind, value) else ""
        return f"expected {_EXPECTED[kind]}, {got}{quoted}"
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {format_number(next(iter(ctx.values())))}, {got}"
    if kind == "finite_number":
        return f"must be a finite number, {got}"
    if kind == "value_error":
        return f"{ctx.get('error', error['msg'])}, {got}"
    return f"{error['msg']}, {got}"


# What YAML reads an unquoted value as, for the kinds of error whose value may be quoted by mistake.
_UNQUOTED_TYPES: dict[str, tuple[type, ...]] = {
    "date": (dt.date,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def _quoted(kind: str, value: Any) -> bool:
    """True if `value` is text that YAML would read as the expected type without its quotes ("2026-12-01")."""
    wanted = _UNQUOTED_TYPES.get(kind.split("_")[0])
    if wanted is None or not isinstance(value, str) or len(value) > 40:
        return False
    try:
        unquoted = yaml.safe_load(value)
    except (yaml.YAMLError, ValueError):  # PyYAML raises ValueError on an impossible date
        return False
    return isinstance(unquoted, wanted) and (bool in wanted or not isinstance(unquoted, bool))


_BOUNDS = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than",
           "less_than_equal": "at most"}  # fmt: skip


def excerpt(value: Any, limit: int = 60) -> str:
    """A bad value as an error message quotes it: its repr, cut short, so that a
    whole file read by mistake is never printed."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(str(value)):,} characters)"


def _did_you_mean(name: str, model: type[BaseModel] | None, loc: Loc) -> str:
    fields = _fields_at(model, loc[:-1]) if model else []
    close = difflib.get_close_matches(name, fields, n=1)
    return f" (did you mean '{close[0]}'?)" if close else (f"; allowed: {', '.join(fields)}" if fields else "")


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model found by following `loc` from `model`."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def validate_value(document: Document, target: type[BaseModel] | TypeAdapter[Any], data: Any, prefix: Loc = ()) -> Any:
    """Validate data found at `prefix` in a document against a record type or a
    type adapter, raising DataError located to its lines."""
    model = None if isinstance(target, TypeAdapter) else target
    try:
        return target.validate_python(data) if isinstance(target, TypeAdapter) else target.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = (*prefix, *(part for part in item["loc"] if part != "[key]"))
            problems.append(document.problem(loc, describe_error({**item, "loc": loc[len(prefix) :]}, model)))
        raise DataError(problems) from None


SLUG = TypeAdapter(schema.Slug)
NCT = TypeAdapter(schema.Nct)


# The record type of each keyed file (load.KEYED_FILES names the files): kind -> (key type, record type).
KEYED_RECORDS: dict[str, tuple[TypeAdapter[Any], type[BaseModel]]] = {
    "reference": (SLUG, Reference),
    "registration": (NCT, Registration),
    "commentary": (SLUG, Commentary),
    "claim": (SLUG, Claim),
    "event": (SLUG, TimelineEvent),
    "term": (SLUG, GlossaryTerm),
    "redirect": (SLUG, Redirect),
}
ChangeLog = RootModel[list[Change]]
SINGLE_RECORDS: dict[str, type[BaseModel]] = {"site": SiteInfo, "changes": ChangeLog, "comparison": Comparison,
                                              "methods": Methods}  # fmt: skip
# The address in data/site.yaml until the production address is decided. A build
# that has only this address is a preview; a release build refuses it.
PLACEHOLDER_HOST = "ketamine-naltrexone.example.org"


def check_data(files: DataFiles, today: dt.date, *, site_url: str | None = None, release: bool = False) -> SiteData:
    """Step 2: validate every record, then the rules that span records, raising
    DataError with every problem. `site_url` is the SITE_URL of a deployment, which
    overrides data/site.yaml's; `release` refuses the placeholder address."""
    problems: list[Problem] = list(files.problems)
    documents: dict[tuple[str, str], Document] = {}
    known: dict[str, set[str] | None] = {}
    loaded: dict[str, dict[str, Any]] = {}
    for kind, (key_type, record_type) in KEYED_RECORDS.items():
        document = files.keyed[kind]
        loaded[kind], known[kind] = _check_keyed(document, key_type, record_type, problems)
        if isinstance(document, Document):
            documents.update({(kind, key): document for key in loaded[kind]})
    single = {name: _check_single(name, files.single[name], problems, documents) for name in SINGLE_RECORDS}
    studies = _check_studies(files.studies, problems, documents, known)
    override_problems = list(check_site_url_override(site_url))
    problems += override_problems
    if any(record is None for record in single.values()):  # reported; links not checked
        raise DataError(problems)
    info: SiteInfo = single["site"]
    url = (None if override_problems else site_url) or info.url
    url = url if url.endswith("/") else url + "/"
    site = SiteData(
        info=info,
        comparison=single["comparison"],
        changes=single["changes"].root,
        methods=single["methods"],
        studies=studies,
        references=loaded["reference"],
        registrations=loaded["registration"],
        commentary=loaded["commentary"],
        claims=loaded["claim"],
        events=loaded["event"],
        glossary=loaded["term"],
        redirects=loaded["redirect"],
        documents=documents,
        url=url,
        preview=urllib.parse.urlsplit(url).hostname == PLACEHOLDER_HOST,
    )
    problems += check_site(site, today, known)
    problems += check_reserved_redirects(site)
    problems += check_glossary_anchors(site)
    if not override_problems:  # a bad SITE_URL is reported once, not again as the placeholder it fell back to
        problems += check_release(site, release, site_url)
    if problems:
        raise DataError(problems)
    return site


def _check_keyed(
    document: Document | DataError, key_type: TypeAdapter[Any], record_type: type[BaseModel], problems: list[Problem]
) -> tuple[dict[str, Any], set[str] | None]:
    """The valid records of a file keyed by id, each validated on its own, and every id
    the file defines (None if it could not be read), so that a link to a record with an
    error of its own is not reported again as a link to nothing."""
    if isinstance(document, DataError):
        problems.extend(document.problems)
        return {}, None
    if not isinstance(document.data, dict):
        problems.append(document.problem((), f"expected a mapping of id to record, got {_type_name(document.data)}"))
        return {}, None
    records = {}
    for key, raw in document.data.items():
        try:
            validate_value(document, key_type, key, (key,))
            records[key] = validate_value(document, record_type, raw, (key,))
        except DataError as error:
            problems.extend(error.problems)
    return records, {str(key) for key in document.data}


def _check_single(
    name: str, document: Document | DataError, problems: list[Problem], documents: dict[tuple[str, str], Document]
) -> Any:
    """The record of a file that holds one; None (and its problems) if it is invalid."""
    try:
        if isinstance(document, DataError):
            raise document
        record = validate_value(document, SINGLE_RECORDS[name], document.data)
    except DataError as error:
        problems.extend(error.problems)
        return None
    documents[(name, name)] = document
    return record


def _check_studies(
    files: Mapping[Path, Document | DataError],
    problems: list[Problem],
    documents: dict[tuple[str, str], Document],
    known: dict[str, set[str] | None],
) -> dict[str, Study]:
    """The valid studies, one per file. Links to a study whose file is broken are not
    reported a second time: the study is known by its id or, if the file cannot be
    read, by its file name."""
    studies: dict[str, Study] = {}
    known["study"] = study_ids = set()
    for path, document in files.items():
        study_ids.add(path.stem)
        if isinstance(document, DataError):
            problems.extend(document.problems)
            continue
        if isinstance(document.data, dict) and isinstance(document.data.get("id"), str):
            study_ids.add(document.data["id"])
        try:
            study: Study = validate_value(document, Study, document.data)
        except DataError as error:
            problems.extend(error.problems)
            continue
        problem = _misplaced_study(study, path, document, documents)
        if problem:
            problems.append(problem)
            continue
        studies[study.id] = study
        documents[("study", study.id)] = document
    return studies


def _misplaced_study(
    study: Study, path: Path, document: Document, documents: Mapping[tuple[str, str], Document]
) -> Problem | None:
    """A study whose id another file has, or unlike its file name, or reserved."""
    if ("study", study.id) in documents:
        first = documents[("study", study.id)]
        where = f"{display_path(first.path)}:{first.line_of(('id',))}"
        return document.problem(("id",), f"duplicate study id {study.id!r} (also in {where})")
    if study.id != path.stem:
        return document.problem(("id",), f"the file is {path.name}; name it {study.id}.yaml, after its id")
    if study.id in RESERVED_IDS:
        return document.problem(("id",), f"{study.id!r} is reserved for the list of studies; choose another id")
    return None


# Page names the build writes itself beside the study pages: an id must not take them.
RESERVED_IDS = frozenset({"index"})


def check_reserved_redirects(site: SiteData) -> Iterator[Problem]:
    """No old address may be named like a page the build writes (studies/index.md);
    study ids are checked as their files load."""
    for key in sorted(RESERVED_IDS & set(site.redirects)):
        yield site.documents[("redirect", key)].problem(
            (key,), f"{key!r} is reserved for the list of studies; choose another id"
        )


# A glossary term's id is its anchor on the glossary page, beside the page's own ids.
GLOSSARY_PAGE_IDS = ("glossary", "sources")
GLOSSARY_PAGE_ID_PREFIXES = ("source-", "cite-")


def check_glossary_anchors(site: SiteData) -> Iterator[Problem]:
    """No term may take an id the glossary page already uses (its heading, its sources,
    the "Cite this page" box): two elements with one id would let a term steer a link
    or a copy button."""
    for key in site.glossary:
        if key in GLOSSARY_PAGE_IDS or key.startswith(GLOSSARY_PAGE_ID_PREFIXES):
            taken = "reserved for the glossary page's own anchors"
            yield site.documents[("term", key)].problem((key,), f"{key!r} is {taken}; choose another id")


def check_site_url_override(url: str | None) -> Iterator[Problem]:
    """SITE_URL, when set, must be an address as strict as data/site.yaml's `url`."""
    if url is None:
        return
    try:
        TypeAdapter(schema.SiteUrl).validate_python(url if url.endswith("/") else url + "/")
    except ValidationError as error:
        yield Problem(Path("SITE_URL"), 0, "", f"environment variable: {describe_error(error.errors()[0], None)}")


def check_fact(fact: Fact[Any], references: set[str] | None) -> Iterator[tuple[str | tuple[str | int, ...], str]]:
    """Rules every fact obeys, as (sub-field, message) pairs."""
    if fact.level == "unknown":
        if fact.value is not None:
            yield "value", f"a fact whose level is 'unknown' has no value; got {fact.value!r}"
        return
    if fact.value is None:
        yield "value", f"required when level is {fact.level!r}; use level: unknown if the value was not found"
    if fact.source is None:
        yield "source", "required: name the reference the fact comes from"
    elif references is not None and fact.source not in references:
        yield "source", f"no reference {fact.source!r} in references.yaml{_suggest(fact.source, references)}"
    if fact.seen_in is None:
        yield "seen_in", "required: say where the fact was read"
    for index, further in enumerate(fact.also):
        if references is not None and further.source not in references:
            yield (
                ("also", index, "source"),
                f"no reference {further.source!r} in references.yaml{_suggest(further.source, references)}",
            )
        if further.level == "unknown":
            yield ("also", index, "level"), "a further source must have confirmed something; leave unknown sources out"
    if isinstance(fact, schema.Dose) and fact.value is not None and fact.unit is None:
        yield "unit", "required with a dose"


def _suggest(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


LINK_TARGETS = {kind: f"{kind} {{key!r}} in {name}" for kind, name in KEYED_FILES.items()} | {
    "study": "study {key!r} in studies/",
}


class _CrossCheck:
    """Rules that span fields or records: facts, links between records, dates, counts,
    one method per kind of record.

    `known` holds the ids each file defines, or None for a file that could not be
    read: links into such a file are not checked, so one error is reported once."""

    def __init__(self, site: SiteData, today: dt.date, known: Mapping[str, set[str] | None]) -> None:
        self.site, self.today, self.known = site, today, known
        self.problems: list[Problem] = []

    def link(self, document: Document, loc: Loc, kind: str, key: str | None) -> None:
        ids = self.known[kind]
        if key is not None and ids is not None and key not in ids:
            target = LINK_TARGETS[kind].format(key=key)
            self.problems.append(document.problem(loc, f"no {target}{_suggest(key, ids)}"))

    def facts(self, document: Document, record: BaseModel, prefix: Loc) -> None:
        for loc, fact in iter_facts(record, prefix):
            self.problems.extend(
                document.problem((*loc, *(sub if isinstance(sub, tuple) else (sub,))), message)
                for sub, message in check_fact(fact, self.known["reference"])
            )

    def future(self, document: Document, loc: Loc, value: dt.date | str | int) -> None:
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        if _partial_date_after(text, self.today):
            self.problems.append(document.problem(loc, f"date {text} is in the future"))

    def references(self) -> None:
        for key, reference in self.site.references.items():
            document = self.site.documents[("reference", key)]
            if reference.issued:
                self.future(document, (key, "issued"), reference.issued)
            elif reference.issued_note is None:
                self.problems.append(
                    document.problem(
                        (key, "issued_note"), "required when issued is null: say what is known of the date"
                    )
                )
            if reference.type == "registry-record" and reference.nct is None:
                self.problems.append(document.problem((key, "nct"), "required for a registry record"))
            in_url = {number.upper() for number in re.findall(r"NCT\d{8}", reference.url or "", re.IGNORECASE)}
            if reference.nct and (other_trials := in_url - {reference.nct}):
                named = ", ".join(sorted(other_trials))
                message = f"the address is of {named}, not of this record's nct {reference.nct}; make them agree"
                self.problems.append(document.problem((key, "url"), message))

    def registrations(self) -> None:
        for nct, registration in self.site.registrations.items():
            document = self.site.documents[("registration", nct)]
            self.facts(document, registration, (nct,))
            self.link(document, (nct, "reference"), "reference", registration.reference)
            linked = self.site.references.get(registration.reference)
            if linked is not None and linked.nct != nct:
                self.problems.append(
                    document.problem(
                        (nct, "reference"), f"reference {registration.reference!r} is for {linked.nct}, not {nct}"
                    )
                )

    def studies(self) -> None:
        for key, study in self.site.studies.items():
            document = self.site.documents[("study", key)]
            self.facts(document, study, ())
            self.link(document, ("reference",), "reference", study.reference)
            self.link(document, ("registration", "value"), "registration", study.registration.value)
            self.link(document, ("parent",), "study", study.parent)
            if study.parent == study.id:
                self.problems.append(document.problem(("parent",), "a study cannot be a secondary analysis of itself"))
            self.future(document, ("last_reviewed",), study.last_reviewed)
            self.problems.extend(_check_counts(study, document))
            self.problems.extend(_check_interventions(study, document))

    def commentary(self) -> None:
        for key, commentary in self.site.commentary.items():
            document = self.site.documents[("commentary", key)]
            self.facts(document, commentary, (key,))
            self.link(document, (key, "reference"), "reference", commentary.reference)
            self.link(document, (key, "responds_to"), "commentary", commentary.responds_to)
            for index, study_id in enumerate(commentary.discusses):
                self.link(document, (key, "discusses", index), "study", study_id)

    def claims(self) -> None:
        for key, claim in self.site.claims.items():
            document = self.site.documents[("claim", key)]
            self.facts(document, claim, (key,))
            self.link(document, (key, "article"), "reference", claim.article)
            article = self.site.references.get(claim.article)
            if article is not None and article.type != "news-article":
                self.problems.append(
                    document.problem(
                        (key, "article"),
                        f"{claim.article!r} is of type {article.type!r}; a claim must come from a news-article",
                    )
                )
            term = schema.verdict_term(claim.verdict_detail)
            if term is None:
                self.problems.append(
                    document.problem(
                        (key, "verdict_detail"),
                        f"{claim.verdict_detail!r} does not start with a fact-sheet verdict word "
                        f"({', '.join(sorted(schema.VERDICT_TERMS))})",
                    )
                )
            elif schema.VERDICT_TERMS[term] != claim.verdict:
                self.problems.append(
                    document.problem(
                        (key, "verdict"),
                        f"{term!r} gets the badge {schema.VERDICT_TERMS[term]!r}, not {claim.verdict!r}: "
                        "the same word always gets the same badge",
                    )
                )
            if (claim.study is None) == (claim.event is None):
                self.problems.append(document.problem((key,), "name exactly one of study (with section) or event"))
            if (claim.study is None) != (claim.section is None):
                self.problems.append(document.problem((key, "section"), "study and section go together"))
            self.link(document, (key, "study"), "study", claim.study)
            self.link(document, (key, "event"), "event", claim.event)

    def events(self) -> None:
        for key, event in self.site.events.items():
            document = self.site.documents[("event", key)]
            self.facts(document, event, (key,))
            self.future(document, (key, "date"), event.date)
            self.link(document, (key, "study"), "study", event.study)

    def glossary(self) -> None:
        seen_matches: dict[str, str] = {}
        for key, term in self.site.glossary.items():
            document = self.site.documents[("term", key)]
            for index, source in enumerate(term.sources):
                self.link(document, (key, "sources", index), "reference", source)
            for index, related in enumerate(term.related):
                self.link(document, (key, "related", index), "term", related)
            for index, match in enumerate(term.matches):
                if match.lower() in seen_matches:
                    self.problems.append(
                        document.problem(
                            (key, "matches", index), f"{match!r} is already a match for {seen_matches[match.lower()]!r}"
                        )
                    )
                seen_matches[match.lower()] = key

    def redirects(self) -> None:
        for old, redirect in self.site.redirects.items():
            document = self.site.documents[("redirect", old)]
            if old in self.site.studies:
                self.problems.append(
                    document.problem(
                        (old,), f"{old!r} is a current study; a redirect is for an address that no longer has one"
                    )
                )
            if redirect.to != "studies":
                self.link(document, (old, "to"), "study", redirect.to)

    def changes(self) -> None:
        document = self.site.documents[("changes", "changes")]
        record_kinds = {"studies": "study", "references": "reference", "registrations": "registration",
                        "commentary": "commentary", "claims": "claim", "timeline": "event", "glossary": "term"}  # fmt: skip
        for index, change in enumerate(self.site.changes):
            self.future(document, (index, "date"), change.date)
            for number, record in enumerate(change.records):
                kind, _, key = record.partition("/")
                if record in {"site", "comparison"}:
                    continue
                if kind not in record_kinds:
                    self.problems.append(
                        document.problem(
                            (index, "records", number),
                            f"unknown kind of record {kind!r}; use one of {', '.join(record_kinds)}",
                        )
                    )
                else:
                    self.link(document, (index, "records", number), record_kinds[kind], key)

    def bottom_line(self) -> None:
        document = self.site.documents[("site", "site")]
        for index, statement in enumerate(self.site.info.bottom_line):
            for number, study_id in enumerate(statement.studies):
                self.link(document, ("bottom_line", index, "studies", number), "study", study_id)
            if statement.certainty is not None:
                rating = self.site.comparison.certainty.get(statement.certainty)
                if rating is None:
                    known_ratings = self.site.comparison.certainty
                    self.problems.append(
                        document.problem(
                            ("bottom_line", index, "certainty"),
                            f"no certainty rating {statement.certainty!r} in comparison.yaml"
                            f"{_suggest(statement.certainty, known_ratings)}",
                        )
                    )
                else:
                    self.problems.extend(
                        check_wording(document, ("bottom_line", index, "text"), rating.level, statement.text)
                    )

    def methods(self) -> None:
        document = self.site.documents[("methods", "methods")]
        for index, search in enumerate(self.site.methods.searches):
            self.future(document, ("searches", index, "completed"), search.completed)
            if index and search.completed < self.site.methods.searches[index - 1].completed:
                self.problems.append(
                    document.problem(("searches", index, "completed"), "list the searches oldest first")
                )

    def comparison(self) -> None:
        document = self.site.documents[("comparison", "comparison")]
        comparison = self.site.comparison
        self.facts(document, comparison, ())
        for study_id, row in comparison.rows.items():
            self.link(document, ("rows", study_id), "study", study_id)
            if row.certainty is not None and row.certainty not in comparison.certainty:
                self.problems.append(
                    document.problem(
                        ("rows", study_id, "certainty"),
                        f"no certainty rating {row.certainty!r} in this file{_suggest(row.certainty, comparison.certainty)}",
                    )
                )
        for study_id, study in self.site.studies.items():
            if study.role != "history" and study_id not in comparison.rows:
                self.problems.append(
                    document.problem(("rows",), f"study {study_id!r} tested ketamine with naltrexone but has no row")
                )
        for index, reason in enumerate(comparison.reasons):
            for number, study_id in enumerate(reason.studies):
                self.link(document, ("reasons", index, "studies", number), "study", study_id)
        for key, rating in comparison.certainty.items():
            self.problems.extend(_check_certainty(document, key, rating, self.link, self.site.studies))
            for study_id in rating.studies:
                rated = comparison.rows.get(study_id)
                if rated is not None and rated.certainty != key:
                    self.problems.append(
                        document.problem(
                            ("rows", study_id, "certainty"),
                            f"the study is in the body of evidence of {key!r}, so its row's certainty is {key!r}",
                        )
                    )

    def teaching(self) -> None:
        """What the summary-of-findings and teaching pages rest on: a rating's findings are
        results of its own studies, never unknowns; each teaching rank goes to one claim at
        most, and never to a claim the record bears out."""
        document = self.site.documents[("comparison", "comparison")]
        for key, rating in self.site.comparison.certainty.items():
            for index, finding in enumerate(rating.findings):
                self.problems.extend(_check_finding(document, ("certainty", key, "findings", index), rating,
                                                    finding, self.site.studies))  # fmt: skip
        ranked: dict[int, str] = {}
        for key, claim in self.site.claims.items():
            if claim.teaching_rank is None:
                continue
            document = self.site.documents[("claim", key)]
            if claim.teaching_rank in ranked:
                message = f"rank {claim.teaching_rank} is also given to {ranked[claim.teaching_rank]!r}; "
                self.problems.append(
                    document.problem((key, "teaching_rank"), message + "each rank from 1 to 5 goes to one claim")
                )
            ranked.setdefault(claim.teaching_rank, key)
            if claim.verdict == "accurate":
                message = "the claim is accurate; rank only claims the news got wrong"
                self.problems.append(document.problem((key, "teaching_rank"), message))


def _check_finding(
    document: Document, loc: Loc, rating: CertaintyRating, finding: schema.Finding, studies: Mapping[str, Study]
) -> Iterator[Problem]:
    """A summary-of-findings row shows results of the rating's own studies, never an unknown."""
    study = studies.get(finding.study)
    if finding.study not in rating.studies:
        yield document.problem((*loc, "study"), f"{finding.study!r} is not one of this rating's studies")
    elif study is None:
        return  # reported once, where the rating names it
    elif finding.result > len(study.results):
        yield document.problem(
            (*loc, "result"), f"{finding.study!r} has {len(study.results)} results, not {finding.result}"
        )
    elif study.results[finding.result - 1].level == "unknown":
        yield document.problem(
            (*loc, "result"), f"result {finding.result} of {finding.study!r} is an unknown, not a finding"
        )


def check_site(site: SiteData, today: dt.date, known: Mapping[str, set[str] | None]) -> list[Problem]:
    """Every rule that spans fields or records (see `_CrossCheck`)."""
    check = _CrossCheck(site, today, known)
    for rule in (check.references, check.registrations, check.studies, check.commentary, check.claims,
                 check.events, check.glossary, check.redirects, check.changes, check.bottom_line, check.methods,
                 check.comparison, check.teaching):  # fmt: skip
        rule()
    return check.problems


def _check_certainty(
    document: Document, key: str, rating: CertaintyRating, link: Callable[..., None], studies: Mapping[str, Study]
) -> Iterator[Problem]:
    """A rating judges each of the five domains once, its level is its start minus the
    domains' steps, its wording fits its level, and its body of evidence holds only
    studies that compare with and without naltrexone."""
    loc = ("certainty", key)
    for number, study_id in enumerate(rating.studies):
        link(document, (*loc, "studies", number), "study", study_id)
        study = studies.get(study_id)
        if study is not None and study.naltrexone_effect.value in NO_COMPARISON:
            yield document.problem(
                (*loc, "studies", number),
                f"{study_id!r} has no comparison with and without naltrexone "
                f"({schema.NALTREXONE_EFFECT_LABELS[study.naltrexone_effect.value].lower()}); "
                "it cannot be in the body of evidence for a comparison question",
            )
    for index, judged in enumerate(rating.domains):
        for number, study_id in enumerate(judged.studies):
            link(document, (*loc, "domains", index, "studies", number), "study", study_id)
            if study_id not in rating.studies:
                yield document.problem(
                    (*loc, "domains", index, "studies", number),
                    f"{study_id!r} is not in this rating's studies; a judgement rests on the body of evidence",
                )
    for index, consideration in enumerate(rating.considerations):
        for number, study_id in enumerate(consideration.studies):
            link(document, (*loc, "considerations", index, "studies", number), "study", study_id)
    judged_domains: list[str] = [judged.domain for judged in rating.domains]
    for domain in schema.GRADE_DOMAIN_LABELS:
        if judged_domains.count(domain) != 1:
            yield document.problem(
                (*loc, "domains"), f"judge the domain {domain!r} exactly once (found {judged_domains.count(domain)})"
            )
    levels = list(schema.CERTAINTY_LABELS)
    steps = sum(schema.JUDGEMENT_STEPS[judged.judgement] for judged in rating.domains)
    expected = min(levels.index(rating.start) + steps, len(levels) - 1)
    if levels[expected] != rating.level:
        yield document.problem(
            (*loc, "level"),
            f"{rating.level!r} does not follow from starting at {rating.start!r} and {steps} step(s) down "
            f"in the domains, which give {levels[expected]!r}",
        )
    if rating.editorial is not None and rating.editorial != rating.level and rating.revisited is None:
        yield document.problem(
            (*loc, "revisited"),
            f"required: the level {rating.level!r} differs from the editorial judgement {rating.editorial!r}; say why",
        )
    yield from check_wording(document, (*loc, "statement"), rating.level, rating.statement)


# Effects that mean a study did not compare ketamine with and without naltrexone.
NO_COMPARISON = ("not-tested", "no-naltrexone")


def check_wording(document: Document, loc: Loc, level: str, text: str) -> Iterator[Problem]:
    """A plain-language sentence uses the words its certainty level requires."""
    wording = schema.CERTAINTY_WORDING[level]
    if wording and wording not in text.lower():
        yield document.problem(loc, f"at {level!r} certainty the statement must say {wording!r}")


def _check_interventions(study: Study, document: Document) -> Iterator[Problem]:
    """Active drugs need a dose, intravenous ones an infusion length (either may be unknown)."""
    for index, intervention in enumerate(study.interventions):
        loc = ("interventions", index)
        if intervention.agent in schema.ACTIVE_AGENTS and intervention.dose is None:
            yield document.problem(loc, f"dose is required for {intervention.agent} (use level: unknown if not seen)")
        if intervention.route.value == "intravenous" and intervention.duration is None:
            yield document.problem(loc, "duration is required for an intravenous drug (use level: unknown if not seen)")


# (smaller, larger): a stage can hold no more people than the stage it is drawn from.
# Analysed may exceed completed (an intention-to-treat analysis includes drop-outs).
COUNT_ORDER = [("studied", "enrolled"), ("completed", "studied"), ("analysed", "studied"), ("analysed", "enrolled")]


def _check_counts(study: Study, document: Document) -> Iterator[Problem]:
    """No stage holds more people than the one it comes from (the schema keeps counts from 0 up)."""
    counts = {name: getattr(study.participants, name).value for name in type(study.participants).model_fields}
    for smaller, larger in COUNT_ORDER:
        if counts[smaller] is not None and counts[larger] is not None and counts[smaller] > counts[larger]:
            yield document.problem(
                ("participants", smaller), f"{counts[smaller]} {smaller} is more than the {counts[larger]} {larger}"
            )


def _partial_date_after(text: str, today: dt.date) -> bool:
    parts = [int(part) for part in text.split("-")]
    return tuple(parts) > (today.year, today.month, today.day)[: len(parts)]


def check_release(site: SiteData, release: bool, override: str | None) -> list[Problem]:
    """A release build with the placeholder address is refused, before anything is written."""
    if not (release and site.preview):
        return []
    message = (
        f"{site.url} is the placeholder address, not one the site is published at; "
        "a release build needs the real address (set SITE_URL, or url here)"
    )
    if override:
        return [Problem(Path("SITE_URL"), 0, "", message)]
    return [site.documents[("site", "site")].problem(("url",), message)]
