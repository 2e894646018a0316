"""HelmRelease status: messages, the Ready summary and history snapshots (weir.helm.status)."""

from __future__ import annotations

from typing import Any

from weir.helm import status as hs
from weir.helmengine.engine import HookRun, Release
from weir.runtime import conditions
from weir.types import Obj


def release(revision: int, status: str = "deployed", **extra: Any) -> Release:
    return Release(
        "web",
        "apps",
        revision,
        status,
        "podinfo",
        "6.5.3",
        "6.5.3",
        manifest="kind: ConfigMap\n",
        deployed_at="2024-05-06T07:08:09.123456789+02:00",
        **extra,
    )


def hr() -> Obj:
    return {"metadata": {"name": "web", "namespace": "apps", "generation": 3}, "status": {}}


def test_messages_are_fluxs() -> None:
    rel = release(2)
    assert hs.succeeded("upgrade", rel, "podinfo@6.5.3") == (
        "Helm upgrade succeeded for release apps/web.v2 with chart podinfo@6.5.3"
    )
    assert hs.failed("install", "apps", "web", "podinfo@6.5.3", "boom") == (
        "Helm install failed for release apps/web with chart podinfo@6.5.3: boom"
    )
    tested = release(2, hooks=(HookRun("smoke", ("test",), "Succeeded", None, None),))
    assert hs.tested(tested, "podinfo@6.5.3").endswith("1 test hook(s) completed successfully")
    assert hs.tested(release(2), "c@1").endswith(": no test hooks")


def test_summary_precedence() -> None:
    obj = hr()
    assert hs.summary(obj, ignore_test_failures=False)[0] is True
    conditions.mark_true(obj, hs.RELEASED, hs.UPGRADE_SUCCEEDED, "released")
    assert hs.summary(obj, ignore_test_failures=False) == (True, "UpgradeSucceeded", "released")
    conditions.mark_true(obj, hs.TEST_SUCCESS, hs.TEST_SUCCEEDED, "tested")
    assert hs.summary(obj, ignore_test_failures=False) == (True, "TestSucceeded", "tested")
    conditions.mark_false(obj, hs.TEST_SUCCESS, hs.TEST_FAILED, "test failed")
    assert hs.summary(obj, ignore_test_failures=False) == (False, "TestFailed", "test failed")
    assert hs.summary(obj, ignore_test_failures=True) == (True, "UpgradeSucceeded", "released")
    conditions.mark_true(obj, hs.REMEDIATED, hs.ROLLBACK_SUCCEEDED, "rolled back")
    assert hs.summary(obj, ignore_test_failures=True) == (False, "RollbackSucceeded", "rolled back")


def test_timestamps_become_metav1_times() -> None:
    assert hs.timestamp("2024-05-06T07:08:09.123456789+02:00") == "2024-05-06T05:08:09Z"
    assert hs.timestamp("2024-05-06T07:08:09Z") == "2024-05-06T07:08:09Z"
    assert hs.timestamp("2024-05-06 07:08:09.5 +0000 UTC") == "2024-05-06T07:08:09Z"
    assert hs.timestamp("") is None
    assert hs.timestamp("yesterday") is None


def test_snapshot_fields() -> None:
    snap = hs.snapshot(
        release(1), config_digest="sha256:c", action="install", oci_digest="sha256:abc"
    )
    assert snap["lastDeployed"] == snap["firstDeployed"] == "2024-05-06T05:08:09Z"
    assert (snap["version"], snap["status"], snap["chartVersion"]) == (1, "deployed", "6.5.3")
    assert snap["action"] == "install"
    assert snap["ociDigest"] == "sha256:abc"
    assert snap["digest"].startswith("sha256:")
    assert hs.snapshot(release(1), config_digest="sha256:d")["digest"] != snap["digest"]
    gone = hs.snapshot(release(1, "uninstalled"), config_digest="sha256:c")
    assert gone["deleted"] == gone["lastDeployed"]


def test_history_record_refresh_truncate() -> None:
    history: list[Obj] = []
    for rev, st in ((1, "superseded"), (2, "superseded"), (3, "failed"), (4, "deployed")):
        history = hs.record(history, hs.snapshot(release(rev, st), config_digest="sha256:c"))
    assert [e["version"] for e in history] == [4, 3, 2, 1]
    # newest down to the previous successful one
    assert [e["version"] for e in hs.truncate(history)] == [4, 3, 2]
    history[2] = {**history[2], "testHooks": {"smoke": {"phase": "Failed"}}}
    assert [e["version"] for e in hs.truncate(history)] == [4, 3, 2, 1]
    assert [e["version"] for e in hs.truncate(history, ignore_test_failures=True)] == [4, 3, 2]
    # recording a revision again keeps its test hooks
    again = hs.record(history, hs.snapshot(release(2, "superseded"), config_digest="sha256:c"))
    assert again[0]["testHooks"] == {"smoke": {"phase": "Failed"}}
    # statuses follow Helm's storage; revisions Helm dropped leave the history
    fresh = hs.refresh(history, [release(3, "failed"), release(4, "superseded")])
    assert [(e["version"], e["status"]) for e in fresh] == [(4, "superseded"), (3, "failed")]
    assert hs.find(history, "web", "apps", 3) is history[1]
    assert hs.find(history, "web", "other", 3) is None


def test_test_hooks_and_digests() -> None:
    hooks = {
        "smoke": HookRun(
            "smoke", ("test",), "Succeeded", "2024-01-01T00:00:00Z", "2024-01-01T00:00:05Z"
        )
    }
    assert hs.test_hooks(hooks) == {
        "smoke": {
            "phase": "Succeeded",
            "lastStarted": "2024-01-01T00:00:00Z",
            "lastCompleted": "2024-01-01T00:00:05Z",
        }
    }
    assert hs.digest_of({"b": 1, "a": 2}) == hs.digest_of({"a": 2, "b": 1})
