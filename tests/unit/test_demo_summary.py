"""The closing line of `make up`: the demo's own time and, under `make up`, the total."""

from __future__ import annotations

import io

import pytest

from weir.demo.cli import UP_STARTED_ENV, since_make_up, summary
from weir.demo.progress import make_console, render
from weir.demo.status import Row, Snapshot


def test_since_make_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UP_STARTED_ENV, raising=False)
    assert since_make_up() is None
    monkeypatch.setenv(UP_STARTED_ENV, "1000.5")
    assert since_make_up(now=1506.5) == 506.0
    monkeypatch.setenv(UP_STARTED_ENV, "not a time")
    assert since_make_up() is None


def test_summary_names_both_times() -> None:
    empty = Snapshot((), ())
    assert summary(empty, 19.2).endswith("0/0 workloads available, 19s after the demo started.")
    with_setup = summary(empty, 19.2, 506.4)
    assert with_setup.endswith(
        "19s after the demo started (506s after `make up` started, set-up included)."
    )


def test_status_table_keeps_whole_messages_when_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12.9: redirected, the table's MESSAGE column was cut at rich's 80 columns."""
    monkeypatch.delenv("COLUMNS", raising=False)
    message = "CronJob/data/cryo-export dry-run failed (Invalid): spec.schedule: " + "x" * 60
    row = Row(
        "Kustomization",
        "flux-system",
        "apps",
        "False",
        message,
        "main@sha1:abc",
        False,
        False,
        True,
    )
    out = io.StringIO()
    console = make_console(file=out)
    console.print(render(Snapshot((row,), ()), 0.0, width=console.width))
    assert message in out.getvalue()
