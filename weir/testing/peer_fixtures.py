"""Pytest fixtures for the real peers (re-exported by tests/conftest.py):

- ``gitea``: a :class:`~weir.testing.gitea.GiteaServer` shared by the session (a start costs a
  few seconds); ``gitea_user``: a fresh account with a token for one test; ``gitea_repo``: an
  empty repository owned by ``gitea_user`` for one test.
- ``s3_server``: a :class:`~weir.testing.s3.S3Server` (versitygw, plain HTTP) shared by the
  session; ``s3_bucket``: a fresh bucket in it for one test.
- ``alertmanager``: an :class:`~weir.testing.alertmanager.AlertmanagerServer` for one test,
  forwarding its notifications to ``http_sink``.
- ``http_sink``: an :class:`~weir.testing.sink.HttpSink` recording requests, for one test.

A peer that is not built makes the fixture fail (never skip) with a message naming
``make tools``, which builds every peer into ``$WEIR_CACHE_DIR``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from weir.testing.alertmanager import AlertmanagerServer
from weir.testing.gitea import GiteaRepo, GiteaServer, GiteaUser
from weir.testing.s3 import S3Server, bucket_name
from weir.testing.sink import HttpSink


@pytest.fixture(scope="session")
def gitea(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GiteaServer]:
    with GiteaServer(tmp_path_factory.mktemp("gitea")) as server:
        yield server


@pytest.fixture
def gitea_user(gitea: GiteaServer) -> GiteaUser:
    return gitea.create_user()


@pytest.fixture
def gitea_repo(gitea: GiteaServer, gitea_user: GiteaUser) -> GiteaRepo:
    return gitea.client(gitea_user).create_repo()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with S3Server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server, request: pytest.FixtureRequest) -> str:
    return s3_server.create_bucket(bucket_name(request.node.name))


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    with HttpSink() as sink:
        yield sink


@pytest.fixture
def alertmanager(
    http_sink: HttpSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AlertmanagerServer]:
    root = tmp_path_factory.mktemp("alertmanager")
    with AlertmanagerServer(root, webhook_url=http_sink.url("/alertmanager")) as server:
        yield server
