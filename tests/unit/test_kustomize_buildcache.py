"""The build cache: bounded by size, keyed by inputs digest and build settings."""

from __future__ import annotations

from weir.kustomize.build import Manifest
from weir.kustomize.buildcache import BuildCache, spec_key
from weir.kustomize.generate import BuildSpec


def manifests(size: int) -> list[Manifest]:
    return [Manifest("x" * size, {"kind": "ConfigMap"})]


def test_hits_by_inputs_and_settings() -> None:
    cache = BuildCache()
    a, b = spec_key(BuildSpec(path="a")), spec_key(BuildSpec(path="a", name_prefix="p-"))
    assert a != b
    cache.put("sha256:1", a, manifests(10), "sha256:d")
    assert cache.get("sha256:1", a) == (manifests(10), "sha256:d")
    assert cache.get("sha256:1", b) is None
    assert cache.get("sha256:2", a) is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_bounded_by_size_least_recently_used_out() -> None:
    cache = BuildCache(max_bytes=300)
    for i in range(6):  # 60 bytes each, 360 in all
        cache.put(f"sha256:{i}", "s", manifests(20), "d")
    assert cache.get("sha256:0", "s") is None  # the oldest went first
    assert cache.get("sha256:5", "s") is not None
    cache.put("sha256:big", "s", manifests(1000), "d")  # larger than a quarter: not kept
    assert cache.get("sha256:big", "s") is None


def test_inputs_digests_are_remembered_per_artifact() -> None:
    cache = BuildCache(max_inputs=2)
    assert cache.inputs("art", "s") == (False, None)
    cache.put_inputs("art", "s", None)  # remote bases: known to have no digest
    assert cache.inputs("art", "s") == (True, None)
    cache.put_inputs("art2", "s", "sha256:1")
    cache.put_inputs("art3", "s", "sha256:2")
    assert cache.inputs("art", "s") == (False, None)
