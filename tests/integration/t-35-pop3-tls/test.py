"""t-35-pop3-tls: POP3 over TLS, STLS (RFC 2595) and POP3S (RFC 8314), with
the plaintext rule, against a real boxmaild and real clients.

Config: [server] plaintext_login_networks = "" (the default: every login
needs TLS; the harness's other tests allow loopback),
login_failures_per_address = 2; [pop3] login_delay = 1. The certificate is
the self-signed one boxmaild makes at first start (box.cert, for the box's
host name mx.test.example); every client below trusts exactly that file and
checks the name, so verification is real (the name resolves to 127.0.0.1
through each client's own override: --resolve, -servername, sslcommonname,
server_hostname).

Client sends / server replies:
  plain, from 127.0.0.1: CAPA -> no USER, no SASL, STLS; USER alice ->
    -ERR [AUTH] Plaintext logins are not allowed without TLS: use STLS (or
    the POP3S port); PASS and AUTH PLAIN the same; the log says "refused",
    and no failed login is counted (3 refusals > login_failures_per_address,
    yet 127.0.0.1 logs in below)
  injection (CVE-2011-0411): "STLS\\r\\nSTAT\\r\\nUSER alice\\r\\n" in one
    write -> only "+OK Begin TLS negotiation"; after the handshake no reply
    arrives for STAT or USER; CAPA answers (USER, SASL PLAIN, no STLS); PASS
    -> -ERR Send USER first (the pipelined USER never reached the session);
    then USER/PASS log in, STAT, QUIT
  poplib: capa, stls() (CAPA after it changes), login, RETR byte-exact;
    POP3_SSL on the POP3S port: TLSv1.2, no STLS in CAPA, login, RETR
  openssl s_client -starttls pop3 and -connect to POP3S: verification OK,
    login, STAT
  curl pop3:// --ssl-reqd and pop3s://, --cacert box.cert: LIST and RETR;
    curl pop3:// without TLS: refused (exit 67), the password unchecked
  fetchmail over STLS (sslproto tls1.2+, sslcertck, sslcertfile) and over
    POP3S (ssl): every message byte for byte
  from 127.0.0.2 under STLS: unknown user and wrong password -> the same
    -ERR [AUTH] Authentication failed, each after login_delay; then that
    address is blocked (-ERR [SYS/TEMP]) even for the right password: under
    TLS failures count as before
"""
import base64
import os
import poplib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import fetch  # noqa: E402

HOST = "mx.test.example"
GREETING = f"+OK {HOST} POP3 boxmail ready"
CAPA_HEAD = ["+OK Capability list follows", "CAPA", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE",
             "PIPELINING"]
CAPA_LOGIN = ["USER", "SASL PLAIN"]
CAPA_TAIL = ["IMPLEMENTATION boxmail", "."]
REFUSED = "-ERR [AUTH] Plaintext logins are not allowed without TLS: use STLS (or the POP3S port)"
AUTH_FAILED = "-ERR [AUTH] Authentication failed"
BLOCKED = "-ERR [SYS/TEMP] Too many failed logins from your address; try again later"
LOGIN_DELAY = 1
poplib._MAXLINE = 1 << 20   # message two has a 5,000-octet line (poplib's default limit is 2,048)

MESSAGES = [
    b"From: a@example.org\nSubject: one\n\nhello\n.dot line\n",
    b"From: b@example.org\nSubject: two\n\n" + b"x" * 5000 + b"\nend\n",
]


def context(box):
    """A client context that trusts the box's certificate only and checks
    its name (mx.test.example)."""
    ctx = ssl.create_default_context(cafile=box.cert)
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


def read_capa(d):
    lines = [d.line()]
    while lines[-1] != ".":
        lines.append(d.line())
    return lines


def start_tls(box, d):
    """Turns the Pop3Dialogue D (after its +OK to STLS) into TLS."""
    assert d.buf == b"", f"plaintext after the STLS reply: {d.buf!r}"
    d.sock = context(box).wrap_socket(d.sock, server_hostname=HOST)
    assert d.sock.version() == "TLSv1.2", d.sock.version()


def stls_dialogue(box, source=None):
    """A Pop3Dialogue after greeting, STLS and the handshake."""
    d = box.pop3_dialogue(source=source)
    d.expect(GREETING, exact=True)
    d.send("STLS")
    d.expect("+OK Begin TLS negotiation", exact=True)
    start_tls(box, d)
    return d


class LoopbackPOP3(poplib.POP3):
    """poplib.POP3 for HOST, connected to 127.0.0.1 (no DNS in the test's
    namespace); stls() then checks the certificate against HOST."""

    def _create_socket(self, timeout):
        return socket.create_connection(("127.0.0.1", self.port), timeout)


class LoopbackPOP3_SSL(poplib.POP3_SSL):
    """poplib.POP3_SSL for HOST, connected to 127.0.0.1."""

    def _create_socket(self, timeout):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout)
        return self.context.wrap_socket(sock, server_hostname=HOST)


def retr(p, n):
    resp, lines, octets = p.retr(n)
    return b"\n".join(lines) + b"\n"


def plaintext_refused(box):
    log_start = len(box.log())
    d = box.pop3_dialogue()
    d.expect(GREETING, exact=True)
    d.send("CAPA")
    got = read_capa(d)
    assert got == CAPA_HEAD + ["STLS"] + CAPA_TAIL, got
    d.send("USER alice")
    d.expect(REFUSED, exact=True)
    d.send("PASS pw-alice")
    d.expect(REFUSED, exact=True)
    d.send("AUTH PLAIN " + base64.b64encode(b"\0alice\0pw-alice").decode())
    d.expect(REFUSED, exact=True)
    d.send("AUTH")
    d.expect("+OK SASL mechanisms follow", exact=True)
    d.expect(".", exact=True)
    d.send("QUIT")
    d.expect("+OK Logging out", exact=True)
    assert d.closed()
    box.wait_log(r"pop3: client=127\.0\.0\.1 refused: USER without TLS", start=log_start)
    box.wait_log(r"pop3: client=127\.0\.0\.1 refused: AUTH PLAIN without TLS", start=log_start)
    log = box.log()[log_start:]
    assert "failed login" not in log and "login failed" not in log, log


def injection(box, stored):
    d = box.pop3_dialogue()
    d.expect(GREETING, exact=True)
    d.send(b"STLS\r\nSTAT\r\nUSER alice\r\n", raw=True)   # one write, one segment
    d.expect("+OK Begin TLS negotiation", exact=True)
    start_tls(box, d)
    d.sock.settimeout(1.5)
    try:
        data = d.sock.recv(65536)
        raise AssertionError(f"a reply to a command sent before TLS arrived under TLS: {data!r}")
    except socket.timeout:
        pass
    d.sock.settimeout(10)
    d.send("CAPA")
    got = read_capa(d)
    assert got == CAPA_HEAD + CAPA_LOGIN + CAPA_TAIL, got
    d.send("PASS pw-alice")
    d.expect("-ERR Send USER first", exact=True)
    d.send("USER alice")
    d.expect("+OK Send PASS", exact=True)
    d.send("PASS pw-alice")
    d.expect(f"+OK Logged in: {len(stored)} messages (", exact=False)
    d.send("STAT")
    d.expect(f"+OK {len(stored)} ", exact=False)
    d.send("QUIT")
    d.expect("+OK Logging out", exact=False)
    assert d.closed()
    box.wait_log(r"pop3: client=127\.0\.0\.1 user=alice login: .*, TLS$")


def with_poplib(box, stored):
    p = LoopbackPOP3(HOST, box.pop3_port, timeout=20)
    caps = p.capa()
    assert "STLS" in caps and "USER" not in caps and "SASL" not in caps, caps
    try:
        p.user("alice")
        raise AssertionError("USER accepted before TLS")
    except poplib.error_proto as e:
        assert REFUSED.encode() == e.args[0], e
    p.stls(context(box))
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps and caps.get("SASL") == ["PLAIN"], caps
    p.user("alice")
    p.pass_("pw-alice")
    assert p.stat()[0] == len(stored)
    got = {retr(p, n) for n in range(1, len(stored) + 1)}
    assert got == stored, "RETR under STLS differs"
    p.quit()

    p = LoopbackPOP3_SSL(HOST, box.pop3s_port, context=context(box), timeout=20)
    assert p.sock.version() == "TLSv1.2", p.sock.version()
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps, caps
    p.user("alice")
    p.pass_("pw-alice")
    got = {retr(p, n) for n in range(1, len(stored) + 1)}
    assert got == stored, "RETR over POP3S differs"
    p.quit()


def with_openssl(box, stored):
    script = b"CAPA\nUSER alice\nPASS pw-alice\nSTAT\nQUIT\n"
    common = ["-CAfile", box.cert, "-verify_return_error", "-servername", HOST, "-verify_hostname", HOST,
              "-crlf", "-ign_eof"]
    for how in (["-starttls", "pop3", "-connect", f"127.0.0.1:{box.pop3_port}"],
                ["-connect", f"127.0.0.1:{box.pop3s_port}"]):
        p = subprocess.run(["openssl", "s_client", *how, *common], input=script, capture_output=True,
                           timeout=60)
        out = p.stdout.decode(errors="replace")
        assert p.returncode == 0, (how, p.returncode, out[-2000:], p.stderr.decode(errors="replace"))
        assert "Verify return code: 0 (ok)" in out, (how, out[-3000:])
        assert "Protocol  : TLSv1.2" in out, (how, out[-3000:])
        assert "\nUSER\r\n" in out and "\nSTLS\r\n" not in out, (how, out[-3000:])
        assert "+OK Logged in" in out and f"+OK {len(stored)} " in out and "+OK Logging out" in out, \
            (how, out[-3000:])


def curl(box, url, *args, user="alice:pw-alice", check=True):
    port = box.pop3s_port if url.startswith("pop3s:") else box.pop3_port
    cmd = ["curl", "-sS", "--max-time", "30", "-u", user, "--cacert", box.cert,
           "--resolve", f"{HOST}:{port}:127.0.0.1", *args, url]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


def with_curl(box, stored):
    crlf = {m.replace(b"\n", b"\r\n") for m in stored}
    for url in (f"pop3://{HOST}:{box.pop3_port}/", f"pop3s://{HOST}:{box.pop3s_port}/"):
        extra = ["--ssl-reqd"] if url.startswith("pop3:") else []
        listing = curl(box, url, *extra).stdout.decode().split("\r\n")
        assert listing[-1] == "" and len(listing) == len(stored) + 1, (url, listing)
        got = {curl(box, url + str(n), *extra).stdout for n in range(1, len(stored) + 1)}
        assert got == crlf, f"RETR via {url} differs"
    # without TLS curl finds no login it may use (no USER, no SASL in CAPA)
    log_start = len(box.log())
    p = curl(box, f"pop3://{HOST}:{box.pop3_port}/", check=False)
    assert p.returncode == 67, (p.returncode, p.stderr)
    time.sleep(0.3)
    log = box.log()[log_start:]
    assert "user=alice" not in log, log   # nothing was checked


def with_fetchmail(box, stored):
    tls_check = f'sslcertck sslcertfile "{box.cert}" sslcommonname {HOST}'
    for port, tls in ((box.pop3_port, "sslproto tls1.2+ " + tls_check),
                      (box.pop3s_port, "ssl sslproto tls1.2+ " + tls_check)):
        out = tempfile.mkdtemp(prefix="boxmail-fetched-")
        home = tempfile.mkdtemp(prefix="boxmail-fetchmail-")
        log_start = len(box.log())
        try:
            p = fetch.fetchmail(port, "alice", "pw-alice", out, tls=tls, extra=["--verbose"], home=home)
            assert p.returncode == 0, (port, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
            got = {fetch.split_fetched(m)[1] for m in fetch.delivered(out)}
        finally:
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)
        assert got == stored, f"fetchmail on port {port}: {len(got)} messages, differences"
        box.wait_log(r"pop3: client=127\.0\.0\.1 user=alice login: .*, TLS$", start=log_start)


def failures_under_tls(box):
    replies = []
    for user, password in (("nobody", "pw-alice"), ("alice", "wrong")):
        d = stls_dialogue(box, source="127.0.0.2")
        d.send("USER " + user)
        d.expect("+OK Send PASS", exact=True)
        t0 = time.monotonic()
        d.send("PASS " + password)
        replies.append(d.line())
        took = time.monotonic() - t0
        assert took >= LOGIN_DELAY - 0.05, f"failure answered after {took:.2f} s"
        d.send("QUIT")
        d.expect("+OK Logging out", exact=True)
        d.close()
    assert replies == [AUTH_FAILED, AUTH_FAILED], replies
    # login_failures_per_address = 2: 127.0.0.2 is blocked now, whatever the password
    d = stls_dialogue(box, source="127.0.0.2")
    d.send("USER alice")
    d.expect("+OK Send PASS", exact=True)
    d.send("PASS pw-alice")
    d.expect(BLOCKED, exact=True)
    d.close()


def main():
    cfg = {"server": {"plaintext_login_networks": "", "login_failures_per_address": "2"},
           "pop3": {"login_delay": str(LOGIN_DELAY)}}
    with boxtest.Box(config=cfg) as box:
        box.start()
        for m in MESSAGES:
            box.deliver("alice@example.com", m)
        stored = {boxtest.read(f) for f in box.messages("alice")}
        assert len(stored) == len(MESSAGES)

        plaintext_refused(box)
        injection(box, stored)
        with_poplib(box, stored)
        with_openssl(box, stored)
        with_curl(box, stored)
        with_fetchmail(box, stored)
        failures_under_tls(box)
        assert len(box.delivered()["alice"]) == len(MESSAGES), "a keep-mode client removed mail"
        assert box.stop() == 0


if __name__ == "__main__":
    boxtest.run(main)
