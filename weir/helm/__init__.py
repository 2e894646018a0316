"""Helm delivery building blocks (the HelmRelease/HelmChart reconcilers sit on top):

- :mod:`weir.helm.engine`: the async engine interface and its data types;
  :mod:`weir.helm.engine_sdk` implements it over helm-python-sdk (Helm 4 in process),
  :mod:`weir.helm.engine_plugin` installs weir's post-renderer plugin,
  :mod:`weir.helm.engine_crds` applies the CRD policies (Skip/Create/CreateReplace);
- :mod:`weir.helm.values`: valuesFrom + values composition, ``--set`` paths, values digest;
- :mod:`weir.helm.postrender`: Flux postRenderers (kustomize), commonMetadata, origin labels;
- :mod:`weir.helm.drift`: drift detection and correction;
- :mod:`weir.helm.chartrepo`: HelmRepository index, chart versions, downloads, HelmChart revisions;
- :mod:`weir.helm.errors`: the error family.

Importing this package does not load the Helm library (85 MB);
:func:`weir.helm.engine.default_engine` does. See ``docs/helm.md``.
"""
