"""ArtifactGenerator copy operations, from source-watcher's documented ``cp`` semantics: files,
directories, globs (Go's ``fs.Glob``), excludes (doublestar), the Merge and Extract strategies,
refusals, and the content hash that names the artifact file."""

from __future__ import annotations

import io
import tarfile
import zlib
from pathlib import Path

import pytest

from weir.source.copyops import Copy, CopyError, build, dir_hash, merge_maps
from weir.source.globs import GlobError, doublestar_match, go_glob


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def contents(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run(tmp_path: Path, sources: dict[str, dict[str, str]], *copies: Copy) -> dict[str, str]:
    roots = {alias: tree(tmp_path / "src" / alias, files) for alias, files in sources.items()}
    out = tmp_path / "out"
    build(copies, roots, out)
    return contents(out)


SRC = {
    "config.yaml": "a: 1\n",
    "configs/app.yaml": "app: 1\n",
    "configs/db.yaml": "db: 1\n",
    "configs/sub/deep.yaml": "deep: 1\n",
    "configs/README.md": "doc\n",
}


@pytest.mark.parametrize(
    ("copy", "expected"),
    [
        # cp source/config.yaml artifact/apps/app.yaml
        (Copy("@s/config.yaml", "@artifact/apps/app.yaml"), {"apps/app.yaml": "a: 1\n"}),
        # cp source/config.yaml artifact/apps/
        (Copy("@s/config.yaml", "@artifact/apps/"), {"apps/config.yaml": "a: 1\n"}),
        (Copy("@s/config.yaml", "@artifact/"), {"config.yaml": "a: 1\n"}),
        # cp -r source/configs artifact/apps: a subdirectory, with or without slashes
        *[
            (
                Copy(frm, to),
                {
                    "apps/configs/app.yaml": "app: 1\n",
                    "apps/configs/db.yaml": "db: 1\n",
                    "apps/configs/sub/deep.yaml": "deep: 1\n",
                    "apps/configs/README.md": "doc\n",
                },
            )
            for frm, to in (
                ("@s/configs", "@artifact/apps"),
                ("@s/configs/", "@artifact/apps/"),
            )
        ],
        # cp -r source/configs/** artifact/apps/: the contents
        (
            Copy("@s/configs/**", "@artifact/apps/"),
            {
                "apps/app.yaml": "app: 1\n",
                "apps/db.yaml": "db: 1\n",
                "apps/sub/deep.yaml": "deep: 1\n",
                "apps/README.md": "doc\n",
            },
        ),
        # a glob keeps each match's own path under the destination (source-watcher's code)
        (
            Copy("@s/configs/*.yaml", "@artifact/apps/"),
            {"apps/configs/app.yaml": "app: 1\n", "apps/configs/db.yaml": "db: 1\n"},
        ),
        (Copy("@s/*.yaml", "@artifact/m/"), {"m/config.yaml": "a: 1\n"}),
        # Go's fs.Glob: ** is *, one level: configs/**/*.yaml is configs/*/*.yaml
        (
            Copy("@s/configs/**/*.yaml", "@artifact/"),
            {"configs/sub/deep.yaml": "deep: 1\n"},
        ),
        # excludes: on glob matches by path, in copied directories below the directory,
        # names without / at any depth
        (
            Copy("@s/configs/**", "@artifact/", exclude=("*.md", "sub")),
            {"app.yaml": "app: 1\n", "db.yaml": "db: 1\n"},
        ),
        (
            Copy("@s/configs", "@artifact/", exclude=("**/deep.yaml", "db.*")),
            {"configs/app.yaml": "app: 1\n", "configs/README.md": "doc\n"},
        ),
        (Copy("@s/config.yaml", "@artifact/", exclude=("config.yaml",)), {}),
    ],
)
def test_copy_semantics(tmp_path: Path, copy: Copy, expected: dict[str, str]) -> None:
    assert run(tmp_path, {"s": SRC}, copy) == expected


def test_the_whole_source_into_the_root_and_later_copies_overwrite(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        {
            "one": {"config/app.yaml": "one: app\n", "config/db.yaml": "one: db\n"},
            "two": {"config/app.yaml": "two: app\n", "config/net.yaml": "two: net\n"},
        },
        Copy("@one/", "@artifact/"),
        Copy("@two/**", "@artifact/"),
    )
    assert out == {
        "config/app.yaml": "two: app\n",
        "config/db.yaml": "one: db\n",
        "config/net.yaml": "two: net\n",
    }


def test_file_onto_an_existing_directory_goes_inside(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        {"s": {"file1.txt": "1", "subdir/file2.txt": "2"}},
        Copy("@s/subdir/", "@artifact/"),
        Copy("@s/file1.txt", "@artifact/subdir"),
    )
    assert out == {"subdir/file1.txt": "1", "subdir/file2.txt": "2"}


def test_merge_strategy_is_helms_values_merge(tmp_path: Path) -> None:
    chart = {
        "podinfo/Chart.yaml": "name: podinfo\nversion: 1.0.0\n",
        "podinfo/values.yaml": "replicas: 1\nimage: {repo: a, tag: '1'}\nports: [80, 443]\n",
    }
    values = {"values-prod.yaml": "image: {tag: '2'}\nports: [8080]\n---\nreplicas: 3\n"}
    out = run(
        tmp_path,
        {"chart": chart, "git": values},
        Copy("@chart/", "@artifact/"),
        Copy("@git/values-prod.yaml", "@artifact/podinfo/values.yaml", strategy="Merge"),
        Copy("@git/values-prod.yaml", "@artifact/new.yaml", strategy="Merge"),  # no target yet
    )
    assert out["podinfo/values.yaml"] == (
        "image:\n  repo: a\n  tag: '2'\nports:\n- 8080\nreplicas: 3\n"
    )
    assert out["new.yaml"] == values["values-prod.yaml"]
    assert merge_maps({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}, "d": 4}) == {
        "a": {"b": 3, "c": 2},
        "d": 4,
    }


def test_merge_refuses_what_is_not_a_map(tmp_path: Path) -> None:
    with pytest.raises(CopyError, match="not a map"):
        run(
            tmp_path,
            {"a": {"v.yaml": "a: 1\n"}, "b": {"v.yaml": "- 1\n"}},
            Copy("@a/v.yaml", "@artifact/v.yaml"),
            Copy("@b/v.yaml", "@artifact/v.yaml", strategy="Merge"),
        )


def tgz(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_extract_strategy(tmp_path: Path) -> None:
    src = tmp_path / "src" / "oci"
    (src / "charts" / "nested").mkdir(parents=True)
    (src / "podinfo-6.7.0.tgz").write_bytes(tgz({"podinfo/Chart.yaml": "name: podinfo\n"}))
    (src / "charts" / "nested" / "x.tar.gz").write_bytes(tgz({"x/values.yaml": "x: 1\n"}))
    (src / "charts" / "notes.txt").write_text("skipped\n")
    out = tmp_path / "out"
    build(
        [
            Copy("@oci/podinfo-6.7.0.tgz", "@artifact/", strategy="Extract"),
            Copy("@oci/charts/**/*.tar.gz", "@artifact/vendor/", strategy="Extract"),
        ],
        {"oci": src},
        out,
    )
    assert contents(out) == {
        "podinfo/Chart.yaml": "name: podinfo\n",
        "vendor/x/values.yaml": "x: 1\n",
    }
    with pytest.raises(CopyError, match=r"requires tarball file \(.tar.gz or .tgz\)"):
        build([Copy("@oci/charts/notes.txt", "@artifact/", strategy="Extract")], {"oci": src}, out)
    with pytest.raises(CopyError, match="not supported for directories"):
        build([Copy("@oci/charts", "@artifact/", strategy="Extract")], {"oci": src}, out)


@pytest.mark.parametrize(
    ("copy", "message"),
    [
        (Copy("@nope/x", "@artifact/"), "source alias 'nope' not found"),
        (Copy("@s/missing.yaml", "@artifact/"), "source 'missing.yaml' does not exist"),
        (Copy("@s/*.json", "@artifact/"), "no files match pattern '\\*.json' in source 's'"),
        (
            Copy("@s/*.yaml", "@artifact/", exclude=("*.yaml",)),
            "all files matching pattern '\\*.yaml' in source 's' were excluded",
        ),
        (Copy("@s/x", "@artifact/", exclude=("[oops",)), "invalid exclude pattern '\\[oops'"),
        (Copy("@s/[oops", "@artifact/"), "invalid glob pattern"),
        (Copy("@s/../../etc/passwd", "@artifact/"), "leaves its root"),
        (Copy("@s/config.yaml", "@artifact/../../x"), "leaves its root"),
        (Copy("@s/config.yaml", "@elsewhere/x"), "must start with '@artifact/'"),
    ],
)
def test_refusals_name_the_operation(tmp_path: Path, copy: Copy, message: str) -> None:
    with pytest.raises(CopyError, match=message) as refused:
        run(tmp_path, {"s": SRC}, copy)
    assert f"failed to apply copy operation from '{copy.from_}' to '{copy.to}'" in str(
        refused.value
    )


def test_dir_hash(tmp_path: Path) -> None:
    root = tree(tmp_path / "a", {"b.yaml": "b\n", "a/c.yaml": "c\n"})
    lines = "".join(
        f"{zlib.adler32(text.encode()):x}  art/{name}\n"
        for name, text in sorted({"b.yaml": "b\n", "a/c.yaml": "c\n"}.items())
    )
    assert dir_hash(root, "art") == str(zlib.adler32(lines.encode()))
    assert dir_hash(root, "other") != dir_hash(root, "art")
    (root / "b.yaml").write_text("changed\n")
    assert dir_hash(root, "art") != str(zlib.adler32(lines.encode()))


def test_go_glob_and_doublestar(tmp_path: Path) -> None:
    tree(tmp_path, {"a/x.yaml": "", "a/b/y.yaml": "", "a/b/c/z.yaml": "", ".hidden": ""})
    assert go_glob(tmp_path, "a/**") == ["a/b", "a/x.yaml"]
    assert go_glob(tmp_path, "**/*.yaml") == ["a/x.yaml"]
    assert go_glob(tmp_path, "*") == [".hidden", "a"]
    assert go_glob(tmp_path, "a/[xy].yaml") == ["a/x.yaml"]
    with pytest.raises(GlobError):
        go_glob(tmp_path, "a/[x")
    assert doublestar_match("**/*.yaml", "a/b/c/z.yaml")
    assert doublestar_match("a/**", "a")
    assert doublestar_match("{a,b}/[!y]*.yaml", "a/x.yaml")
    assert not doublestar_match("{a,b}/[!x]*.yaml", "a/x.yaml")
    assert not doublestar_match("a/*", "a/b/y.yaml")
