"""Attacks on weir, one regression test each (run by ``make test``; see issue 20).

Every test here is an attack a tenant, a hostile repository or a web page could make; it fails
when the attack works. This helper's modules (another branch adds the kustomize ones):

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
