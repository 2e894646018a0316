"""A small OCI distribution client (httpx): references, auth, manifests and blobs, Flux
artifacts and Helm OCI charts. See ``docs/helm.md``.

- :mod:`weir.oci.reference`: ``oci://`` URLs, tags, digests, semver tag selection, revisions;
- :mod:`weir.oci.auth`: credentials (dockerconfigjson) and ``WWW-Authenticate`` challenges;
- :mod:`weir.oci.client`: :class:`~weir.oci.client.RegistryClient` (the distribution API);
- :mod:`weir.oci.artifact`: Flux artifact and Helm chart layouts, ``layerSelector``;
- :mod:`weir.oci.errors`: the error family.
"""
