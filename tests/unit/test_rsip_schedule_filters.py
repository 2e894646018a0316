"""Deployment windows, filters, skip labels, default values and ids of the input providers."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest

from weir.api.resourceset import ProviderFilter, ProviderSkip
from weir.operator.inputs.filters import (
    FilterError,
    Filters,
    Item,
    apply_skip,
    checksum_id,
    with_defaults,
)
from weir.operator.inputs.reconciler import inputs_digest
from weir.operator.inputs.schedule import Entry, ScheduleError, Scheduler


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ------------------------------------------------------------------------------ windows
def test_a_weekday_window_in_london() -> None:
    # the guide's example: 08:00 Europe/London on weekdays, open 8h, 1m timeout
    s = Scheduler([Entry("0 8 * * 1-5", "Europe/London", "8h")], 60)
    # 2026-03-02 is a Monday; London is on GMT (UTC+0) in early March
    assert not s.should_reconcile(at("2026-03-02T07:59:00"))
    assert s.should_reconcile(at("2026-03-02T08:00:00"))
    assert s.should_reconcile(at("2026-03-02T15:58:59"))
    # a run must end inside the window: now + timeout < trigger + window
    assert not s.should_reconcile(at("2026-03-02T15:59:30"))
    assert not s.should_reconcile(at("2026-03-07T10:00:00"))  # Saturday
    nxt = s.next(at("2026-03-07T10:00:00"))
    assert nxt is not None
    assert nxt.when == at("2026-03-09T08:00:00")
    # in summer London is UTC+1: the window opens at 07:00 UTC
    summer = s.next(at("2026-07-06T06:00:00"))
    assert summer is not None
    assert summer.when == at("2026-07-06T07:00:00")


def test_zero_window_lets_every_run_through() -> None:
    s = Scheduler([Entry("0 3 * * *", "UTC", "0s")], 60)
    assert s.should_reconcile(at("2026-03-02T12:00:00"))
    assert not s.should_schedule_interval(at("2026-03-02T12:00:00"))
    # with a zero window the next run is the interval or the next trigger, whichever first
    delay, upcoming = s.requeue_after(at("2026-03-02T02:00:00"), 3 * 3600)
    assert delay == 3600
    assert upcoming is not None
    assert upcoming.when == at("2026-03-02T03:00:00")


def test_any_schedule_opens_and_the_earliest_is_next() -> None:
    s = Scheduler([Entry("0 8 * * *", "UTC", "1h"), Entry("0 20 * * *", "UTC", "1h")], 60)
    assert s.should_reconcile(at("2026-03-02T20:30:00"))
    nxt = s.next(at("2026-03-02T10:00:00"))
    assert nxt is not None
    assert (nxt.entry.cron, nxt.when) == ("0 20 * * *", at("2026-03-02T20:00:00"))


def test_inside_a_window_runs_every_interval_then_waits_for_the_next() -> None:
    s = Scheduler([Entry("0 8 * * *", "UTC", "2h")], 60)
    delay, upcoming = s.requeue_after(at("2026-03-02T08:10:00"), 600)
    assert (delay, upcoming) == (600, None)
    # the next interval would end outside the window: wait for the next one
    delay, upcoming = s.requeue_after(at("2026-03-02T09:55:00"), 600)
    assert upcoming is not None
    assert upcoming.when == at("2026-03-03T08:00:00")
    assert delay == (at("2026-03-03T08:00:00") - at("2026-03-02T09:55:00")).total_seconds()


def test_descriptors_and_every() -> None:
    daily = Scheduler([Entry("@daily", "UTC", "1h")], 60)
    assert daily.should_reconcile(at("2026-03-02T00:30:00"))
    assert not daily.should_reconcile(at("2026-03-02T01:30:00"))
    every = Scheduler([Entry("@every 90s", "UTC", "0s")], 1)
    nxt = every.next(at("2026-03-02T00:00:00"))
    assert nxt is not None
    assert nxt.when == at("2026-03-02T00:00:00") + timedelta(seconds=90)


@pytest.mark.parametrize(
    ("entry", "timeout", "message"),
    [
        (
            Entry("61 * * * *"),
            60,
            r"failed to parse cron spec '61 \* \* \* \*' with timezone 'UTC': Bad minute",
        ),
        (Entry("0 8 * * *", "Mars/Olympus"), 60, "unknown time zone 'Mars/Olympus'"),
        (Entry("0 8 * * *", "UTC", "1m"), 60, "must always be at least twice the timeout"),
        (Entry("0 8 * * *", "UTC", "soon"), 60, "window"),
        (Entry("every day"), 60, "failed to parse cron spec"),
    ],
)
def test_bad_schedules_are_refused(entry: Entry, timeout: float, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Scheduler([entry], timeout)


# ------------------------------------------------------------------------------ filters
def pr(number: int, branch: str, labels: tuple[str, ...] = (), sha: str = "a") -> Item:
    return Item(id=str(number), sha=sha, branch=branch, author="u", title="t", labels=labels)


def test_ids_are_adler32_of_the_name() -> None:
    assert checksum_id("main") == str(zlib.adler32(b"main"))
    # by hand: a = 1 + sum(bytes) = 561, b = sum of the running a = 2050; b << 16 | a
    assert checksum_id("feat/a") == "134349361"


def test_request_filters_labels_branches_limit() -> None:
    items = [
        pr(1, "feat/a", ("preview",)),
        pr(2, "feat/b"),
        pr(3, "feat/not-this-one", ("preview",)),
        pr(4, "fix/c", ("preview", "other")),
        pr(5, "feat/e", ("preview",)),
    ]
    f = Filters.of(
        ProviderFilter(
            labels=["preview"],
            include_branch="^feat/",
            exclude_branch="^feat/not-this-one$",
            limit=1,
        )
    )
    assert [i.id for i in f.requests(items)] == ["1"]
    f = Filters.of(ProviderFilter(labels=["preview"]))
    assert [i.id for i in f.requests(items)] == ["1", "3", "4", "5"]


def test_tag_filters_semver_and_names() -> None:
    tags = [Item(id=checksum_id(t), tag=t, sha=t) for t in ("v1.0.0", "v1.10.0", "v1.2.0", "x")]
    assert [i.tag for i in Filters.of(ProviderFilter(semver=">=1.0.0")).tags(tags)] == [
        "v1.10.0",
        "v1.2.0",
        "v1.0.0",
    ]
    assert [i.tag for i in Filters.of(ProviderFilter(include_tag="^v1\\.1")).tags(tags)] == [
        "v1.10.0"
    ]
    assert Filters.of(ProviderFilter(exclude_tag="^v")).tag_names(["v1", "latest"]) == ["latest"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ProviderFilter(include_branch="(unclosed"), "invalid includeBranch regex"),
        (ProviderFilter(semver="not a range"), "invalid semver expression"),
    ],
)
def test_bad_filters_are_refused(spec: ProviderFilter, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        Filters.of(spec)


def test_skip_labels_keep_the_previous_input_or_leave_new_ones_out() -> None:
    previous = [{"id": "1", "sha": "old", "branch": "feat/a", "author": "u", "title": "t"}]
    items = [pr(1, "feat/a", ("hold",), sha="new"), pr(2, "feat/b", ("hold",)), pr(3, "feat/c")]
    out = apply_skip(items, ProviderSkip(labels=["hold"]), previous)
    assert [(i["id"], i["sha"]) for i in out] == [("1", "old"), ("3", "a")]
    # "!label": skip while the label is absent
    out = apply_skip(items, ProviderSkip(labels=["!ready"]), previous)
    assert [(i["id"], i["sha"]) for i in out] == [("1", "old")]


def test_default_values_never_override() -> None:
    out = with_defaults([{"id": "1", "branch": "feat/a"}], {"branch": "x", "env": "preview"})
    assert out == [{"id": "1", "branch": "feat/a", "env": "preview"}]


def test_exported_revision_is_a_stable_digest() -> None:
    one = inputs_digest([{"id": "1", "sha": "a", "branch": "b"}])
    assert one == inputs_digest([{"branch": "b", "sha": "a", "id": "1"}])
    assert one.startswith("sha256:")
    assert one != inputs_digest([{"id": "1", "sha": "b", "branch": "b"}])
