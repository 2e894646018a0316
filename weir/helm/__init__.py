"""The HelmRelease controller: the reconciler and its state machine
(:mod:`~weir.helm.reconciler`, :mod:`~weir.helm.releaseops` for one Helm action with its
Events and status, :mod:`~weir.helm.remediation`, :mod:`~weir.helm.status`), chart sources
(:mod:`~weir.helm.chartsource`), identities (:mod:`~weir.helm.access`), drift detection
(:mod:`~weir.helm.drift`), the release inventory (:mod:`~weir.helm.inventory`), its typed
settings (:mod:`~weir.helm.settings`) and the controller wiring (:mod:`~weir.helm.controller`).

The Helm engine itself, shared with the HelmChart reconciler, is :mod:`weir.helmengine`; the
chart repository client is beside the HelmChart reconciler (:mod:`weir.source.chartrepo`).
Importing this package does not load the Helm library (85 MB). See ``docs/helm.md``.
"""
