"""Artifact exclusion rules: Flux's defaults, .sourceignore files and spec.ignore."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.source.ignore import IgnoreRules, Pattern, load_sourceignore, parse_patterns


def rules(text: str) -> IgnoreRules:
    return IgnoreRules.from_user_patterns(parse_patterns(text))


@pytest.mark.parametrize(
    ("path", "is_dir", "ignored"),
    [
        (".git", True, True),
        (".git/config", False, True),
        ("sub/.git/HEAD", False, True),
        (".gitignore", False, True),
        ("a/.gitmodules", False, True),
        ("logo.png", False, True),
        ("docs/img/x.JPG", False, False),  # case-sensitive like Flux
        ("release.tar.gz", False, True),
        (".github/workflows/ci.yaml", False, True),
        (".circleci", True, True),
        ("deep/.sops.yaml", False, True),
        (".flux.yaml", False, True),
        ("apps/app.yaml", False, False),
        ("kustomization.yaml", False, False),
        (".travis.yml", False, True),
        ("sub/.travis.yml", False, True),
    ],
)
def test_default_exclusions(path: str, is_dir: bool, ignored: bool) -> None:
    assert IgnoreRules.defaults().ignored(path, is_dir) is ignored


def test_user_patterns_replace_defaults_but_keep_vcs() -> None:
    r = rules("*.txt\n")
    assert r.ignored("notes.txt")
    assert not r.ignored("logo.png")  # the user defaults are gone
    assert r.ignored(".git/config")  # VCS patterns always apply
    assert r.ignored(".gitignore")


@pytest.mark.parametrize(
    ("text", "path", "is_dir", "ignored"),
    [
        # unanchored names match at any depth, and everything below a matched directory
        ("secret.yaml", "a/b/secret.yaml", False, True),
        ("build", "build/out/x.bin", False, True),
        ("*.log", "x/y.log", False, True),
        ("*.log", "y.log.keep", False, False),
        # directory-only patterns
        ("tmp/", "tmp", False, False),
        ("tmp/", "tmp", True, True),
        ("tmp/", "tmp/file", False, True),
        ("tmp/", "a/tmp/file", False, True),
        # anchored patterns
        ("/root.yaml", "root.yaml", False, True),
        ("/root.yaml", "sub/root.yaml", False, False),
        ("deploy/prod", "deploy/prod/app.yaml", False, True),
        ("deploy/prod", "x/deploy/prod/app.yaml", False, False),
        # double star as a whole component
        ("**/cache", "a/b/cache/x", False, True),
        ("**/cache", "cache/x", False, True),
        ("docs/**", "docs/a/b.md", False, True),
        ("a/**/z", "a/z", False, True),
        ("a/**/z", "a/b/c/z", False, True),
        ("a/**/z", "a/b/c/y", False, False),
        ("**.yaml", "x.yaml", False, True),  # unanchored: a plain glob, '**' acts as '*'
        ("a/**.yaml", "a/x.yaml", False, False),  # go-git: '**' inside an anchored part fails
        # globs
        ("file?.txt", "file1.txt", False, True),
        ("file?.txt", "file10.txt", False, False),
        ("[ab].md", "b.md", False, True),
        ("[^ab].md", "c.md", False, True),
        ("[^ab].md", "a.md", False, False),
        ("[a-c]x", "bx", False, True),
        ("\\*.md", "*.md", False, True),
        ("\\*.md", "a.md", False, False),
        ("[]x", "]x", False, False),  # malformed class never matches
        ("trailing.md   ", "trailing.md", False, True),
        ("# comment", "# comment", False, False),
    ],
)
def test_pattern_semantics(text: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert rules(text).ignored(path, is_dir) is ignored


def test_last_match_wins_and_negation_reincludes() -> None:
    r = rules("/*\n!/deploy\n")
    assert r.ignored("README.md")
    assert r.ignored("src/main.go")
    assert not r.ignored("deploy", True)
    assert not r.ignored("deploy/app.yaml")
    # unlike git, Flux (go-git) re-includes a file whose parent directory is excluded
    r = rules("config/\n!config/keep.yaml\n")
    assert r.ignored("config/drop.yaml")
    assert not r.ignored("config/keep.yaml")


def test_negated_pattern_order_matters() -> None:
    assert rules("!a.yaml\n*.yaml\n").ignored("a.yaml")
    assert not rules("*.yaml\n!a.yaml\n").ignored("a.yaml")


def test_sourceignore_files_are_scoped_to_their_directory(tmp_path: Path) -> None:
    (tmp_path / "apps" / "dev").mkdir(parents=True)
    (tmp_path / "infra").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / ".sourceignore").write_text("# root\n*.md\n")
    (tmp_path / "apps" / ".sourceignore").write_text("/local.yaml\n!README.md\n")
    (tmp_path / ".git" / ".sourceignore").write_text("*\n")  # never read
    r = IgnoreRules.for_directory(tmp_path)
    assert r.ignored("README.md")
    assert r.ignored("infra/notes.md")
    assert not r.ignored("apps/README.md")  # re-included by the apps/ file (read later)
    assert r.ignored("apps/local.yaml")
    assert not r.ignored("local.yaml")  # /local.yaml is anchored to apps/
    assert not r.ignored("apps/dev/local.yaml")
    assert not r.ignored("logo.png")  # user patterns replace the defaults
    assert r.ignored(".git/HEAD")


def test_spec_ignore_comes_after_sourceignore(tmp_path: Path) -> None:
    (tmp_path / ".sourceignore").write_text("*.yaml\n")
    r = IgnoreRules.for_directory(tmp_path, "!keep.yaml\n")
    assert r.ignored("drop.yaml")
    assert not r.ignored("keep.yaml")
    # no files and no spec.ignore: defaults
    empty = tmp_path / "empty"
    empty.mkdir()
    assert IgnoreRules.for_directory(empty).ignored("logo.png")
    # an empty spec.ignore string contributes no pattern: defaults still apply
    assert IgnoreRules.for_directory(empty, "").ignored("logo.png")


def test_load_order_is_parents_first_then_names(tmp_path: Path) -> None:
    for d in ("b", "a", "a/z"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
        (tmp_path / d / ".sourceignore").write_text(f"{d.replace('/', '-')}\n")
    sources = [p.source for p in load_sourceignore(tmp_path)]
    assert sources == ["a", "a-z", "b"]
    assert [p.domain for p in load_sourceignore(tmp_path)] == [("a",), ("a", "z"), ("b",)]


def test_pattern_parse_flags() -> None:
    p = Pattern.parse("!/a/b/")
    assert p.negate
    assert p.dir_only
    assert p.anchored
    assert p.parts == ("", "a", "b")
