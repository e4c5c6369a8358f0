"""The certificate that signs Content Credentials: the operator's, or one made here once.

C2PA signers need an X.509 chain whose leaf may sign documents (digitalSignature, with the
emailProtection extended key usage that the C2PA trust model accepts for signers). Without an
operator's certificate the site makes a small CA and a leaf under it in its data directory, the
way it makes its secret key: readers then show the files as validly signed by an *untrusted*
signer, which is the truth (nobody vouches for a self-made CA).

Lifetimes. Without a timestamp authority (none is reachable offline) a verifier checks the
signer's certificate against today's date, so a file reads as valid only until the certificate
that signed it expires (`signingCredential.expired` after that; measured with c2pa-python).
Renewing the leaf does not help files already signed. So the leaf lives five years and is
replaced by a fresh one after one year: every file stays verifiable for at least four years.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CA_LIFETIME = datetime.timedelta(days=20 * 365)
LEAF_LIFETIME = datetime.timedelta(days=5 * 365)
# A leaf this old is replaced before the next signature (see the lifetimes above).
RENEW_AFTER = datetime.timedelta(days=365)
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\s*", re.DOTALL)


@dataclass(frozen=True)
class SigningCredentials:
    chain_pem: bytes  # the leaf first, then the CA
    key_pem: bytes
    algorithm: str  # as c2pa names it: "es256", "ps256", ...
    timestamp_url: str | None
    not_after: datetime.datetime
    subject: str
    self_made: bool


def signing_credentials() -> SigningCredentials:
    """The operator's certificate when configured, else the site's own (made on first use)."""
    cert_file, key_file = settings.DETAILER_C2PA_CERT_FILE, settings.DETAILER_C2PA_KEY_FILE
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise ImproperlyConfigured(
                "Set both DETAILER_C2PA_CERT_FILE and DETAILER_C2PA_KEY_FILE, or neither."
            )
        chain = Path(cert_file).read_bytes()
        key = Path(key_file).read_bytes()
        self_made = False
    else:
        chain, key = own_certificate(Path(settings.DETAILER_C2PA_DIR))
        self_made = True
    leaf = x509.load_pem_x509_certificate(chain)
    return SigningCredentials(
        chain_pem=chain,
        key_pem=key,
        algorithm=settings.DETAILER_C2PA_ALGORITHM,
        timestamp_url=settings.DETAILER_C2PA_TSA_URL or None,
        not_after=leaf.not_valid_after_utc,
        subject=leaf.subject.rfc4514_string(),
        self_made=self_made,
    )


def own_certificate(directory: Path) -> tuple[bytes, bytes]:
    """The self-made signer's (chain, key), creating the CA and renewing the leaf as needed."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_path, signer_path = directory / "ca.pem", directory / "signer.pem"
    if not ca_path.exists() or _expires_within(ca_path, LEAF_LIFETIME):
        _write_private(ca_path, _new_ca())
    ca_cert, ca_key = _split(ca_path.read_bytes())
    if signer_path.exists():
        chain, key = _split(signer_path.read_bytes())
        leaf = x509.load_pem_x509_certificate(chain)
        issuer = x509.load_pem_x509_certificate(ca_cert)
        if _now() - leaf.not_valid_before_utc < RENEW_AFTER and leaf.issuer == issuer.subject:
            return chain, key
    _write_private(signer_path, _new_leaf(ca_cert, ca_key))
    return _split(signer_path.read_bytes())


def _expires_within(path: Path, span: datetime.timedelta) -> bool:
    certificate = x509.load_pem_x509_certificate(_split(path.read_bytes())[0])
    return certificate.not_valid_after_utc - _now() < span


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.DETAILER_C2PA_ORGANIZATION),
        ]
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _new_ca() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"{settings.DETAILER_C2PA_ORGANIZATION} Content Credentials CA")
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM) + _pem_key(key)


def _new_leaf(ca_pem: bytes, ca_key_pem: bytes) -> bytes:
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    # A leaf never outlives its CA: validators reject a chain whose issuer has expired.
    not_after = min(now + LEAF_LIFETIME, ca_cert.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{settings.DETAILER_C2PA_ORGANIZATION} signer"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM) + ca_pem + _pem_key(key)


def _split(pem: bytes) -> tuple[bytes, bytes]:
    """(certificates, private key) from one PEM file holding both."""
    certs, key = b"", b""
    for match in PEM_BLOCK.finditer(pem):
        if match.group(1) == b"CERTIFICATE":
            certs += match.group(0)
        elif b"PRIVATE KEY" in match.group(1):
            key = match.group(0)
    return certs, key


def _write_private(path: Path, content: bytes) -> None:
    # Written whole under a temporary name, then renamed: two workers starting at once each
    # write a complete file, and the last rename wins (both are valid).
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
