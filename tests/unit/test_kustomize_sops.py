"""SOPS decryption (weir.kustomize.sops) of documents encrypted by the real sops CLI."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from weir import yamlio
from weir.kustomize import sops
from weir.kustomize.errors import DecryptionError
from weir.testing import sops as sops_cli
from weir.testing.sops import AgeKey

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: blockscout
type: Opaque
stringData:
  password: s3cr3t
  url: postgres://blockscout:s3cr3t@db:5432/blockscout
data:
  token: dG9rZW4=
"""

# Every YAML type sops distinguishes, nested maps and lists, a key sops leaves alone by default.
TYPED = """\
apiVersion: example.dev/v1
kind: Settings
metadata:
  name: typed
spec:
  replicas: 3
  ratio: 0.25
  enabled: true
  disabled: false
  tags: [a, b]
  nodes:
    - host: erigon-0
      port: 8545
    - host: erigon-1
      port: 8546
  note_unencrypted: visible
"""


@pytest.fixture(scope="module")
def key() -> AgeKey:
    return AgeKey.generate()


def keyring_of(*keys: AgeKey, extra: dict[str, str] | None = None) -> sops.Keyring:
    data = {
        f"k{i}.agekey": base64.b64encode(f"# key {i}\n{k.identity}\n".encode()).decode()
        for i, k in enumerate(keys)
    }
    return sops.Keyring.from_secret_data({**data, **(extra or {})}, source="test")


def load(text: str) -> dict[str, Any]:
    doc = yamlio.load(text)
    assert isinstance(doc, dict)
    return doc


def test_secret_with_encrypted_regex_round_trips(key: AgeKey) -> None:
    encrypted = load(sops_cli.encrypt(SECRET, key.recipient))
    assert sops.is_encrypted(encrypted)
    assert str(encrypted["stringData"]["password"]).startswith("ENC[AES256_GCM,")
    assert encrypted["metadata"]["name"] == "db"  # outside the regex: plaintext
    plain = sops.decrypt_object(encrypted, keyring_of(key), check_mac=True)
    assert plain == load(SECRET)
    # The same answer as the sops CLI itself.
    assert plain == load(sops_cli.decrypt(yamlio.dump(encrypted), key.identity))


def test_all_value_types_and_the_default_unencrypted_suffix(key: AgeKey) -> None:
    encrypted = load(sops_cli.encrypt(TYPED, key.recipient, encrypted_regex=None))
    assert str(encrypted["kind"]).startswith("ENC[")
    assert encrypted["spec"]["note_unencrypted"] == "visible"
    plain = sops.decrypt_object(encrypted, keyring_of(key), check_mac=True)
    assert plain == load(TYPED)
    assert plain["spec"]["replicas"] == 3
    assert plain["spec"]["enabled"] is True
    assert plain["spec"]["ratio"] == 0.25


def test_mac_only_encrypted(key: AgeKey) -> None:
    encrypted = load(sops_cli.encrypt(SECRET, key.recipient, extra=["--mac-only-encrypted"]))
    assert encrypted["sops"].get("mac_only_encrypted") is True
    # Only encrypted values count: kustomize may rename the object without breaking the MAC.
    encrypted["metadata"]["namespace"] = "elsewhere"
    plain = sops.decrypt_object(encrypted, keyring_of(key), check_mac=True)
    assert plain["stringData"]["password"] == "s3cr3t"


def test_any_of_several_recipients_decrypts(key: AgeKey) -> None:
    other = AgeKey.generate()
    encrypted = load(sops_cli.encrypt(SECRET, [key.recipient, other.recipient]))
    assert sops.decrypt_object(encrypted, keyring_of(other))["stringData"]["password"] == "s3cr3t"


def test_an_edited_plaintext_field_breaks_only_the_mac(key: AgeKey) -> None:
    encrypted = load(sops_cli.encrypt(SECRET, key.recipient))
    encrypted["metadata"]["namespace"] = "elsewhere"  # what a kustomize `namespace:` does
    # Flux's default (and the pipeline's): no MAC check, the values still decrypt.
    assert sops.decrypt_object(encrypted, keyring_of(key))["metadata"]["namespace"] == "elsewhere"
    with pytest.raises(DecryptionError, match="failed to verify SOPS data integrity"):
        sops.decrypt_object(encrypted, keyring_of(key), check_mac=True)


def test_a_value_moved_to_another_key_does_not_decrypt(key: AgeKey) -> None:
    encrypted = load(sops_cli.encrypt(SECRET, key.recipient))
    data = encrypted["stringData"]
    data["password"], data["url"] = data["url"], data["password"]
    with pytest.raises(DecryptionError, match=r"Secret/blockscout/db stringData\.password"):
        sops.decrypt_object(encrypted, keyring_of(key))


def test_wrong_or_missing_keys_are_explained(key: AgeKey) -> None:
    encrypted = load(sops_cli.encrypt(SECRET, key.recipient))
    with pytest.raises(DecryptionError, match="none of the decryption Secret's age identities"):
        sops.decrypt_object(encrypted, keyring_of(AgeKey.generate()))
    gpg = {"sops.asc": base64.b64encode(b"-----BEGIN PGP PRIVATE KEY BLOCK-----").decode()}
    with pytest.raises(DecryptionError, match=r"no age identity .* sops\.asc"):
        sops.decrypt_object(encrypted, sops.Keyring.from_secret_data(gpg))


def test_keyring_rejects_a_bad_identity() -> None:
    bad = {"x.agekey": base64.b64encode(b"AGE-SECRET-KEY-1NOPE").decode()}
    with pytest.raises(DecryptionError, match=r"'x\.agekey' holds an invalid age identity"):
        sops.Keyring.from_secret_data(bad, source="decryption secret 'ns/keys'")


def test_without_decryption_an_encrypted_object_is_an_error(key: AgeKey) -> None:
    encrypted = load(sops_cli.encrypt(SECRET, key.recipient))
    with pytest.raises(DecryptionError) as info:
        sops.require_decryption([load(SECRET), encrypted])
    assert str(info.value) == (
        "Secret/blockscout/db is SOPS encrypted, configuring decryption is required for this "
        "secret to be reconciled"
    )
    encrypted["metadata"]["annotations"] = {sops.DECRYPT_ANNOTATION: "disabled"}
    sops.require_decryption([encrypted])  # opted out: left as it is
    assert sops.decrypt_objects([encrypted, load(SECRET)], keyring_of(key)) == [None, None]
