"""``make up``: the first user's fleet (``examples/etherwurst``) running end to end on a local
control plane.

One module per job:

- :mod:`~weir.demo.settings` — paths under ``.weir/`` and addresses;
- :mod:`~weir.demo.gitfleet` — the example in a fresh bare repository served over Git HTTP, and
  a clone in ``.weir/fleet-work`` to edit and push from;
- :mod:`~weir.demo.charts` — the example's charts in a loopback Helm repository;
- :mod:`~weir.demo.provisioner` — a stand-in CSI provisioner, so claims bind under kwok;
- :mod:`~weir.demo.install` — the chart ``charts/weir`` installed with the Helm CLI, and its
  operator container's command to run here as the chart's ServiceAccount;
- :mod:`~weir.demo.bootstrap` — the Git secret (``weir create secret git``), the FluxInstance
  and its mirror patches;
- :mod:`~weir.demo.services` — weir (the chart's operator command, or ``weir run``), the web UI
  and the MCP server as processes, with
  :mod:`~weir.demo.features` (what this build has), :mod:`~weir.demo.commands` (their command
  lines) and :mod:`~weir.demo.procs` (start, probe, stop by pid);
- :mod:`~weir.demo.notifier` — a push to the fleet repository reconciles at once;
- :mod:`~weir.demo.status`, :mod:`~weir.demo.progress` — Ready or not, as a live table;
- :mod:`~weir.demo.statefile` — what runs, for ``make down`` and after a crash;
- :mod:`~weir.demo.mcpcall` — one MCP tool call from the shell (the tour);
- :mod:`~weir.demo.orchestrator` — :class:`Demo`, all of the above in order;
- :mod:`~weir.demo.cli` — ``python -m weir.demo up|down|status|mcp``.
"""

from weir.demo.orchestrator import Demo, DemoError
from weir.demo.settings import DemoSettings

__all__ = ["Demo", "DemoError", "DemoSettings"]
