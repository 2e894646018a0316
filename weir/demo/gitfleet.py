"""The fleet repository: the example copied into a fresh bare repository served over HTTP, and a
clone of it in ``.weir/fleet-work`` to edit and push from."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from weir.testing.gitrepo import GitRepoFixture, run_git

AUTHOR_NAME = "Etherwurst Platform"
AUTHOR_EMAIL = "platform@etherwurst.invalid"


@dataclass(frozen=True)
class FleetRepo:
    bare: Path
    work: Path
    url: str
    branch: str

    def head(self) -> str:
        """The commit the served branch points at (a pushed ref is a loose file: read it; ask
        git when refs were packed)."""
        loose = self.bare / "refs" / "heads" / self.branch
        try:
            sha = loose.read_text().strip()
        except OSError:
            sha = ""
        return sha or run_git("rev-parse", f"refs/heads/{self.branch}", git_dir=self.bare)

    def git(self, *args: str) -> str:
        """Run git in the working copy (as the tour does from a shell)."""
        return run_git("-C", str(self.work), *args)

    def commit_and_push(self, files: dict[str, str | None], message: str) -> str:
        """Write (or, with None, delete) files in the working copy, commit them, push; returns
        the new commit."""
        for rel, content in files.items():
            path = self.work / rel
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "origin", self.branch)
        return self.git("rev-parse", "HEAD")


def publish(  # noqa: PLR0917
    example: Path, bare: Path, work: Path, url: str, branch: str, push_url: str | None = None
) -> FleetRepo:
    """Replace ``bare`` and ``work`` with a one-commit repository holding ``example``, pushed to
    ``url`` (the server must serve ``bare`` there; ``push_url``, the same with credentials, is
    the work clone's ``origin``)."""
    for path in (bare, work):
        shutil.rmtree(path, ignore_errors=True)
    GitRepoFixture.create(bare, url, default_branch=branch)
    shutil.copytree(example, work, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    repo = FleetRepo(bare, work, url, branch)
    repo.git("init", "--quiet", f"--initial-branch={branch}")
    repo.git("config", "user.name", AUTHOR_NAME)
    repo.git("config", "user.email", AUTHOR_EMAIL)
    repo.git("remote", "add", "origin", push_url or url)
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", "etherwurst fleet: infrastructure and apps")
    repo.git("push", "--quiet", "--set-upstream", "origin", branch)
    return repo
