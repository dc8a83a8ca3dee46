"""t-26-pop3-guesser: a POP3 password guesser is stopped per address (issue 8).

The attack on the old code: 24 wrong passwords from one address in 6 s,
then the right one still logged in (the per-address failure count was only
logged).

Config: [server] login_failures_per_address = 10, login_failure_window =
WINDOW s (short, for the test); [pop3] login_delay = 0, login_failures = 100
(the per-session budget out of the way).

Client sends / server replies:
  from 127.0.0.1: 24 x (USER alice, PASS wrong-N): the first 10 get
    -ERR [AUTH] Authentication failed, the rest
    -ERR [SYS/TEMP] Too many failed logins from your address; try again later
    (refused before any hashing; SYS/TEMP per RFC 3206: temporary and not
    about these credentials, so a mail client keeps the password)
  from 127.0.0.1, a new connection: the right password (USER/PASS and AUTH
    PLAIN) -> the same -ERR [SYS/TEMP]: not let through
  from 127.0.0.2 meanwhile: the right password -> +OK Logged in
  from 127.0.0.3: a 300-octet password -> -ERR [AUTH] Authentication failed,
    and the log says it was refused for its length (nothing hashed)
  from 127.0.0.1, once WINDOW s have passed since its last failure: the
    right password -> +OK Logged in.
  from 127.0.0.4: five clients send USER/PASS and close at once (their
    checks finish after they are gone); then alice logs in from 127.0.0.5.
The wait for the window is the behaviour under test (a time bound), not a
speed check; the poll allows WINDOW + 20 s.
"""
import base64
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

WINDOW = 8
LIMIT = 10
AUTH_FAILED = "-ERR [AUTH] Authentication failed"
BLOCKED = "-ERR [SYS/TEMP] Too many failed logins from your address; try again later"


def try_login(box, password, source=None, plain=False):
    """One login attempt on a new connection; returns the reply line."""
    d = box.pop3_dialogue(source=source)
    try:
        d.expect("+OK")
        if plain:
            d.send("AUTH PLAIN " + base64.b64encode(b"\0alice\0" + password.encode()).decode())
        else:
            d.send("USER alice")
            d.expect("+OK Send PASS", exact=True)
            d.send("PASS " + password)
        reply = d.line()
        d.send("QUIT")
        d.line()
        return reply
    finally:
        d.close()


def main():
    cfg = {"server": {"login_failures_per_address": str(LIMIT), "login_failure_window": str(WINDOW)},
           "pop3": {"login_delay": "0", "login_failures": "100"}}
    with boxtest.Box(config=cfg) as box:
        box.start()

        # -- the guesser: 24 wrong passwords from one address ------------------
        d = box.pop3_dialogue()
        d.expect("+OK")
        replies = []
        for n in range(24):
            d.send("USER alice")
            d.expect("+OK Send PASS", exact=True)
            d.send(f"PASS wrong-{n}")
            replies.append(d.line())
        last_failure = time.monotonic()
        d.close()
        assert replies[:LIMIT] == [AUTH_FAILED] * LIMIT, replies
        assert replies[LIMIT:] == [BLOCKED] * (24 - LIMIT), replies
        box.wait_log(r"pop3: client=127\.0\.0\.1 10 failed login\(s\) from this address")
        assert "11 failed login" not in box.log(), "refused attempts must not be counted or hashed"

        # -- the right password from the guesser's address is refused ------------
        assert try_login(box, "pw-alice") == BLOCKED
        assert try_login(box, "pw-alice", plain=True) == BLOCKED
        box.wait_log(r"pop3: client=127\.0\.0\.1 login failed: user=alice refused unchecked: "
                     r"too many failed logins from this address")

        # -- ... while another address logs in ---------------------------------------
        assert try_login(box, "pw-alice", source="127.0.0.2").startswith("+OK Logged in"), \
            "the right password from another address must work"

        # -- an over-long password is refused before hashing -------------------------
        long_pw = "x" * 300
        assert try_login(box, long_pw, source="127.0.0.3") == AUTH_FAILED
        box.wait_log(r"pop3: client=127\.0\.0\.3 login failed: user=alice password over 256 octets")

        # -- the window passes: the right password works again -----------------------
        assert time.monotonic() - last_failure < WINDOW, "test too slow for its window; raise WINDOW"
        assert try_login(box, "pw-alice") == BLOCKED
        reply = boxtest.poll(lambda: (r := try_login(box, "pw-alice")) != BLOCKED and r,
                             timeout=WINDOW + 20, what="the block to end")
        assert reply.startswith("+OK Logged in"), reply
        waited = time.monotonic() - last_failure
        assert waited >= WINDOW - 1, f"the block ended after {waited:.1f} s, before the window"

        # -- clients that leave while their password is being checked ----------------
        # The result of the check reaches no session that is gone; nothing
        # stays locked, and the daemon serves on.
        for n in range(5):
            c = box.pop3_dialogue(source="127.0.0.4")
            c.expect("+OK")
            c.send("USER alice\r\nPASS " + ("pw-alice" if n % 2 else "wrong"), raw=False)
            c.close()
        reply = boxtest.poll(lambda: (r := try_login(box, "pw-alice", source="127.0.0.5"))
                             .startswith("+OK Logged in") and r, timeout=20, what="the mailbox to be free")
        assert box.proc.poll() is None, "boxmaild died"


if __name__ == "__main__":
    boxtest.run(main)
