"""Pure pieces of the development control plane: versions, PKI, kwok stages, ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from weir.devcluster import kwok
from weir.devcluster.binaries import Binaries
from weir.devcluster.pki import create_pki, issue_client_cert
from weir.devcluster.process import ensure_port_free, free_port
from weir.devcluster.versions import parse_env_file, pinned_versions
from weir.errors import MissingBinaryError, PortInUseError


def test_versions_are_pinned_in_one_file() -> None:
    v = pinned_versions()
    assert v.kubernetes.startswith("v1.")
    assert v.kwok.startswith("v0.")
    env = parse_env_file((Path(__file__).parents[2] / "scripts" / "versions.env").read_text())
    assert env["K8S_VERSION"] == v.kubernetes


def test_parse_env_file_ignores_comments() -> None:
    assert parse_env_file("# c\nA=1\n\nB='x y'\nC=\n") == {"A": "1", "B": "x y", "C": ""}


def test_missing_binary_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_K8S_BINDIR", str(tmp_path))
    with pytest.raises(MissingBinaryError, match="make binaries"):
        Binaries.locate().path("kube-apiserver")


def test_pki(tmp_path: Path) -> None:
    pki = create_pki(tmp_path)
    ca = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    serving = x509.load_pem_x509_certificate(pki.serving.cert.read_bytes())
    admin = x509.load_pem_x509_certificate(pki.admin.cert.read_bytes())
    assert serving.issuer == ca.subject
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
    orgs = admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [o.value for o in orgs] == ["system:masters"]
    eku = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert oct(pki.admin.key.stat().st_mode & 0o777) == "0o600"
    user = issue_client_cert(pki, tmp_path, "alice", ("devs",))
    cert = x509.load_pem_x509_certificate(user.cert.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert cert.issuer == ca.subject


def test_kwok_stages_are_valid_yaml_with_unique_names() -> None:
    stages = kwok.stages()
    text = yaml.safe_dump_all(stages)
    loaded = list(yaml.safe_load_all(text))
    names = [s["metadata"]["name"] for s in loaded]
    assert len(set(names)) == len(names)
    kinds = {s["spec"]["resourceRef"]["kind"] for s in loaded}
    assert kinds == {"Node", "Pod"}
    node = kwok.node("n0")
    assert node["metadata"]["annotations"][kwok.FAKE_NODE_ANNOTATION] == "fake"


def test_ports() -> None:
    port = free_port()
    ensure_port_free(port, "--x")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(PortInUseError, match="--x"):
            ensure_port_free(s.getsockname()[1], "--x")
