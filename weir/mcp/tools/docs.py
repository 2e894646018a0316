"""``search_docs``: weir's own documentation, searched offline (BM25 over its sections), so an
assistant can look up a flag, a field or a behaviour without the internet.

The documents are the Markdown files of ``docs/`` (shipped in the wheel as ``weir/_docs``),
split at their headings; each section is ranked by Okapi BM25 (k1 1.5, b 0.75) on its words
and its headings (which count twice).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from mcp_types import CallToolResult
from pydantic import Field

import weir
from weir.errors import UsageError
from weir.mcp.env import ToolEnv
from weir.mcp.output import clip, respond
from weir.mcp.tooling import READ, ToolSpec

K1, B = 1.5, 0.75
WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")
HEADING = re.compile(r"^(#{1,4})\s+(.*)$")
EXCERPT = 600


@dataclass(frozen=True)
class Section:
    file: str
    heading: str
    text: str
    words: Counter[str]
    length: int


def docs_dir() -> Path | None:
    """``weir/_docs`` in an installed wheel, else the repository's ``docs/``."""
    package = Path(weir.__file__).resolve().parent
    for candidate in (package / "_docs", package.parent / "docs"):
        if candidate.is_dir():
            return candidate
    return None


def tokens(text: str) -> list[str]:
    return WORD.findall(text.lower())


def split(file: str, text: str) -> list[Section]:
    sections: list[Section] = []
    trail: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body or trail:
            heading = " > ".join(trail)
            words = Counter(tokens(body)) + Counter(tokens(heading) * 2)
            sections.append(Section(file, heading, body, words, sum(words.values())))

    for line in text.splitlines():
        found = HEADING.match(line)
        if found:
            flush()
            lines = []
            level = len(found.group(1))
            trail = [*trail[: level - 1], found.group(2).strip()]
        else:
            lines.append(line)
    flush()
    return sections


@cache
def index(root: str) -> tuple[Section, ...]:
    out: list[Section] = []
    for path in sorted(Path(root).rglob("*.md")):
        out.extend(split(str(path.relative_to(root)), path.read_text(errors="replace")))
    return tuple(out)


def search(query: str, limit: int, root: Path) -> list[tuple[float, Section]]:
    sections = index(str(root))
    terms = set(tokens(query))
    if not terms or not sections:
        return []
    average = sum(s.length for s in sections) / len(sections)
    frequency = {t: sum(1 for s in sections if t in s.words) for t in terms}
    scored = []
    for s in sections:
        score = 0.0
        for t in terms:
            tf = s.words.get(t, 0)
            if not tf:
                continue
            idf = math.log(1 + (len(sections) - frequency[t] + 0.5) / (frequency[t] + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * s.length / average))
        if score > 0:
            scored.append((score, s))
    scored.sort(key=lambda pair: -pair[0])
    return scored[:limit]


Query = Annotated[str, Field(description="What to look for, e.g. 'web config OIDC groups'.")]
Limit = Annotated[int, Field(ge=1, le=10, description="Sections to return (default 3).")]
Format = Annotated[
    Literal["concise", "complete"],
    Field(description="concise: an excerpt of each section; complete: the whole section."),
]


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def search_docs(
        *,
        query: Query,
        limit: Limit = 3,
        format: Format = "concise",
    ) -> CallToolResult:
        """Search weir's documentation offline (flags, fields, behaviours, how-tos): the
        best-matching sections, with their file and heading."""
        root = docs_dir()
        if root is None:
            raise UsageError("weir's documentation is not installed with this build")
        hits = search(query, limit, root)
        results = [
            {
                "file": s.file,
                "section": s.heading,
                "score": round(score, 2),
                "text": s.text if format == "complete" else clip(s.text, EXCERPT),
            }
            for score, s in hits
        ]
        return respond(
            {"query": query, "results": results or "nothing matched: try other words"},
            env.settings.max_output,
        )

    return [ToolSpec(search_docs, "Search weir's docs", READ)]
