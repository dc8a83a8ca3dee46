"""TLS helpers for the integration tests: certificates made with Python's
cryptography package (Debian python3-cryptography), and what a real TLS
client (openssl s_client) sees of a server."""
import datetime
import hashlib
import re
import ssl
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def new_key(kind="ec"):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(cn, key, issuer_cert=None, issuer_key=None, days_from=-1, days_to=365, ca=False):
    """An X.509 v3 certificate for `cn` (also its one dNSName), signed by
    issuer_key (self-signed when None); validity relative to now in days."""
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer_cert.subject if issuer_cert else subject)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now + datetime.timedelta(days=days_from))
         .not_valid_after(now + datetime.timedelta(days=days_to))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def pem_cert(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def pem_key(key, password=None):
    enc = (serialization.BestAvailableEncryption(password) if password
           else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def fingerprint(cert):
    """SHA-256 of the DER, as boxmaild logs it (AA:BB:...)."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def fingerprint_of_pem(pem):
    return fingerprint(x509.load_pem_x509_certificate(pem))


def served(port, starttls=None, host="127.0.0.1", extra=()):
    """Connects with openssl s_client (STARTTLS for `starttls` = smtp|pop3,
    else implicit TLS) and returns (leaf SHA-256 fingerprint or None,
    s_client's output)."""
    cmd = ["openssl", "s_client", "-connect", f"{host}:{port}", "-showcerts", *extra]
    if starttls:
        cmd += ["-starttls", starttls]
    p = subprocess.run(cmd, input=b"", capture_output=True, timeout=30)
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    if not m:
        return None, out
    der = ssl.PEM_cert_to_DER_cert(m.group(0))
    fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    return fp, out


def client_context(cafile=None):
    """An ssl context that verifies against `cafile` (the box's own
    certificate: self-signed) and its host name mx.test.example; without
    cafile, no verification (said where used)."""
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
