"""t-21-pop3-dialogue: raw POP3 dialogues with exact replies.

Client sends / server replies, written out:
  greeting, CAPA (RFC 2449 list), USER/PASS, name@domain login, AUTH PLAIN
  with an initial response and after "+ ", AUTH cancelled with "*";
  the same -ERR [AUTH] for an unknown mailbox and a wrong password (no user
  enumeration), each answered only after login_delay; the connection
  closed at the login_failures budget; failures counted per address in the
  log; POP3 turned off for a mailbox (boxmailctl user pop3 bob off) ->
  -ERR [AUTH] ... disabled, back on -> login works; a second session on a
  mailbox -> -ERR [IN-USE]; unknown commands and the error budget; HTTP
  refused; an over-long line; STLS with an argument (t-35 covers TLS); the per-address
  connection limit; SIGTERM -> -ERR [SYS/TEMP] Server shutting down.
(The idle timeout, at least 10 minutes by RFC 1939, is tested in
tests/unit/pop3_session_test.cpp with injected time.)
"""
import base64
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

GREETING = "+OK mx.test.example POP3 boxmail ready"
# USER and SASL PLAIN: the harness lets loopback log in without TLS
# ([server] plaintext_login_networks); STLS: a certificate is loaded.
CAPA = ["+OK Capability list follows", "CAPA", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE",
        "PIPELINING", "USER", "SASL PLAIN", "STLS", "IMPLEMENTATION boxmail", "."]
AUTH_FAILED = "-ERR [AUTH] Authentication failed"


def b64(s):
    return base64.b64encode(s.encode()).decode()


def main():
    cfg = {"pop3": {"login_delay": "1", "login_failures": "3", "max_errors": "5",
                    "max_connections_per_ip": "4"}}
    with boxtest.Box(config=cfg, users=("alice", "bob", "carol")) as box:
        box.start()
        box.deliver("alice@example.com", b"Subject: hi\n\nhello\n")

        # -- greeting, CAPA, USER/PASS, STAT, QUIT -----------------------------
        d = box.pop3_dialogue()
        d.expect(GREETING, exact=True)
        d.send("CAPA")
        got = [d.line() for _ in CAPA]
        assert got == CAPA, got
        d.send("STAT")
        d.expect("-ERR Command not valid in this state", exact=True)
        d.send("USER alice@Example.COM")
        d.expect("+OK Send PASS", exact=True)
        d.send("PASS pw-alice")
        d.expect("+OK Logged in: 1 message (", exact=False)
        d.send("STAT")
        w = boxtest.maildir_sizes(box.messages("alice")[0])[1]
        d.expect(f"+OK 1 {w}", exact=True)
        d.send("LIST 1")
        d.expect(f"+OK 1 {w}", exact=True)
        d.send("LIST 2")
        d.expect("-ERR No such message", exact=True)

        # -- a second session on the same mailbox: [IN-USE] ----------------------
        d2 = box.pop3_dialogue()
        d2.expect(GREETING, exact=True)
        d2.send("USER alice")
        d2.expect("+OK Send PASS", exact=True)
        d2.send("PASS pw-alice")
        d2.expect("-ERR [IN-USE] Mailbox is in use by another POP3 session", exact=True)
        d.send("QUIT")
        d.expect("+OK Logging out (1 message left)", exact=True)
        assert d.closed()
        d2.send("USER alice")
        d2.expect("+OK Send PASS", exact=True)
        d2.send("PASS pw-alice")
        d2.expect("+OK Logged in: 1 message", exact=False)
        d2.send("QUIT")
        d2.expect("+OK Logging out (1 message left)", exact=True)
        d2.close()

        # -- AUTH PLAIN ---------------------------------------------------------------
        d = box.pop3_dialogue()
        d.expect("+OK")
        d.send("AUTH")
        assert [d.line() for _ in range(3)] == ["+OK SASL mechanisms follow", "PLAIN", "."]
        d.send("AUTH PLAIN")
        d.expect("+ ", exact=True)
        d.send("*")
        d.expect("-ERR Authentication cancelled", exact=True)
        d.send("AUTH PLAIN")
        d.expect("+ ", exact=True)
        d.send(b64("\0bob@example.com\0pw-bob"))
        d.expect("+OK Logged in: 0 messages (0 octets)", exact=True)
        d.send("QUIT")
        d.expect("+OK Logging out (0 messages left)", exact=True)
        d.close()
        d = box.pop3_dialogue()
        d.expect("+OK")
        d.send("AUTH PLAIN " + b64("alice\0alice\0pw-alice"))
        d.expect("+OK Logged in: 1 message", exact=False)
        d.send("QUIT")
        d.expect("+OK Logging out")
        d.close()

        # -- failed logins: same reply, delayed, budget of 3, per-address count ----
        log_start = len(box.log())
        d = box.pop3_dialogue()
        d.expect("+OK")
        replies, delays = [], []
        for user, pw in (("nosuchuser", "pw-alice"), ("alice", "wrong")):
            d.send("USER " + user)
            d.expect("+OK Send PASS", exact=True)
            t0 = time.monotonic()
            d.send("PASS " + pw)
            replies.append(d.line())
            delays.append(time.monotonic() - t0)
        t0 = time.monotonic()
        d.send("AUTH PLAIN " + b64("\0alice\0also-wrong"))
        replies.append(d.line())
        delays.append(time.monotonic() - t0)
        assert replies == [AUTH_FAILED, AUTH_FAILED,
                           "-ERR [AUTH] Authentication failed; too many failures, closing"], replies
        assert all(x >= 0.9 for x in delays), f"failed logins not delayed: {delays}"
        assert d.closed(), "not closed after the login failure budget"
        box.wait_log(r"pop3: client=127\.0\.0\.1 3 failed login\(s\) from this address", start=log_start)
        assert "user=nosuchuser" in box.log()[log_start:]

        # -- POP3 turned off for a mailbox ----------------------------------------------
        box.ctl("user", "pop3", "carol", "off")
        d = box.pop3_dialogue()
        d.expect("+OK")
        d.send("USER carol")
        d.expect("+OK Send PASS", exact=True)
        d.send("PASS wrong")
        d.expect(AUTH_FAILED, exact=True)   # a wrong password says nothing more
        d.send("USER carol")
        d.expect("+OK Send PASS", exact=True)
        d.send("PASS pw-carol")
        d.expect("-ERR [AUTH] POP3 access is disabled for this mailbox", exact=True)
        d.close()
        box.ctl("user", "pop3", "carol", "on")
        d = box.pop3_dialogue()
        d.login("carol", "pw-carol")
        d.send("QUIT")
        d.expect("+OK Logging out")
        d.close()

        # -- errors: unknown command, syntax, line too long, budget ---------------------
        d = box.pop3_dialogue()
        d.login("alice", "pw-alice")
        d.send("XYZZY")
        d.expect("-ERR Unknown command", exact=True)
        d.send("RETR one")
        d.expect("-ERR Syntax: RETR msg", exact=True)
        d.send("TOP 1")
        d.expect("-ERR Syntax: TOP msg n", exact=True)
        d.send("NOOP " + "x" * 600)
        d.expect("-ERR Line too long", exact=True)
        d.send("NOOP")
        d.expect("+OK", exact=True)
        d.send("STLS")
        d.expect("-ERR Command not valid in this state", exact=True)
        d.expect("-ERR Too many errors, closing", exact=True)
        assert d.closed()
        # the session ended without QUIT: nothing changed, lock released
        d = box.pop3_dialogue()
        d.login("alice", "pw-alice")
        d.send("QUIT")
        d.expect("+OK Logging out (1 message left)", exact=True)
        d.close()

        d = box.pop3_dialogue()
        d.expect("+OK")
        d.send("STLS now")
        d.expect("-ERR Syntax: STLS", exact=True)
        d.send("GET / HTTP/1.1")
        d.expect("-ERR This is a POP3 server, not HTTP; closing", exact=True)
        assert d.closed()

        # -- pipelining: several commands in one write, replies in order ----------------
        d = box.pop3_dialogue()
        d.expect("+OK")
        d.send(b"USER alice\r\nPASS pw-alice\r\nSTAT\r\nNOOP\r\nQUIT\r\n", raw=True)
        d.expect("+OK Send PASS", exact=True)
        d.expect("+OK Logged in")
        d.expect("+OK 1 ")
        d.expect("+OK", exact=True)
        d.expect("+OK Logging out")
        assert d.closed()

        # -- connections per address: 4 allowed, the 5th refused ----------------------
        held = [box.pop3_dialogue() for _ in range(4)]
        for h in held:
            h.expect("+OK")
        extra = box.pop3_dialogue()
        extra.expect("-ERR [SYS/TEMP] Too many connections from your address", exact=True)
        assert extra.closed()
        for h in held:
            h.close()

        # -- shutdown: a session waiting for a command is told and closed --------------
        d = box.pop3_dialogue()
        d.login("alice", "pw-alice")
        d.send("DELE 1")
        d.expect("+OK Message 1 deleted", exact=True)
        time.sleep(0.2)
        box.signal(15)
        d.expect("-ERR [SYS/TEMP] Server shutting down", exact=True)
        assert d.closed()
        assert box.proc.wait(timeout=30) == 0
        assert len(box.delivered()["alice"]) == 1, "shutdown deleted a DELE-marked message"


if __name__ == "__main__":
    boxtest.run(main)
