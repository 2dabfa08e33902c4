"""The data schema: every record type, field and vocabulary the site knows.

This module is the single source of truth. `build.py` validates `data/` against
these models, the templates take their labels from the vocabularies below, and
the data-dictionary page is generated from the field descriptions.

Shapes and types are checked by pydantic; rules that need more than one field
or more than one record (a fact marked unknown has no value, a source must
exist, ...) are checked in `build.py`, which knows where each value came from.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
import urllib.parse
from collections.abc import Iterator
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# --- Vocabularies: every allowed value with the label readers see -------------

Level = Literal["primary", "primary-copy", "secondary", "seed", "unknown"]
LEVEL_LABELS: dict[str, str] = {
    "primary": "Primary record",
    "primary-copy": "Copy of the primary record",
    "secondary": "Secondary reports only",
    "seed": "Source article only",
    "unknown": "Not reported in the sources checked",
}
LEVEL_EXPLANATIONS: dict[str, str] = {
    "primary": "Read on the publisher's page or the official registry record.",
    "primary-copy": (
        "Read in a verbatim copy of the primary record (a PubMed mirror, a copy of "
        "the registry record, or a page that reproduces the abstract word for word)."
    ),
    "secondary": (
        "Seen only in secondary material such as news reports or summaries; not confirmed in the primary record."
    ),
    "seed": "Seen only in one of the news articles the site was commissioned from.",
    "unknown": (
        "Not found in any source checked. Usually the full text of the paper could "
        "not be read; the value stays unknown until someone reads it."
    ),
}
LEVEL_SYMBOLS: dict[str, str] = {
    "primary": "●",
    "primary-copy": "◐",
    "secondary": "○",
    "seed": "△",
    "unknown": "?",
}

StudyRole = Literal["naltrexone-trial", "secondary-analysis", "history"]
STUDY_ROLE_LABELS: dict[str, str] = {
    "naltrexone-trial": "Study of ketamine with naltrexone",
    "secondary-analysis": "Secondary analysis of a naltrexone study",
    "history": "Historical context",
}

Design = Literal["crossover-rct", "parallel-rct", "case-series", "secondary-analysis"]
DESIGN_LABELS: dict[str, str] = {
    "crossover-rct": "Randomized crossover trial",
    "parallel-rct": "Randomized parallel-group trial",
    "case-series": "Open-label case series",
    "secondary-analysis": "Secondary analysis of a randomized trial",
}

Blinding = Literal["open-label", "single-blind", "double-blind", "triple-blind"]
BLINDING_LABELS: dict[str, str] = {
    "open-label": "Open label (no blinding)",
    "single-blind": "Single blind",
    "double-blind": "Double blind",
    "triple-blind": "Triple blind",
}

Agent = Literal["ketamine", "naltrexone", "placebo", "midazolam", "saline"]
ACTIVE_AGENTS = ("ketamine", "naltrexone", "midazolam")
AGENT_LABELS: dict[str, str] = {
    "ketamine": "Ketamine",
    "naltrexone": "Naltrexone",
    "placebo": "Placebo",
    "midazolam": "Midazolam",
    "saline": "Saline",
}

Route = Literal["oral", "intravenous", "intramuscular", "intranasal"]
ROUTE_LABELS: dict[str, str] = {
    "oral": "By mouth",
    "intravenous": "Intravenous",
    "intramuscular": "Intramuscular injection",
    "intranasal": "Intranasal",
}

DoseUnit = Literal["mg", "mg/kg"]
DOSE_UNIT_LABELS: dict[str, str] = {
    "mg": "milligrams",
    "mg/kg": "milligrams per kilogram of body weight",
}

OutcomeRole = Literal["primary", "co-primary", "secondary", "reported", "registry-primary", "registry-secondary"]
OUTCOME_ROLE_LABELS: dict[str, str] = {
    "primary": "Primary outcome (paper)",
    "co-primary": "Co-primary outcome (paper)",
    "secondary": "Secondary outcome (paper)",
    "reported": "Reported (role not stated in the sources checked)",
    "registry-primary": "Primary outcome (trial registry)",
    "registry-secondary": "Secondary outcome (trial registry)",
}

NaltrexoneEffect = Literal["blunted", "blunted-suicidality", "no-difference", "not-tested", "unclear", "no-naltrexone"]
NALTREXONE_EFFECT_LABELS: dict[str, str] = {
    "blunted": "Naltrexone blunted the antidepressant effect",
    "blunted-suicidality": "Naltrexone blunted the effect on suicidality scales (the outcomes named in the abstract)",
    "no-difference": "No difference between the groups",
    "not-tested": "Not tested against a control",
    "unclear": "Unclear",
    "no-naltrexone": "Naltrexone not studied",
}

# The same values, as the comparison table's answer to "did naltrexone blunt the effect?".
NALTREXONE_EFFECT_SHORT: dict[str, str] = {
    "blunted": "Yes",
    "blunted-suicidality": "Yes, on suicidality scales",
    "no-difference": "No difference between the groups",
    "not-tested": "Not tested against a control",
    "unclear": "Unclear",
    "no-naltrexone": "Naltrexone not given",
}

Verdict = Literal["accurate", "imprecise", "overstated", "not-supported", "misleading", "wrong", "unverified"]
VERDICT_LABELS: dict[str, str] = {
    "accurate": "Accurate",
    "imprecise": "Imprecise",
    "overstated": "Overstated",
    "not-supported": "Not supported",
    "misleading": "Misleading",
    "wrong": "Wrong",
    "unverified": "Unverified",
}
# What each badge means, printed on the news page.
VERDICT_EXPLANATIONS: dict[str, str] = {
    "accurate": "Agrees with the sources checked (the level beside the finding says how firmly they were confirmed).",
    "imprecise": "Roughly right, but loose in a number, date, name or detail.",
    "overstated": "Goes further than the evidence: a finding made to sound firmer or broader than it is.",
    "not-supported": "Says something the sources do not show or that was never tested.",
    "misleading": "Partly defensible, but leaves a reader with a wrong picture.",
    "wrong": "Contradicted by the sources.",
    "unverified": "Could not be checked in any source read, or the sources disagree: neither confirmed nor refuted.",
}
# The fact sheet's verdict words (the start of a claim's `verdict_detail`) and the one
# badge each gives, so that the same word always gets the same badge.
VERDICT_TERMS: dict[str, str] = {
    "agrees": "accurate",
    "consistent": "accurate",
    "fair": "accurate",
    "imprecise": "imprecise",
    "roughly consistent": "imprecise",
    "timing plausible": "imprecise",
    "online date": "imprecise",
    "partly supported": "imprecise",
    "overstated": "overstated",
    "not supported": "not-supported",
    "extrapolation": "not-supported",
    "misleading": "misleading",
    "wrong": "wrong",
    "misspelling": "wrong",
    "causal story distorted": "wrong",
    "unverified": "unverified",
    "attribution unverified": "unverified",
    "mixed": "unverified",
}


def verdict_term(detail: str) -> str | None:
    """The fact-sheet word a verdict detail starts with (the longest known one), or None."""
    words = detail.lower()
    matches = [
        term
        for term in VERDICT_TERMS
        if words == term or words.startswith((term + " ", term + ";", term + ":", term + ",", term + " /"))
    ]
    return max(matches, key=len, default=None)


CertaintyLevel = Literal["high", "moderate", "low", "very-low"]
CERTAINTY_LABELS: dict[str, str] = {
    "high": "High",
    "moderate": "Moderate",
    "low": "Low",
    "very-low": "Very low",
}
# The GRADE symbols, so that a level never depends on colour.
CERTAINTY_SYMBOLS: dict[str, str] = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very-low": "⊕◯◯◯"}
# Words a plain-language statement must use at each level, as GRADE's wording guidance advises.
CERTAINTY_WORDING: dict[str, str] = {
    "high": "results in",
    "moderate": "probably",
    "low": "may",
    "very-low": "very uncertain",
}

GradeDomain = Literal["risk-of-bias", "inconsistency", "indirectness", "imprecision", "publication-bias"]
GRADE_DOMAIN_LABELS: dict[str, str] = {
    "risk-of-bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication-bias": "Publication bias",
}

Judgement = Literal["not-serious", "serious", "very-serious"]
JUDGEMENT_LABELS: dict[str, str] = {
    "not-serious": "Not serious",
    "serious": "Serious",
    "very-serious": "Very serious",
}
# How many levels each judgement costs, GRADE-style.
JUDGEMENT_STEPS: dict[str, int] = {"not-serious": 0, "serious": 1, "very-serious": 2}

EvidenceKind = Literal["contrary-report", "human-context", "commentary", "review", "animal"]
EVIDENCE_KIND_LABELS: dict[str, str] = {
    "contrary-report": "Reports that point the other way",
    "human-context": "Other studies in people (not in the body of evidence)",
    "commentary": "Letters and commentary",
    "review": "Reviews",
    "animal": "Animal and laboratory studies (preclinical context only)",
}

StepKind = Literal["naltrexone", "ketamine", "assessment", "crossover", "follow-up"]
STEP_KIND_LABELS: dict[str, str] = {
    "naltrexone": "Naltrexone (or its placebo)",
    "ketamine": "Ketamine (or its control)",
    "assessment": "Assessment",
    "crossover": "Crossover to the other condition",
    "follow-up": "Follow-up",
}

# The fixed sections of a study page; each is a permanent anchor (studies/<id>/#<section>).
StudySection = Literal[
    "citation",
    "naltrexone-effect",
    "design",
    "participants",
    "interventions",
    "outcomes",
    "results",
    "safety",
    "conclusion",
    "limitations",
    "funding",
    "registration",
    "commentary",
    "changes",
    "sources",
]
STUDY_SECTION_LABELS: dict[str, str] = {
    "citation": "Citation",
    "naltrexone-effect": "Does naltrexone change the effect?",
    "design": "Design",
    "participants": "Participants",
    "interventions": "Interventions",
    "outcomes": "Outcomes",
    "results": "Results",
    "safety": "Safety",
    "conclusion": "Authors' conclusion",
    "limitations": "Limitations",
    "funding": "Funding and conflicts of interest",
    "registration": "Trial registration",
    "commentary": "Commentary and letters",
    "changes": "Changes to this page",
    "sources": "Sources",
}

ReferenceType = Literal[
    "article-journal",
    "letter",
    "editorial",
    "news-article",
    "registry-record",
    "press-release",
    "webpage",
]
REFERENCE_TYPE_LABELS: dict[str, str] = {
    "article-journal": "Journal article",
    "letter": "Letter",
    "editorial": "Editorial",
    "news-article": "News or blog article",
    "registry-record": "Trial registry record",
    "press-release": "Press release",
    "webpage": "Web page",
}

# Each vocabulary with its labels, for the data dictionary and the consistency test.
VOCABULARIES: dict[str, tuple[Any, dict[str, str]]] = {
    "Level": (Level, LEVEL_LABELS),
    "StudyRole": (StudyRole, STUDY_ROLE_LABELS),
    "Design": (Design, DESIGN_LABELS),
    "Blinding": (Blinding, BLINDING_LABELS),
    "Agent": (Agent, AGENT_LABELS),
    "Route": (Route, ROUTE_LABELS),
    "DoseUnit": (DoseUnit, DOSE_UNIT_LABELS),
    "OutcomeRole": (OutcomeRole, OUTCOME_ROLE_LABELS),
    "NaltrexoneEffect": (NaltrexoneEffect, NALTREXONE_EFFECT_LABELS),
    "Verdict": (Verdict, VERDICT_LABELS),
    "CertaintyLevel": (CertaintyLevel, CERTAINTY_LABELS),
    "GradeDomain": (GradeDomain, GRADE_DOMAIN_LABELS),
    "Judgement": (Judgement, JUDGEMENT_LABELS),
    "EvidenceKind": (EvidenceKind, EVIDENCE_KIND_LABELS),
    "StepKind": (StepKind, STEP_KIND_LABELS),
    "StudySection": (StudySection, STUDY_SECTION_LABELS),
    "ReferenceType": (ReferenceType, REFERENCE_TYPE_LABELS),
}


def vocabulary_values(name: str) -> tuple[str, ...]:
    """The allowed values of a vocabulary, in order."""
    return get_args(VOCABULARIES[name][0])


# --- Identifier types -----------------------------------------------------------


def _digits_as_text(value: Any) -> Any:
    """YAML reads an unquoted PMID as a number; identifiers are text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _date_as_text(value: Any) -> Any:
    """YAML reads an unquoted 2018-08-29 as a date and 2019 as a number; partial dates are text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return _digits_as_text(value)


def _real_date(text: str) -> str:
    """A partial date that names a day must name one that exists (no 2018-02-31)."""
    if text.count("-") == 2:
        dt.date.fromisoformat(text)  # ValueError: pydantic reports it as the field's error
    return text


# Identifiers and addresses reach links, so each pattern admits only characters that
# neither HTML nor Markdown act on; a character outside it is refused, never escaped.
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# Crossref's pattern for modern DOIs, but for a last character of . ; or :, which is the end of
# the sentence it was copied from (doi.org has no such DOI, and the link would be dead).
DOI_PATTERN = r"^10\.\d{4,9}/[-._;()/:A-Za-z0-9]*[-_()/A-Za-z0-9]$"
PMID_PATTERN = r"^[1-9]\d{0,8}$"
PMCID_PATTERN = r"^PMC\d+$"
NCT_PATTERN = r"^NCT\d{8}$"
PARTIAL_DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
_PATH_CHARACTERS = r"(?:[A-Za-z0-9\-._~!$&+,;=:@/]|%[0-9A-Fa-f]{2})"
URL_PATTERN = rf"^https://{_HOST}(?::\d{{1,5}})?(?:/(?:{_PATH_CHARACTERS}|[?#])*)?$"
SITE_URL_PATTERN = rf"^https?://{_HOST}(?::\d{{1,5}})?/(?:[A-Za-z0-9\-._~/]|%[0-9A-Fa-f]{{2}})*$"
BIBLIOGRAPHIC_NUMBER_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9 .,/–-]{0,38}[A-Za-z0-9])?$"

# What each pattern means, for error messages a contributor can act on.
PATTERN_DESCRIPTIONS: dict[str, str] = {
    SLUG_PATTERN: "an id of lower-case letters, digits and single hyphens",
    DOI_PATTERN: (
        "a DOI such as 10.1176/appi.ajp.2018.18020138 (letters, digits and - . _ ; ( ) / : only, "
        "not ending in . ; or :)"
    ),
    PMID_PATTERN: "a PubMed id of up to 9 digits",
    PMCID_PATTERN: "a PubMed Central id such as PMC6395554",
    NCT_PATTERN: "a ClinicalTrials.gov number such as NCT02911597",
    PARTIAL_DATE_PATTERN: "a date written YYYY, YYYY-MM or YYYY-MM-DD",
    URL_PATTERN: (
        "an https:// address with a host name and no quotes, spaces, brackets or braces "
        "(write other characters %-encoded, for example ( as %28)"
    ),
    SITE_URL_PATTERN: (
        "an http:// or https:// address with a host name, ending in /, whose path holds only "
        "letters, digits, - . _ ~ / and %-encoded characters"
    ),
    BIBLIOGRAPHIC_NUMBER_PATTERN: "a volume, issue or page range of letters, digits, spaces and - – . , /",
}

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Doi = Annotated[str, StringConstraints(pattern=DOI_PATTERN)]
Pmid = Annotated[str, BeforeValidator(_digits_as_text), StringConstraints(pattern=PMID_PATTERN)]
Pmcid = Annotated[str, StringConstraints(pattern=PMCID_PATTERN)]
Nct = Annotated[str, StringConstraints(pattern=NCT_PATTERN)]
PartialDate = Annotated[
    str, BeforeValidator(_date_as_text), StringConstraints(pattern=PARTIAL_DATE_PATTERN), AfterValidator(_real_date)
]


def _real_port(url: str) -> str:
    """A port, if the address names one, is one that exists (1 to 65535)."""
    port = urllib.parse.urlsplit(url).port  # ValueError past 65535: pydantic reports it
    if port == 0:
        raise ValueError("port 0 does not exist")
    return url


Url = Annotated[str, StringConstraints(pattern=URL_PATTERN, max_length=2000), AfterValidator(_real_port)]
SiteUrl = Annotated[str, StringConstraints(pattern=SITE_URL_PATTERN, max_length=2000), AfterValidator(_real_port)]
BibliographicNumber = Annotated[
    str, BeforeValidator(_digits_as_text), StringConstraints(pattern=BIBLIOGRAPHIC_NUMBER_PATTERN)
]
# A number of people or of doses: never negative, and no trial has a million.
Count = Annotated[int, Field(ge=0, le=1_000_000)]
# A dose: a finite, positive number (YAML's .nan and .inf are refused).
Amount = Annotated[float, Field(gt=0, le=1_000_000, allow_inf_nan=False)]
# The longest text in the data is under 1,000 characters; a cap keeps one runaway value
# (150,000 "<", each escaped) from stalling Markdown for minutes.
MAX_TEXT = 4_000
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, strip_whitespace=True)]


class Record(BaseModel):
    """Base of every record: strict types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- Facts: a value with where it comes from ------------------------------------

T = TypeVar("T")


class SourceLevel(Record):
    """A further source of a fact, with its own level: a fact resting on sources of
    different levels shows each."""

    source: Slug = Field(description="Id of the reference in `data/references.yaml`.")
    level: Level = Field(description="How this source confirms the fact (vocabulary `Level`).")
    seen_in: Text = Field(description="Where it was read.")
    says: Text | None = Field(None, description="What this source says, where it is only part of the fact.")


class Fact(Record, Generic[T]):
    """One clinical fact and its provenance: which reference it comes from, how
    it was confirmed, and where it was read. A fact marked `unknown` has no value."""

    value: T | None = Field(
        None,
        description="The fact itself. Leave it out when the level is `unknown`.",
    )
    level: Level = Field(description="How the fact was confirmed (vocabulary `Level`).")
    source: Slug | None = Field(
        None,
        description=(
            "Id of the reference in `data/references.yaml` the fact comes from. Required unless the level is `unknown`."
        ),
    )
    seen_in: Text | None = Field(
        None,
        description=(
            "Where the fact was read, for example `the abstract on the publisher's page`. "
            "Required unless the level is `unknown`."
        ),
    )
    quote: bool = Field(False, description="True when the value is quoted word for word from the source.")
    note: Text | None = Field(None, description="A caveat readers should see beside the fact.")
    also: list[SourceLevel] = Field(
        default_factory=list,
        description=(
            "Further sources of the fact, each with its own level. `level` is then the level of `source`; "
            "a fact whose parts rest on different levels lists each part here."
        ),
    )


class Dose(Fact[Amount]):
    """A dose: a number and its unit, with provenance."""

    unit: DoseUnit | None = Field(None, description="Unit of the dose (vocabulary `DoseUnit`). Required with a value.")


# --- References -----------------------------------------------------------------


class Author(Record):
    """One author of a reference."""

    family: Text = Field(description="Family name, for example `Williams`.")
    given: Text | None = Field(None, description="Given names or initials, for example `Nolan R.`.")


class Reference(Record):
    """A work the site cites: a paper, letter, news article, registry record, ...
    Keyed by its id in `data/references.yaml`. Leave out what was not seen;
    never fill a field from memory."""

    type: ReferenceType = Field(description="Kind of work (vocabulary `ReferenceType`).")
    title: Text = Field(description="Title exactly as published.")
    title_supplied: bool = Field(
        False,
        description=(
            "True when the title was not seen and `title` is a description supplied by "
            "this site; it is shown in square brackets."
        ),
    )
    authors: list[Author] = Field(
        description=(
            "Authors in published order, as far as they are known. Write `[]` for a work "
            "with no named author or a byline that was not seen, and say which in `note`."
        ),
    )
    authors_complete: bool = Field(
        description="True only if `authors` is the whole author list; otherwise citations end in et al."
    )
    coauthors_unknown: bool = Field(
        False,
        description=(
            "True when it is not known whether the work has authors beyond those listed (a letter seen "
            "by its first author's name only); citations then say so instead of et al."
        ),
    )
    container: Text | None = Field(None, description="Journal, website or registry the work appeared in.")
    issued: PartialDate | None = Field(
        description=(
            "Publication date: YYYY, YYYY-MM or YYYY-MM-DD. Write `null` when it was "
            "not seen, and say so in `issued_note`."
        )
    )
    online: PartialDate | None = Field(
        None,
        description=(
            "Date first published online, where it differs from `issued` (the print issue): "
            "YYYY, YYYY-MM or YYYY-MM-DD."
        ),
    )
    issued_inferred: bool = Field(
        False, description="True when the year of `issued` was not seen but inferred (say from what in `issued_note`)."
    )
    issued_is_update: bool = Field(
        False, description="True when `issued` is the date a web page was last updated, not first published."
    )
    container_short: Text | None = Field(
        None, description="The journal's standard abbreviation, for example `Am J Psychiatry` (AMA style uses it)."
    )
    issued_note: Text | None = Field(None, description="How the date is known, for example online versus print issue.")
    volume: BibliographicNumber | None = Field(None, description="Volume, if seen.")
    issue: BibliographicNumber | None = Field(None, description="Issue, if seen.")
    pages: BibliographicNumber | None = Field(None, description="Page range, if seen.")
    doi: Doi | None = Field(None, description="DOI without the https://doi.org/ prefix.")
    pmid: Pmid | None = Field(None, description="PubMed id.")
    pmcid: Pmcid | None = Field(None, description="PubMed Central id.")
    nct: Nct | None = Field(None, description="ClinicalTrials.gov number, for registry records.")
    url: Url | None = Field(None, description="Canonical https address, where there is no DOI.")
    level: Level = Field(description="How the bibliographic details were confirmed (vocabulary `Level`).")
    seen_in: Text = Field(description="Where the bibliographic details were read.")
    note: Text | None = Field(None, description="A caveat about the reference itself.")


# --- Trial registrations ----------------------------------------------------------


class Registration(Record):
    """A trial registry record, keyed by its NCT number in `data/registrations.yaml`."""

    title: Text | None = Field(description="The registered title; `null` if it was not seen.")
    reference: Slug = Field(description="Id of the registry record in `data/references.yaml`.")
    sponsor: Fact[str] = Field(description="Lead sponsor.")
    phase: Fact[str] = Field(description="Trial phase as registered.")
    status: Fact[str] = Field(description="Recruitment status as registered.")
    start: Fact[str] = Field(description="Start date as registered.")
    completion: Fact[str] = Field(description="Completion date(s) as registered.")
    enrolment: Fact[Count] = Field(description="Enrolment as registered (actual, if completed).")
    ages: Fact[str] = Field(description="Eligible ages as registered.")
    primary_outcome: Fact[str] = Field(description="Primary outcome as registered.")
    design: Fact[str] = Field(description="Design as registered.")
    first_posted: Fact[str] | None = Field(
        None, description="When the record was first posted; a date after the study began means it was registered late."
    )
    relevance: Text | None = Field(
        None, description="Why the record is listed: what it adds to the question, in a sentence."
    )


# --- Studies ----------------------------------------------------------------------


class ProtocolStep(Record):
    """One step of a study's protocol: when, what, and where that is known from."""

    kind: StepKind = Field(description="What kind of step (vocabulary `StepKind`).")
    when: Text = Field(description="When, in a few words, for example `45 min before`.")
    label: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="What, in at most 40 characters, for the picture."
    )
    detail: Fact[str] = Field(description="The step in full, with its provenance; the picture's text alternative.")


class StudyDesign(Record):
    """How a study was designed."""

    type: Fact[Design] = Field(description="Study design (vocabulary `Design`).")
    blinding: Fact[Blinding] = Field(description="Blinding (vocabulary `Blinding`).")
    control: Fact[str] = Field(description="What the active condition was compared with.")
    description: Fact[str] = Field(description="The design in one or two sentences.")
    setting: Fact[str] = Field(description="Where the study was run.")


class Population(Record):
    """Who took part."""

    diagnosis: Fact[str] = Field(description="Diagnosis of participants.")
    alcohol_use_disorder: Fact[bool] = Field(description="True if participants had comorbid alcohol use disorder.")
    ages: Fact[str] = Field(description="Eligible ages.")
    inclusion: Fact[str] = Field(description="Key inclusion criteria.")
    exclusions: Fact[str] = Field(description="Key exclusion criteria.")


class Participants(Record):
    """How many took part, at each stage. Registry and paper may differ."""

    planned: Fact[Count] = Field(description="Planned sample size.")
    enrolled: Fact[Count] = Field(description="Number enrolled.")
    studied: Fact[Count] = Field(description="Number who received at least one study treatment.")
    completed: Fact[Count] = Field(description="Number who completed the protocol.")
    analysed: Fact[Count] = Field(description="Number in the main analysis.")


class Intervention(Record):
    """One drug or placebo given in the study."""

    agent: Agent = Field(description="What was given (vocabulary `Agent`).")
    given_in: Text = Field(description="Which condition or arm it was given in.")
    formulation: Fact[str] = Field(description="Formulation, for example oral tablet.")
    dose: Dose | None = Field(
        None,
        description="Dose per administration, with unit. Required for active drugs; leave out for placebo or saline.",
    )
    route: Fact[Route] = Field(description="Route (vocabulary `Route`).")
    timing: Fact[str] = Field(description="When it was given, relative to ketamine.")
    duration: Fact[str] | None = Field(
        None, description="How long each infusion lasted. Required for intravenous drugs."
    )
    doses: Fact[Count] = Field(description="Number of administrations per participant.")


class Outcome(Record):
    """An outcome measure and when it was measured."""

    role: OutcomeRole = Field(description="Role of the outcome (vocabulary `OutcomeRole`).")
    measure: Fact[str] = Field(description="Outcome measure, for example HAM-D-17 response.")
    time_point: Fact[str] = Field(description="When it was measured.")


class Study(Record):
    """A study, one file per study in `data/studies/`. Name the file after the id."""

    id: Slug = Field(description="Permanent id; the page address is studies/<id>/.")
    label: Text = Field(description="Short name readers see, for example `Williams et al. 2018`.")
    headline: Text = Field(description="What the study is, in a few words, for the page title.")
    role: StudyRole = Field(description="Why the site covers it (vocabulary `StudyRole`).")
    reference: Slug = Field(description="Id of the study's own publication in `data/references.yaml`.")
    registration: Fact[str] = Field(description="NCT number of its trial registration in `data/registrations.yaml`.")
    last_reviewed: dt.date = Field(description="Date the record was last checked against its sources.")
    design: StudyDesign = Field(description="How the study was designed.")
    population: Population = Field(description="Who took part.")
    participants: Participants = Field(description="How many took part, at each stage.")
    interventions: list[Intervention] = Field(min_length=1, description="Every drug or placebo given.")
    outcomes: list[Outcome] = Field(min_length=1, description="Outcome measures and time points.")
    results: list[Fact[str]] = Field(min_length=1, description="Main results, one fact each.")
    naltrexone_effect: Fact[NaltrexoneEffect] = Field(
        description="Whether naltrexone blunted the antidepressant effect (vocabulary `NaltrexoneEffect`)."
    )
    safety: Fact[str] = Field(description="Adverse events and tolerability.")
    conclusion: Fact[str] = Field(description="The authors' own conclusion.")
    limitations: list[Fact[str]] = Field(min_length=1, description="Limitations, each with the source that raises it.")
    funding: Fact[str] = Field(description="Funding as stated in the paper.")
    conflicts: Fact[str] = Field(description="Conflicts of interest as stated.")
    parent: Slug | None = Field(
        None, description="For a secondary analysis: the id of the study whose data it re-analyses."
    )
    cautions: list[Fact[str]] = Field(
        default_factory=list,
        description="Cautions a reader must see before the results, shown at the top of the page.",
    )
    protocol: list[ProtocolStep] = Field(
        default_factory=list,
        description="The protocol as steps in time order, drawn as a timeline on the study and Figures pages.",
    )


# --- The comparison -----------------------------------------------------------------


class ComparisonRow(Record):
    """What one study found, in the two dimensions not already in its study record."""

    depression_result: Fact[str] = Field(description="The main result on depression, in one sentence.")
    other_effects: Fact[str] = Field(description="The result on dissociation or other effects.")
    certainty: Slug | None = Field(
        None,
        description=(
            "Id of the certainty rating, in `certainty`, whose body of evidence holds the study. Leave it "
            "out for a study with no comparison with and without naltrexone: it cannot answer the question."
        ),
    )


class Reason(Record):
    """One reason why the studies' results may differ."""

    title: Text = Field(description="The dimension, for example `Population`.")
    text: Text = Field(description="How the studies differ on it, in plain language.")
    studies: list[Slug] = Field(min_length=1, description="Ids of the studies the point rests on.")


class DomainJudgement(Record):
    """One of the five GRADE domains, judged for one question, with its reason and the studies it rests on."""

    domain: GradeDomain = Field(description="The GRADE domain (vocabulary `GradeDomain`).")
    judgement: Judgement = Field(
        description="Not serious, serious (one level down) or very serious (two levels down); vocabulary `Judgement`."
    )
    reason: Text = Field(
        description="Why, in a sentence a reader can check against the studies; also when not serious."
    )
    studies: list[Slug] = Field(min_length=1, description="Ids of the studies the judgement rests on.")


class Consideration(Record):
    """Something a reader must know about a body of evidence that is not one of the five
    domains and is not counted as a step down, said plainly."""

    title: Text = Field(description="What it is, in a few words.")
    text: Text = Field(description="What it means for the question.")
    studies: list[Slug] = Field(min_length=1, description="Ids of the studies it concerns.")


class Finding(Record):
    """One result of a study, shown in a summary-of-findings row: it points at the
    study's `results` list, so that the number keeps the provenance it has there."""

    study: Slug = Field(description="Id of the study, one of the rating's `studies`.")
    result: Annotated[int, Field(ge=1, le=100)] = Field(
        description="Which of the study's `results`, counting from 1; it must not be an unknown."
    )


class CertaintyRating(Record):
    """The certainty of the evidence on one outcome of one key question, GRADE-style: the
    five domains judged, so that the level follows from the table."""

    question: Text = Field(description="The key question, with its population and comparison.")
    outcome: Text = Field(description="The outcome rated, with when it was measured.")
    outcome_id: Slug | None = Field(
        None,
        description=(
            "A short id for the outcome; its summary-of-findings row is at "
            "`summary-of-findings/#sof-<rating id>-<outcome_id>` (`#sof-<rating id>` without one)."
        ),
    )
    findings: list[Finding] = Field(
        default_factory=list,
        description="The studies' results on this outcome, shown in its summary-of-findings row with their provenance.",
    )
    studies: list[Slug] = Field(
        min_length=1,
        description="Ids of the studies in the body of evidence: only studies that compare with and without naltrexone.",
    )
    start: CertaintyLevel = Field(description="Where the rating starts: `high` for randomized trials.")
    level: CertaintyLevel = Field(description="The rating after the domains' steps down (vocabulary `CertaintyLevel`).")
    domains: list[DomainJudgement] = Field(
        min_length=5, max_length=5, description="The five GRADE domains, each judged once."
    )
    considerations: list[Consideration] = Field(
        default_factory=list, description="What a reader must know that is not a domain and not counted as a step."
    )
    editorial: CertaintyLevel | None = Field(
        None, description="The site's editorial judgement the rating started from, where there was one."
    )
    revisited: Text | None = Field(
        None, description="Why the table leads to a level other than `editorial`. Required when they differ."
    )
    statement: Text = Field(
        description="The finding in plain language, using the wording the level requires (may, probably, ...)."
    )


class OtherEvidence(Record):
    """Evidence outside the body of evidence for the certainty ratings: reports that point
    the other way, other human studies, letters, reviews and animal studies, each shown
    for what it is."""

    kind: EvidenceKind = Field(description="What kind of evidence (vocabulary `EvidenceKind`).")
    title: Text = Field(description="What it is, in a few words, for example `Marton et al. 2019, San Francisco VA`.")
    finding: Fact[str] = Field(description="What is known of it, with its provenance.")
    why_not_rated: Text | None = Field(None, description="Why it is not in a certainty rating's body of evidence.")


class Comparison(Record):
    """The comparison page, in `data/comparison.yaml`."""

    question: Text = Field(description="The question the comparison answers.")
    rows: dict[Slug, ComparisonRow] = Field(
        min_length=1, description="One row per study that tested ketamine with naltrexone, keyed by study id."
    )
    reasons: list[Reason] = Field(min_length=1, description="Why the results may differ.")
    certainty: dict[Slug, CertaintyRating] = Field(min_length=1, description="Certainty ratings, keyed by id.")
    other_evidence: list[OtherEvidence] = Field(
        default_factory=list, description="Evidence outside the ratings' bodies of evidence, shown for what it is."
    )


# --- Commentary, news claims, history, glossary -----------------------------------


class Commentary(Record):
    """An editorial, letter or reply about a study, keyed by id in `data/commentary.yaml`."""

    reference: Slug = Field(description="Id of the commentary itself in `data/references.yaml`.")
    discusses: list[Slug] = Field(min_length=1, description="Ids of the studies it discusses.")
    responds_to: Slug | None = Field(None, description="Id of the commentary it replies to, if any.")
    argument: Fact[str] = Field(description="Its argument in one line.")


class Claim(Record):
    """A claim made by one of the news articles the site was commissioned from,
    with what the primary record says. Keyed by id in `data/claims.yaml`."""

    article: Slug = Field(description="Id of the news article in `data/references.yaml`.")
    quote: Text = Field(description="The article's words, exactly as printed.")
    finding: Fact[str] = Field(description="What the primary record says.")
    verdict: Verdict = Field(description="How the claim stands against the record (vocabulary `Verdict`).")
    verdict_detail: Text = Field(description="The verdict in a few words, for example `Wrong unit`.")
    study: Slug | None = Field(None, description="Id of the study the claim concerns.")
    section: StudySection | None = Field(None, description="Section of that study's page (vocabulary `StudySection`).")
    event: Slug | None = Field(
        None, description="Id of the history event the claim concerns, when it is not about a study."
    )
    teaching_rank: Annotated[int, Field(ge=1, le=5)] | None = Field(
        None,
        description=(
            "For the teaching page: 1 to 5 for the five claims the news articles got most wrong, 1 the worst; "
            "each rank is given to one claim at most."
        ),
    )


class TimelineEvent(Record):
    """An event in the history of ketamine, keyed by id in `data/timeline.yaml`."""

    date: PartialDate = Field(
        description="Date for ordering: YYYY, YYYY-MM or YYYY-MM-DD (the earliest where sources disagree)."
    )
    when: Text = Field(description="The date as readers see it, for example `5 March 2019` or `1969 or 1970`.")
    title: Text = Field(description="What happened, in a few words.")
    description: Fact[str] = Field(description="The event, with its provenance.")
    disagreement: Text | None = Field(None, description="Where the sources disagree, and how.")
    study: Slug | None = Field(None, description="Id of the study the event is, if any.")


class GlossaryTerm(Record):
    """A term a trainee may stumble on, keyed by id in `data/glossary.yaml`. It is
    shown on the glossary page and as a tooltip wherever it appears."""

    term: Text = Field(description="The term as a heading.")
    matches: list[Text] = Field(
        min_length=1, description="Words in page text that get the tooltip, longest first, e.g. `HAM-D`."
    )
    definition: Text = Field(description="A plain-language definition in one to three sentences.")
    sources: list[Slug] = Field(
        default_factory=list, description="References for any specific fact the definition states."
    )
    related: list[Slug] = Field(default_factory=list, description="Ids of related glossary terms.")


class Redirect(Record):
    """An old study address that must keep working, keyed by the old id in
    `data/redirects.yaml`. Renaming or removing a study needs one."""

    to: Slug = Field(description="Id of the study that replaces it, or `studies` for the list of studies.")
    reason: Text = Field(description="Why the address changed.")


class Change(Record):
    """One entry of the change log, in `data/changes.yaml`, newest first."""

    date: dt.date = Field(description="When the change was made.")
    summary: Text = Field(description="What changed, in one sentence.")
    records: list[Annotated[str, StringConstraints(pattern=r"^(site|comparison|[a-z]+/[A-Za-z0-9-]+)$")]] = Field(
        min_length=1,
        description=(
            "The records it touched: `studies/<id>`, `references/<id>`, `registrations/<NCT>`, "
            "`commentary/<id>`, `claims/<id>`, `timeline/<id>`, `glossary/<id>`, `comparison` or `site`."
        ),
    )
    reason: Text = Field(description="Why it changed.")


class Search(Record):
    """One search of the public record for the evidence."""

    name: Text = Field(description="The search, in a few words, for example `Second reading`.")
    completed: dt.date = Field(description="The date the search was completed.")
    searched: list[Text] = Field(min_length=1, description="What was searched, one kind of source each.")
    note: Text | None = Field(None, description="What could not be read, or another caveat.")


class Exclusion(Record):
    """Records that were found but left off the site, with the reason."""

    what: Text = Field(description="What was found.")
    records: Annotated[int, Field(ge=1)] = Field(description="How many records.")
    reason: Text = Field(description="Why it was left off.")


class Methods(Record):
    """How the evidence was found and judged, in `data/methods.yaml`. The methods page
    computes its dates and counts from this file and the rest of the data."""

    searches: list[Search] = Field(min_length=1, description="Every search, oldest first.")
    inclusion: list[Text] = Field(min_length=1, description="Which kinds of record count, one criterion each.")
    rating_inclusion: list[Text] = Field(
        min_length=1, description="Which studies enter a certainty rating's body of evidence, one criterion each."
    )
    excluded: list[Exclusion] = Field(
        default_factory=list, description="Records found but left off the site, with the reason."
    )
    certainty_method: Text = Field(description="How the certainty of the evidence was rated, in plain language.")
    review_every_months: Annotated[int, Field(ge=1, le=36)] = Field(
        description="How often the evidence is searched again; the next review is due this long after the last search."
    )


class Statement(Record):
    """One sentence of the home page's bottom line, with the studies it rests on."""

    text: Text = Field(description="The sentence, worded to match the certainty of the evidence.")
    studies: list[Slug] = Field(default_factory=list, description="Ids of the studies it rests on.")
    certainty: Slug | None = Field(
        None,
        description=(
            "Id of the comparison's certainty rating the sentence reports; the home page shows its level "
            "and links to it, and the sentence must use the wording the level requires."
        ),
    )


class SiteInfo(Record):
    """The site's name and address, and what the home page says about the question as
    a whole, in `data/site.yaml`."""

    title: Text = Field(description="The site's name.")
    url: SiteUrl = Field(
        description=(
            "The address the site is published at, ending in `/`; used in canonical links and "
            "citations. The environment variable SITE_URL overrides it for a deployment."
        )
    )

    question: Text = Field(description="The clinical question in one sentence.")
    bottom_line: list[Statement] = Field(min_length=1, description="The bottom line in plain language.")
    audience: Text = Field(description="Who the site is for.")


# The record types of each data file, for the loader and the data dictionary.
RECORD_TYPES: tuple[type[BaseModel], ...] = (
    SiteInfo,
    Statement,
    Methods,
    Search,
    Exclusion,
    Comparison,
    ComparisonRow,
    Reason,
    CertaintyRating,
    Finding,
    OtherEvidence,
    DomainJudgement,
    Consideration,
    Study,
    ProtocolStep,
    StudyDesign,
    Population,
    Participants,
    Intervention,
    Outcome,
    Fact,
    SourceLevel,
    Dose,
    Reference,
    Author,
    Registration,
    Commentary,
    Claim,
    TimelineEvent,
    GlossaryTerm,
    Redirect,
    Change,
)


# --- Walking records ---------------------------------------------------------

# A place in a record: field names and list positions, outermost first.
Loc = tuple[str | int, ...]


def iter_facts(value: Any, loc: Loc = ()) -> Iterator[tuple[Loc, Fact[Any]]]:
    """Every Fact inside a record, with its location."""
    if isinstance(value, Fact):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name in _fields_with_records(type(value)):
            yield from iter_facts(getattr(value, name), (*loc, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_facts(item, (*loc, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_facts(item, (*loc, key))


def sources_of(record: BaseModel, extra: list[str]) -> list[str]:
    """Reference ids a record relies on (`extra`, then its facts' sources), in order of first use."""
    keys = dict.fromkeys(extra)
    for _, fact in iter_facts(record):
        if fact.source:
            keys[fact.source] = None
        for further in fact.also:
            keys[further.source] = None
    return list(keys)


@functools.cache
def _fields_with_records(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a record type that can hold a Fact. Text, numbers, dates and
    vocabularies cannot, and are not walked: the site's pages walk every record
    several times."""
    return tuple(name for name, field in model.model_fields.items() if _may_hold_record(field.annotation))


def _may_hold_record(annotation: Any) -> bool:
    arguments = typing.get_args(annotation)
    if arguments:  # list[X], dict[K, V], X | None, Annotated[X, ...]
        return any(_may_hold_record(argument) for argument in arguments)
    if annotation is Any or isinstance(annotation, TypeVar):
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def format_number(value: float | int) -> str:
    """Numbers exactly as entered: 50.0 is shown as 50, 0.045 stays 0.045."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
