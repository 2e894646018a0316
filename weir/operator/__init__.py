"""The Flux Operator layer: FluxInstance (:mod:`weir.operator.instance`), FluxReport and the
Prometheus metrics of the installation (:mod:`weir.operator.report`)."""
