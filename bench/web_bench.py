"""Web UI benchmark: API response times, live-update latency and page loads with 1,000 and
10,000 Flux objects.

Starts its own control plane (etcd + kube-apiserver) and creates the objects **in the API
server** (Kustomizations with a status written as a controller would, every 10th failing; one
GitRepository; see :func:`weir.testing.seeded_fleet.bulk`), one namespace per size. ``weir ui`` runs
in-process on that namespace (its own informers, as ``weir ui -n``), and the figures of both
sizes are printed side by side:

- informer sync: UI start -> every cache listed;
- API: median and p95 of ``--repeat`` requests per endpoint, and the response size;
- live update: API patch -> the change on an open SSE stream (median of 20);
- page load (headless Chromium, Debian's): navigation -> the view's data on screen (median of 3);
- with ``--managed-ratio R``: ``R`` ConfigMaps per Kustomization exist too (labelled as applied
  by it and listed in its inventory: 10,000 x 5 = 50,000 managed objects);
- with ``--sse-clients 1,50``: SSE fan-out. For each client count, that many streams are open
  while the bench patches one Kustomization every 0.2 s for ``--sse-seconds``; measured: the
  API server's requests in that window other than the bench's own (from
  ``apiserver_request_total``; the UI's informers are watches, so this should not grow with
  the clients), the changes every client received, and the first page's latency meanwhile.

Run: ``.venv/bin/python -m bench.web_bench [--sizes 1000,10000] [--repeat 20] [--no-browser]
[--managed-ratio 5] [--sse-clients 1,50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from kubernetes_asyncio.client import ApiClient

from weir.api import KINDS
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
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("WEIR_CHROMIUM", "/usr/bin/chromium")
Figures = dict[str, str]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, Any]:
    """(median, p95, last result) of ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], result


async def api_figures(ui: WebUI, ns: str, size: int, repeat: int) -> Figures:
    out: Figures = {}
    async with httpx.AsyncClient(base_url=ui.url, timeout=60) as http:
        first = (await http.get("/api/v1/resources", params={"limit": 100})).json()
        assert first["total"] == size + 1, first["total"]
        token = first["continue"]
        deep = (await http.get("/api/v1/resources", params={"limit": 1000})).json()["continue"]
        endpoints: list[tuple[str, str, dict[str, Any]]] = [
            ("GET overview (dashboard)", "/api/v1/overview", {}),
            ("GET resources, first page of 100", "/api/v1/resources", {"limit": 100}),
            ("GET resources, next page (continue)", "/api/v1/resources", {"continue": token}),
            ("GET resources, page after 1000 rows", "/api/v1/resources", {"continue": deep}),
            ("GET resources, name wildcard", "/api/v1/resources", {"name": "ks-0*7"}),
            ("GET resources, status=failed", "/api/v1/resources", {"status": "failed"}),
            ("GET resources, sort=status", "/api/v1/resources", {"sort": "status"}),
            ("GET one object (detail)", f"/api/v1/resources/Kustomization/{ns}/ks-00007", {}),
            ("GET graph of the namespace", "/api/v1/graph", {"namespace": ns}),
        ]
        for label, path, params in endpoints:

            async def call(path: str = path, params: dict[str, Any] = params) -> httpx.Response:
                resp = await http.get(path, params=params)
                resp.raise_for_status()
                return resp

            median, p95, resp = await timed(call, repeat)
            out[label] = f"{ms(median)} / {ms(p95)} ({len(resp.content) / 1024:.0f} KiB)"
    out["live update: patch -> SSE event (median)"] = ms(await sse_latency(ui, ns))
    return out


async def sse_latency(ui: WebUI, ns: str, rounds: int = 20) -> float:
    delays = []
    async with (
        httpx.AsyncClient(base_url=ui.url, timeout=30) as http,
        http.stream("GET", "/api/v1/stream") as resp,
    ):
        lines = resp.aiter_lines()
        for i in range(rounds):
            name = f"ks-{i * 7:05d}"
            t0 = time.perf_counter()
            await kapi.patch(
                ui.state.api, KS, ns, name, {"metadata": {"labels": {"bench": str(i)}}}
            )
            async for line in lines:
                if line.startswith("data: ") and f"/{name}" in line:
                    delays.append(time.perf_counter() - t0)
                    break
    return statistics.median(delays)


async def apiserver_requests(api: ApiClient) -> float:
    """The API server's ``apiserver_request_total`` summed over every label set."""
    async with transport.open_response(api, "GET", "/metrics") as resp:
        text = await resp.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("apiserver_request_total{")
    )


async def sse_fanout(
    ui: WebUI, ns: str, size: int, clients: int, seconds: float, interval: float = 0.2
) -> Figures:
    """``clients`` SSE streams open while the bench patches one Kustomization per
    ``interval``: the API server's other requests, what each client got, first-page latency."""
    names: list[str] = []
    got = [0] * clients
    last: list[str] = [""] * clients
    limits = httpx.Limits(max_connections=clients + 8, max_keepalive_connections=clients + 8)
    async with httpx.AsyncClient(base_url=ui.url, timeout=120, limits=limits) as http:
        opened = asyncio.Event()
        ready = 0

        async def reader(i: int) -> None:
            nonlocal ready
            async with http.stream("GET", "/api/v1/stream") as resp:
                ready += 1
                if ready == clients:
                    opened.set()
                event = ""
                async for line in resp.aiter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "changes":
                        got[i] += line.count('"key":')
                        last[i] = line

        tasks = [asyncio.create_task(reader(i)) for i in range(clients)]
        try:
            await asyncio.wait_for(opened.wait(), 60)
            await asyncio.sleep(1.0)  # the hello frames
            before = await apiserver_requests(ui.state.api)
            t_end = time.monotonic() + seconds
            first_page: list[float] = []
            k = 0
            while time.monotonic() < t_end:
                name = f"ks-{(k * 37) % size:05d}"
                await kapi.patch(
                    ui.state.api,
                    KS,
                    ns,
                    name,
                    {"metadata": {"labels": {"fanout": f"{clients}-{k}"}}},
                )
                names.append(name)
                k += 1
                if k % 10 == 0:
                    t0 = time.perf_counter()
                    (await http.get("/api/v1/resources", params={"limit": 100})).raise_for_status()
                    first_page.append(time.perf_counter() - t0)
                await asyncio.sleep(interval)
            await asyncio.sleep(2.0)  # the last changes reach the clients
            after = await apiserver_requests(ui.state.api)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    # the bench's own: the patches, the second /metrics GET (the first is counted before)
    others = after - before - len(names) - 1
    complete = sum(1 for line in last if f"/{names[-1]}" in line)
    return {
        f"SSE {clients:>2} clients: API server requests/s besides the bench's": (
            f"{others / (seconds + 2.0):.2f}/s ({others:.0f} in {seconds + 2.0:.0f} s)"
        ),
        f"SSE {clients:>2} clients: changes received per client (min / max)": (
            f"{min(got)} / {max(got)} of {len(names)} patches; {complete}/{clients} saw the last"
        ),
        f"SSE {clients:>2} clients: first page of 100 meanwhile (median)": ms(
            statistics.median(first_page) if first_page else float("nan")
        ),
    }


async def page_figures(urls: dict[str, tuple[str, str]]) -> Figures:
    """Median of 3 loads: navigation -> ``selector`` visible."""
    from playwright.async_api import async_playwright  # noqa: PLC0415 -- optional

    out: Figures = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            for label, (url, selector) in urls.items():
                times = []
                for _ in range(3):
                    context = await browser.new_context(viewport={"width": 1360, "height": 900})
                    page = await context.new_page()
                    t0 = time.perf_counter()
                    await page.goto(url)
                    await page.wait_for_selector(selector, timeout=60_000)
                    times.append(time.perf_counter() - t0)
                    await context.close()
                out[label] = ms(statistics.median(times))
        finally:
            await browser.close()
    return out


async def one_size(
    api: ApiClient,
    size: int,
    repeat: int,
    browser: bool,
    managed_ratio: int = 0,
    sse_clients: tuple[int, ...] = (),
    sse_seconds: float = 20.0,
) -> Figures:
    ns = f"bench-web-{size}"
    await kapi.create(api, NAMESPACES, {"metadata": {"name": ns}})
    t0 = time.monotonic()
    managed = size * managed_ratio
    await demo.bulk(api, ns, size, failing_every=10, concurrency=48, managed=managed)
    figures: Figures = {
        "managed objects (ConfigMaps in inventories)": f"{managed:,}",
        "create objects in the API server": f"{time.monotonic() - t0:.1f} s",
    }
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=5.0)
    t0 = time.monotonic()
    async with running_ui(api, settings, namespace=ns, sync_timeout=300) as ui:
        figures["UI informer sync (all kinds)"] = ms(time.monotonic() - t0)
        figures.update(await api_figures(ui, ns, size, repeat))
        for clients in sse_clients:
            figures.update(await sse_fanout(ui, ns, size, clients, sse_seconds))
        if browser:
            base = ui.url
            figures.update(
                await page_figures(
                    {
                        "page: dashboard": (
                            f"{base}/",
                            f'[data-stat=objects] >> text="{size + 1}"',
                        ),
                        "page: resources (100 rows)": (
                            f"{base}/resources",
                            "[data-view=resources] tbody tr >> nth=99",
                        ),
                        "page: resources, failed only": (
                            f"{base}/resources?status=failed",
                            "[data-view=resources] tbody tr",
                        ),
                        "page: detail": (
                            f"{base}/resources/Kustomization/{ns}/ks-00007",
                            "[data-testid=status-line]",
                        ),
                        "page: graph (first 600 nodes)": (f"{base}/graph", "[data-node] >> nth=10"),
                    }
                )
            )
    figures["max RSS of this process"] = (
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    return figures


def prepare_browser() -> None:
    """The UI bundle (built when stale) and Debian's chromium (installed when missing)."""
    subprocess.run([str(ROOT / "scripts" / "build-ui.sh")], check=True)
    if not Path(CHROMIUM).exists():
        subprocess.run([str(ROOT / "scripts" / "install-chromium.sh")], check=True)


async def main(
    sizes: list[int],
    repeat: int,
    browser: bool,
    managed_ratio: int = 0,
    sse_clients: tuple[int, ...] = (),
    sse_seconds: float = 20.0,
) -> None:
    with tempfile.TemporaryDirectory(prefix="weir-web-bench-") as tmp:
        cluster = DevCluster(Path(tmp) / "cluster")
        cluster.up()
        try:
            api = await api_client(str(cluster.kubeconfig_path))
            async with api:
                await install_crds(api)
                results = {
                    size: await one_size(
                        api, size, repeat, browser, managed_ratio, sse_clients, sse_seconds
                    )
                    for size in sizes
                }
        finally:
            cluster.down()
    labels = list(dict.fromkeys(k for r in results.values() for k in r))
    width = max(len(label) for label in labels) + 2
    header = "".join(f"{f'{size:,} objects':>34}" for size in sizes)
    print(f"\n{'measure (API: median / p95, response size)':<{width}}{header}")
    for label in labels:
        cells = "".join(f"{results[size].get(label, ''):>34}" for size in sizes)
        print(f"{label:<{width}}{cells}")
    print(
        "\nObjects: Kustomizations (+1 GitRepository) created in a real kube-apiserver, status "
        "written as a controller would; the UI reads them through its informers. "
        f"Machine: {os.cpu_count()} cores. API timings include the HTTP round trip on loopback."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="object counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=20, help="requests per API endpoint")
    parser.add_argument("--no-browser", action="store_true", help="skip the page loads")
    parser.add_argument(
        "--managed-ratio", type=int, default=0, help="managed ConfigMaps per Kustomization"
    )
    parser.add_argument(
        "--sse-clients", default="", help="SSE fan-out: client counts, comma-separated (1,50)"
    )
    parser.add_argument("--sse-seconds", type=float, default=20.0, help="per client count")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if not args.no_browser:
        prepare_browser()
    asyncio.run(
        main(
            [int(s) for s in args.sizes.split(",")],
            args.repeat,
            not args.no_browser,
            args.managed_ratio,
            tuple(int(c) for c in args.sse_clients.split(",") if c),
            args.sse_seconds,
        )
    )
