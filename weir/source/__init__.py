"""Sources: fetching Git repositories and turning them into artifacts that consumers download.

Building blocks (the GitRepository reconciler is built on top of them):

- :mod:`weir.source.git`: ``resolve_remote`` (the no-op check) and ``checkout`` with the git CLI
- :mod:`weir.source.gitauth`: credentials from a Secret, passed to git without touching argv
- :mod:`weir.source.revision`: ``GitRef`` and Flux's revision strings
- :mod:`weir.artifact.semver`: SemVer ranges over tags (Masterminds semantics)
- :mod:`weir.source.ignore`: ``.sourceignore``, ``spec.ignore`` and the default exclusions
- :mod:`weir.source.storage`: the artifact storage (archive, GC, locks) and safe ``extract``
- :mod:`weir.source.server`: the artifact HTTP server; :mod:`weir.artifact.fetch`: downloads
- :mod:`weir.source.errors`: the ``SourceError`` family, each with its Flux reason
"""
