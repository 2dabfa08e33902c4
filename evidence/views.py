"""Views of the validated data that several steps share, each computed by one rule
in one place: the study order, the order a reader meets the sources, and one
label per work."""

from __future__ import annotations

import dataclasses

from evidence import schema
from evidence.check import SiteData
from evidence.schema import CertaintyRating, Reference, Study, sources_of

STUDY_ORDER = (
    "in the order used on every page: studies of ketamine with naltrexone, then secondary analyses of them, "
    "then studies that give historical context, newest first within each group"
)


def ordered_studies(site: SiteData) -> list[Study]:
    """The one study order of every list (STUDY_ORDER): by role, newest first within a role."""
    order = list(schema.STUDY_ROLE_LABELS)
    return sorted(
        site.studies.values(),
        key=lambda s: (order.index(s.role), -int(year_of(site.references[s.reference]).replace("n.d.", "0")), s.id),
    )


def citation_order(site: SiteData) -> list[str]:
    """References in the order a reader meets them, page by page as the navigation runs."""
    keys: list[str] = []
    for study in ordered_studies(site):
        keys += site.study_sources[study.id]
    keys += [key for row in site.comparison.rows.values() for key in sources_of(row, [])]
    keys += [key for item in site.comparison.other_evidence for key in sources_of(item, [])]
    keys += [claim.article for claim in site.claims.values()]
    keys += [key for claim in site.claims.values() for key in sources_of(claim, [])]
    keys += [key for event in site.events.values() for key in sources_of(event, [])]
    keys += [key for registration in site.registrations.values() for key in sources_of(registration, [])]
    keys += [key for term in site.glossary.values() for key in term.sources]
    return keys


def year_of(reference: Reference) -> str:
    date = reference.online or reference.issued
    return date[:4] if date else "n.d."


def short_name(reference: Reference) -> str:
    """'Williams et al. 2018' from a reference's authors and year."""
    year = year_of(reference)
    if reference.nct:
        return f"ClinicalTrials.gov {reference.nct}"
    if not reference.authors:
        return f"{schema.REFERENCE_TYPE_LABELS[reference.type]}, {reference.container or reference.title} {year}"
    first = reference.authors[0].family
    if len(reference.authors) == 1 and (reference.authors_complete or reference.coauthors_unknown):
        return f"{first} {year}"
    if len(reference.authors) == 2 and reference.authors_complete:
        return f"{first} and {reference.authors[1].family} {year}"
    return f"{first} et al. {year}"


def reference_labels(references: dict[str, Reference], order: list[str]) -> dict[str, str]:
    """One label per work, derived from its reference alone, and no two works alike.

    A work is "Williams et al. 2018" (or "Smith 2020", "Smith and Jones 2020"). Where
    two works would share a label, one whose author list is complete and at most three
    long is named in full ("Yoon, Petrakis & Krystal 2019"); any still alike take
    a, b, ... in the order a reader meets them ("Yoon et al. 2019a")."""
    position = {key: index for index, key in enumerate(dict.fromkeys(order))}
    keys = sorted(references, key=lambda key: (position.get(key, len(position)), key))
    labels = {key: short_name(references[key]) for key in keys}
    shared = _shared(labels)
    for key in keys:
        reference = references[key]
        if labels[key] in shared and reference.authors_complete and len(reference.authors) == 3:
            first, second, third = (author.family for author in reference.authors)
            labels[key] = f"{first}, {second} & {third} {year_of(reference)}"
    shared = _shared(labels)
    used: dict[str, int] = {}
    for key in keys:
        if labels[key] in shared:
            label = labels[key]
            labels[key] = label + _letters(used.get(label, 0))
            used[label] = used.get(label, 0) + 1
    return labels


def _shared(labels: dict[str, str]) -> set[str]:
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {label for label, count in counts.items() if count > 1}


def labelled(site: SiteData) -> SiteData:
    """The site with each study's label that of its reference (see `reference_labels`)."""
    labels = reference_labels(site.references, citation_order(site))
    studies = {key: study.model_copy(update={"label": labels[study.reference]}) for key, study in site.studies.items()}
    return dataclasses.replace(site, studies=studies)


def _letters(index: int) -> str:
    """a, b, ..., z, then aa, ab, ...: the suffix of the index-th work sharing a label."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[rest] + letters
    return letters


def sof_anchor(key: str, rating: CertaintyRating) -> str:
    """The permanent anchor of a certainty rating's summary-of-findings row: sof-<rating id>-<outcome id>."""
    return f"sof-{key}-{rating.outcome_id}" if rating.outcome_id else f"sof-{key}"
