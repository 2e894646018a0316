"""The Flux Operator layer: ResourceSet rendering (and its Go text/template engine in
:mod:`weir.operator.gotemplate`); the reconcilers of the operator kinds build on it."""
