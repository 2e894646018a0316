"""Pytest fixtures for Git sources; ``tests/conftest.py`` re-exports them.

- ``git_server``: one :class:`~weir.testing.gitserver.GitHttpServer` per session (plain HTTP, no
  auth) serving a temporary directory.
- ``git_repo``: a fresh bare repository on that server for each test
  (:class:`~weir.testing.gitrepo.GitRepoFixture`; ``git_repo.url`` is its HTTP URL).

Servers with auth, TLS or SSH are cheap to start: build them in the tests that need them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gitserver import GitHttpServer


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    with GitHttpServer(tmp_path_factory.mktemp("git-server")) as server:
        yield server


@pytest.fixture
def git_repo(git_server: GitHttpServer, request: pytest.FixtureRequest) -> GitRepoFixture:
    stem = re.sub(r"[^a-zA-Z0-9_-]+", "-", request.node.name)[:40].strip("-")
    return git_server.create_repo(f"{stem}-{uuid.uuid4().hex[:8]}.git")
