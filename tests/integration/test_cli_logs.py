"""`weir logs` as a user runs it: lines written by weir's JSON log formatter, filtered by kind,
name, namespace, level and age, printed as text or passed through as JSON; following a file
(appends, truncation); standard input; and the weir pods of a cluster (none running: a clear
error, or the local log file `make up` writes)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from kubernetes_asyncio.client import ApiClient

from tests.support.cli import WEIR, Result, Watcher, weir
from weir.kube import apply as kapi
from weir.kube.resources import ResourceRef
from weir.log import FIELDS_ATTR, JSONFormatter

OFFLINE = ("--kubeconfig", "/nonexistent/kubeconfig")


def log_line(
    level: int,
    msg: str,
    kind: str | None = None,
    namespace: str | None = None,
    name: str | None = None,
    age: float = 0.0,
    **fields: Any,
) -> str:
    """One line as `weir run` writes it (its formatter, fields bound like object_logger's)."""
    record = logging.LogRecord("weir.runtime.controller", level, __file__, 1, msg, None, None)
    record.created = time.time() - age
    bound = {"kind": kind, "name": name, "namespace": namespace} if kind else {}
    setattr(record, FIELDS_ATTR, {**bound, **fields})
    return JSONFormatter().format(record)


def write_log(path: Path) -> list[str]:
    lines = [
        log_line(logging.INFO, "starting workers", workers=4, age=3600),
        log_line(
            logging.INFO,
            "reconciliation finished",
            "Kustomization",
            "flux-system",
            "apps",
            age=1800,
            controller="kustomization",
            revision="main@sha1:0123",
            message="Applied revision: main@sha1:0123",
        ),
        log_line(logging.DEBUG, "fetching", "GitRepository", "flux-system", "fleet", age=60),
        log_line(logging.WARNING, "slow fetch", "GitRepository", "flux-system", "fleet", age=50),
        "not JSON: a stray line",
        log_line(
            logging.ERROR,
            "reconciliation failed",
            "Kustomization",
            "flux-system",
            "apps",
            age=30,
            reason="BuildFailed",
            error="kustomize build failed: boom",
        ),
        log_line(logging.ERROR, "reconciliation failed", "Kustomization", "team", "apps", age=20),
        json.dumps(  # a line of Flux's kustomize-controller
            {
                "level": "error",
                "ts": "2099-01-01T00:00:00.000Z",
                "msg": "Reconciliation failed",
                "controllerKind": "Kustomization",
                "Kustomization": {"name": "infra", "namespace": "flux-system"},
                "reconcileID": "r1",
            }
        ),
    ]
    path.write_text("".join(f"{ln}\n" for ln in lines))
    return lines


def msgs(result: Result) -> list[str]:
    """`Kind/ns/name msg` of each printed line (the text after timestamp and level)."""
    assert result.code == 0, result
    return [" ".join(ln.split()[2:5]) for ln in result.stdout.splitlines()]


async def test_logs_from_a_file_with_filters(tmp_path: Path) -> None:
    file = tmp_path / "weir.log"
    lines = write_log(file)
    args = ("logs", "--file", str(file), *OFFLINE)
    everything, one, errors, warnings, recent, last, raw, flux = await asyncio.gather(
        weir(*args),
        weir(*args, "--kind", "ks", "--name", "apps", "-n", "flux-system"),
        weir(*args, "--level", "error"),
        weir(*args, "--level", "warning", "--kind", "GitRepository"),
        weir(*args, "--since", "10m"),
        weir(*args, "--tail", "2", "--name", "apps"),
        weir(*args, "-o", "json", "--kind", "gitrepo"),
        weir(*args, "--name", "infra"),
    )
    assert everything.code == 0, everything
    printed = everything.stdout.splitlines()
    assert len(printed) == len(lines)
    assert "not JSON: a stray line" in printed
    assert printed[1].split()[1:] == [
        "info",
        "Kustomization/flux-system/apps",
        "reconciliation",
        "finished",
        "controller=kustomization",
        "revision=main@sha1:0123",
        'message="Applied',
        "revision:",
        'main@sha1:0123"',
    ]
    assert printed[0].split()[2:] == ["weir.runtime.controller", "starting", "workers", "workers=4"]

    assert msgs(one) == [
        "Kustomization/flux-system/apps reconciliation finished",
        "Kustomization/flux-system/apps reconciliation failed",
    ]
    assert 'error="kustomize build failed: boom"' in one.stdout
    assert msgs(errors) == [
        "Kustomization/flux-system/apps reconciliation failed",
        "Kustomization/team/apps reconciliation failed",
        "Kustomization/flux-system/infra Reconciliation failed",
    ]
    assert msgs(warnings) == ["GitRepository/flux-system/fleet slow fetch"]
    assert msgs(recent) == [
        "GitRepository/flux-system/fleet fetching",
        "GitRepository/flux-system/fleet slow fetch",
        "Kustomization/flux-system/apps reconciliation failed",
        "Kustomization/team/apps reconciliation failed",
        "Kustomization/flux-system/infra Reconciliation failed",
    ]
    assert msgs(last) == [
        "Kustomization/flux-system/apps reconciliation failed",
        "Kustomization/team/apps reconciliation failed",
    ]
    assert raw.code == 0, raw
    assert raw.stdout.splitlines() == [lines[2], lines[3]]
    assert "reconcileID=r1" in flux.stdout


async def test_logs_follow_a_file(tmp_path: Path) -> None:
    file = tmp_path / "weir.log"
    write_log(file)
    async with Watcher(
        "logs", "--file", str(file), "-f", "--kind", "ks", "--tail", "1", kubeconfig="/nonexistent"
    ) as watcher:
        await watcher.wait_for("flux-system/infra")
        with file.open("a") as fh:
            fh.write(log_line(logging.INFO, "appended", "Kustomization", "ns", "new") + "\n")
            fh.write(log_line(logging.INFO, "ignored", "GitRepository", "ns", "other") + "\n")
        await watcher.wait_for("Kustomization/ns/new appended")
        file.write_text(log_line(logging.INFO, "rotated", "Kustomization", "ns", "again") + "\n")
        await watcher.wait_for("Kustomization/ns/again rotated")
        assert await watcher.interrupt() == 0
    assert len(watcher.lines) == 3
    assert not any("ignored" in ln for ln in watcher.lines)


async def run_in(cwd: Path, *args: str, stdin: str | None = None) -> Result:
    """`weir ARGS` in another working directory (the local log file is relative to it)."""
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    proc = await asyncio.create_subprocess_exec(
        WEIR,
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate((stdin or "").encode()), 120)
    assert proc.returncode is not None
    return Result(args, proc.returncode, out.decode(), err.decode())


async def test_logs_from_standard_input(tmp_path: Path) -> None:
    lines = write_log(tmp_path / "weir.log")
    result = await run_in(
        tmp_path, "logs", "--file", "-", "--kind", "ks", "--tail", "1", stdin="\n".join(lines)
    )
    assert msgs(result) == ["Kustomization/flux-system/infra Reconciliation failed"]


async def test_logs_bad_input(tmp_path: Path) -> None:
    file = tmp_path / "weir.log"
    write_log(file)
    args = ("logs", "--file", str(file), *OFFLINE)
    kind, level, since, tail, missing = await asyncio.gather(
        weir(*args, "--kind", "widgets"),
        weir(*args, "--level", "loud"),
        weir(*args, "--since", "yesterday"),
        weir(*args, "--tail", "-5"),
        weir("logs", "--file", str(tmp_path / "nope.log"), *OFFLINE),
    )
    for result, text in [
        (kind, "unknown kind 'widgets'"),
        (level, "--level 'loud': use one of trace, debug, info, warning, error"),
        (since, "--since 'yesterday' is not a duration"),
        (tail, "--tail -5"),
        (missing, "nope.log not found"),
    ]:
        assert result.code == 2, result
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: ")
        assert text in result.stderr


async def test_logs_from_the_cluster(
    kube: ApiClient, kubeconfig: str, namespace: str, tmp_path: Path
) -> None:
    here = tmp_path / "repo"
    here.mkdir()
    args = ("logs", "--kubeconfig", kubeconfig)
    none = await run_in(here, *args, "--selector", f"app.kubernetes.io/name=none-{namespace}")
    assert none.code == 1, none
    assert f"no weir pod matches app.kubernetes.io/name=none-{namespace} in any namespace" in (
        none.stderr
    )
    assert "--file" in none.stderr

    account = {"name": "default", "namespace": namespace}
    await kapi.apply(kube, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account}, "t")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "weir-0",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": f"weir-{namespace}"},
        },
        "spec": {"containers": [{"name": "manager", "image": "weir:dev"}]},
    }
    await kapi.create(kube, ResourceRef("", "v1", "pods", True, "Pod"), pod)
    selector = ("--selector", f"app.kubernetes.io/name=weir-{namespace}")
    pending = await run_in(here, *args, *selector, "--weir-namespace", namespace)
    assert pending.code == 1, pending
    assert f"skipping pod {namespace}/weir-0 (Pending: container manager has not started)" in (
        pending.stderr
    )
    assert "has started yet" in pending.stderr

    (here / ".weir/logs").mkdir(parents=True)
    write_log(here / ".weir/logs/weir.log")
    local = await run_in(here, *args, *selector, "--name", "fleet")
    assert msgs(local) == [
        "GitRepository/flux-system/fleet fetching",
        "GitRepository/flux-system/fleet slow fetch",
    ]
    assert "reading the local log file .weir/logs/weir.log" in local.stderr
