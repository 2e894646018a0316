"""Server-side apply as Flux's appliers do it, shared by the Kustomization and ResourceSet
reconcilers: staged, drift-aware apply (:mod:`.apply`), garbage collection (:mod:`.prune`),
health checks with kstatus and CEL (:mod:`.wait`, :mod:`.celhealth`), taking fields over from
kubectl (:mod:`.cleanup`). The per-object annotations they honour and the owner labels they
check are a :class:`~weir.ssa.policies.Policies` (Flux's ``kustomize.toolkit.fluxcd.io/*`` by
default, the Flux Operator's ``fluxcd.controlplane.io/*`` for ResourceSets)."""
