"""Attacks on the build's resources: memory and time without bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.kustomize.build import build
from weir.kustomize.errors import BuildError
from weir.kustomize.generate import BuildSpec
from weir.kustomize.sandbox import Limits

LAUGHS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: lol
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


async def test_billion_laughs_stops_at_the_memory_limit(repo: Path) -> None:
    (repo / "app" / "lol.yaml").write_text(LAUGHS)
    (repo / "app" / "kustomization.yaml").write_text("resources: [lol.yaml]\n")
    with pytest.raises(BuildError) as err:
        await build(repo, BuildSpec(path="app"), limits=Limits(memory=256 << 20))
    message = str(err.value)
    assert message == (
        "kustomize build stopped: it used more than 256 MiB of memory (--build-memory-limit); "
        "look for YAML anchors expanding without bound"
    )


async def test_build_stops_at_its_time_limit(repo: Path) -> None:
    (repo / "app" / "lol.yaml").write_text(LAUGHS)
    (repo / "app" / "kustomization.yaml").write_text("resources: [lol.yaml]\n")
    with pytest.raises(BuildError) as err:
        await build(repo, BuildSpec(path="app"), timeout=0.5, limits=Limits(memory=16 << 30))
    assert str(err.value).startswith("kustomize build stopped: it ran longer than 0.5s")
    assert "\n" not in str(err.value)


async def test_a_multi_line_kustomize_error_is_one_line(repo: Path) -> None:
    (repo / "app" / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n  bad: [\n")
    (repo / "app" / "kustomization.yaml").write_text("resources: [bad.yaml]\n")
    with pytest.raises(BuildError) as err:
        await build(repo, BuildSpec(path="app"))
    assert "\n" not in str(err.value)
    assert "bad.yaml" in str(err.value)
