"""Pytest fixtures for Helm and OCI tests (re-exported by tests/conftest.py):

- ``chart_repo``: a :class:`~weir.testing.chartrepo.ChartRepoServer` (HTTP, no auth) for one test;
- ``oci_registry``: a :class:`~weir.testing.ociregistry.Registry` (docker-registry on 127.0.0.1,
  no auth) shared by the session; tests use their own repository paths in it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from weir.testing.chartrepo import ChartRepoServer
from weir.testing.ociregistry import Registry


@pytest.fixture
def chart_repo() -> Iterator[ChartRepoServer]:
    with ChartRepoServer() as repo:
        yield repo


@pytest.fixture(scope="session")
def oci_registry() -> Iterator[Registry]:
    with Registry() as registry:
        yield registry
