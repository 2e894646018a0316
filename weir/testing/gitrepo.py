"""Bare Git repositories built from Python, for tests and demos.

:class:`GitRepoFixture` commits a mapping of paths to contents straight into a bare repository
with git's plumbing (``read-tree``, ``hash-object``, ``update-index``, ``commit-tree``) through a
temporary index, so there is no working copy to keep in sync::

    repo = GitRepoFixture.create(tmp_path / "app.git")
    sha = repo.commit({"deploy/app.yaml": "kind: ConfigMap\\n"}, "first")
    repo.tag("v1.0.0", annotated=True)
    repo.commit({"deploy/app.yaml": None}, "remove it")   # None deletes a path
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from weir.testing.gpg import GpgKey

FILE = 0o100644
EXECUTABLE = 0o100755
SYMLINK = 0o120000
GITLINK = 0o160000
"""A submodule entry: the "content" is the submodule's commit sha."""

_EPOCH = 1_700_000_000


def run_git(
    *args: str,
    git_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes = b"",
) -> str:
    """Run git synchronously and return stdout (stripped); raise with stderr on failure."""
    full_env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    if git_dir is not None:
        full_env["GIT_DIR"] = str(git_dir)
    full_env.update(env or {})
    proc = subprocess.run(
        ["git", *args], input=input, capture_output=True, env=full_env, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode().strip()


class GitRepoFixture:
    """A bare repository and helpers to write history into it."""

    def __init__(self, path: Path, url: str | None = None, default_branch: str = "master"):
        self.path = Path(path)
        self.url = url or self.path.as_uri()
        self.default_branch = default_branch
        self._clock = 0
        self._signing: tuple[str, str] | None = None

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], url: str | None = None, default_branch: str = "master"
    ) -> GitRepoFixture:
        """``git init --bare`` at ``path`` with pushes over HTTP allowed."""
        p = Path(path)
        run_git("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(p))
        run_git("config", "http.receivepack", "true", git_dir=p)
        return cls(p, url, default_branch)

    @property
    def name(self) -> str:
        return self.path.name

    def sign_with(self, key: GpgKey | None) -> None:
        """Sign the commits and annotated tags made from now on with ``key`` (None: stop)."""
        self._signing = (str(key.home), key.fingerprint) if key else None

    def _env(self) -> dict[str, str]:
        self._clock += 1
        date = f"{_EPOCH + self._clock} +0000"
        signing = {"GNUPGHOME": self._signing[0]} if self._signing else {}
        return {
            **signing,
            "GIT_AUTHOR_NAME": "Weir Test",
            "GIT_AUTHOR_EMAIL": "test@weir.invalid",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": "Weir Test",
            "GIT_COMMITTER_EMAIL": "test@weir.invalid",
            "GIT_COMMITTER_DATE": date,
        }

    def rev(self, ref: str) -> str:
        """The commit a ref (branch, tag, sha) points at."""
        return run_git("rev-parse", "--verify", f"{ref}^{{commit}}", git_dir=self.path)

    def has_ref(self, ref: str) -> bool:
        try:
            run_git("rev-parse", "--verify", "--quiet", ref, git_dir=self.path)
        except RuntimeError:
            return False
        return True

    def commit(
        self,
        files: Mapping[str, str | bytes | None],
        message: str = "update",
        branch: str | None = None,
        *,
        replace: bool = False,
        modes: Mapping[str, int] | None = None,
    ) -> str:
        """Commit ``files`` (path -> content; None deletes) on ``branch``; returns the sha.

        With ``replace`` the tree holds exactly ``files``; otherwise they are applied on top of
        the branch's tree. ``modes`` marks paths as :data:`EXECUTABLE`, :data:`SYMLINK` (the
        content is the link target) or :data:`GITLINK` (a submodule; the content is its commit).
        """
        branch = branch or self.default_branch
        ref = f"refs/heads/{branch}"
        parent = self.rev(ref) if self.has_ref(ref) else None
        with tempfile.TemporaryDirectory(prefix="weir-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent and not replace:
                run_git("read-tree", parent, git_dir=self.path, env=env)
            else:
                run_git("read-tree", "--empty", git_dir=self.path, env=env)
            for path, content in files.items():
                if content is None:
                    # --index-info with mode 0 removes the path (works without a work tree).
                    run_git(
                        "update-index",
                        "--index-info",
                        git_dir=self.path,
                        env=env,
                        input=f"0 {'0' * 40}\t{path}\n".encode(),
                    )
                    continue
                mode = (modes or {}).get(path, FILE)
                data = content.encode() if isinstance(content, str) else content
                if mode == GITLINK:
                    blob = data.decode().strip()
                else:
                    blob = run_git("hash-object", "-w", "--stdin", git_dir=self.path, input=data)
                run_git(
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    f"{mode:o},{blob},{path}",
                    git_dir=self.path,
                    env=env,
                )
            tree = run_git("write-tree", git_dir=self.path, env=env)
        args = ["commit-tree", tree, "-m", message]
        if self._signing:
            args.append(f"-S{self._signing[1]}")
        if parent:
            args += ["-p", parent]
        sha = run_git(*args, git_dir=self.path, env=self._env())
        run_git("update-ref", ref, sha, git_dir=self.path)
        return sha

    def tag(
        self, name: str, ref: str | None = None, *, annotated: bool = False, message: str = ""
    ) -> str:
        """Tag ``ref`` (default: the default branch); returns the tagged commit's sha."""
        target = self.rev(ref or self.default_branch)
        if annotated:
            sign = ["-s", "-u", self._signing[1]] if self._signing else ["-a"]
            run_git(
                "tag",
                *sign,
                "-m",
                message or name,
                name,
                target,
                git_dir=self.path,
                env=self._env(),
            )
        else:
            run_git("tag", name, target, git_dir=self.path)
        return target

    def branch(self, name: str, ref: str | None = None) -> str:
        """Create or move branch ``name`` to ``ref``; returns its sha."""
        target = self.rev(ref or self.default_branch)
        run_git("update-ref", f"refs/heads/{name}", target, git_dir=self.path)
        return target

    def set_ref(self, name: str, ref: str) -> str:
        """Point any reference (``refs/pull/1/head``) at ``ref``; returns the sha."""
        target = self.rev(ref)
        run_git("update-ref", name, target, git_dir=self.path)
        return target

    def delete_ref(self, name: str) -> None:
        run_git("update-ref", "-d", name, git_dir=self.path)
