"""``weir build`` prints Secrets exactly as ``flux build`` does (the FLUX_BUILD policy of
weir.actions.masking): only SOPS-encrypted values are masked, where they are, the ``sops``
block is removed, a masked ``.dockerconfigjson`` stays valid JSON, a secretGenerator Secret made
from a SOPS file is masked, plaintext Secrets are printed as they are; ``--mask-secrets``
(BUILD) masks everything. Expected values written from Flux's documented behaviour."""

from __future__ import annotations

import base64
import json
from typing import Any

from weir.actions.build import mask_secrets
from weir.actions.masking import BUILD, FLUX_BUILD, SOPS_MASK, mask_sops_secret, sops_encrypted

SOPS_BLOCK = {
    "age": [{"recipient": "age1xyz", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\n..."}],
    "mac": "ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]",
    "version": "3.9.1",
}
ENC = "ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]"
MASKED = "KipTT1BTKio="  # base64 of **SOPS**, what flux build writes into data


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, **fields}


def test_the_mask_is_the_base64_of_sops() -> None:
    assert b64(SOPS_MASK) == MASKED


def test_sops_secret_data_is_masked_and_the_sops_block_removed() -> None:
    obj = secret(type="Opaque", data={"token": ENC, "user": ENC}, sops=SOPS_BLOCK)
    assert sops_encrypted(obj)
    out = mask_sops_secret(obj)
    assert out == secret(type="Opaque", data={"token": MASKED, "user": MASKED})
    assert "sops" in obj  # the input is not changed


def test_encrypted_string_data_stays_in_string_data() -> None:
    obj = secret(
        type="kubernetes.io/basic-auth",
        stringData={"username": ENC, "password": ENC},
        sops=SOPS_BLOCK,
    )
    out = mask_sops_secret(obj)
    assert out == secret(
        type="kubernetes.io/basic-auth",
        stringData={"username": SOPS_MASK, "password": SOPS_MASK},
    )
    assert "data" not in out


def test_masked_dockerconfigjson_stays_valid_json() -> None:
    obj = secret(
        type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": ENC}, sops=SOPS_BLOCK
    )
    out = mask_sops_secret(obj)
    value = out["data"][".dockerconfigjson"]
    assert value == "eyJtYXNrIjoiKipTT1BTKioifQ=="
    assert json.loads(base64.b64decode(value)) == {"mask": SOPS_MASK}
    as_string = mask_sops_secret(
        secret(
            type="kubernetes.io/dockerconfigjson",
            stringData={".dockerconfigjson": ENC},
            sops=SOPS_BLOCK,
        )
    )
    assert json.loads(as_string["stringData"][".dockerconfigjson"]) == {"mask": SOPS_MASK}


def test_secret_generated_from_a_sops_file_is_masked() -> None:
    encrypted_file = f"token: {ENC}\nsops:\n    mac: {ENC}\n    version: 3.9.1\n"
    encoded = b64(encrypted_file)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"
    obj = secret(type="Opaque", data={"token": wrapped, "plain": b64("admin")})
    out = mask_sops_secret(obj)
    assert out["data"] == {"token": MASKED, "plain": b64("admin")}


def test_plaintext_secrets_are_printed_as_they_are() -> None:
    obj = secret(type="Opaque", data={"password": b64("hunter2")}, stringData={"user": "admin"})
    assert mask_secrets([obj]) == [obj]


def test_sops_metadata_is_removed_from_other_objects() -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"api-key": ENC},
        "sops": SOPS_BLOCK,
    }
    (out,) = mask_secrets([config], FLUX_BUILD)
    assert out == {k: v for k, v in config.items() if k != "sops"}  # values as they are


def test_mask_secrets_flag_masks_every_value() -> None:
    plain = secret(data={"password": b64("hunter2")}, stringData={"user": "admin"})
    sops = secret(data={"token": ENC}, sops=SOPS_BLOCK)
    masked_plain, masked_sops = mask_secrets([plain, sops], BUILD)
    assert masked_plain["data"] == {"password": b64("******")}
    assert masked_plain["stringData"] == {"user": "******"}
    assert masked_sops["data"] == {"token": MASKED}
    assert "sops" not in masked_sops
