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
- ``test_web_attacks``: DNS rebinding (reads, actions), cross-origin actions, CSRF, allowed
  ingress hosts, forged proxy headers and cookies, actions beyond loopback without sign-in.
- ``test_mcp_attacks``: DNS rebinding of the MCP endpoint, read-only mode, Secret masking,
  ``compare_helmrelease_values`` confirming guesses of secret values.
- ``test_artifact_attacks``: path escapes and symlinks in Git content, crafted tarballs
  (``..``, absolute paths, hard links, device files, symlinks out, bombs), the artifact
  server's traversal, forged URLs of the process's own storage, the includes of a
  GitRepository, a ``.sourceignore`` glob that backtracked exponentially, YAML bombs (cyclic
  anchors, billion laughs) in values, indexes and manifests, host paths in chart errors.

Fuzzing (Hypothesis) lives beside the unit tests (``tests/unit/test_*_fuzz.py``; ``make fuzz``
for long campaigns); fault injection (kill -9, API-server restarts, Git down, leader failover)
in ``tests/e2e/test_faults.py``.
"""
