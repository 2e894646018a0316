"""Fleet benchmark: N Kustomizations x M ConfigMaps from one GitRepository, two weir trees
compared in alternating runs (``make bench-fleet``).

Each run starts a fresh control plane (:class:`weir.devcluster.DevCluster` plus an API-server
audit log, so requests are counted per client), a loopback Git server in this process, and
``weir run --controllers=source,kustomize`` as a separate process from the tree under test
(``PYTHONPATH=<tree>``, the same virtualenv), then measures three phases:

``create``  apply N Kustomizations -> all Ready at the first revision
``noop``    ``reconcile.fluxcd.io/requestedAt`` on every Kustomization -> all handled and Ready
``touch1``  a commit changing the files of one path, the GitRepository poked -> all Ready at the
            new revision (also ``first_ready_s``: from the push to the touched Kustomization
            Ready at the new revision)
``interval`` only with ``--interval`` (the Kustomizations' ``spec.interval``, e.g. ``30s``): one
            interval's worth of runs with nothing changed, no ``requestedAt``: the requests
            weir makes in a window of 1.5 intervals after ``touch1`` (each Kustomization runs once
            in it when ``touch1`` lasted less than 0.4 intervals; ``runs`` counts them from
            ``status.history``)

For each phase: wall time, CPU seconds of weir's process tree (children included: build workers,
kustomize), peak summed RSS of the tree (sampled every 10 ms), and API requests made by weir
(from the audit log, also per object; ``requests_by_verb`` breaks them down by verb and
resource); for ``touch1`` also the kustomize builds started (``kustomize`` or, for trees before
ADR 0016 or without the CLI, ``kubectl`` processes seen in the tree). Runs alternate ``before,
after, before, after...`` so that machine noise hits both; the table reports the means and
``after/before`` ratios.

Run: ``.venv/bin/python -m bench.fleet_bench --before /tmp/weir-before --after . --count 100``
(``--before`` is a checkout of the older tree, e.g. ``git archive main | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from weir.api.kinds import lookup
from weir.crdinstall import install_crds
from weir.devcluster import DevCluster
from weir.kube import apply as kapi
from weir.kube.client import api_client
from weir.kube.informer import list_all
from weir.kube.resources import NAMESPACES
from weir.runtime import conditions
from weir.runtime.durations import parse_duration
from weir.testing.gitserver import GitHttpServer

PHASES = ("create", "noop", "touch1", "interval")
GIT = lookup("GitRepository").resource
KS = lookup("Kustomization").resource
NS = "bench"
UA = "weir-fleet-bench"
OTHER_CLIENTS = (UA, "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
PAGE = os.sysconf("SC_PAGE_SIZE")
CLK = os.sysconf("SC_CLK_TCK")
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["ResponseStarted", "ResponseComplete", "Panic"]
rules:
- level: Metadata
"""


class AuditedCluster(DevCluster):
    """A DevCluster whose API server writes one audit line per request."""

    audit_log: Path

    def _apiserver_argv(self, binary: str, etcd_port: int, api_port: int) -> list[str]:
        policy = self.state_dir / "audit-policy.yaml"
        policy.write_text(AUDIT_POLICY)
        self.audit_log = self.state_dir / "audit.log"
        return [
            *super()._apiserver_argv(binary, etcd_port, api_port),
            f"--audit-policy-file={policy}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            "--audit-log-maxsize=4000",
            "--audit-log-mode=blocking",
        ]


def api_requests(log: Path, t0: float, t1: float) -> int:
    """Requests received in [t0, t1] from clients other than this benchmark and the control
    plane's own components: weir's."""
    return sum(requests_by_verb(log, t0, t1).values())


def requests_by_verb(log: Path, t0: float, t1: float) -> dict[str, int]:
    """weir's requests in [t0, t1] by ``verb resource`` (``patch kustomizations/status``)."""
    count: dict[str, int] = {}
    with log.open() as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            ts = datetime.fromisoformat(event["requestReceivedTimestamp"]).timestamp()
            agent = (event.get("userAgent") or "-").split("/")[0].split(" ")[0]
            if t0 <= ts <= t1 and agent not in OTHER_CLIENTS:
                ref = event.get("objectRef") or {}
                what = ref.get("resource", "-") + (
                    f"/{ref['subresource']}" if ref.get("subresource") else ""
                )
                key = f"{event.get('verb')} {what}"
                count[key] = count.get(key, 0) + 1
    return count


# ------------------------------------------------------------------------------- sampling
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _tree(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(_children(pid))
    return out


def _stat(pid: int) -> tuple[str, float, int] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK
    return comm, cpu, int(fields[21]) * PAGE


class Sampler(threading.Thread):
    """CPU (children included), RSS and kustomize processes of a process tree, every 10 ms
    (a kustomize run of a small path lasts about 50 ms)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.peak = 0
        self.kustomize: set[int] = set()
        self.dead_cpu = 0.0
        self.last: dict[int, float] = {}

    def measure(self) -> tuple[float, int]:
        cpu, rss, now = 0.0, 0, {}
        for pid in _tree(self.root):
            got = _stat(pid)
            if got is None:
                continue
            comm, pcpu, prss = got
            now[pid] = pcpu
            cpu += pcpu
            rss += prss
            if comm in ("kustomize", "kubectl"):  # the CLI, or kubectl kustomize (ADR 0016)
                self.kustomize.add(pid)
        with self.lock:
            # processes that ended and were reaped count in their parent's cutime already
            self.last = now
            self.peak = max(self.peak, rss)
        return cpu, rss

    def run(self) -> None:
        while not self.stop.is_set():
            self.measure()
            self.stop.wait(0.01)

    def reset(self) -> None:
        with self.lock:
            self.peak = 0
            self.kustomize = set()


# ------------------------------------------------------------------------------- scenario
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def files(count: int, objects: int, version: int, only: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in range(count) if only is None else [only]:
        for i in range(objects):
            out[f"app{k}/cm-{i}.yaml"] = (
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app{k}-cm{i}\n"
                f"data:\n  key: value-{k}-{i}-v{version}\n"
            )
    return out


def start_weir(
    tree: Path, kubeconfig: Path, run: Path, concurrent: int, log_level: str = "error"
) -> subprocess.Popen[bytes]:
    health, storage = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(tree), KUBECONFIG=str(kubeconfig))
    argv = [
        sys.executable,
        "-c",
        "import sys; from weir.cli.main import main; sys.argv[0] = 'weir'; main()",
        "run",
        "--controllers=source,kustomize",
        f"--kubeconfig={kubeconfig}",
        "--metrics-addr=0",
        f"--health-addr=127.0.0.1:{health}",
        "--web-addr=0",
        f"--storage-path={run / 'storage'}",
        f"--storage-addr=127.0.0.1:{storage}",
        f"--storage-adv-addr=127.0.0.1:{storage}",
        f"--concurrent={concurrent}",
        f"--log-level={log_level}",
    ]
    log = (run / "weir.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(tree))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weir exited with {proc.returncode}; see {run / 'weir.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", health, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("weir did not become ready")


async def wait_all(api: Any, count: int, check: Any, timeout: float = 1800) -> None:
    t0 = time.monotonic()
    while True:
        items, _ = await list_all(api, KS, namespace=NS)
        if sum(1 for o in items if check(o)) >= count:
            return
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"not all {count} Kustomizations done in {timeout}s")
        await asyncio.sleep(0.25)


def at(sha: str, token: str | None = None) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        if token is not None and status.get("lastHandledReconcileAt") != token:
            return False
        return (
            conditions.is_true(obj, "Ready")
            and sha in str(status.get("lastAppliedRevision"))
            and status.get("observedGeneration") == obj["metadata"].get("generation")
        )

    return check


async def runs_so_far(api: Any) -> int:
    """Runs recorded in the Kustomizations' ``status.history`` (``totalReconciliations``)."""
    items, _ = await list_all(api, KS, namespace=NS)
    return sum(
        int(entry.get("totalReconciliations", 0))
        for o in items
        for entry in (o.get("status") or {}).get("history") or []
    )


async def wait_one(api: Any, name: str, check: Any, timeout: float = 600) -> None:
    """Until the Kustomization ``name`` passes ``check`` (polled every 20 ms)."""
    t0 = time.monotonic()
    while not check(await kapi.get(api, KS, NS, name)):
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{name} not done in {timeout}s")
        await asyncio.sleep(0.02)


async def one_run(
    tree: Path,
    count: int,
    objects: int,
    concurrent: int,
    interval: str | None = None,
    log_level: str = "error",
    keep_log: Path | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="weir-fleet-") as tmp:
        run = Path(tmp)
        (run / "storage").mkdir()
        cluster = AuditedCluster(run / "cluster")
        cluster.up()
        proc: subprocess.Popen[bytes] | None = None
        try:
            api = await api_client(str(cluster.kubeconfig_path))
            api.user_agent = UA
            async with api:
                await install_crds(api)
                await kapi.create(api, NAMESPACES, {"metadata": {"name": NS}})
                with GitHttpServer(run / "git") as server:
                    repo = server.create_repo("fleet.git")
                    sha = repo.commit(files(count, objects, 1), "v1", replace=True)
                    proc = start_weir(tree, cluster.kubeconfig_path, run, concurrent, log_level)
                    sampler = Sampler(proc.pid)
                    sampler.start()
                    await kapi.apply(
                        api,
                        {
                            "apiVersion": "source.toolkit.fluxcd.io/v1",
                            "kind": "GitRepository",
                            "metadata": {"name": "fleet", "namespace": NS},
                            "spec": {
                                "url": repo.url,
                                "interval": "1h",
                                "ref": {"branch": "master"},
                            },
                        },
                        UA,
                    )

                    async def phase(
                        name: str, action: Any, check: Any, first: str | None = None
                    ) -> None:
                        await asyncio.sleep(2)  # let the previous phase's tail settle
                        sampler.reset()
                        cpu0, _ = sampler.measure()
                        t0 = time.time()
                        await action()
                        extra: dict[str, Any] = {}
                        if first is not None:
                            await wait_one(api, first, check)
                            extra["first_ready_s"] = round(time.time() - t0, 2)
                        await wait_all(api, count, check)
                        t1 = time.time()
                        cpu1, _ = sampler.measure()
                        result[name] = {
                            "wall_s": round(t1 - t0, 2),
                            "cpu_s": round(cpu1 - cpu0, 2),
                            "peak_rss_mib": round(sampler.peak / 2**20, 1),
                            "kustomize_runs": len(sampler.kustomize),
                            **extra,
                            "started_at": round(t0, 3),
                            "window": (t0, t1),
                        }

                    async def create() -> None:
                        for k in range(count):
                            await kapi.apply(
                                api,
                                {
                                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                                    "kind": "Kustomization",
                                    "metadata": {"name": f"app{k}", "namespace": NS},
                                    "spec": {
                                        "interval": interval or "1h",
                                        "prune": True,
                                        "path": f"./app{k}",
                                        "targetNamespace": NS,
                                        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                                    },
                                },
                                UA,
                            )

                    await phase("create", create, at(sha))

                    async def noop() -> None:
                        for k in range(count):
                            await kapi.patch(
                                api,
                                KS,
                                NS,
                                f"app{k}",
                                {
                                    "metadata": {
                                        "annotations": {"reconcile.fluxcd.io/requestedAt": "noop"}
                                    }
                                },
                            )

                    await phase("noop", noop, at(sha, "noop"))

                    new_sha = ""

                    async def touch() -> None:
                        nonlocal new_sha
                        new_sha = repo.commit(files(count, objects, 2, only=0), "touch app0")
                        await kapi.patch(
                            api,
                            GIT,
                            NS,
                            "fleet",
                            {
                                "metadata": {
                                    "annotations": {"reconcile.fluxcd.io/requestedAt": "push"}
                                }
                            },
                        )

                    await phase("touch1", touch, lambda o: at(new_sha)(o), first="app0")  # noqa: PLW0108 - new_sha is set by touch()
                    if interval is not None:
                        window = parse_duration(interval) * 1.5
                        await asyncio.sleep(1)
                        sampler.reset()
                        cpu0, _ = sampler.measure()
                        runs0 = await runs_so_far(api)
                        t0 = time.time()
                        await asyncio.sleep(window)
                        t1 = time.time()
                        cpu1, _ = sampler.measure()
                        result["interval"] = {
                            "wall_s": round(t1 - t0, 2),
                            "cpu_s": round(cpu1 - cpu0, 2),
                            "peak_rss_mib": round(sampler.peak / 2**20, 1),
                            "kustomize_runs": len(sampler.kustomize),
                            "runs": await runs_so_far(api) - runs0,
                            "window": (t0, t1),
                        }
                    sampler.stop.set()
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            await asyncio.sleep(1)  # the audit log is written as requests arrive
            if keep_log is not None:
                await asyncio.to_thread(_keep_log, run / "weir.log", keep_log)
            for name in PHASES:
                if name in result:
                    t0, t1 = result[name].pop("window")
                    verbs = requests_by_verb(cluster.audit_log, t0, t1)
                    result[name]["api_requests"] = sum(verbs.values())
                    result[name]["api_per_object"] = round(sum(verbs.values()) / count, 2)
                    result[name]["requests_by_verb"] = dict(sorted(verbs.items()))
            cluster.down()
    return result


def _keep_log(log: Path, dest: Path) -> None:
    if log.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, dest)


def report(results: dict[str, list[dict[str, Any]]], count: int, objects: int) -> None:
    keys = (
        "wall_s",
        "cpu_s",
        "peak_rss_mib",
        "api_requests",
        "api_per_object",
        "kustomize_runs",
        "first_ready_s",
        "runs",
    )
    print(f"\n{count} Kustomizations x {objects} ConfigMaps; means of {len(results['after'])} runs")
    print(f"{'phase':8} {'measure':14} {'before':>10} {'after':>10} {'after/before':>13}  runs")
    for phase in PHASES:
        for key in keys:
            b = [r[phase][key] for r in results["before"] if key in r.get(phase, {})]
            a = [r[phase][key] for r in results["after"] if key in r.get(phase, {})]
            if not a:
                continue
            mb, ma = (statistics.mean(b) if b else 0.0), statistics.mean(a)
            ratio = f"{ma / mb:.2f}x" if mb else "-"
            print(f"{phase:8} {key:14} {mb:10.1f} {ma:10.1f} {ratio:>13}  {b} | {a}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--before", type=Path, help="the older weir tree (omitted: measure --after alone)"
    )
    parser.add_argument("--after", type=Path, default=Path.cwd(), help="the newer weir tree")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--objects", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2, help="runs of each tree, alternating")
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument(
        "--interval",
        help="the Kustomizations' spec.interval (default 1h) and, when given, an interval phase",
    )
    parser.add_argument("--out", type=Path, help="append the raw results (JSON lines)")
    parser.add_argument(
        "--log-level",
        default="error",
        help="weir's --log-level (info shows where touch1's time goes: bench.touch_breakdown)",
    )
    parser.add_argument(
        "--keep-logs", type=Path, help="copy each run's weir log to DIR/<label>-<run>.log"
    )
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for i in range(args.runs):
        for label in ("before", "after") if args.before else ("after",):
            tree = (args.before if label == "before" else args.after).resolve()
            print(f"[{time.strftime('%H:%M:%S')}] run {i + 1} {label} ({tree})", flush=True)
            keep = args.keep_logs / f"{label}-{i + 1}.log" if args.keep_logs else None
            result = asyncio.run(
                one_run(
                    tree,
                    args.count,
                    args.objects,
                    args.concurrent,
                    args.interval,
                    args.log_level,
                    keep,
                )
            )
            result.update(label=label, count=args.count, objects=args.objects)
            print(json.dumps(result), flush=True)
            results[label].append(result)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps(result) + "\n")
    report(results, args.count, args.objects)


if __name__ == "__main__":
    main()
