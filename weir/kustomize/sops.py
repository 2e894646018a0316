"""SOPS decryption of built objects (``spec.decryption``), as Flux's kustomize-controller does it.

A Kustomization builds its objects, decrypts those that carry SOPS metadata (a top-level
``sops`` map with a ``mac``), then substitutes variables. Here:

- :func:`is_encrypted`: whether an object carries SOPS metadata; objects annotated
  ``kustomize.toolkit.fluxcd.io/decrypt: disabled`` are left as they are.
- :class:`Keyring`: the keys of ``spec.decryption.secretRef``: every ``*.agekey`` entry holds
  one or more age identities (``AGE-SECRET-KEY-1...``, ``#`` comments allowed).
- :func:`decrypt_object`: recovers the data key from the object's ``sops.age`` entries, decrypts
  every value that SOPS encrypted (its ``encrypted_regex``/``unencrypted_suffix``/... rules,
  each value's path as the AES-GCM additional data, so a value moved to another key does not
  decrypt). With ``check_mac`` it also checks the message authentication code over the whole
  plaintext. Flux does not by default, and neither does the pipeline: kustomize changes
  unencrypted fields (``namespace``, labels, name prefixes) after the file was encrypted, which
  breaks the MAC of files that are fine.
- :func:`decrypt_objects`: the step of the pipeline; :func:`require_decryption` is the step when
  the Kustomization has no ``spec.decryption`` (an encrypted object is an error, as in Flux).

The SOPS file format is implemented from its documentation and checked against the real
``sops`` CLI in tests. age is the supported key type (through pyrage); PGP (``*.asc``), cloud
KMS and Vault keys, key groups (Shamir) and decryption of generator inputs are not supported yet:
such objects fail with a message that says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from weir.kustomize.errors import DecryptionError
from weir.types import Obj

DECRYPT_ANNOTATION = "kustomize.toolkit.fluxcd.io/decrypt"
AGE_KEY_SUFFIX = ".agekey"
UNSUPPORTED_KEY_SUFFIXES = (".asc",)
UNSUPPORTED_KEY_NAMES = ("sops.aws-kms", "sops.azure-kv", "sops.gcp-kms", "sops.vault-token")
DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"

_VALUE = re.compile(
    r"^ENC\[AES256_GCM,data:(?P<data>[^,]*),iv:(?P<iv>[^,]+),tag:(?P<tag>[^,]+),"
    r"type:(?P<type>[^\]]+)\]$"
)
# SOPS starts the hash with this when only encrypted values count (``mac_only_encrypted``), so
# that the two kinds of MAC never collide: the SHA-256 of the bytes "sops".
_MAC_ONLY_ENCRYPTED_PREFIX = hashlib.sha256(b"sops").digest()


def is_encrypted(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` carries SOPS metadata (a top-level ``sops`` map with a ``mac``)."""
    meta = obj.get("sops")
    return isinstance(meta, Mapping) and "mac" in meta


def decryption_disabled(obj: Mapping[str, Any]) -> bool:
    """``kustomize.toolkit.fluxcd.io/decrypt: disabled`` on the object."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(DECRYPT_ANNOTATION, "")).lower() == "disabled"


def display(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    parts = [obj.get("kind"), meta.get("namespace"), meta.get("name")]
    return "/".join(str(p) for p in parts if p)


@dataclass(frozen=True)
class Keyring:
    """The decryption keys of a Kustomization (``spec.decryption.secretRef``)."""

    age: tuple[Any, ...] = ()
    """pyrage x25519 identities."""
    unsupported: tuple[str, ...] = ()
    """Names of entries holding keys of a kind weir cannot use yet (PGP, cloud KMS, Vault)."""

    def merged(self, other: Keyring) -> Keyring:
        """This keyring's keys, then ``other``'s."""
        return Keyring(self.age + other.age, self.unsupported + other.unsupported)

    @classmethod
    def from_secret_data(cls, data: Mapping[str, str], *, source: str = "") -> Keyring:
        """Keys from a Secret's ``data`` (base64 values). ``source`` names the Secret in
        errors."""
        from pyrage import x25519  # noqa: PLC0415 - only Kustomizations with decryption load it

        identities: list[Any] = []
        unsupported: list[str] = []
        for name, encoded in sorted(data.items()):
            if name.endswith(AGE_KEY_SUFFIX):
                try:
                    text = base64.b64decode(encoded, validate=True).decode()
                except (binascii.Error, UnicodeDecodeError) as e:
                    raise DecryptionError(f"{source}: entry {name!r} is not valid base64") from e
                for raw in text.splitlines():
                    line = raw.strip()
                    if not line or line.startswith("#"):
                        continue
                    try:
                        identities.append(x25519.Identity.from_str(line))
                    except Exception as e:  # pyrage.IdentityError and friends
                        raise DecryptionError(
                            f"{source}: entry {name!r} holds an invalid age identity "
                            "(expected AGE-SECRET-KEY-1...)"
                        ) from e
            elif name.endswith(UNSUPPORTED_KEY_SUFFIXES) or name in UNSUPPORTED_KEY_NAMES:
                unsupported.append(name)
        return cls(tuple(identities), tuple(unsupported))


@dataclass
class _Rules:
    """Which values SOPS encrypted: its path rules, in the order SOPS applies them."""

    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: re.Pattern[str] | None = None
    encrypted_regex: re.Pattern[str] | None = None
    mac_only_encrypted: bool = False

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> _Rules:
        def regex(key: str) -> re.Pattern[str] | None:
            value = meta.get(key)
            if not value:
                return None
            try:
                return re.compile(str(value))
            except re.error as e:
                raise DecryptionError(f"sops.{key} {value!r} is not a valid regex: {e}") from e

        rules = cls(
            unencrypted_suffix=str(meta.get("unencrypted_suffix") or ""),
            encrypted_suffix=str(meta.get("encrypted_suffix") or ""),
            unencrypted_regex=regex("unencrypted_regex"),
            encrypted_regex=regex("encrypted_regex"),
            mac_only_encrypted=meta.get("mac_only_encrypted") is True,
        )
        if not (
            rules.unencrypted_suffix
            or rules.encrypted_suffix
            or rules.unencrypted_regex
            or rules.encrypted_regex
        ):
            rules.unencrypted_suffix = DEFAULT_UNENCRYPTED_SUFFIX
        return rules

    def encrypted(self, path: list[str]) -> bool:
        result = True
        if self.unencrypted_suffix and any(p.endswith(self.unencrypted_suffix) for p in path):
            result = False
        if self.encrypted_suffix:
            result = any(p.endswith(self.encrypted_suffix) for p in path)
        if self.unencrypted_regex and any(self.unencrypted_regex.search(p) for p in path):
            result = False
        if self.encrypted_regex:
            result = any(self.encrypted_regex.search(p) for p in path)
        return result


def _decrypt_value(text: str, key: bytes, aad: str, where: str) -> Any:
    match = _VALUE.match(text)
    if match is None:
        raise DecryptionError(f"{where}: value is not SOPS ciphertext (ENC[AES256_GCM,...])")
    try:
        data = base64.b64decode(match["data"])
        iv = base64.b64decode(match["iv"])
        tag = base64.b64decode(match["tag"])
    except binascii.Error as e:
        raise DecryptionError(f"{where}: malformed SOPS ciphertext: {e}") from e
    try:
        plain = AESGCM(key).decrypt(iv, data + tag, aad.encode())
    except (InvalidTag, ValueError) as e:
        raise DecryptionError(
            f"{where}: the value does not decrypt (edited, or moved to another key)"
        ) from e
    kind = match["type"]
    try:
        if kind == "str":
            return plain.decode()
        if kind == "int":
            return int(plain)
        if kind == "float":
            return float(plain)
        if kind == "bool":
            return plain.decode().lower() == "true"
        if kind == "bytes":
            return plain
    except ValueError as e:
        raise DecryptionError(f"{where}: decrypted value is not a valid {kind}") from e
    raise DecryptionError(f"{where}: unknown SOPS value type {kind!r}")


def _mac_bytes(value: Any) -> bytes | None:
    """The bytes SOPS hashes for a value (None: not part of the MAC)."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        if math.isnan(value):
            return b"NaN"
        if math.isinf(value):
            return b"+Inf" if value > 0 else b"-Inf"
        return format(Decimal(repr(value)), "f").encode()  # Go's FormatFloat(v, 'f', -1, 64)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    return None


@dataclass
class _Walker:
    """Decrypts a tree in document order and hashes its plaintext the way SOPS does."""

    key: bytes
    rules: _Rules
    where: str
    mac: Any = field(default_factory=hashlib.sha512)

    def walk(self, value: Any, path: list[str]) -> Any:
        if isinstance(value, Mapping):
            return {k: self.walk(v, [*path, str(k)]) for k, v in value.items()}
        if isinstance(value, list):  # list items share their parent's path, as in SOPS
            return [self.walk(v, path) for v in value]
        dotted = ".".join(path)
        encrypted = self.rules.encrypted(path)
        if encrypted:
            if not isinstance(value, str):
                raise DecryptionError(f"{self.where}: {dotted} should be encrypted but is not")
            value = _decrypt_value(value, self.key, ":".join(path) + ":", f"{self.where} {dotted}")
        if not self.rules.mac_only_encrypted or encrypted:
            data = _mac_bytes(value)
            if data is not None:
                self.mac.update(data)
        return value


def _data_key(meta: Mapping[str, Any], keyring: Keyring, where: str) -> bytes:
    import pyrage  # noqa: PLC0415

    if meta.get("key_groups"):
        raise DecryptionError(f"{where}: SOPS key groups (Shamir) are not supported yet")
    entries = [e for e in meta.get("age") or [] if isinstance(e, Mapping)]
    if not entries:
        kinds = [k for k in ("pgp", "kms", "gcp_kms", "azure_kv", "hc_vault") if meta.get(k)]
        raise DecryptionError(
            f"{where}: encrypted for {', '.join(kinds) or 'no key'}; weir decrypts age keys only "
            "for now: re-encrypt it for an age recipient"
        )
    if not keyring.age:
        hint = (
            f" (the Secret has {', '.join(keyring.unsupported)}, which weir cannot use yet)"
            if keyring.unsupported
            else ""
        )
        raise DecryptionError(
            f"{where}: no age identity to decrypt it with: add a '*.agekey' entry to the "
            f"decryption Secret{hint}"
        )
    for entry in entries:
        try:
            data_key: bytes = pyrage.decrypt(
                str(entry.get("enc") or "").encode(), list(keyring.age)
            )
        except Exception:  # pyrage.DecryptError: not for these identities
            continue
        if len(data_key) != 32:
            raise DecryptionError(f"{where}: the SOPS data key is {len(data_key)} bytes, not 32")
        return data_key
    recipients = ", ".join(str(e.get("recipient")) for e in entries)
    raise DecryptionError(
        f"{where}: none of the decryption Secret's age identities matches the recipients "
        f"({recipients})"
    )


def _mac_aad(lastmodified: Any, where: str) -> str:
    """``sops.lastmodified`` as SOPS formats it for the MAC (Go's RFC 3339)."""
    if isinstance(lastmodified, datetime):
        when = lastmodified
    else:
        try:
            when = datetime.fromisoformat(str(lastmodified).replace("Z", "+00:00"))
        except ValueError as e:
            raise DecryptionError(f"{where}: sops.lastmodified is not a timestamp") from e
    if when.tzinfo is None or when.utcoffset() == UTC.utcoffset(None):
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.replace(microsecond=0).isoformat()


def decrypt_object(obj: Mapping[str, Any], keyring: Keyring, *, check_mac: bool = False) -> Obj:
    """The object with its values decrypted and its ``sops`` metadata removed.

    Raises :class:`~weir.kustomize.errors.DecryptionError` when it cannot be decrypted with
    ``keyring``, or (``check_mac``) when its MAC does not match the plaintext.
    """
    where = display(obj)
    meta = obj.get("sops")
    if not isinstance(meta, Mapping):
        raise DecryptionError(f"{where}: no SOPS metadata")
    key = _data_key(meta, keyring, where)
    walker = _Walker(key, _Rules.of(meta), where)
    if walker.rules.mac_only_encrypted:
        walker.mac.update(_MAC_ONLY_ENCRYPTED_PREFIX)
    plain: Obj = walker.walk({k: v for k, v in obj.items() if k != "sops"}, [])
    if not check_mac:
        return plain
    stored = _decrypt_value(
        str(meta.get("mac") or ""), key, _mac_aad(meta.get("lastmodified"), where), where + " MAC"
    )
    if not isinstance(stored, str) or stored.upper() != walker.mac.hexdigest().upper():
        raise DecryptionError(
            f"{where}: failed to verify SOPS data integrity (the MAC does not match): the "
            "file was changed after it was encrypted; edit it with `sops` instead"
        )
    return plain


def require_decryption(objects: Iterable[Mapping[str, Any]]) -> None:
    """Without ``spec.decryption``: an encrypted object is an error (Flux's message)."""
    for obj in objects:
        if is_encrypted(obj) and not decryption_disabled(obj):
            raise DecryptionError(
                f"{display(obj)} is SOPS encrypted, configuring decryption is required for "
                "this secret to be reconciled"
            )


def decrypt_objects(
    objects: Iterable[Obj], keyring: Keyring, *, check_mac: bool = False
) -> list[Obj | None]:
    """Each object decrypted, or None when it needed no decryption (left as it was)."""
    return [
        decrypt_object(obj, keyring, check_mac=check_mac)
        if is_encrypted(obj) and not decryption_disabled(obj)
        else None
        for obj in objects
    ]
