"""What each Helm release revision changed (chart, app version, values), with values filled
from Secrets masked and values left out for who may not read Secrets; which revisions a
rollback may go to."""

from __future__ import annotations

import pytest

from weir.actions.helmrevisions import Revision, changes, check_rollback_target
from weir.errors import UsageError


def rev(version: int, chart_version: str, config: dict[str, object], app: str = "1") -> Revision:
    return Revision(version, "app", "ns", "deployed", "app", chart_version, app, None, "", config)


def test_changes_between_revisions() -> None:
    old = rev(1, "1.0.0", {"message": "one", "db": {"password": "s3cret"}, "gone": 1})
    new = rev(2, "1.1.0", {"message": "two", "db": {"password": "other"}, "new": [1]}, app="2")
    secret: set[tuple[str | int, ...]] = {("db", "password")}
    found = changes(old, new, secret, show_values=True)
    assert found["chart"] == {"before": "app 1.0.0", "after": "app 1.1.0"}
    assert found["appVersion"] == {"before": "1", "after": "2"}
    rows = {r["path"]: r for r in found["values"]}
    assert rows["message"] == {
        "path": "message",
        "change": "changed",
        "before": "one",
        "after": "two",
    }
    assert rows["db.password"]["before"] == rows["db.password"]["after"] == "***"
    assert rows["db.password"]["secret"] is True
    assert rows["gone"] == {"path": "gone", "change": "onlyInA", "before": 1, "after": None}
    assert rows["new"]["change"] == "onlyInB"
    assert "s3cret" not in str(found)
    hidden = changes(old, new, secret, show_values=False)
    assert {r["path"] for r in hidden["values"]} == set(rows)
    assert all("before" not in r for r in hidden["values"] if not r.get("secret"))
    assert changes(None, new, secret, show_values=True)["values"] == []


def test_rollback_targets() -> None:
    revisions = [rev(3, "1", {}), rev(2, "1", {}), rev(1, "1", {})]
    assert check_rollback_target(revisions, 1).version == 1
    with pytest.raises(UsageError, match="current one"):
        check_rollback_target(revisions, 3)
    with pytest.raises(UsageError, match=r"older ones: 2, 1"):
        check_rollback_target(revisions, 7)
    with pytest.raises(UsageError, match="no release revisions"):
        check_rollback_target([], 1)
