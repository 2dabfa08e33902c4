"""The files under docs/ that are not pages: the site's records for reuse in standard
formats (open data, citations, the change feed) and the glossary's tooltip terms.

`evidence.json` holds every record, and `evidence.schema.json` is the JSON Schema
of the same pydantic models the build validates with, generated, never written by
hand. The comparison table is published as CSV, and the change log as Atom.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import urllib.parse
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pydantic import Field

from evidence import cache, cite, schema
from evidence.check import SiteData
from evidence.cite import json_text
from evidence.schema import (
    Change,
    Claim,
    Commentary,
    Comparison,
    Fact,
    GlossaryTerm,
    Record,
    Redirect,
    Reference,
    Registration,
    SiteInfo,
    Study,
    TimelineEvent,
    format_number,
)

DATA_LICENCE = "CC BY 4.0"
DATA_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


class Evidence(Record):
    """Every record of the site, as published in `downloads/data/evidence.json`."""

    licence: str = Field(description="Licence of the data.")
    site: SiteInfo = Field(description="The site's name, address and bottom line.")
    comparison: Comparison = Field(description="The comparison table, reasons and certainty ratings.")
    changes: list[Change] = Field(description="The change log, newest first.")
    studies: dict[schema.Slug, Study] = Field(description="Studies by id.")
    references: dict[schema.Slug, Reference] = Field(description="References by id.")
    registrations: dict[schema.Nct, Registration] = Field(description="Trial registrations by NCT number.")
    commentary: dict[schema.Slug, Commentary] = Field(description="Editorials, letters and replies by id.")
    claims: dict[schema.Slug, Claim] = Field(description="Checked claims of the source news articles by id.")
    timeline: dict[schema.Slug, TimelineEvent] = Field(description="History events by id.")
    glossary: dict[schema.Slug, GlossaryTerm] = Field(description="Glossary terms by id.")
    redirects: dict[schema.Slug, Redirect] = Field(description="Old study addresses and where they went.")


def evidence(site: SiteData) -> Evidence:
    return Evidence(
        licence=f"{DATA_LICENCE} ({DATA_LICENCE_URL})",
        site=site.info,
        comparison=site.comparison,
        changes=site.changes,
        studies=site.studies,
        references=site.references,
        registrations=site.registrations,
        commentary=site.commentary,
        claims=site.claims,
        timeline=site.events,
        glossary=site.glossary,
        redirects=site.redirects,
    )


@functools.cache  # the models do not change while `make serve` runs
def json_schema() -> str:
    """The JSON Schema of `evidence.json`, from the pydantic models; kept between builds
    (evidence/cache.py), since pydantic takes longer to write it than the other downloads."""
    name = cache.key(
        cache.version("pydantic"), cache.file_digest(Path(schema.__file__)), cache.file_digest(Path(__file__))
    )
    return cache.kept("json-schema", name, lambda: json_text(_json_schema()).encode("utf-8")).decode("utf-8")


def _json_schema() -> dict[str, Any]:
    document = Evidence.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return document


def _cell(fact: Fact[Any] | None, labels: dict[str, str] | None = None) -> str:
    """A fact as a CSV cell: its value, or "not reported" (never left blank)."""
    if fact is None:
        return "not applicable"
    if fact.value is None:
        return "not reported"
    if isinstance(fact.value, bool):
        return "yes" if fact.value else "no"
    if isinstance(fact, schema.Dose):
        return f"{format_number(fact.value)} {fact.unit}"
    return labels[fact.value] if labels else str(fact.value)


COMPARISON_COLUMNS = [
    "study", "label", "design", "blinding", "control", "diagnosis", "alcohol_use_disorder", "key_exclusions",
    "planned", "studied", "analysed", "naltrexone_formulation", "naltrexone_dose", "naltrexone_route",
    "naltrexone_timing", "ketamine_dose", "ketamine_route", "ketamine_infusion_length", "ketamine_infusions",
    "outcome_number", "outcome_role", "outcome", "outcome_time_point", "result_on_depression", "dissociation_and_other_effects",
    "naltrexone_blunted_effect", "certainty",
]  # fmt: skip


class SpreadsheetSafeWriter(csv.DictWriter):  # type: ignore[type-arg]
    """A CSV writer whose cells a spreadsheet shows and never runs: a cell that opens
    like a formula (= + - @, tab, carriage return) gets a leading apostrophe, as
    OWASP advises for CSV downloads."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: _inert_cell(value) for key, value in rowdict.items()})


def _inert_cell(value: Any) -> Any:
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def comparison_csv(site: SiteData) -> str:
    """The comparison table as CSV: one row per study and outcome (every outcome the study
    records, the registry's included), unknowns written as "not reported"."""
    buffer = io.StringIO()
    writer = SpreadsheetSafeWriter(buffer, COMPARISON_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for study_id, row in site.comparison.rows.items():
        study = site.studies[study_id]
        naltrexone = next((i for i in study.interventions if i.agent == "naltrexone"), None)
        ketamine = next((i for i in study.interventions if i.agent == "ketamine"), None)
        for number, outcome in enumerate(study.outcomes, 1):
            writer.writerow({
                "study": study_id, "label": study.label,
                "design": _cell(study.design.type, schema.DESIGN_LABELS),
                "blinding": _cell(study.design.blinding, schema.BLINDING_LABELS),
                "control": _cell(study.design.control), "diagnosis": _cell(study.population.diagnosis),
                "alcohol_use_disorder": _cell(study.population.alcohol_use_disorder),
                "key_exclusions": _cell(study.population.exclusions),
                "planned": _cell(study.participants.planned), "studied": _cell(study.participants.studied),
                "analysed": _cell(study.participants.analysed),
                "naltrexone_formulation": _cell(naltrexone.formulation if naltrexone else None),
                "naltrexone_dose": _cell(naltrexone.dose if naltrexone else None),
                "naltrexone_route": _cell(naltrexone.route if naltrexone else None, schema.ROUTE_LABELS),
                "naltrexone_timing": _cell(naltrexone.timing if naltrexone else None),
                "ketamine_dose": _cell(ketamine.dose if ketamine else None),
                "ketamine_route": _cell(ketamine.route if ketamine else None, schema.ROUTE_LABELS),
                "ketamine_infusion_length": _cell(ketamine.duration if ketamine else None),
                "ketamine_infusions": _cell(ketamine.doses if ketamine else None),
                "outcome_number": str(number), "outcome_role": schema.OUTCOME_ROLE_LABELS[outcome.role],
                "outcome": _cell(outcome.measure), "outcome_time_point": _cell(outcome.time_point),
                "result_on_depression": _cell(row.depression_result),
                "dissociation_and_other_effects": _cell(row.other_effects),
                "naltrexone_blunted_effect": _cell(study.naltrexone_effect, schema.NALTREXONE_EFFECT_SHORT),
                "certainty": (
                    schema.CERTAINTY_LABELS[site.comparison.certainty[row.certainty].level]
                    if row.certainty
                    else "not rated"
                ),
            })  # fmt: skip
    return buffer.getvalue()


ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(site: SiteData, base_url: str, page_url: str) -> str:
    """The change log as an Atom feed, so that a teacher can subscribe to it.

    Atom ids must be absolute: where the links are relative (a preview, which names no
    host), each id is a name-based UUID of the site's title and the entry's place."""
    ElementTree.register_namespace("", ATOM)

    def identifier(link: str) -> str:
        if urllib.parse.urlsplit(link).scheme:
            return link
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{site.info.title}/{link}").urn

    def add(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    def stamp(day: dt.date) -> str:
        return f"{day.isoformat()}T00:00:00Z"

    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    add(feed, "title", f"{site.info.title}: what changed")
    add(feed, "id", identifier(page_url))
    add(feed, "link", href=page_url)
    add(feed, "link", rel="self", href=base_url + "downloads/changes.atom")
    add(feed, "updated", stamp(max((c.date for c in site.changes), default=site.last_reviewed)))
    add(add(feed, "author"), "name", site.info.title)
    for index, change in enumerate(site.changes):
        entry = add(feed, "entry")
        add(entry, "title", change.summary)
        add(entry, "id", identifier(f"{page_url}#change-{len(site.changes) - index}"))
        add(entry, "link", href=f"{page_url}#change-{len(site.changes) - index}")
        add(entry, "updated", stamp(change.date))
        add(entry, "summary", f"{change.summary} Why: {change.reason} Records: {', '.join(change.records)}.")
    ElementTree.indent(feed)
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


def download_files(site: SiteData) -> dict[str, str]:
    """Every generated file that is not a page: path under docs/ -> text."""
    return glossary_script(site) | citation_exports(site) | change_feed(site) | open_data(site)


def glossary_script(site: SiteData) -> dict[str, str]:
    """The term list the tooltip script reads on every page."""
    terms = sorted(site.glossary.items(), key=lambda item: item[1].term.lower())
    tooltip_terms = [
        {"id": key, "term": term.term, "matches": term.matches, "definition": " ".join(term.definition.split())}
        for key, term in terms
    ]
    return {"assets/glossary-terms.js": f"window.GLOSSARY_TERMS = {json.dumps(tooltip_terms, indent=1)};\n"}


def citation_exports(site: SiteData) -> dict[str, str]:
    """BibTeX, RIS and CSL-JSON of every reference and of each study's; each study's paper alone as BibTeX and RIS."""
    items = {key: cite.csl_item(key, reference) for key, reference in site.references.items()}
    bibtex = cite.bibtex_entries(items.values())
    files = cite.exports(list(items.values()), "downloads", bibtex)
    for study in site.studies.values():
        study_items = [items[key] for key in site.study_sources[study.id]]
        files.update(cite.exports(study_items, f"downloads/studies/{study.id}", bibtex))
        # "Cite this study": the paper alone, for a reference manager.
        files[f"downloads/studies/{study.id}/paper.bib"] = bibtex[study.reference]
        files[f"downloads/studies/{study.id}/paper.ris"] = cite.to_ris([items[study.reference]])
    return files


def change_feed(site: SiteData) -> dict[str, str]:
    """The change log as Atom. A preview names no host: its links are relative to the feed file."""
    base = "../" if site.preview else site.url
    return {"downloads/changes.atom": atom_feed(site, base, base + "changes/")}


def open_data(site: SiteData) -> dict[str, str]:
    """Every record as JSON, its JSON Schema, and the comparison as CSV."""
    records = evidence(site).model_dump(mode="json")
    files = {
        "downloads/data/evidence.json": json_text(records),
        "downloads/data/evidence.schema.json": json_schema(),
        "downloads/data/comparison.csv": comparison_csv(site),
    }
    for study_id, study in records["studies"].items():
        files[f"downloads/data/studies/{study_id}.json"] = json_text(study)
    return files
