"""Secret values never leave the server: the one masking rule (weir.actions.masking) every
front end uses, its policies (display, ``weir build``), values composed from Secrets, scrubbed
text."""

from __future__ import annotations

import base64
from typing import Any

from weir.actions.helmvalues import differences, masked_data, path_text
from weir.actions.masking import (
    BUILD,
    DISPLAY,
    MASK,
    SOPS_MASK,
    has_mask,
    mask_leaves,
    mask_object,
    sanitize,
    scrub,
)
from weir.helmengine.values import ValuesRef, compose_values


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRET: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {
        "name": "db",
        "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"x"}}',
            "team": "data",
        },
    },
    "data": {"password": b64("hunter2"), "user": b64("erigon")},
    "stringData": {"extra": "plain"},
}


def test_secret_values_and_last_applied_are_masked() -> None:
    out = mask_object(SECRET)
    assert out["data"] == {"password": MASK, "user": MASK}
    assert out["stringData"] == {"extra": MASK}
    assert out["metadata"]["annotations"] == {"team": "data"}
    assert SECRET["data"] == {"password": b64("hunter2"), "user": b64("erigon")}  # untouched


def test_lists_of_secrets_are_masked_and_masking_can_be_off() -> None:
    listed = {"apiVersion": "v1", "kind": "SecretList", "items": [SECRET]}
    assert mask_object(listed)["items"][0]["data"]["password"] == MASK
    assert mask_object(SECRET, enabled=False)["data"] == SECRET["data"]
    config = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}
    assert mask_object(config) == config


def test_mask_leaves_keeps_the_shape() -> None:
    tree = {"db": {"password": "x", "ports": [5432, 5433]}, "on": True}
    masked = mask_leaves(tree)
    assert masked == {"db": {"password": MASK, "ports": [MASK, MASK]}, "on": MASK}
    assert has_mask(masked)
    assert not has_mask(tree)


def test_scrub_replaces_secret_values_in_text() -> None:
    text = "password=longsecret user=ab url=https://x/longsecret"
    assert scrub(text, {"longsecret", "ab"}) == f"password={MASK} user=ab url=https://x/{MASK}"


def test_values_from_secrets_are_masked_where_they_land() -> None:
    secret: dict[str, str | bytes] = {
        "values.yaml": b"db:\n  password: hunter2\n  port: 5432\n",
        "token": b"tok-123",
    }
    config: dict[str, str | bytes] = {"values.yaml": "db:\n  host: pg\nimage: {tag: v1}\n"}
    refs = [
        ValuesRef("ConfigMap", "common"),
        ValuesRef("Secret", "db"),
        ValuesRef("Secret", "db", values_key="token", target_path="rpc.token"),
    ]
    inline: dict[str, Any] = {"image": {"tag": "v2"}}

    def lookup(masked: bool) -> Any:
        def get(kind: str, name: str) -> dict[str, str | bytes] | None:
            if kind == "ConfigMap":
                return config
            return masked_data(secret) if masked else secret

        return get

    real = compose_values(refs, lookup(False), inline)
    shown = compose_values(refs, lookup(True), inline)
    assert real["db"] == {"host": "pg", "password": "hunter2", "port": 5432}
    assert shown == {
        "db": {"host": "pg", "password": MASK, "port": MASK},
        "image": {"tag": "v2"},
        "rpc": {"token": MASK},
    }


def test_differences_of_values_trees() -> None:
    a = {"replicas": 1, "db": {"password": "x", "user": "u"}, "only": {"a": 1}, "l": [1, 2]}
    b = {"replicas": 3, "db": {"password": "y", "user": "u"}, "extra": True, "l": [1, 2]}
    found = differences(a, b)
    assert [(path_text(p), c) for p, c in found] == [
        ("db.password", "changed"),
        ("extra", "onlyInB"),
        ("only", "onlyInA"),
        ("replicas", "changed"),
    ]
    assert (
        path_text(["labels", "app.kubernetes.io/name", 0]) == "labels['app.kubernetes.io/name'][0]"
    )
    # As shown (masked): a masked value on either side is never compared.
    shown_a = {"db": {"password": MASK, "user": "u"}, "l": [MASK]}
    shown_b = {"db": {"password": "guess", "user": "u"}, "l": [MASK]}
    found = differences(shown_a, shown_b, masked=True)
    assert [(path_text(p), c) for p, c in found] == [("db.password", "unknown"), ("l", "unknown")]


def test_one_rule_for_every_front_end() -> None:
    """The UI's sanitize, MCP's mask_object and the display policy agree (one mask)."""
    ui = sanitize({**SECRET, "metadata": {**SECRET["metadata"], "managedFields": [{}]}})
    mcp = mask_object(SECRET, True, DISPLAY)
    assert ui["data"] == mcp["data"] == {"password": MASK, "user": MASK}
    assert "managedFields" not in ui["metadata"]
    assert ui["metadata"]["annotations"] == mcp["metadata"]["annotations"] == {"team": "data"}


def test_build_policy_prints_as_flux_build() -> None:
    sops = {**SECRET, "data": {"k": b64("ENC[AES256_GCM,data:x]"), "p": b64("plain")}}
    out = mask_object(sops, True, BUILD)
    assert out["data"] == {"k": b64(SOPS_MASK), "p": b64(BUILD.mask)}
    assert out["stringData"] == {"extra": BUILD.mask}
