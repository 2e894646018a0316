"""Artifacts as producers and consumers share them: tarballs and digests
(:mod:`~weir.artifact.tarball`), downloads (:mod:`~weir.artifact.fetch`), the consumer-side
cache (:mod:`~weir.artifact.cache`), versions (:mod:`~weir.artifact.semver`) and the
``ArtifactError`` tree (:mod:`~weir.artifact.errors`). It imports no controller package."""
