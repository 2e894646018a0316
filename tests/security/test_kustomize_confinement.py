"""Attacks on the build: kustomize reading the controller's files through the repository.

Each attack runs against both layers of defence:

1. the static check of everything ``spec.path`` reaches (:mod:`weir.kustomize.confine`), through
   the build the controller runs (:func:`weir.kustomize.build.build`);
2. the kernel sandbox alone (:mod:`weir.kustomize.sandbox`): the same files handed straight to
   the confined kustomize, as if the static check had missed the field.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.security.conftest import SECRET
from weir.kustomize import sandbox
from weir.kustomize.build import build, kustomize_build
from weir.kustomize.errors import BuildError, KustomizeError
from weir.kustomize.generate import BuildSpec
from weir.kustomize.pool import default_pool

UP = "../" * 30  # from any temporary directory up to /

Files = Callable[[Path, Path], dict[str, str]]
"""(controller secret, a local git repository) -> the files of ``app/``."""


def _generator(secret: Path, _: Path) -> dict[str, str]:
    return {
        "kustomization.yaml": "generators: [gen.yaml]\n",
        "gen.yaml": (
            "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: stolen}\n"
            f"files: [kubeconfig={secret}]\n"
        ),
    }


def _inline_generator(_: Path, __: Path) -> dict[str, str]:
    return {
        "kustomization.yaml": (
            "generators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"
            f"  metadata: {{name: stolen}}\n  files: [passwd={UP}etc/passwd]\n"
        )
    }


def _file_url(_: Path, local: Path) -> dict[str, str]:
    return {"kustomization.yaml": f"resources: [file://{local}]\n"}


def _config_map_generator(secret: Path, _: Path) -> dict[str, str]:
    return {"kustomization.yaml": f"configMapGenerator:\n- name: stolen\n  files: [k={secret}]\n"}


def _env_file(_: Path, __: Path) -> dict[str, str]:
    return {"kustomization.yaml": f"secretGenerator:\n- name: stolen\n  envs: [{UP}etc/passwd]\n"}


def _transformer_patch(secret: Path, _: Path) -> dict[str, str]:
    return {
        "kustomization.yaml": "resources: [cm.yaml]\ntransformers: [t.yaml]\n",
        "t.yaml": (
            "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\n"
            f"path: {secret}\ntarget: {{kind: ConfigMap}}\n"
        ),
    }


def _patch_path(secret: Path, _: Path) -> dict[str, str]:
    return {"kustomization.yaml": f"resources: [cm.yaml]\npatches: [{{path: {secret}}}]\n"}


def _replacement_path(secret: Path, _: Path) -> dict[str, str]:
    return {"kustomization.yaml": f"resources: [cm.yaml]\nreplacements: [{{path: {secret}}}]\n"}


def _openapi(secret: Path, _: Path) -> dict[str, str]:
    return {"kustomization.yaml": f"resources: [cm.yaml]\nopenapi: {{path: {secret}}}\n"}


def _resource(secret: Path, _: Path) -> dict[str, str]:
    return {"kustomization.yaml": f"resources: [cm.yaml, {secret}]\n"}


ATTACKS: dict[str, Files] = {
    "a generator file reads the controller's kubeconfig": _generator,
    "an inline generator reads ../../../../etc/passwd": _inline_generator,
    "a file:// base pulls a local repository": _file_url,
    "a configMapGenerator reads an absolute path": _config_map_generator,
    "a secretGenerator env file climbs out with ..": _env_file,
    "a PatchTransformer config reads a patch outside": _transformer_patch,
    "a patch path is absolute": _patch_path,
    "a replacements path is absolute": _replacement_path,
    "openapi.path is absolute": _openapi,
    "a resource is an absolute path": _resource,
}


@pytest.fixture
def local_repo(tmp_path: Path, controller_secret: Path) -> Path:
    """A git repository on the controller's disk, holding the secret."""
    path = tmp_path / "local-repo"
    path.mkdir()
    (path / "kustomization.yaml").write_text("configMapGenerator: [{name: s, files: [s]}]\n")
    (path / "s").write_text(controller_secret.read_text())
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "s"], check=True)
    return path


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_static_check_refuses(
    attack: str, repo: Path, controller_secret: Path, local_repo: Path
) -> None:
    _write(repo / "app", ATTACKS[attack](controller_secret, local_repo))
    with pytest.raises(KustomizeError) as err:
        await build(repo, BuildSpec(path="app"))
    message = str(err.value)
    assert "outside the source artifact" in message or "file:// URL" in message
    assert SECRET not in message


needs_landlock = pytest.mark.skipif(
    sandbox.support() is not None, reason=f"no kernel sandbox here: {sandbox.support()}"
)


@needs_landlock
@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("allow_remote", [False, True])
async def test_sandbox_refuses_without_the_static_check(
    attack: str, allow_remote: bool, repo: Path, controller_secret: Path, local_repo: Path
) -> None:
    _write(repo / "app", ATTACKS[attack](controller_secret, local_repo))
    with pytest.raises(BuildError) as err:
        await default_pool().call(_confined, str(repo / "app"), allow_remote, timeout=60)
    assert SECRET not in str(err.value)
    assert "root:" not in str(err.value)  # /etc/passwd's content


def _confined(directory: str, allow_remote: bool) -> str:
    """(In a build worker.) kustomize confined to ``directory``, no static check."""
    path = Path(directory)
    return sandbox.run_kustomize(
        path, path, limits=sandbox.Limits(sandbox="required"), allow_remote=allow_remote
    )


@needs_landlock
async def test_sandbox_refuses_a_symlink_out(repo: Path, controller_secret: Path) -> None:
    (repo / "app" / "link.yaml").symlink_to(controller_secret)
    (repo / "app" / "kustomization.yaml").write_text(
        "configMapGenerator: [{name: stolen, files: [link.yaml]}]\n"
    )
    with pytest.raises(BuildError, match="permission denied") as err:
        await kustomize_build(repo / "app")
    assert SECRET not in str(err.value)
    with pytest.raises(KustomizeError, match=r"symlink 'app/link\.yaml' points outside"):
        await build(repo, BuildSpec(path="app"))


async def test_a_refused_file_elsewhere_does_not_poison_the_source(repo: Path) -> None:
    (repo / "abs").mkdir()
    (repo / "abs" / "kustomization.yaml").write_text("resources: [/etc/passwd]\n")
    (repo / "abs-link.yaml").symlink_to("/etc/passwd")
    manifests = await build(repo, BuildSpec(path="app"))
    assert [m.display for m in manifests] == ["ConfigMap/harmless"]
    with pytest.raises(BuildError, match="points outside"):
        await build(repo, BuildSpec(path="abs"))


async def test_messages_hold_no_host_path(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(KustomizeError) as err:
        await build(repo, BuildSpec(path="../../.."))
    assert str(tmp_path) not in str(err.value)
    assert "/tmp" not in str(err.value)
    (repo / "app" / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(BuildError) as err:
        await build(repo, BuildSpec(path="app"))
    assert "missing.yaml" in str(err.value)
    assert "/tmp" not in str(err.value)
    assert "weir-kustomize-" not in str(err.value)


async def test_the_attacks_are_real_without_the_sandbox(
    repo: Path, controller_secret: Path, local_repo: Path
) -> None:
    """The control experiment: unconfined and unchecked, kustomize does read the secret."""
    _write(repo / "app", _generator(controller_secret, local_repo))
    output = await default_pool().call(_unconfined, str(repo / "app"), timeout=60)
    assert "kubeconfig:" in output


def _unconfined(directory: str) -> str:
    path = Path(directory)
    return sandbox.run_kustomize(
        path, path, limits=sandbox.Limits(sandbox="off"), allow_remote=False
    )
