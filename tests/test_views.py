"""The shared views: one label per work, however many works share an author and a year."""

from __future__ import annotations

from evidence import schema
from evidence.views import reference_labels


def test_thirty_works_alike_get_thirty_labels() -> None:
    """Past 26 works with one author-year label, the letters go on (aa, ab, ...) instead of failing."""
    reference = schema.Reference.model_validate(
        {"type": "article-journal", "title": "A paper", "authors": [{"family": "Smith", "given": "A"}],
         "authors_complete": False, "issued": "2020", "level": "primary", "seen_in": "the paper"}
    )  # fmt: skip
    references = {f"smith-{n}": reference for n in range(30)}
    labels = reference_labels(references, list(references))
    assert len(set(labels.values())) == 30
    assert [labels[f"smith-{n}"] for n in (0, 25, 26, 29)] == [
        "Smith et al. 2020a", "Smith et al. 2020z", "Smith et al. 2020aa", "Smith et al. 2020ad"
    ]  # fmt: skip
