"""diff_kustomization's shaping of the shared comparison: bounded field changes, secrets
scrubbed from the whole answer."""

from __future__ import annotations

from weir.actions.diff import FieldChange, ObjectDiff
from weir.kube.inventory import ObjectRef
from weir.mcp.tools.diff import MAX_FIELD_CHANGES, object_row, scrub_all
from weir.ssa.apply import Action

REF = ObjectRef("apps", "settings", "", "ConfigMap")


def test_object_rows_are_bounded() -> None:
    changes = [FieldChange(f"data.k{i}", "a", "b") for i in range(MAX_FIELD_CHANGES + 5)]
    row = object_row(ObjectDiff(REF, "v1", Action.CONFIGURED, changes, note="n"))
    assert row["object"] == "ConfigMap/apps/settings"
    assert row["action"] == "configured"
    assert row["note"] == "n"
    assert len(row["changes"]) == MAX_FIELD_CHANGES
    assert row["changes"][0] == {"path": "data.k0", "before": "a", "after": "b"}
    assert row["moreChanges"] == 5
    assert object_row(ObjectDiff(REF, "v1", Action.UNCHANGED)) == {
        "object": "ConfigMap/apps/settings",
        "action": "unchanged",
    }


def test_substituted_secret_values_are_scrubbed_everywhere() -> None:
    data = {
        "objects": [{"changes": [{"path": "data.url", "after": "postgres://u:pg-password@db"}]}],
        "errors": ["Secret/apps/x dry-run failed: pg-password is invalid"],
        "count": 3,
    }
    out = scrub_all(data, {"pg-password"})
    assert out == {
        "objects": [{"changes": [{"path": "data.url", "after": "postgres://u:***@db"}]}],
        "errors": ["Secret/apps/x dry-run failed: *** is invalid"],
        "count": 3,
    }
