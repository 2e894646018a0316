"""Which context, server and default namespace a command uses (`weir.kubeconfig`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from weir.kubeconfig import KubeconfigError, kubeconfig_files, merge_configs, resolve


def config(
    current: str | None, *contexts: tuple[str, str | None], server: str = "s1"
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clusters": [{"name": "c", "cluster": {"server": f"https://{server}"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [
            {
                "name": n,
                "context": {"cluster": "c", "user": "u", **({"namespace": ns} if ns else {})},
            }
            for n, ns in contexts
        ],
    }
    if current:
        out["current-context"] = current
    return out


def write(path: Path, data: object) -> str:
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_current_context_and_namespace(tmp_path: Path) -> None:
    path = write(tmp_path / "k", config("dev", ("dev", "apps"), ("prod", None)))
    target = resolve(path)
    assert (target.context, target.namespace, target.server) == ("dev", "apps", "https://s1")
    prod = resolve(path, "prod")
    assert prod.namespace == "default"
    assert "context 'prod'" in prod.describe()


def test_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "k", config("dev", ("dev", None), ("prod", None)))
    with pytest.raises(
        KubeconfigError, match=r"context 'nope' not found .* \(contexts: dev, prod\)"
    ):
        resolve(path, "nope")


def test_no_current_context(tmp_path: Path) -> None:
    path = write(tmp_path / "k", config(None, ("dev", None)))
    with pytest.raises(KubeconfigError, match="no current-context: pass --context"):
        resolve(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="does not exist: check --kubeconfig"):
        resolve(str(tmp_path / "missing"))


def test_nothing_found(tmp_path: Path) -> None:
    env = {"KUBECONFIG": str(tmp_path / "none")}
    with pytest.raises(KubeconfigError, match="weir cluster up"):
        resolve(None, None, env)


def test_in_cluster(tmp_path: Path) -> None:
    env = {"KUBECONFIG": str(tmp_path / "none"), "KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    target = resolve(None, None, env)
    assert target.in_cluster
    assert target.server == "https://10.0.0.1:443"


def test_kubeconfig_env_merges_first_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "a", config("one", ("one", "ns-a"), server="a"))
    second = write(tmp_path / "b", config("two", ("one", "ns-b"), ("two", "ns-two"), server="b"))
    env = {"KUBECONFIG": f"{first}:{tmp_path / 'missing'}:{second}"}
    assert kubeconfig_files(None, env)[1] == tmp_path / "missing"
    target = resolve(None, None, env)
    assert (target.context, target.namespace) == ("one", "ns-a")
    assert target.files == (first, second)
    assert resolve(None, "two", env).namespace == "ns-two"


def test_merge_configs() -> None:
    merged = merge_configs(
        [
            {"contexts": [{"name": "x", "context": {"namespace": "1"}}]},
            {"current-context": "x", "contexts": [{"name": "x", "context": {"namespace": "2"}}]},
        ]
    )
    assert merged["current-context"] == "x"
    assert merged["contexts"] == [{"name": "x", "context": {"namespace": "1"}}]
