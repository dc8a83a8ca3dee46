"""t-39-smtp-client: the outgoing SMTP client (relay::deliver, issue 10)
against real servers, through the test tool boxmail-send, inside the
private network namespace (every server on loopback).

  (1) Postfix's smtp-sink: plain delivery of two messages on one
      connection (RSET between them) with PIPELINING (MAIL, RCPTs and DATA
      in one group); the dumped messages are the files sent, dots
      unstuffed; a refused first address moves on to the next.
  (2) smtp-sink -r RCPT: a 4xx at RCPT is a temporary result per
      recipient, nothing sent; -f DATA: a 5xx at DATA is permanent.
  (3) TLS required against a server without STARTTLS (smtp-sink) fails
      temporarily (4.7.10); nothing is sent.
  (3b) A server that never greets times out (temporary, 4.4.2); an
      unreachable address moves on to the next.
  (4) Credentials are never sent in the clear: a capturing server that
      offers AUTH PLAIN LOGIN without STARTTLS records every octet the
      client sends; neither the password nor any base64 of it appears.
  (5) A real boxmaild as smarthost: STARTTLS + AUTH PLAIN on its
      submission port, TLS checked by the SHA-256 pin of its certificate;
      the message arrives in bob's Maildir byte for byte (the box stores
      LF line ends: compared after CRLF -> LF), dot lines and 8-bit text
      included. The CA check with the right host name works, a wrong host
      name or a wrong pin fails the handshake (temporary, no AUTH sent).
      Implicit TLS on its submissions port works too.
  (6) SIZE: the box announces SIZE 2048; a larger message is refused
      permanently (5.3.4) without a MAIL, a small one is sent with SIZE=.
"""
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import tlstest  # noqa: E402
from smtpsink import Sink, port_open  # noqa: E402

SEND = os.path.join(boxtest.BUILD, "boxmail-send")


def send(*args, files, to=("x@remote.example",), sender="alice@example.com", timeout_ms=10000):
    """Runs boxmail-send; returns (exit status, results, transcript lines, output)."""
    cmd = [SEND, "--from", sender, "--timeout-ms", str(timeout_ms), *args]
    for t in to:
        cmd += ["--to", t]
    for f in files:
        cmd += ["--file", f]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode == 3:
        raise AssertionError(f"boxmail-send usage error: {p.stderr}")
    results = [l.split(" ", 8)[1:] for l in p.stdout.splitlines() if l.startswith("result ")]
    transcript = [l[len("transcript "):] for l in p.stdout.splitlines() if l.startswith("transcript ")]
    return p.returncode, results, transcript, p.stdout


def message_file(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(text)
    return path


def capture_server(port, captured, stop):
    """A server that offers AUTH (and no STARTTLS), answers 250 to
    everything, and appends every octet it receives to CAPTURED."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(5)
    srv.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        with c:
            c.settimeout(5)
            c.sendall(b"220 capture.test ESMTP\r\n")
            buf = b""
            try:
                while True:
                    data = c.recv(4096)
                    if not data:
                        break
                    captured.append(data)
                    buf += data
                    while b"\r\n" in buf:
                        line, buf = buf.split(b"\r\n", 1)
                        if line.upper().startswith(b"EHLO"):
                            c.sendall(b"250-capture.test\r\n250-AUTH PLAIN LOGIN\r\n250 PIPELINING\r\n")
                        elif line.upper() == b"QUIT":
                            c.sendall(b"221 bye\r\n")
                        else:
                            c.sendall(b"250 ok\r\n")
            except OSError:
                pass
    srv.close()


def main():
    assert os.path.exists(SEND), f"{SEND} is not built"
    work = tempfile.mkdtemp(prefix="boxmail-t39-")
    try:
        run_all(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_all(work):
    plain = b"From: alice@example.com\r\nTo: x@remote.example\r\nSubject: one\r\n\r\nfirst line\r\n.dot line\r\n..two dots\r\n.\r\nlast\r\n"
    second = b"From: alice@example.com\r\nSubject: two\r\n\r\nsecond message\r\n"
    m1 = message_file(work, "m1.eml", plain)
    m2 = message_file(work, "m2.eml", second)

    # -- (1) smtp-sink, pipelining, two messages, a refused first address ----
    with Sink() as sink:
        dead = boxtest.free_port()
        code, results, transcript, out = send("--target", f"dead.test,127.0.0.1,{dead}", *sink.target(),
                                              "--tls", "none", files=[m1, m2],
                                              to=("x@remote.example", "y@remote.example"))
        assert code == 0, out
        assert [r[2] for r in results] == ["accepted"] * 4, out
        assert any("dead.test" in l and "failed" in l for l in transcript), transcript
        # One group: MAIL, both RCPTs and DATA before the first reply to them.
        i = transcript.index("C: MAIL FROM:<alice@example.com>")
        assert transcript[i + 1:i + 4] == ["C: RCPT TO:<x@remote.example>", "C: RCPT TO:<y@remote.example>",
                                           "C: DATA"], transcript
        assert "C: RSET" in transcript and transcript[-1].startswith("S: 221"), transcript
        dumps = boxtest.poll(lambda: len(sink.dumps()) == 2 and sink.dumps(), what="two smtp-sink dumps")
        # smtp-sink writes LF lines: the message as the server took it, dots unstuffed.
        want = [plain.replace(b"\r\n", b"\n"), second.replace(b"\r\n", b"\n")]
        for w in want:
            assert any(w in d for d in dumps), (w, dumps)

    # -- (2) 4xx at RCPT, 5xx at DATA -------------------------------------------
    with Sink("-r", "RCPT") as sink:
        code, results, transcript, out = send(*sink.target(), "--tls", "none", files=[m1])
        assert code == 1, out
        assert results[0][2:6] == ["temporary", "450", "4.3.0", "RCPT"], out
        assert "C: DATA" not in transcript, transcript   # no accepted RCPT, no DATA
        assert sink.dumps() == [], sink.dumps()
    with Sink("-f", "DATA") as sink:
        code, results, transcript, out = send(*sink.target(), "--tls", "none", files=[m1])
        assert code == 2, out
        assert results[0][2:6] == ["permanent", "500", "5.3.0", "DATA"], out

    # -- (3) TLS required, no STARTTLS ---------------------------------------------
    with Sink() as sink:
        code, results, transcript, out = send(*sink.target(), "--tls", "required", files=[m1])
        assert code == 1, out
        assert results[0][2:6] == ["temporary", "0", "4.7.10", "STARTTLS"], out
        assert not any(l.startswith("C: MAIL") for l in transcript), transcript
        time.sleep(0.3)
        assert sink.dumps() == []

    # -- (3b) timeouts: a server that never greets; an unreachable address ---
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)   # the kernel completes the connect; nobody ever speaks
    try:
        started = time.monotonic()
        code, results, transcript, out = send("--target", "unreachable.test,192.0.2.1,25",
                                              "--target", f"silent.test,127.0.0.1,{silent.getsockname()[1]}",
                                              files=[m1], timeout_ms=1000)
        took = time.monotonic() - started
        assert code == 1, out
        assert results[0][2:6] == ["temporary", "0", "4.4.2", "greeting"], out
        assert "timed out while waiting for the reply to greeting" in out, out
        assert any("unreachable.test" in l and "failed" in l for l in transcript), transcript
        assert 0.9 < took < 10, took
    finally:
        silent.close()

    # -- (4) no credentials in the clear --------------------------------------------
    password = "s3cret-pass-word"
    pwfile = message_file(work, "password", password.encode() + b"\n")
    cport = boxtest.free_port()
    captured, stop = [], threading.Event()
    th = threading.Thread(target=capture_server, args=(cport, captured, stop), daemon=True)
    th.start()
    boxtest.poll(lambda: port_open(cport), what="capture server")
    try:
        for policy in ("none", "opportunistic"):
            code, results, transcript, out = send("--target", f"capture.test,127.0.0.1,{cport}", "--tls", policy,
                                                  "--auth-user", "alice", "--auth-password-file", pwfile,
                                                  files=[m1])
            assert code == 1, out
            assert results[0][2:6] == ["temporary", "0", "4.7.10", "AUTH"], out
    finally:
        stop.set()
        th.join(timeout=5)
    seen = b"".join(captured)
    assert b"EHLO" in seen, seen
    secrets = [password.encode(), base64.b64encode(b"\0alice\0" + password.encode()),
               base64.b64encode(password.encode()), b"AUTH"]
    for s in secrets:
        assert s not in seen, (s, seen)

    # -- (5) boxmaild as smarthost: STARTTLS, AUTH PLAIN, pinned certificate ---------
    config = {"server": {"plaintext_login_networks": ""},
              "smtp": {"accept_domains": "example.com", "max_message_size": "2k"}}
    with boxtest.Box(config=config) as box:
        box.start()
        pin = tlstest.fingerprint_of_pem(boxtest.read(box.cert))
        alice_pw = message_file(work, "alice-pw", b"pw-alice\n")
        eight = (b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: smarthost\r\n"
                 b"Content-Type: text/plain; charset=utf-8\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n.hidden dot\r\n.\r\nend\r\n")
        m3 = message_file(work, "m3.eml", eight)
        auth = ["--auth-user", "alice", "--auth-password-file", alice_pw]
        code, results, transcript, out = send("--target", f"mx.test.example,127.0.0.1,{box.submission_port}",
                                              "--tls", "required", "--pin", pin, *auth, files=[m3],
                                              to=("bob@example.com",))
        assert code == 0, out
        assert results[0][2:4] == ["accepted", "250"], out
        assert re.search(r"^tls yes TLSv1\.2 TLS-ECDHE-", out, re.M), out
        assert "C: AUTH PLAIN <credentials hidden>" in transcript, transcript
        assert "S: 235 2.7.0 Authentication successful" in transcript, transcript
        i_tls = next(i for i, l in enumerate(transcript) if l.startswith("-- TLS: "))
        i_auth = transcript.index("C: AUTH PLAIN <credentials hidden>")
        assert i_tls < i_auth, transcript
        msgs = box.wait_messages("bob", 1)
        assert len(msgs) == 1, msgs
        _, original = boxtest.split_stored(boxtest.read(msgs[0]))
        assert original == eight.replace(b"\r\n", b"\n"), (original, eight)

        # The CA check: the box's self-signed certificate as the CA, its host name.
        code, results, transcript, out = send("--target", f"mx.test.example,127.0.0.1,{box.submission_port}",
                                              "--tls", "required", "--ca", box.cert, *auth, files=[m2],
                                              to=("bob@example.com",))
        assert code == 0, out
        # A wrong host name, and a wrong pin: the handshake fails, nothing is sent.
        wrong_pin = "00" * 32
        for extra, host in ((["--ca", box.cert], "other.example"), (["--pin", wrong_pin], "mx.test.example")):
            code, results, transcript, out = send("--target", f"{host},127.0.0.1,{box.submission_port}",
                                                  "--tls", "required", *extra, *auth, files=[m2],
                                                  to=("bob@example.com",))
            assert code == 1, out
            assert results[0][2:6] == ["temporary", "0", "4.7.5", "TLS"], out
            assert not any(l.startswith("C: AUTH") or l.startswith("C: MAIL") for l in transcript), transcript
            assert any("TLS handshake failed" in l for l in transcript), transcript
        # Implicit TLS (465-style).
        code, results, transcript, out = send("--target", f"mx.test.example,127.0.0.1,{box.submissions_port}",
                                              "--implicit-tls", "--pin", pin, *auth, files=[m2],
                                              to=("bob@example.com",))
        assert code == 0, out
        assert not any(l == "C: STARTTLS" for l in transcript), transcript
        assert len(box.wait_messages("bob", 3)) == 3

        # -- (6) SIZE -------------------------------------------------------------------
        big = message_file(work, "big.eml", b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * 40)
        code, results, transcript, out = send("--target", f"mx.test.example,127.0.0.1,{box.port}",
                                              "--tls", "none", files=[big, m2], to=("bob@example.com",),
                                              sender="someone@remote.example")
        assert results[0][2:6] == ["permanent", "0", "5.3.4", "MAIL"], out
        assert results[1][2] == "accepted", out
        mails = [l for l in transcript if l.startswith("C: MAIL")]
        assert mails == [f"C: MAIL FROM:<someone@remote.example> SIZE={os.path.getsize(m2)}"], transcript
        assert "S: 250-SIZE 2048" in transcript, transcript


if __name__ == "__main__":
    boxtest.run(main)
