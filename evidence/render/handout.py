"""What leads a reader from teaching material back to the source.

A printed page ends with a handout footer (templates/theme/partials/handout.html):
its permanent address as text and as a QR code drawn here with segno, the date its
evidence was last reviewed and its citation."""

from __future__ import annotations

import functools
from typing import TypedDict

from evidence import cache


# Everything a code is drawn with is in its cache key: a change here draws every code anew.
class _QrCode(TypedDict):
    error: str
    micro: bool


QR_CODE: _QrCode = {"error": "m", "micro": False}
QR_OPTIONS = {"border": 2, "omitsize": True, "svgclass": "handout-qr", "lineclass": None}


@functools.cache  # a page's address does not change while `make serve` runs
def qr_svg(url: str) -> str:
    """The address as a QR code: an inline SVG sized by the print stylesheet, with a
    quiet zone of two modules (enough on white paper) and medium error correction.
    Each is kept between builds (evidence/cache.py): segno takes about 15 ms a code."""
    name = cache.key(cache.version("segno"), repr(QR_CODE), repr(QR_OPTIONS), url)
    return cache.kept("qr", name, lambda: _draw_qr(url).encode("utf-8")).decode("utf-8")


def _draw_qr(url: str) -> str:
    import segno  # a preview has no addresses, so it draws no QR code

    return segno.make(url, **QR_CODE).svg_inline(title=f"QR code: {url}", **QR_OPTIONS)
