"""Attacks on post-build substitution: expressions crafted to burn CPU or the stack."""

from __future__ import annotations

import pytest

from weir.kustomize.build import Manifest
from weir.kustomize.envsubst import EnvsubstSyntaxError, expand
from weir.kustomize.errors import SubstitutionError
from weir.kustomize.pool import default_pool
from weir.kustomize.substitute import substitute_job


def _manifest(value: str) -> Manifest:
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: '{value}'\n"
    return Manifest(text, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${v##*a*a*a*b}", "a" * 5000),  # no match: the value unchanged
        ("${v%%a*a*a*b}", "a" * 5000),
        ("${v#*a*a*a*}", "a" * 4997),
        ("${v##a*a*a*}", ""),
    ],
)
async def test_backtracking_glob_is_linear(expression: str, expected: str) -> None:
    # Run where a controller runs it: in a build worker, which stops a job at its deadline.
    objects, _ = await default_pool().call(
        substitute_job, [_manifest(expression)], {"v": "a" * 5000}, True, None, timeout=60
    )
    assert objects[0]["data"]["v"] == expected


def test_deep_nesting_is_a_clean_error() -> None:
    text = "${a:=" * 3000 + "x" + "}" * 3000
    with pytest.raises(EnvsubstSyntaxError, match="nest deeper than 64 levels"):
        expand(text, {})


async def test_deep_nesting_in_a_manifest_fails_the_build_cleanly() -> None:
    nested = "${a:=" * 3000 + "x" + "}" * 3000
    with pytest.raises(SubstitutionError, match="nest deeper") as err:
        await default_pool().call(
            substitute_job, [_manifest(nested)], {"b": "1"}, True, None, timeout=60
        )
    assert "Traceback" not in str(err.value)
    assert "RecursionError" not in str(err.value)
