"""What per-user RBAC filtering costs: API server load with 1 and with 50 signed-in users
watching the dashboard, and the first page for a user who sees one namespace of a 10,000-object
fleet.

Starts its own control plane and creates the fleet in the API server: ``--teams`` namespaces
``team-NN`` with ``--size`` Kustomizations in all (status written as a controller would, every
10th failing; see :func:`weir.testing.seeded_fleet.bulk`). weir's roles
(``config/rbac/web-roles.yaml``) are bound: each team's group to ``flux-web-user`` in its
namespace, a ``viewers`` group to ``flux-web-user`` everywhere. The UI serves every namespace,
with identities from an authenticating proxy's headers (the sign-in mode does not matter here:
every mode ends in the same per-user access reviews).

**API server load.** Three windows of ``--window`` seconds, each with the same churn (two
Kustomization status changes a second, as controllers would write them): no user, 1 user, 50
users (40 in teams, 10 viewers). A user "watches the dashboard" as the UI does: an open live
stream, the dashboard fetched again every 2 s (the UI refetches on changes, debounced) and the
first page of the resource list every 10 s. The rate of requests the API server served in each
window comes from its own counter ``apiserver_request_total`` (read from ``/metrics`` before and
after), by resource and verb; the reviews the UI sent are ``selfsubjectaccessreviews`` and
``selfsubjectrulesreviews``.

**First page.** ``GET /api/v1/resources?limit=100`` for a team user (500 of 10,000 objects
visible): the first call (access reviewed: cold) and the median of ``--repeat`` (warm), next to
a viewer who sees everything; and the page load in Chromium (navigation -> 100 rows on screen,
or all the user's rows), median of 3.

Run: ``.venv/bin/python -m bench.web_rbac_bench [--size 10000] [--teams 20] [--window 90]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from kubernetes_asyncio.client import ApiClient
from prometheus_client.parser import text_string_to_metric_families

from bench.web_bench import CHROMIUM, prepare_browser
from weir.api import KINDS
from weir.auth.users import AuthSettings
from weir.crdinstall import install_crds
from weir.devcluster import DevCluster
from weir.kube import apply as kapi
from weir.kube import transport
from weir.kube.client import api_client
from weir.kube.resources import NAMESPACES
from weir.testing import seeded_fleet as demo
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

KS = KINDS["Kustomization"].resource
HEADER = "X-Auth-Request-User"
ROOT = Path(__file__).resolve().parents[1]
REVIEWS = ("selfsubjectaccessreviews", "selfsubjectrulesreviews")


async def bind(api: ApiClient, role: str, group: str, namespace: str | None) -> None:
    rbac = "rbac.authorization.k8s.io"
    meta: dict[str, str] = {"name": f"{role}-{group}"}
    if namespace:
        meta["namespace"] = namespace
    await kapi.apply(
        api,
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": rbac, "kind": "Group", "name": group}],
        },
        "weir-bench",
        force=True,
    )


async def install_roles(api: ApiClient) -> None:
    import yaml  # noqa: PLC0415

    for doc in yaml.safe_load_all((ROOT / "config" / "rbac" / "web-roles.yaml").read_text()):
        if doc:
            await kapi.apply(api, doc, "weir-bench", force=True)


async def served(api: ApiClient) -> Counter[tuple[str, str]]:
    """``apiserver_request_total`` by (resource, verb)."""
    async with transport.open_response(api, "GET", "/metrics") as resp:
        text = (await resp.read()).decode()
    out: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name != "apiserver_request":
            continue
        for sample in family.samples:
            if sample.name == "apiserver_request_total":
                labels = sample.labels
                key = (labels.get("resource") or "(non-resource)", labels.get("verb", ""))
                out[key] += int(sample.value)
    return out


def user(i: int, teams: int) -> tuple[str, str]:
    """(name, group) of user ``i``: 40 in teams, then viewers."""
    if i < 40:
        return f"member-{i:02d}", f"team-{i % teams:02d}"
    return f"viewer-{i:02d}", "viewers"


async def watcher(url: str, name: str, group: str, stop: asyncio.Event, done: Counter[str]) -> None:
    """One person watching the dashboard (see the module docstring)."""
    headers = {HEADER: name, "X-Forwarded-Groups": group}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as http:

        async def stream() -> None:
            with contextlib.suppress(httpx.HTTPError):
                async with http.stream("GET", "/api/v1/stream") as resp:
                    async for _ in resp.aiter_lines():
                        if stop.is_set():
                            return

        streaming = asyncio.create_task(stream())
        n = 0
        try:
            while not stop.is_set():
                try:
                    (await http.get("/api/v1/overview")).raise_for_status()
                    done["overview"] += 1
                    if n % 5 == 0:
                        page = await http.get("/api/v1/resources", params={"limit": 100})
                        page.raise_for_status()
                        done["resources"] += 1
                except httpx.HTTPError:
                    done["errors"] += 1
                n += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2.0)
        finally:
            streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await streaming


async def churn(api: ApiClient, namespaces: list[str], per_ns: int, stop: asyncio.Event) -> int:
    """Two status changes a second, round-robin over the fleet."""
    i = 0
    while not stop.is_set():
        ns = namespaces[i % len(namespaces)]
        name = f"ks-{(i // len(namespaces)) % per_ns:05d}"
        cond = demo.ready(
            "True", "ReconciliationSucceeded", f"Applied revision: {demo.REVISION} #{i}"
        )
        await kapi.patch_status(api, KS, ns, name, {"conditions": [cond]}, demo.STATUS_MANAGER)
        i += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return i


async def window(
    api: ApiClient, ui: WebUI, users: int, seconds: float, teams: int, per_ns: int
) -> dict[str, float]:
    """Requests per second the API server served while ``users`` watched."""
    stop = asyncio.Event()
    done: Counter[str] = Counter()
    namespaces = [f"team-{t:02d}" for t in range(teams)]
    reviews_before = ui.state.reviewer.requests if ui.state.reviewer else 0
    before = await served(api)
    t0 = time.monotonic()
    tasks = [
        asyncio.create_task(watcher(ui.url, *user(i, teams), stop, done)) for i in range(users)
    ]
    changes = asyncio.create_task(churn(api, namespaces, per_ns, stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    patched = await changes
    elapsed = time.monotonic() - t0
    after = await served(api)
    delta = after - before
    delta[("(non-resource)", "GET")] = max(0, delta[("(non-resource)", "GET")] - 1)  # /metrics
    total = sum(delta.values())
    reviews = sum(v for (res, _), v in delta.items() if res in REVIEWS)
    watches = sum(v for (_, verb), v in delta.items() if verb in ("WATCH", "LIST"))
    writes = sum(
        v for (res, verb), v in delta.items() if res == "kustomizations" and verb == "PATCH"
    )
    return {
        "users": users,
        "seconds": elapsed,
        "all requests/s": total / elapsed,
        "access reviews/s": reviews / elapsed,
        "list+watch requests/s": watches / elapsed,
        "churn patches/s (the benchmark's own)": writes / elapsed,
        "other requests/s": (total - reviews - watches - writes) / elapsed,
        "UI requests/s (dashboard, lists)": (done["overview"] + done["resources"]) / elapsed,
        "UI requests failed": float(done["errors"]),
        "reviews sent by the UI": float(
            (ui.state.reviewer.requests if ui.state.reviewer else 0) - reviews_before
        ),
        "status changes made": float(patched),
    }


async def first_page(ui: WebUI, name: str, group: str, repeat: int) -> tuple[float, float, int]:
    """(cold, warm median, rows) of the first page of 100 for a user."""
    headers = {HEADER: name, "X-Forwarded-Groups": group}
    async with httpx.AsyncClient(base_url=ui.url, timeout=120, headers=headers) as http:
        t0 = time.perf_counter()
        body = (await http.get("/api/v1/resources", params={"limit": 100})).json()
        cold = time.perf_counter() - t0
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            (await http.get("/api/v1/resources", params={"limit": 100})).raise_for_status()
            times.append(time.perf_counter() - t0)
    return cold, statistics.median(times), int(body["total"])


async def page_load(ui: WebUI, name: str, group: str) -> float:
    """Median of 3: navigation -> the resource list's rows on screen, as ``name``."""
    from playwright.async_api import async_playwright  # noqa: PLC0415 -- optional

    times = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            for _ in range(3):
                context = await browser.new_context(
                    viewport={"width": 1360, "height": 900},
                    extra_http_headers={HEADER: name, "X-Forwarded-Groups": group},
                )
                page = await context.new_page()
                t0 = time.perf_counter()
                await page.goto(f"{ui.url}/resources")
                await page.wait_for_selector(
                    "[data-view=resources] tbody tr >> nth=99", timeout=120_000
                )
                times.append(time.perf_counter() - t0)
                await context.close()
        finally:
            await browser.close()
    return statistics.median(times)


@contextlib.asynccontextmanager
async def fleet_ui(api: ApiClient, size: int, teams: int) -> AsyncIterator[WebUI]:
    await install_crds(api)
    await install_roles(api)
    per_ns = size // teams
    t0 = time.monotonic()
    for t in range(teams):
        ns = f"team-{t:02d}"
        await kapi.create(api, NAMESPACES, {"metadata": {"name": ns}})
        await demo.bulk(api, ns, per_ns, failing_every=10, concurrency=48)
        await bind(api, "flux-web-user", ns, ns)
    await bind(api, "flux-web-user", "viewers", None)
    print(f"created {size} Kustomizations in {teams} namespaces in {time.monotonic() - t0:.0f}s")
    settings = WebSettings(
        addr="127.0.0.1:0",
        heartbeat=15.0,
        auth=AuthSettings(mode="proxy", proxy_user_header=HEADER),
    )
    async with running_ui(api, settings, sync_timeout=600) as ui:
        yield ui


async def main(size: int, teams: int, seconds: float, repeat: int, browser: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="weir-rbac-bench-") as tmp:
        cluster = DevCluster(Path(tmp) / "cluster")
        cluster.up()
        try:
            api = await api_client(str(cluster.kubeconfig_path))
            async with api, fleet_ui(api, size, teams) as ui:
                per_ns = size // teams
                await asyncio.sleep(5)  # let the informers' first watch requests pass
                windows = [await window(api, ui, n, seconds, teams, per_ns) for n in (0, 1, 50)]
                team = await first_page(ui, "member-00", "team-00", repeat)
                viewer = await first_page(ui, "viewer-49", "viewers", repeat)
                loads = {}
                if browser:
                    loads["team user"] = await page_load(ui, "member-01", "team-01")
                    loads["viewer"] = await page_load(ui, "viewer-48", "viewers")
        finally:
            cluster.down()
    labels = list(windows[0])
    heads = "".join(f"{str(int(w['users'])) + ' users':>14}" for w in windows)
    print(f"\n{'API server load (per second, over the window)':<44}{heads}")
    for label in labels[1:]:
        print(f"{label:<44}" + "".join(f"{w[label]:>14.2f}" for w in windows))
    print(f"\nfirst page of 100 rows at {size:,} objects")
    for who, (cold, warm, rows) in (("team user", team), ("viewer", viewer)):
        print(
            f"  {who} ({rows} rows visible): first {cold * 1000:.1f} ms, "
            f"then median {warm * 1000:.1f} ms"
        )
    for who, t in loads.items():
        print(f"  page load, resources list, {who}: {t * 1000:.0f} ms (median of 3)")
    print(f"\nMachine: {os.cpu_count()} cores (shared: control plane, UI, load generator).")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="Kustomizations in all")
    parser.add_argument("--teams", type=int, default=20, help="namespaces (one team each)")
    parser.add_argument("--window", type=float, default=90.0, help="seconds per load window")
    parser.add_argument("--repeat", type=int, default=20, help="warm first-page requests")
    parser.add_argument("--no-browser", action="store_true", help="skip the page loads")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if not args.no_browser:
        prepare_browser()
    asyncio.run(main(args.size, args.teams, args.window, args.repeat, not args.no_browser))
