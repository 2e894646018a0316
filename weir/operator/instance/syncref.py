"""``spec.sync.ref`` -> the source's ``spec.ref``.

- GitRepository: a full ref name (``refs/heads/main``, ``refs/tags/v1.2.0``,
  ``refs/pull/1/head``) is ``ref.name``; a semver range (``>=1.0.0``, ``1.x``, ``~1.2``) is
  ``ref.semver`` (the highest matching tag); anything else is a branch name.
- OCIRepository: ``sha256:...`` is ``ref.digest``; a semver range is ``ref.semver``; anything
  else is a tag (``latest``, ``v1.2.0``).
- Bucket: the ref is the bucket's name.

A plain version (``1.2.0``) is a tag (OCI) or branch (Git), not a range: a range has an
operator, a wildcard, a space, a comma or ``||``.
"""

from __future__ import annotations

import re

from weir.artifact.errors import InvalidVersionError as InvalidRefError
from weir.artifact.semver import Constraint

_RANGE_MARKS = re.compile(r"[<>=~^*xX|, ]")


def is_semver_range(ref: str) -> bool:
    """Whether ``ref`` is a semver range rather than a name."""
    text = ref.strip()
    if not text or text.startswith("refs/") or "/" in text:
        return False
    if not _RANGE_MARKS.search(text.lstrip("vV")):
        return False
    try:
        Constraint(text)
    except InvalidRefError:
        return False
    return True


def git_ref(ref: str) -> dict[str, str]:
    if ref.startswith("refs/"):
        return {"name": ref}
    if is_semver_range(ref):
        return {"semver": ref}
    return {"branch": ref}


def oci_ref(ref: str) -> dict[str, str]:
    if ref.startswith("sha256:"):
        return {"digest": ref}
    if is_semver_range(ref):
        return {"semver": ref}
    return {"tag": ref}
