"""What leads a reader from teaching material back to the source.

A printed page ends with a handout footer (templates/theme/partials/handout.html):
its permanent address as text and as a QR code drawn here with segno, the date its
evidence was last reviewed and its citation."""

from __future__ import annotations

import functools


@functools.cache  # a page's address does not change while `make serve` runs
def qr_svg(url: str) -> str:
    """The address as a QR code: an inline SVG sized by the print stylesheet, with a
    quiet zone of two modules (enough on white paper) and medium error correction.
    segno is imported here: a preview has no addresses, so it draws no QR code."""
    import segno

    code = segno.make(url, error="m", micro=False)
    return code.svg_inline(border=2, omitsize=True, svgclass="handout-qr", lineclass=None, title=f"QR code: {url}")
