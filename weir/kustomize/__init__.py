"""The Kustomization controller's building blocks (see docs/kustomize.md), one job per module.

Build: :mod:`~weir.kustomize.confine` (what spec.path reaches, nothing outside the artifact),
:mod:`~weir.kustomize.workspace` (spec.path, the copy of what it reaches),
:mod:`~weir.kustomize.generate` (kustomization.yaml generation and spec merge),
:mod:`~weir.kustomize.engine` (which kustomize: the pinned CLI, else ``kubectl kustomize``),
:mod:`~weir.kustomize.sandbox` (kustomize confined by Landlock, with limits),
:mod:`~weir.kustomize.pool` (the build worker processes),
:mod:`~weir.kustomize.build` (the build job, output parsing),
:mod:`~weir.kustomize.buildcache` (builds by inputs digest),
:mod:`~weir.kustomize.unchanged` (skipping runs when nothing changed),
:mod:`~weir.yamlio` (Kubernetes-flavoured YAML).

Post-build: :mod:`~weir.kustomize.envsubst` (the ``${var}`` engine),
:mod:`~weir.kustomize.substitute` (per-object substitution),
:mod:`~weir.kustomize.variables` (substitute/substituteFrom),
:mod:`~weir.kustomize.redact` (Secret values and host paths out of messages),
:mod:`~weir.kustomize.metadata` (normalization, commonMetadata, owner labels, policies).

Render: :mod:`~weir.kustomize.render` (build + substitution + history digest, then
commonMetadata and owner labels: the one pipeline of the controller, ``weir build``/``weir
diff`` and the MCP server).

Apply: :mod:`~weir.kube.order` (stages), :mod:`~weir.ssa.apply` (staged server-side
apply with drift detection; its planner, ``plan``, is what ``weir diff`` shows),
:mod:`~weir.ssa.cleanup` (taking fields over from kubectl),
:mod:`~weir.kube.inventory` (ids, diff, owner labels), :mod:`~weir.ssa.prune`
(garbage collection, deletionPolicy).

Health: :mod:`~weir.kube.kstatus` (kstatus), :mod:`~weir.ssa.celhealth`
(healthCheckExprs), :mod:`~weir.ssa.wait` (polling until Current).

Errors: :mod:`~weir.kustomize.errors`.
"""
