"""Keeping secret values out of what the front ends show: one rule, one module, used by the web
UI, the MCP server and the CLI (``weir build``, ``weir diff``).

The rule: the values of a ``v1`` Secret's ``data`` and ``stringData`` are replaced by a mask
(the keys stay, so a reader can tell which keys exist), the ``last-applied-configuration``
annotation (which repeats them) is dropped, and the items of Lists are treated the same way.
Values that came from Secrets elsewhere (Helm values through ``valuesFrom``, post-build
variables substituted into built manifests) are masked by the code that composes them, with
:func:`mask_leaves` and :func:`scrub`. Logs have their own redaction (:mod:`weir.log`), with
the same mask.

What a front end prints is a :class:`MaskPolicy`: :data:`DISPLAY` (the UI, MCP, ``weir
diff``) shows :data:`MASK`; :data:`FLUX_BUILD` is what ``weir build`` prints by default,
exactly as ``flux build`` prints Secrets (:func:`mask_sops_secret`: only SOPS-encrypted values
are masked, plaintext Secrets are printed as they are); :data:`BUILD` is ``weir build
--mask-secrets``: every value masked (``**SOPS**`` for SOPS-encrypted values, ``******`` for
the others, base64-encoded in ``data``).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from weir.types import Obj

MASK = "***"
"""What a hidden value shows (the same as :mod:`weir.log`'s redaction)."""
SOPS_MASK = "**SOPS**"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MASK_BEFORE = f"{MASK} (before)"
MASK_AFTER = f"{MASK} (after)"
"""What ``weir diff`` shows for a Secret value that changed."""
MIN_SCRUB_LENGTH = 4
"""Shorter secret values are not scrubbed from free text (they would hide ordinary words)."""


@dataclass(frozen=True)
class MaskPolicy:
    """How a masked Secret value reads."""

    mask: str = MASK
    """What replaces a value."""
    sops_mask: str | None = None
    """What replaces a SOPS-encrypted value (``ENC[...]``, or any value of a Secret with a
    ``sops`` field); None: :attr:`mask`."""
    encode_data: bool = False
    """Base64-encode the mask in ``data`` (so the output is a valid Secret)."""
    only_sops: bool = False
    """Mask only what SOPS encrypted, as ``flux build`` does (:func:`mask_sops_secret`), and
    remove the top-level ``sops`` metadata of every object."""

    def value(self, value: Any, *, encoded: bool, sops: bool = False) -> str:
        """The mask of one Secret value (``encoded``: it is from ``data``)."""
        text = self.mask
        if self.sops_mask is not None and (sops or is_sops_value(value, encoded)):
            text = self.sops_mask
        if encoded and self.encode_data:
            return base64.b64encode(text.encode()).decode()
        return text


DISPLAY = MaskPolicy()
"""The web UI, MCP tool results and ``weir diff``."""
BUILD = MaskPolicy("******", sops_mask=SOPS_MASK, encode_data=True)
"""``weir build --mask-secrets``: every Secret value masked (SOPS ones as ``**SOPS**``)."""
FLUX_BUILD = MaskPolicy(SOPS_MASK, sops_mask=SOPS_MASK, encode_data=True, only_sops=True)
"""``weir build``'s default, as ``flux build`` prints objects (:func:`mask_sops_secret`)."""
DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
JSON_MASK = json.dumps({"mask": SOPS_MASK}, separators=(",", ":"))
"""What a SOPS-encrypted ``.dockerconfigjson`` reads: still valid JSON."""


def is_secret(obj: Mapping[str, Any]) -> bool:
    """A core ``v1`` Secret (``apiVersion`` may be absent in tool arguments)."""
    return obj.get("kind") == "Secret" and obj.get("apiVersion") in ("v1", None)


def is_sops_value(value: Any, encoded: bool) -> bool:
    """Whether a Secret value is SOPS ciphertext (``ENC[AES256_GCM,...]``)."""
    text = str(value)
    return text.startswith("ENC[") or (encoded and _decoded(text).startswith("ENC["))


def _decoded(value: str) -> str:
    """The base64 text decoded; line breaks are skipped, as Go's decoder does (kustomize
    wraps long generated values)."""
    try:
        return base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sops_encrypted(obj: Mapping[str, Any]) -> bool:
    """Whether the object is a SOPS-encrypted manifest: a top-level ``sops`` block with its
    encrypted ``mac`` (what ``flux build`` looks for)."""
    block = obj.get("sops")
    return isinstance(block, Mapping) and str(block.get("mac") or "").startswith("ENC[")


def _holds_sops_file(text: str) -> bool:
    """A value holding a whole SOPS-encrypted file (a secretGenerator from ``*.enc.yaml``)."""
    return "sops" in text and "ENC[" in text


def _string_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else ""
    return str(value)


def mask_sops_secret(obj: Mapping[str, Any]) -> Obj:
    """A copy of a Secret as ``flux build`` prints it.

    - A SOPS-encrypted Secret (:func:`sops_encrypted`) loses its ``sops`` block and every
      value is masked where it is: ``data`` values become the base64 of ``**SOPS**``,
      ``stringData`` values ``**SOPS**``; for a ``kubernetes.io/dockerconfigjson`` Secret the
      mask is the JSON ``{"mask":"**SOPS**"}`` (base64-encoded in ``data``), so the Secret stays
      valid for the API server.
    - Otherwise only values holding a SOPS-encrypted file are masked (a ``secretGenerator``
      built from a SOPS file): the base64 of ``**SOPS**``, in ``data`` and (as Flux does) in
      ``stringData``. Plaintext values are printed as they are.
    """
    out = dict(obj)
    data = {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
    string_data = {str(k): _string_value(v) for k, v in (obj.get("stringData") or {}).items()}
    encoded_mask = _encoded(SOPS_MASK)
    if sops_encrypted(obj):
        out.pop("sops", None)
        if str(obj.get("type") or "Opaque") == DOCKER_CONFIG_JSON:
            data = dict.fromkeys(data, _encoded(JSON_MASK))
            string_data = dict.fromkeys(string_data, JSON_MASK)
        else:
            data = dict.fromkeys(data, encoded_mask)
            string_data = dict.fromkeys(string_data, SOPS_MASK)
    else:
        data = {k: encoded_mask if _holds_sops_file(_decoded(v)) else v for k, v in data.items()}
        string_data = {
            k: encoded_mask if _holds_sops_file(v) else v for k, v in string_data.items()
        }
    out.pop("data", None)
    if data:
        out["data"] = data
    if string_data:
        out["stringData"] = string_data
    return out


def mask_secret(obj: Mapping[str, Any], policy: MaskPolicy = DISPLAY) -> Obj:
    """A copy of a Secret with its values masked and the last-applied annotation dropped."""
    if policy.only_sops:
        return mask_sops_secret(obj)
    out = dict(obj)
    if policy.sops_mask is not None:
        out.pop("sops", None)
    sops = "sops" in obj
    for key, encoded in (("data", True), ("stringData", False)):
        values = out.get(key)
        if isinstance(values, Mapping):
            out[key] = {k: policy.value(v, encoded=encoded, sops=sops) for k, v in values.items()}
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        annotations = meta.get("annotations")
        if isinstance(annotations, Mapping) and LAST_APPLIED in annotations:
            meta = dict(meta)
            meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
            out["metadata"] = meta
    return out


def mask_object(obj: Mapping[str, Any], enabled: bool = True, policy: MaskPolicy = DISPLAY) -> Obj:
    """``obj`` with secret values masked when ``enabled`` (Secrets, and the items of Lists)."""
    if not enabled:
        return dict(obj)
    if policy.only_sops:
        if obj.get("kind") == "Secret":
            return mask_sops_secret(obj)
        if "sops" in obj and str(obj.get("kind", "")) != "List":
            return {k: v for k, v in obj.items() if k != "sops"}
    if is_secret(obj):
        return mask_secret(obj, policy)
    items = obj.get("items")
    if str(obj.get("kind", "")).endswith("List") and isinstance(items, list):
        return {
            **obj,
            "items": [mask_object(i, True, policy) if isinstance(i, Mapping) else i for i in items],
        }
    return dict(obj)


def mask_objects(objects: Iterable[Mapping[str, Any]], policy: MaskPolicy = DISPLAY) -> list[Obj]:
    """:func:`mask_object` of each object."""
    return [mask_object(o, True, policy) for o in objects]


def sanitize(obj: Mapping[str, Any]) -> Obj:
    """A deep copy fit for the web API's output: ``managedFields`` and the last-applied
    annotation removed (of every object), Secret values masked."""
    out: Obj = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    if str(out.get("kind", "")).endswith("List") and isinstance(out.get("items"), list):
        out["items"] = [sanitize(i) for i in out["items"] if isinstance(i, Mapping)]
        return out
    return mask_object(out)


def mask_leaves(value: Any, mask: str = MASK) -> Any:
    """Every scalar of a values tree replaced by the mask (maps and lists keep their shape)."""
    if isinstance(value, Mapping):
        return {k: mask_leaves(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_leaves(v, mask) for v in value]
    return mask


def has_mask(value: Any, mask: str = MASK) -> bool:
    """Whether a (masked) values tree holds a masked leaf anywhere."""
    if isinstance(value, Mapping):
        return any(has_mask(v, mask) for v in value.values())
    if isinstance(value, list):
        return any(has_mask(v, mask) for v in value)
    return bool(value == mask)


def scrub(text: str, secrets: Iterable[str], mask: str = MASK) -> str:
    """``text`` with every occurrence of each secret value (longest first) replaced by the
    mask; values shorter than :data:`MIN_SCRUB_LENGTH` are left alone."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, mask)
    return text


def masked_change(value: Any, label: str) -> Any:
    """What a diff shows of a Secret value that changed: :data:`MASK_BEFORE` or
    :data:`MASK_AFTER` (for a map, each key with that text)."""
    if isinstance(value, Mapping):
        return dict.fromkeys(value, label)
    return label
