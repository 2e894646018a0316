"""weir's web dashboard: a JSON API over the informer caches, live updates by Server-Sent
Events, the actions the CLI has (reconcile, suspend, resume), and the single-page UI bundle
(built from ``ui/`` into ``weir/web/static``).

Served by ``weir run`` as a manager service (:mod:`weir.web.service`) and on its own by
``weir ui`` (:mod:`weir.web.standalone`). See ``docs/ui.md``.

Modules, one job each:

- :mod:`~weir.web.settings`: address, base path, heartbeat.
- :mod:`~weir.web.kinds`: the resources the UI shows (Flux kinds, workloads, pods, Events).
- :mod:`~weir.web.status`: the rows lists show (status words, masking and the graph model are
  the shared ones of :mod:`weir.actions`: ``health``, ``masking``, ``graph``).
- :mod:`~weir.web.schema`: the API row and graph as pydantic models (OpenAPI, TypeScript).
- :mod:`~weir.web.changes`: the change log behind live updates (ids, resume, waiting).
- :mod:`~weir.web.cache`: the informers the UI reads and the rows kept from them.
- :mod:`~weir.web.query`: filtering (wildcards), sorting and pagination.
- :mod:`~weir.web.detail`, :mod:`~weir.web.graph`, :mod:`~weir.web.workloads`,
  :mod:`~weir.web.events`, :mod:`~weir.web.health`: the views.
- :mod:`~weir.web.operations`, :mod:`~weir.web.artifact`: actions and artifact download.
- :mod:`~weir.web.sse`, :mod:`~weir.web.openapi`, :mod:`~weir.web.static`,
  :mod:`~weir.web.api`, :mod:`~weir.web.app`: the HTTP surface.
- :mod:`~weir.web.server`, :mod:`~weir.web.service`, :mod:`~weir.web.standalone`: running it.
"""
