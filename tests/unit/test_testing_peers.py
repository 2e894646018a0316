"""The real-peer fixtures fail, never skip, when a peer is not built, and say how to build it."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.testing.alertmanager import alertmanager_binary
from weir.testing.gitea import gitea_binary, gitea_static_root
from weir.testing.peers import PeerNotBuiltError, pinned_version
from weir.testing.s3 import versitygw_binary


@pytest.mark.parametrize(
    ("find", "script"),
    [
        (gitea_binary, "build-gitea.sh"),
        (versitygw_binary, "build-versitygw.sh"),
        (alertmanager_binary, "build-alertmanager.sh"),
    ],
)
def test_missing_peer_names_make_tools(
    find: object, script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEIR_CACHE_DIR", str(tmp_path))
    assert callable(find)
    with pytest.raises(PeerNotBuiltError) as missing:
        find()
    message = str(missing.value)
    assert "`make tools`" in message
    assert script in message
    assert str(tmp_path) in message


def test_gitea_without_its_templates_is_not_built(tmp_path: Path) -> None:
    binary = tmp_path / "gitea" / "v1" / "bin" / "gitea"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    with pytest.raises(PeerNotBuiltError, match="make tools"):
        gitea_static_root(binary)


def test_versions_are_pinned() -> None:
    for key in ("GITEA_VERSION", "VERSITYGW_VERSION", "ALERTMANAGER_VERSION"):
        assert pinned_version(key).startswith("v")
    with pytest.raises(PeerNotBuiltError, match="NOPE_VERSION"):
        pinned_version("NOPE_VERSION")
