"""The Flux Operator layer: ResourceSet rendering (and its Go text/template engine in
:mod:`weir.operator.gotemplate`); FluxInstance (:mod:`weir.operator.instance`), FluxReport and
the Prometheus metrics of the installation (:mod:`weir.operator.report`)."""
