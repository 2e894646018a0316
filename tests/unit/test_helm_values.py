"""weir.helmengine.values: valuesFrom/values composition, --set paths, and the values digest."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from weir.api.meta import ValuesReference
from weir.helmengine.errors import ValuesError, ValuesReferenceError
from weir.helmengine.values import (
    ValuesRef,
    compose_values,
    configmap_data,
    encode_values,
    merge_maps,
    read_values,
    replace_path_value,
    resolve_values,
    secret_data,
    set_path,
    values_checksum,
    values_digest,
)

# Values documents and the digest Helm computes for them (sigs.k8s.io/yaml v1.6.0 Marshal of the
# values read by sigs.k8s.io/yaml Unmarshal, sha256), produced with a Go program.
GO_VECTORS = [
    (
        'a: 1\nb: [x, "yes", 1.5, true, null, "1.0", "0123", "", " lead", "trail ", "a: b", "#c", "- d", "@e", "%f", "~", "<<", "12:30", "0x1F", "1e3", ".inf", "2024-01-01", "on", "Y", "true1", "=", "ü mlaut", "tab\\there", "quote\'q", \'dq"x\']\nc: {z: "multi\\nline\\n", y2: "multi\\nline", e: 1e3, f: 0.1, g: 1e21, h: 1e-7, i: -0.0, j: 123456789012345678}\nlong: "this is a rather long string with many words that will exceed the eighty character limit for sure yes"\nlongnospace: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"\nnested: {l: [{a: 1, b: [1, 2]}, [3, 4], {}], m: {}, n: []}\n"1": one\n"true": t\nunicode: "日本語"\nspecial: "a\\u0007b"\n',  # noqa: E501
        "sha256:9284958ed97360d5b4f8343392be9fc295ed9001e3d15c89781be6df0ab8caeb",
    ),
    (
        'replicaCount: 3\nimage: {repository: ghcr.io/stefanprodan/podinfo, tag: 6.5.3, pullPolicy: IfNotPresent}\ningress:\n  enabled: false\n  hosts: [{host: chart-example.local, paths: [{path: /, pathType: ImplementationSpecific}]}]\nresources: {limits: {cpu: 100m, memory: 128Mi}}\npodAnnotations: {"prometheus.io/scrape": "true", "prometheus.io/port": "9898"}\nenv: [{name: A, value: "1"}, {name: B, value: "x y z"}]\nbig: 99999999999999999999\nneg: -12\nfloat: 3.14159\nsci: 6.02e23\nlist_of_lists: [[1, 2], [], [[3]]]\nempty: ""\nspaces: "   "\ncolon: "key:value"\nhash: "a #b"\ndash: "-"\nstar: "*x"\namp: "&a"\nbang: "!tag"\npipe: "|x"\ngt: ">x"\npct: "%x"\nbacktick: "`x"\ncomma: "a,b"\nbrackets: "[a]"\nbrace: "{a}"\nq: "?x"\nurl: "http://x.y/z?a=b&c=d"\n',  # noqa: E501
        "sha256:e9e421b9d18af2742462eef2b2f8f16ffc50361a34a98b021ec9b32f20a53c18",
    ),
    (
        's: ["0o17", "1_000", ".5", "+1", "-.inf", "12:30:00", "2001-12-14t21:59:43.10-05:00", "0b101", "1.", "1e", "e3", "0.", "-", "+", "07", "08", "1:2", "NaN", ".NaN", "Null", "NULL", "nULL", "TRUE", "tRUE", "Off"]\nn: [0.5, -1.25, 100, 1.0, 2.5e-10, 1e300]\n',  # noqa: E501
        "sha256:6c8f2dc2bcf378cacce05a4f39408162b310e0dff50ff3e2425dce525ca06858",
    ),
]


@pytest.mark.parametrize(("document", "digest"), GO_VECTORS)
def test_digest_matches_helm(document: str, digest: str) -> None:
    assert values_digest(read_values(document)) == digest


def test_digest_ignores_key_order_and_checksum_is_sha1() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": "s"}}
    b = {"a": {"x": "s", "y": [1, 2]}, "b": 1}
    assert values_digest(a) == values_digest(b)
    assert len(values_checksum(a)) == 40
    assert encode_values({}) == "{}\n"
    assert encode_values({"a": 1.0, "b": "1.0", "c": ""}) == 'a: 1\nb: "1.0"\nc: ""\n'


def test_read_values_go_yaml_rules() -> None:
    values = read_values("y: n\nwhen: 2024-01-01\nt: 12:30\n")
    assert values == {"true": False, "when": "2024-01-01", "t": "12:30"}
    assert read_values("1: one\nnull: x\n") == {"1": "one", "null": "x"}
    assert read_values("") == {}
    with pytest.raises(ValuesError, match="YAML map"):
        read_values("- a\n- b\n")
    with pytest.raises(ValuesError, match="not valid YAML"):
        read_values("a: [\n")


def test_merge_maps_is_deep_and_lists_replace() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": {"f": 1}}
    over = {"a": {"c": [3], "g": None}, "e": "scalar"}
    merged = merge_maps(base, over)
    assert merged == {"a": {"b": 1, "c": [3], "g": None}, "d": "x", "e": "scalar"}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": {"f": 1}}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a=1", {"a": 1}),
        ("a.b=c", {"a": {"b": "c"}}),
        ("a.b[2].c=1", {"a": {"b": [None, None, {"c": 1}]}}),
        ("a[0][1]=z", {"a": [[None, "z"]]}),
        ("a=true,b=FALSE,c=null", {"a": True, "b": False, "c": None}),
        ("a=012,b=1.5,c=0,d=-5,e=+1", {"a": "012", "b": "1.5", "c": 0, "d": -5, "e": 1}),
        ("a={x,y,1}", {"a": ["x", "y", 1]}),
        ("a={}", {"a": [""]}),
        (r"a\.b=c", {"a.b": "c"}),
        (r"a=x\,y", {"a": "x,y"}),
        ("a=9223372036854775808", {"a": "9223372036854775808"}),
        ("a=  spaced  ", {"a": "  spaced  "}),
    ],
)
def test_set_path_matches_helm_strvals(expression: str, expected: dict[str, object]) -> None:
    # The expected values are what Helm's strvals.Parse gives (checked against helm-python-sdk).
    assert set_path({}, expression) == expected


def test_set_path_modes_and_errors() -> None:
    assert set_path({}, "a=1,b=true", mode="string") == {"a": "1", "b": "true"}
    assert set_path({}, "a.b=x=y,c=d", mode="literal") == {"a": {"b": "x=y,c=d"}}
    values = {"list": [1, 2, 3], "keep": True}
    assert set_path(values, "list[1]=b") == {"list": [1, "b", 3], "keep": True}
    for bad in ("a", "a.b", "a[x]=1", "a[1", "a[70000]=1"):
        with pytest.raises(ValuesError):
            set_path({}, bad)


def test_replace_path_value_quotes_and_literal() -> None:
    values: dict[str, object] = {}
    replace_path_value(values, "a.port", "8080")
    replace_path_value(values, "a.tag", '"8080"')
    replace_path_value(values, "a.single", "'true'")
    replace_path_value(values, "a.raw", "x,y={z}", literal=True)
    assert values == {"a": {"port": 8080, "tag": "8080", "single": "true", "raw": "x,y={z}"}}


def _lookup(objects: Mapping[tuple[str, str], Mapping[str, str | bytes]]):  # type: ignore[no-untyped-def]
    calls: list[tuple[str, str]] = []

    def lookup(kind: str, name: str) -> Mapping[str, str | bytes] | None:
        calls.append((kind, name))
        return objects.get((kind, name))

    return lookup, calls


def test_compose_order_target_path_and_inline_on_top() -> None:
    objects: dict[tuple[str, str], Mapping[str, str | bytes]] = {
        ("ConfigMap", "base"): {"values.yaml": "a: 1\nb: {c: 1, d: 1}\nport: 80\n"},
        ("Secret", "creds"): {"override": b"b:\n  c: 2\n", "password": b"hunter2"},
    }
    lookup, calls = _lookup(objects)
    refs = [
        ValuesRef("ConfigMap", "base"),
        ValuesRef("Secret", "creds", values_key="override"),
        ValuesRef("Secret", "creds", values_key="password", target_path="auth.password"),
    ]
    values = compose_values(refs, lookup, {"b": {"d": 3}, "port": 8080}, namespace="apps")
    assert values == {
        "a": 1,
        "b": {"c": 2, "d": 3},
        "port": 8080,
        "auth": {"password": "hunter2"},
    }
    assert calls == [("ConfigMap", "base"), ("Secret", "creds")]  # each object read once
    # a whole YAML document at a targetPath goes through --set parsing and fails, as in Flux
    with pytest.raises(ValuesError, match="at targetPath 'raw'"):
        compose_values([ValuesRef("ConfigMap", "base", target_path="raw")], lookup)


def test_compose_inline_wins_over_target_path() -> None:
    lookup, _ = _lookup({("ConfigMap", "v"): {"tag": "1.0.0"}})
    refs = [ValuesRef("ConfigMap", "v", values_key="tag", target_path="image.tag")]
    assert compose_values(refs, lookup, {"image": {"tag": "2.0.0"}}) == {"image": {"tag": "2.0.0"}}


def test_compose_missing_and_optional() -> None:
    lookup, _ = _lookup({("ConfigMap", "present"): {"values.yaml": "a: 1\n"}})
    optional = [
        ValuesRef("ConfigMap", "absent", optional=True),
        ValuesRef("ConfigMap", "present", values_key="nokey", optional=True),
        ValuesRef("ConfigMap", "present"),
    ]
    assert compose_values(optional, lookup) == {"a": 1}
    with pytest.raises(ValuesReferenceError, match=r"ConfigMap 'apps/absent'.*not found"):
        compose_values([ValuesRef("ConfigMap", "absent")], lookup, namespace="apps")
    with pytest.raises(ValuesReferenceError, match=r"key not found.*keys: values\.yaml"):
        compose_values([ValuesRef("ConfigMap", "present", values_key="x")], lookup)
    with pytest.raises(ValuesError, match="unsupported valuesFrom kind"):
        compose_values([ValuesRef("Bucket", "x")], lookup)
    lookup2, _ = _lookup({("ConfigMap", "bad"): {"values.yaml": "- a\n"}})
    with pytest.raises(ValuesError, match="YAML map"):
        compose_values([ValuesRef("ConfigMap", "bad")], lookup2)


def test_object_data_decoding() -> None:
    assert secret_data({"data": {"a": "aGk="}, "stringData": {"b": "x"}}) == {"a": b"hi", "b": b"x"}
    assert configmap_data({"data": {"a": "1"}, "binaryData": {"b": "aGk="}}) == {
        "a": "1",
        "b": b"hi",
    }


async def test_resolve_values_reads_each_object_once() -> None:
    reads: list[tuple[str, str]] = []

    async def get_object(kind: str, name: str) -> Mapping[str, object] | None:
        reads.append((kind, name))
        if name == "s":
            return {"data": {"values.yaml": "YTogMQo="}}  # "a: 1\n"
        return None

    refs = [
        ValuesRef("Secret", "s"),
        ValuesRef("Secret", "s", values_key="values.yaml", target_path="copy"),
        ValuesRef("ConfigMap", "gone", optional=True),
    ]
    values = await resolve_values(get_object, refs, {"b": 2})
    assert values == {"a": 1, "copy": "a: 1\n", "b": 2}
    assert reads == [("Secret", "s"), ("ConfigMap", "gone")]


def test_values_ref_from_model() -> None:
    model = ValuesReference.model_validate(
        {"kind": "Secret", "name": "n", "targetPath": "a.b", "optional": True}
    )
    ref = ValuesRef.from_model(model)
    assert (ref.key, ref.target_path, ref.optional, ref.literal) == (
        "values.yaml",
        "a.b",
        True,
        False,
    )
