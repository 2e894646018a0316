"""Built manifests by (digest of the files ``spec.path`` reaches, build settings).

kustomize's output depends only on the files it reads and on the build settings merged from the
spec (:class:`~weir.kustomize.generate.BuildSpec`), so a build whose inputs digest
(:attr:`weir.kustomize.confine.Closure.digest`) and settings were seen before is not run again:
drift correction, a second Kustomization of the same path, and a new revision that did not touch
the path reuse the manifests. Builds with remote bases have no digest and are never cached.
The cache is bounded by the size of the YAML it holds (:data:`DEFAULT_BYTES`), least recently
used first out.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict

from weir.kustomize.build import Manifest
from weir.kustomize.generate import BuildSpec

DEFAULT_BYTES = 64 << 20
DEFAULT_INPUTS = 4096


def spec_key(spec: BuildSpec) -> str:
    """A stable text key of the build settings."""
    return json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str)


class BuildCache:
    """manifests by ``(inputs digest, spec_key)``; input digests by ``(artifact digest,
    spec_key)``."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES, max_inputs: int = DEFAULT_INPUTS) -> None:
        self.max_bytes = max_bytes
        self.max_inputs = max_inputs
        self._builds: OrderedDict[tuple[str, str], tuple[list[Manifest], str, int]] = OrderedDict()
        self._inputs: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def inputs(self, artifact: str, spec: str) -> tuple[bool, str | None]:
        """(known, digest) of the inputs of ``spec`` in the artifact ``artifact``."""
        key = (artifact, spec)
        if key not in self._inputs:
            return False, None
        self._inputs.move_to_end(key)
        return True, self._inputs[key]

    def put_inputs(self, artifact: str, spec: str, digest: str | None) -> None:
        self._inputs[(artifact, spec)] = digest
        self._inputs.move_to_end((artifact, spec))
        while len(self._inputs) > self.max_inputs:
            self._inputs.popitem(last=False)

    def get(self, inputs: str, spec: str) -> tuple[list[Manifest], str] | None:
        """The manifests and their history digest."""
        entry = self._builds.get((inputs, spec))
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._builds.move_to_end((inputs, spec))
        return list(entry[0]), entry[1]

    def put(self, inputs: str, spec: str, manifests: list[Manifest], digest: str) -> None:
        size = sum(len(m.text) for m in manifests) * 3  # text + parsed object, roughly
        if size > self.max_bytes // 4:
            return
        old = self._builds.pop((inputs, spec), None)
        if old is not None:
            self._bytes -= old[2]
        self._builds[(inputs, spec)] = (list(manifests), digest, size)
        self._bytes += size
        while self._bytes > self.max_bytes and self._builds:
            _, (_, _, dropped) = self._builds.popitem(last=False)
            self._bytes -= dropped
