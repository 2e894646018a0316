"""Attacks on weir, one regression test each (run by ``make test``; see issue 20).

Every test here is an attack a tenant or a hostile repository could make; it fails when the
attack works. The modules:

- ``test_kustomize_confinement``: kustomize must not read a file outside the artifact, by any
  field -- a generator file reading the controller's kubeconfig, an inline generator reading
  ``../../../../etc/passwd``, a ``file://`` base pulling a local repository, plugin configs,
  patches, replacements, ``openapi``, symlinks -- refused by the static check *and* by the
  kernel sandbox when the static check is bypassed; one refused file does not poison the other
  Kustomizations of a source; no host path of the controller in a message.
- ``test_kustomize_limits``: a billion-laughs file stops at the memory limit with one line, a
  build stops at its time limit.
- ``test_substitution``: ``${v##*a*a*a*b}`` is linear, 3000 nested ``${a:=`` is a clean error.
- ``test_kustomize_e2e``: the same attacks through the controller (real API server, Git server):
  nothing applied, a clear status; Secret values from ``substituteFrom`` redacted from the
  status and Events.
- ``test_liveness``: ``/healthz`` answers while a hostile repository is reconciled; a leader whose
  event loop is blocked keeps its Lease.
"""
