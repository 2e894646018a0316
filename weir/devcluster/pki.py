"""A small PKI for the development control plane: one CA, a serving certificate, client
certificates and the service-account signing key pair, all written as PEM files."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=365)


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Paths of everything :func:`create_pki` writes."""

    ca: CertFiles
    serving: CertFiles
    admin: CertFiles
    sa_key: Path
    sa_pub: Path


class _CA:
    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self,
        common_name: str,
        *,
        organizations: tuple[str, ...] = (),
        dns_names: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
        server: bool = False,
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(self.key, hashes.SHA256()), key


def _write(path: Path, data: bytes, private: bool = False) -> Path:
    path.write_bytes(data)
    if private:
        path.chmod(0o600)
    return path


def issue_client_cert(
    pki: Pki, directory: Path, user: str, groups: tuple[str, ...] = ()
) -> CertFiles:
    """Issue a client certificate for ``user`` in ``groups``, signed by the cluster's CA."""
    ca_cert = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = _CA.__new__(_CA)
    ca.cert, ca.key = ca_cert, ca_key
    cert, key = ca.issue(user, organizations=groups)
    return CertFiles(
        cert=_write(directory / f"{user}.crt", _pem_cert(cert)),
        key=_write(directory / f"{user}.key", _pem_key(key), private=True),
    )


def create_pki(directory: Path) -> Pki:
    """Create the CA, the API server's serving certificate, an admin client certificate
    (group ``system:masters``) and an RSA service-account signing key in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _CA("weir-devcluster-ca")
    ca_files = CertFiles(
        cert=_write(directory / "ca.crt", _pem_cert(ca.cert)),
        key=_write(directory / "ca.key", _pem_key(ca.key), private=True),
    )
    serving, serving_key = ca.issue(
        "kube-apiserver",
        dns_names=(
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ),
        ips=("127.0.0.1", "10.0.0.1"),
        server=True,
    )
    admin, admin_key = ca.issue("weir-admin", organizations=("system:masters",))
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sa_pub = sa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Pki(
        ca=ca_files,
        serving=CertFiles(
            cert=_write(directory / "apiserver.crt", _pem_cert(serving)),
            key=_write(directory / "apiserver.key", _pem_key(serving_key), private=True),
        ),
        admin=CertFiles(
            cert=_write(directory / "admin.crt", _pem_cert(admin)),
            key=_write(directory / "admin.key", _pem_key(admin_key), private=True),
        ),
        sa_key=_write(directory / "sa.key", _pem_key(sa), private=True),
        sa_pub=_write(directory / "sa.pub", sa_pub),
    )
