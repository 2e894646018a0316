"""The ResourceSet reconciler (:mod:`.reconciler`), its dependency check (:mod:`.dependencies`)
and its applier (:mod:`.applier`); rendering is :mod:`weir.operator.resourceset`."""
