"""Secondary watches (weir.runtime.watches): what of a source its consumers react to."""

from __future__ import annotations

from weir.runtime.watches import DependentsTracker, artifact_only, artifact_state, ref_of
from weir.types import Obj


class FakeIndex:
    """An in-memory stand-in for an informer index: every ref has one dependent."""

    def by_index(self, index: str, value: str) -> list[Obj]:
        return [{"metadata": {"namespace": "ns", "name": "app"}}]


def source(revision: str, ready: str, generation: int = 1) -> Obj:
    return {
        "kind": "GitRepository",
        "metadata": {"namespace": "ns", "name": "fleet", "generation": generation},
        "status": {
            "observedGeneration": generation,
            "conditions": [{"type": "Ready", "status": ready}],
            "artifact": {"revision": revision, "digest": f"sha256:{revision}"},
        },
    }


def test_artifact_only_ignores_the_source_showing_reconciling() -> None:
    tracker = DependentsTracker(FakeIndex(), "source", artifact_only, ref_of("GitRepository"))
    assert list(tracker("ADDED", source("v1", "True"))) == ["ns/app"], "first sight"
    assert not list(tracker("MODIFIED", source("v1", "Unknown", generation=2)))
    assert list(tracker("MODIFIED", source("v2", "True", generation=2))) == ["ns/app"]
    assert list(tracker("DELETED", source("v2", "True"))) == ["ns/app"]


def test_artifact_state_still_reacts_to_ready() -> None:
    tracker = DependentsTracker(FakeIndex(), "source", artifact_state, ref_of("GitRepository"))
    tracker("ADDED", source("v1", "True"))
    assert list(tracker("MODIFIED", source("v1", "Unknown"))) == ["ns/app"]
