"""Pure formatting of the CLI: ages, tables, durations, kind words, status selectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from weir.actions.objects import matches_status, parse_status_selector, resolve_kinds
from weir.api import KINDS
from weir.cli.options import kinds_of, parse_duration
from weir.cli.output import Table, age, cell, human_duration, render_table
from weir.errors import UsageError


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (119, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 600, "5h10m"),
        (20 * 3600, "20h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (45 * 86400, "45d"),
        (3 * 365 * 86400 + 30 * 86400, "3y30d"),
        (10 * 365 * 86400, "10y"),
        (-0.5, "0s"),
        (-5, "<invalid>"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_age() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert age(now - timedelta(minutes=7, seconds=3), now) == "7m3s"
    assert age(None, now) == "<unknown>"


def test_table_pads_all_but_the_last_column() -> None:
    text = render_table(
        ["name", "ready", "message"], [["apps", True, "ok"], ["a-long-name", "False", "x\n y"]]
    )
    assert text == (
        "NAME          READY   MESSAGE\napps          True    ok\na-long-name   False   x y\n"
    )


def test_table_rows_after_render_keep_widths() -> None:
    table = Table(["NAME", "MESSAGE"])
    table.render([["apps", "first"]])
    assert table.row(["b", "later"]) == "b      later\n"
    assert table.row(["a-much-longer-name", None]) == "a-much-longer-name\n"


def test_cell() -> None:
    assert cell(None) == ""
    assert cell(False) == "False"
    assert cell("  a\tb\n c ") == "a b c"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("2.5", 2.5), ("1m30s", 90)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "m5", "0s", "-1", "5mm"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="--timeout"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("ks", "Kustomization"),
        ("Kustomization", "Kustomization"),
        ("kustomizations", "Kustomization"),
        ("hr", "HelmRelease"),
        ("gitrepo", "GitRepository"),
        ("ocirepo", "OCIRepository"),
        ("helmrepo", "HelmRepository"),
        ("helmchart", "HelmChart"),
        ("hc", "HelmChart"),
        ("bucket", "Bucket"),
        ("helmrelease.helm.toolkit.fluxcd.io", "HelmRelease"),
    ],
)
def test_kind_words(word: str, kind: str) -> None:
    assert [k.kind for k in kinds_of(word, single=True)] == [kind]


def test_kind_groups() -> None:
    assert {k.kind for k in resolve_kinds("sources")} == {
        "GitRepository",
        "OCIRepository",
        "HelmRepository",
        "HelmChart",
        "Bucket",
        "ExternalArtifact",
        "ArtifactGenerator",
    }
    assert len(resolve_kinds("all")) == len(KINDS)


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as info:
        kinds_of("deployment")
    message = str(info.value)
    assert message.startswith("unknown kind 'deployment': use all, sources, or one of ")
    assert "kustomizations (ks)" in message
    assert "helmreleases (hr)" in message
    assert "buckets" in message
    assert info.value.exit_code == 2


def test_single_kind_refuses_groups() -> None:
    with pytest.raises(UsageError, match="several kinds"):
        kinds_of("all", single=True)


def test_status_selector() -> None:
    selector = parse_status_selector("Ready=false, stalled=TRUE")
    assert selector == {"ready": "False", "stalled": "True"}
    failing = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert matches_status(failing, {"ready": "False"})
    assert not matches_status(failing, selector)  # Stalled missing counts as Unknown
    assert matches_status({}, {"ready": "Unknown"})
    assert parse_status_selector(None) == {}
    for bad in ("ready", "ready=maybe", "=true"):
        with pytest.raises(UsageError, match="ready=false"):
            parse_status_selector(bad)
