"""``slugify``: what ``github.com/gosimple/slug`` makes of a string with the settings the Flux
Operator uses (63 characters at most, cut at a word boundary): trimmed, ``&`` and ``@`` spelled
out, transliterated to ASCII, lower-cased, runs of other characters turned into one ``-``."""

from __future__ import annotations

import re

from anyascii import anyascii

MAX_LENGTH = 63
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9\-_]")
_DASHES = re.compile(r"-+")
_EN = {"&": "and", "@": "at"}


def slugify(text: str, max_length: int = MAX_LENGTH) -> str:
    """A label-safe slug of ``text`` (``"Team 1: Apps!"`` -> ``team-1-apps``)."""
    slug = text.strip()
    slug = "".join(_EN.get(c, c) for c in slug)
    slug = anyascii(slug).lower()
    slug = _NOT_ALLOWED.sub("-", slug)
    slug = _DASHES.sub("-", slug)
    slug = slug.strip("-_")
    if max_length > 0 and len(slug) > max_length:
        cut = slug.rfind("-", 0, max_length + 1)
        slug = slug[:cut] if cut >= 0 else slug[:max_length]
    return slug
