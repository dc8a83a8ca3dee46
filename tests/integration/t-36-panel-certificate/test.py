"""t-36-panel-certificate: the panel's Certificate page shows, installs,
refuses and regenerates boxmaild's TLS certificate, and never reads the key.

boxmaild (dropping to the mail user) + busybox httpd running boxmail.cgi as
the panel's user (tests/web/panel_env.py, the appliance's ownership), real
HTTP with multipart uploads; certificates made with the openssl command;
what boxmaild serves read with `openssl s_client -starttls smtp`
(lib/tlstest.py).

1. The page shows the self-signed certificate made at the first start
   (CN and DNS name the host name, "Self-signed yes") with the SHA-256
   fingerprint that s_client sees.
2. Upload of a CA-signed chain (leaf + CA) as a file and its key pasted
   with CRLF line ends (as a browser's textarea sends it): "in use", the
   page shows subject, both DNS names, issuer, "2 certificates" and warns
   that it expires in under 30 days (it is valid for 20); s_client sees the
   leaf's fingerprint at once (no restart, no SIGHUP); the chain file holds
   the upload; no staged file is left.
3. Refused, each with its message next to its field, nothing written (both
   files the same bytes) and the installed certificate still served: a key
   that is not the leaf's, an expired certificate (`openssl ca` with past
   dates), the chain in the wrong order (CA first), garbage for the chain,
   an encrypted key, the key pasted into the chain (it would be written
   0644), a chain and key over 64 KiB together (refused by the panel).
4. Regenerate (after its confirmation step): a new self-signed certificate
   for the host name is served, with a fingerprint of its own.
5. The key stays 0600 and the mail user's, its directory 0700; the panel's
   user cannot read it or list the directory (setpriv), and boxmaild's log
   names each refusal and install.
6. The control socket itself: a tls-install announcing more than 64 KiB is
   refused before any payload is read; a payload sent in pieces after a
   pause is read whole; one shorter than announced is refused, naming both
   lengths; nothing changes.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import http.client
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import tlstest  # noqa: E402
from boxtest import free_port, poll, run  # noqa: E402

ADMIN_PW = "certificate-admin-36"
SCRIPT = "/cgi-bin/boxmail.cgi"
HOST = "boxmail.localdomain"   # panel_env.py's [server] hostname
CSRF = re.compile(r'name="csrf" value="([0-9a-f-]+)"')


class Panel:
    """panel_env.py (boxmaild + busybox httpd as the panel's user) and a
    logged-in HTTP client."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="boxmail-t36-")
        self.port = free_port()
        self.smtp_port = free_port()
        self.proc = boxtest.start_panel_env(self.dir, self.port, ADMIN_PW, smtp_port=self.smtp_port)
        self.cookies = {}
        self.cert = os.path.join(self.dir, "tls", "cert.pem")
        self.key = os.path.join(self.dir, "tls", "key.pem")

    def request(self, method, path, body=b"", content_type=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        c.request(method, SCRIPT + path, body=body if method == "POST" else None, headers=headers)
        r = c.getresponse()
        page = r.read().decode("utf-8", "replace")
        for v in r.headers.get_all("Set-Cookie") or []:
            name, _, value = v.split(";")[0].partition("=")
            self.cookies[name] = value
        c.close()
        return r.status, page

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, files=None):
        """FIELDS {name: str}; FILES {name: (filename, bytes)}: multipart/form-data."""
        boundary = "t36-" + uuid.uuid4().hex
        body = b""
        for name, value in fields.items():
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode()
            body += (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
        for name, (filename, data) in (files or {}).items():
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                     f"Content-Type: application/x-pem-file\r\n\r\n").encode() + data + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, f"multipart/form-data; boundary={boundary}")

    def login(self):
        _, page = self.get("/login")
        body = urllib.parse.urlencode({"csrf": CSRF.search(page).group(1), "user": "admin",
                                       "password": ADMIN_PW}).encode()
        status, _ = self.request("POST", "/login", body, "application/x-www-form-urlencoded")
        assert status == 303 and "boxmail_session" in self.cookies, status

    def upload(self, chain=None, key=None, chain_text=None, key_text=None):
        """Posts the install form: CHAIN/KEY as files, or *_TEXT pasted."""
        _, page = self.get("/certificate")
        files = {}
        if chain is not None:
            files["chain_file"] = ("fullchain.pem", chain)
        if key is not None:
            files["key_file"] = ("privkey.pem", key)
        fields = {"csrf": CSRF.search(page).group(1), "action": "install",
                  "chain_text": chain_text or b"", "key_text": key_text or b""}
        return self.post("/certificate", fields, files)

    def log(self):
        with open(os.path.join(self.dir, "boxmaild.log"), errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        if os.environ.get("BOXMAIL_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


def openssl(*args, cwd, input=None):
    return subprocess.run(["openssl", *args], cwd=cwd, input=input, capture_output=True, check=True,
                          timeout=60).stdout


def served(panel, cwd):
    """(fingerprint, subject) of the certificate boxmaild serves after STARTTLS."""
    fp, out = tlstest.served(panel.smtp_port, starttls="smtp")
    assert fp, out[-3000:]
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S).group(0) + "\n"
    subject = openssl("x509", "-noout", "-subject", "-nameopt", "RFC2253", cwd=cwd, input=pem.encode()).decode()
    return fp, subject.strip().split("=", 1)[1]


def control(panel, line, pieces=(), pause=0.0, end=False):
    """The head line of boxmaild's reply to LINE and PIECES (as root)."""
    return boxtest.control_exchange(os.path.join(panel.dir, "run", "boxmaild.sock"), line, pieces, pause, end)[0]


def shown(page, field):
    """The text of a certificate table cell (id cert-FIELD) on the page."""
    m = re.search(rf'<td id="cert-{field}">(.*?)</td>', page, re.S)
    assert m, (field, page[-3000:])
    return re.sub(r"<[^>]+>", "", m.group(1))


def field_error(page, part):
    m = re.search(rf'<p class="error" id="f-{part}-err">([^<]*)</p>', page)
    return m.group(1) if m else None


def make_material(d):
    """A CA, a leaf for mail.t36.example valid 20 days with its key, and
    the bad cases. Returns {name: bytes}."""
    def run_ssl(*args):
        openssl(*args, cwd=d)

    def read(name):
        with open(os.path.join(d, name), "rb") as f:
            return f.read()

    run_ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-subj", "/CN=t-36 Test CA", "-days", "365")
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("subjectAltName = DNS:mail.t36.example, DNS:smtp.t36.example\nbasicConstraints = CA:FALSE\n"
                "extendedKeyUsage = serverAuth\n")
    for name, cn in (("leaf", "mail.t36.example"), ("other", "other.t36.example"), ("old", "old.t36.example")):
        run_ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key")
        run_ssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-out", f"{name}.csr")
    run_ssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "20",
            "-extfile", "leaf.ext", "-out", "leaf.pem")
    # Expired: `openssl ca` takes explicit past dates.
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = t36\n[t36]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
                "default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    run_ssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "old.csr",
            "-out", "old.pem", "-startdate", "20200101000000Z", "-enddate", "20210101000000Z", "-notext")
    run_ssl("pkey", "-in", "leaf.key", "-aes256", "-passout", "pass:t36-secret", "-out", "leaf-encrypted.key")
    return {n: read(n) for n in ("ca.pem", "leaf.pem", "leaf.key", "other.key", "old.pem", "old.key",
                                 "leaf-encrypted.key")}


def main():
    work = tempfile.mkdtemp(prefix="boxmail-t36-openssl-")
    try:
        certificates(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def certificates(work):
    m = make_material(work)
    chain = m["leaf.pem"] + m["ca.pem"]
    p = Panel()
    try:
        p.login()
        mail_uid, _ = boxtest.mail_user_ids()

        # 1. The self-signed certificate of the first start.
        status, page = p.get("/certificate")
        assert status == 200, status
        first, subject = served(p, work)
        assert subject == f"CN={HOST}", subject
        assert shown(page, "subject") == f"CN={HOST}", page[-3000:]
        assert shown(page, "names") == HOST
        assert shown(page, "self-signed").startswith("yes")
        assert shown(page, "sha256") == first, (shown(page, "sha256"), first)
        assert "Expires in" not in page
        print(f"self-signed certificate shown and served: {first[:23]}...")

        # 2. A CA-signed chain: the chain as a file, the key pasted (CRLF).
        status, page = p.upload(chain=chain, key_text=m["leaf.key"].replace(b"\n", b"\r\n"))
        assert status == 200, status
        assert "The uploaded certificate is in use" in page, page[-3000:]
        leaf_fp = tlstest.fingerprint_of_pem(m["leaf.pem"])
        assert shown(page, "sha256") == leaf_fp
        assert shown(page, "subject") == "CN=mail.t36.example"
        assert shown(page, "names") == "mail.t36.example, smtp.t36.example"
        assert shown(page, "issuer") == "CN=t-36 Test CA"
        assert shown(page, "self-signed") == "no"
        assert shown(page, "chain") == "2 certificates"
        assert re.search(r"Expires in (19|20) days", page), page[-3000:]
        assert served(p, work) == (leaf_fp, "CN=mail.t36.example")
        assert boxtest.read(p.cert) == chain
        assert sorted(os.listdir(os.path.dirname(p.cert))) == ["cert.pem", "key.pem"]
        installed = (boxtest.read(p.cert), boxtest.read(p.key))
        print("uploaded chain installed and served at once; expiry in under 30 days warned")

        # 3. Refusals: the message next to its field, nothing changed.
        cases = [
            ("a key that is not the leaf's", dict(chain=chain, key=m["other.key"]), "key",
             "the private key does not match the certificate"),
            ("an expired certificate", dict(chain=m["old.pem"] + m["ca.pem"], key=m["old.key"]), "chain",
             "expired (certificate 1 of 2, notAfter 2021-01-01 00:00:00 UTC)"),
            ("the chain in the wrong order", dict(chain=m["ca.pem"] + m["leaf.pem"], key=m["leaf.key"]), "chain",
             "chain out of order (the key is that of certificate 2 of 2"),
            ("garbage", dict(chain=b"this is not a certificate\n", key=m["leaf.key"]), "chain",
             "no valid PEM certificate"),
            ("an encrypted key", dict(chain=chain, key=m["leaf-encrypted.key"]), "key",
             "the private key is encrypted"),
            ("the key in the chain", dict(chain=chain + m["leaf.key"], key=m["leaf.key"]), "chain",
             "the certificate chain holds a private key"),
            ("over 64 KiB", dict(chain=chain + b"#" * 65536, key=m["leaf.key"]), "chain",
             "at most 65536 (64 KiB)"),
        ]
        for what, upload, part, message in cases:
            mark = len(p.log())
            status, page = p.upload(**upload)
            assert status == 200, (what, status)
            error = field_error(page, part)
            assert error is not None and message in error, (what, error, page[-3000:])
            assert f'<div class="field invalid"><label for="f-{part}-file">' in page, what
            assert "Nothing was changed" in page, what
            assert (boxtest.read(p.cert), boxtest.read(p.key)) == installed, what
            assert served(p, work)[0] == leaf_fp, what
            if what != "over 64 KiB":   # the panel refuses that one itself
                poll(lambda: "TLS certificate upload refused" in p.log()[mark:], 10, f"the log line for {what}")
            print(f"refused: {what}: {error[:90]}")
        assert sorted(os.listdir(os.path.dirname(p.cert))) == ["cert.pem", "key.pem"]

        # 4. Regenerate, after the confirmation step.
        _, page = p.get("/certificate?regenerate=1")
        assert "Regenerate the self-signed certificate?" in page and "including the uploaded one" in page
        status, page = p.post("/certificate", {"csrf": CSRF.search(page).group(1), "action": "regenerate",
                                               "confirm": "yes"})
        assert status == 200 and "A new self-signed certificate is in use" in page, page[-3000:]
        fp, subject = served(p, work)
        assert subject == f"CN={HOST}" and fp not in (first, leaf_fp), (fp, subject)
        assert shown(page, "sha256") == fp
        assert "installed over the control socket" in p.log() and "regenerated over the control socket" in p.log()
        print(f"regenerated: a new self-signed certificate is served: {fp[:23]}...")

        # 5. Who can read the key.
        tls_dir = os.path.dirname(p.key)
        for path, mode in ((p.key, 0o600), (tls_dir, 0o700)):
            st = os.stat(path)
            assert st.st_uid == mail_uid and st.st_mode & 0o777 == mode, (path, oct(st.st_mode), st.st_uid)
        for cmd in (["cat", p.key], ["ls", tls_dir]):
            r = subprocess.run(["setpriv", f"--reuid={boxtest.WEB_USER}", f"--regid={boxtest.WEB_USER}",
                                "--init-groups", *cmd], capture_output=True, text=True, timeout=30)
            assert r.returncode != 0 and "Permission denied" in r.stderr, (cmd, r.returncode, r.stdout, r.stderr)
        print("key: 0600, the mail user's, in a 0700 directory; the panel's user cannot read or list it")

        # 6. The control socket's payload rules.
        before = (boxtest.read(p.cert), boxtest.read(p.key))
        head = control(p, b"tls-install 40000 30000")
        assert head == "error tls-install: the chain and the key are 70000 octets together; at most 65536", head
        garbage = b"not a certificate either\n"
        head = control(p, b"tls-install %d %d" % (len(garbage), len(m["leaf.key"])),
                       [garbage[:5], garbage[5:], m["leaf.key"]], pause=0.3)
        assert head == "error no valid PEM certificate (no BEGIN CERTIFICATE line)", head
        head = control(p, b"tls-install 100 100", [b"x" * 150], end=True)
        assert head == "error tls-install: 200 octets announced, 150 sent", head
        assert (boxtest.read(p.cert), boxtest.read(p.key)) == before
        print("control socket: over 64 KiB refused before reading, a payload in pieces read whole, a short one refused")
    finally:
        p.stop()


if __name__ == "__main__":
    run(main)
