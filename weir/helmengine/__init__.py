"""The Helm engine shared by the HelmChart reconciler (packaging charts) and the HelmRelease
reconciler (releases): the async interface and its types (:mod:`~weir.helmengine.engine`), the
helm-python-sdk implementation (:mod:`~weir.helmengine.sdk`, Helm 4 in process, ADR 0002), the
post-renderer plugin (:mod:`~weir.helmengine.plugin`, :mod:`~weir.helmengine.postrender`), CRD
policies (:mod:`~weir.helmengine.crds`), values composition (:mod:`~weir.helmengine.values`),
the error tree (:mod:`~weir.helmengine.errors`) and the one engine per process
(:mod:`~weir.helmengine.service`). It imports no controller package."""
