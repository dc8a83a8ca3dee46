"""t-37-smtp-tls: STARTTLS, implicit TLS, SMTP AUTH and submission with real
clients (issue 9). The box runs as shipped for logins: plaintext logins
allowed from no network ([server] plaintext_login_networks empty).

  (1) Before TLS the feed port offers STARTTLS and no AUTH; AUTH there is
      answered 538 5.7.11 and no password is checked.
  (2) The command-injection attack (CVE-2011-0411): "STARTTLS\\r\\nRSET\\r\\n"
      in one packet; after the handshake nothing is answered for the RSET
      (it was sent in the clear and is dropped), and EHLO works.
  (3) smtplib: starttls() verifying the box's certificate, login() (PLAIN
      and LOGIN), sendmail() from the user's own address to a local user;
      the stored message says "with ESMTPSA" and names the cipher.
  (4) A wrong password and an unknown user get identical replies (535 5.7.8).
  (5) Submission (587-style, STARTTLS): MAIL before AUTH is 530 5.7.0; a
      sender that is not the user's is 553 5.7.1; a recipient at another
      domain is 550 5.7.1 ("no outgoing mail route is configured":
      outgoing mail is a later issue); an alias of the user is a valid
      sender.
  (6) Implicit TLS (465-style): smtplib.SMTP_SSL, openssl s_client, curl
      smtps://, swaks --tlsc; a client that speaks plain SMTP there gets no
      greeting.
  (7) swaks --tls --auth PLAIN and LOGIN, curl --ssl-reqd smtp://, msmtp
      with the certificate's fingerprint: each delivers.
  (8) One failed-login budget per address for every protocol: after
      [server] login_failures_per_address failed SMTP AUTHs from 127.0.0.5,
      the right password from there gets 454 4.7.0 over SMTP and is refused
      over POP3S too, while 127.0.0.6 still logs in.
"""
import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import tlstest  # noqa: E402

HOST = "mx.test.example"


def verified_context(box):
    """Trusts the box's own (self-signed) certificate. The host name is not
    checked here because smtplib names the server by the address it
    connected to (127.0.0.1); the certificate itself must verify. Host-name
    checks are done by curl below (--resolve)."""
    ctx = ssl.create_default_context(cafile=box.cert)
    ctx.check_hostname = False
    return ctx


def message(sender, rcpt, subject):
    return (f"From: {sender}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n").encode()


def stored_with(box, user, subject):
    """The stored message with SUBJECT in USER's Maildir/new, or None."""
    for path in box.messages(user):
        data = boxtest.read(path)
        if f"Subject: {subject}\r\n".encode() in data or f"Subject: {subject}\n".encode() in data:
            return data
    return None


def wait_stored(box, user, subject, timeout=10):
    return boxtest.poll(lambda: stored_with(box, user, subject), timeout=timeout,
                        what=f"'{subject}' in {user}'s mailbox")


def main():
    config = {"server": {"plaintext_login_networks": ""},
              "smtp": {"accept_domains": "example.com", "max_errors": "50"},
              "aliases": {"sales": "alice, bob", "info": "bob"}}
    with boxtest.Box(config=config) as box:
        box.start()
        ctx = verified_context(box)

        # -- (1) before TLS -------------------------------------------------------
        lines = box.ehlo_lines()
        assert "STARTTLS" in lines and not any(l.startswith("AUTH") for l in lines), lines
        d = box.dialogue()
        d.hello()
        d.send("AUTH PLAIN AGFsaWNlAHB3LWFsaWNl")   # \0alice\0pw-alice
        d.expect(538, "5.7.11")
        d.send("QUIT")
        d.expect(221)
        d.close()
        assert "failed login" not in box.log()

        # -- (2) the injection attack ----------------------------------------------
        s = socket.create_connection(("127.0.0.1", box.port), timeout=10)
        f = s.makefile("rb")
        assert f.readline().startswith(b"220")
        s.sendall(b"EHLO attacker.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"STARTTLS\r\nRSET\r\n")   # one packet
        assert f.readline().startswith(b"220 2.0.0"), "no 220 for STARTTLS"
        tls = ctx.wrap_socket(s, server_hostname=HOST)
        tls.settimeout(1.5)
        try:
            early = tls.recv(1024)
        except (socket.timeout, TimeoutError):
            early = b""
        assert early == b"", f"something was answered inside TLS for the plaintext RSET: {early!r}"
        tls.settimeout(10)
        tls.sendall(b"EHLO attacker.example\r\n")
        got = b""
        while not re.search(rb"^250 ", got, re.M):
            chunk = tls.recv(4096)
            assert chunk, got
            got += chunk
        assert b"250-AUTH PLAIN LOGIN" in got and b"STARTTLS" not in got, got
        tls.close()

        # -- (3) smtplib STARTTLS + AUTH on the feed port ---------------------------
        for mech in ("PLAIN", "LOGIN"):
            with smtplib.SMTP("127.0.0.1", box.port, timeout=20) as c:
                c.starttls(context=ctx)
                c.ehlo("client.example")
                assert c.has_extn("auth")
                c.user, c.password = "alice", "pw-alice"
                code, _ = c.auth(mech, getattr(c, "auth_" + mech.lower()))
                assert code == 235, code
                c.sendmail("alice@example.com", ["bob@example.com"], message("alice@example.com", "bob@example.com",
                                                                           f"feed {mech}"))
        data = wait_stored(box, "bob", "feed PLAIN")
        assert b"with ESMTPSA id" in data and b"(using TLSv1.2 TLS-ECDHE-" in data, data[:600]

        # -- (4) one reply for every failure ------------------------------------------
        replies = []
        for user, pw in (("alice", "wrong"), ("nosuchuser", "wrong"), ("alice", "")):
            with smtplib.SMTP("127.0.0.1", box.submission_port, timeout=20) as c:
                c.starttls(context=ctx)
                try:
                    c.login(user, pw or "x" * 3)
                    raise AssertionError("login succeeded")
                except smtplib.SMTPAuthenticationError as e:
                    replies.append((e.smtp_code, e.smtp_error))
        assert replies[0] == replies[1] == replies[2] == (535, b"5.7.8 Error: authentication failed"), replies

        # -- (5) submission rules ---------------------------------------------------
        with smtplib.SMTP("127.0.0.1", box.submission_port, timeout=20) as c:
            c.starttls(context=ctx)
            c.ehlo("client.example")
            code, msg = c.mail("alice@example.com")
            assert (code, msg) == (530, b"5.7.0 Authentication required"), (code, msg)
            c.rset()
            c.login("alice", "pw-alice")
            code, msg = c.mail("bob@example.com")
            assert code == 553 and msg.startswith(b"5.7.1 Sender address rejected"), (code, msg)
            code, msg = c.mail("sales@example.com")   # an alias that reaches alice
            assert code == 250, (code, msg)
            code, msg = c.rcpt("friend@elsewhere.example")
            assert code == 550 and b"5.7.1" in msg and b"no outgoing mail route is configured" in msg, msg
            code, msg = c.rcpt("bob@example.com")
            assert code == 250, msg
            code, msg = c.data(message("sales@example.com", "bob@example.com", "submission"))
            assert code == 250, msg
        wait_stored(box, "bob", "submission")

        # -- (6) implicit TLS --------------------------------------------------------
        with smtplib.SMTP_SSL("127.0.0.1", box.submissions_port, context=ctx, timeout=20) as c:
            c.login("bob", "pw-bob")
            c.sendmail("bob@example.com", ["alice@example.com"], message("bob@example.com", "alice@example.com",
                                                                          "implicit"))
        wait_stored(box, "alice", "implicit")
        fp, out = tlstest.served(box.submissions_port)
        assert fp == tlstest.fingerprint_of_pem(open(box.cert, "rb").read()), out
        assert "220 mx.test.example ESMTP" in out or "TLSv1.2" in out, out
        # A plain-text client gets no greeting on the TLS port.
        s = socket.create_connection(("127.0.0.1", box.submissions_port), timeout=5)
        s.settimeout(2)
        try:
            got = s.recv(100)
        except (socket.timeout, TimeoutError):
            got = b""
        assert not got.startswith(b"220"), got
        s.close()

        # -- (7) more real clients ------------------------------------------------------
        resolve = ["--resolve", f"{HOST}:{box.submission_port}:127.0.0.1",
                   "--resolve", f"{HOST}:{box.submissions_port}:127.0.0.1"]
        with tempfile.NamedTemporaryFile("wb", suffix=".eml", delete=False) as m:
            m.write(message("alice@example.com", "bob@example.com", "curl starttls"))
        p = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", box.cert, *resolve,
                            f"smtp://{HOST}:{box.submission_port}", "--user", "alice:pw-alice",
                            "--mail-from", "alice@example.com", "--mail-rcpt", "bob@example.com",
                            "--upload-file", m.name], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        wait_stored(box, "bob", "curl starttls")
        with open(m.name, "wb") as mf:
            mf.write(message("alice@example.com", "bob@example.com", "curl smtps"))
        p = subprocess.run(["curl", "-sS", "--cacert", box.cert, *resolve,
                            f"smtps://{HOST}:{box.submissions_port}", "--user", "alice:pw-alice",
                            "--mail-from", "alice@example.com", "--mail-rcpt", "bob@example.com",
                            "--upload-file", m.name], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        wait_stored(box, "bob", "curl smtps")
        # curl refuses a server whose certificate does not match the name.
        p = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", box.cert, "--resolve",
                            f"wrong.example:{box.submission_port}:127.0.0.1",
                            f"smtp://wrong.example:{box.submission_port}", "--user", "alice:pw-alice",
                            "--mail-from", "alice@example.com", "--mail-rcpt", "bob@example.com",
                            "--upload-file", m.name], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0, "curl accepted a certificate for another name"
        os.unlink(m.name)

        for mech, port, tls_opt in (("PLAIN", box.submission_port, "--tls"), ("LOGIN", box.submission_port, "--tls"),
                                    ("PLAIN", box.submissions_port, "--tlsc")):
            subject = f"swaks {mech} {tls_opt}"
            p = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", tls_opt, "--auth", mech,
                                "--auth-user", "bob", "--auth-password", "pw-bob", "--from", "bob@example.com",
                                "--to", "alice@example.com", "--header", f"Subject: {subject}",
                                "--body", "from swaks"], capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stdout + p.stderr
            wait_stored(box, "alice", subject)

        fingerprint = tlstest.fingerprint_of_pem(open(box.cert, "rb").read())
        with tempfile.TemporaryDirectory() as t:
            rc = os.path.join(t, "msmtprc")
            with open(rc, "w") as f:
                f.write(f"account box\nhost 127.0.0.1\nport {box.submission_port}\ntls on\ntls_starttls on\n"
                        f"tls_fingerprint {fingerprint}\nauth on\nuser alice\npassword pw-alice\n"
                        f"from alice@example.com\nlogfile {t}/log\naccount default : box\n")
            os.chmod(rc, 0o600)
            p = subprocess.run(["msmtp", "-C", rc, "bob@example.com"],
                               input=message("alice@example.com", "bob@example.com", "msmtp"),
                               capture_output=True, timeout=60)
            assert p.returncode == 0, p.stderr
        wait_stored(box, "bob", "msmtp")
        assert box.stop() == 0

    # -- (8) one failed-login budget per address, shared by SMTP and POP3 --------
    config["server"].update({"login_failures_per_address": "3", "login_failure_window": "10m"})
    config["pop3"] = {"login_delay": "0"}
    with boxtest.Box(config=config) as box:
        box.start()
        ctx = verified_context(box)

        def smtp_login(source, password):
            c = smtplib.SMTP("127.0.0.1", box.submission_port, timeout=20, source_address=(source, 0))
            try:
                c.starttls(context=ctx)
                c.ehlo("client.example")
                # One AUTH PLAIN (login() would go on to LOGIN after a failure).
                c.user, c.password = "alice", password
                return c.auth("PLAIN", c.auth_plain)
            except smtplib.SMTPAuthenticationError as e:
                return e.smtp_code, e.smtp_error
            finally:
                c.close()

        for _ in range(3):
            r = smtp_login("127.0.0.5", "wrong")
            assert r[0] == 535, r
        code, msg = smtp_login("127.0.0.5", "pw-alice")
        assert (code, msg) == (454, b"4.7.0 Temporary authentication failure, try again later"), (code, msg)
        # POP3S from the same address (poplib cannot bind a source address).
        raw = socket.create_connection(("127.0.0.1", box.pop3s_port), timeout=20, source_address=("127.0.0.5", 0))
        with ctx.wrap_socket(raw, server_hostname=HOST) as t:
            f = t.makefile("rb")
            assert f.readline().startswith(b"+OK")
            t.sendall(b"USER alice\r\n")
            assert f.readline().startswith(b"+OK")
            t.sendall(b"PASS pw-alice\r\n")
            answer = f.readline()
            assert answer.startswith(b"-ERR"), answer
        assert smtp_login("127.0.0.6", "pw-alice")[0] == 235
        assert "smtp: client=127.0.0.5 3 failed login(s) from this address" in box.log(), box.log()
        assert box.stop() == 0


if __name__ == "__main__":
    boxtest.run(main)
