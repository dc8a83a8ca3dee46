"""t-46-auto-ban: who gets banned (issue 11; net/abuse_score.hpp,
docs/abuse.md "The auto-ban"), inside the test's private network namespace
(tests/netns-run: a real nf_tables ruleset, never the host's).

Box with [firewall] enabled, allow = 127.0.0.1, limits shortened:
ban_after_login_failures 3, ban_after_relay_attempts 2,
ban_after_unknown_recipients 4, ban_time 4 s, ban_time_max 60 s.

  (1) Failed POP3 logins from 127.0.0.5 (USER/PASS over a socket bound to
      it): after the third, the log says "auto-ban: client=127.0.0.5
      reason=login for 4 s", 127.0.0.5 is in banned4, a new POP3 and SMTP
      connection from it get nothing while 127.0.0.2 gets its greetings.
      The ban expires: 127.0.0.5 is greeted again. Three more failures: the
      second ban lasts twice as long (8 s, "earlier bans: 1").
  (2) The allow-listed 127.0.0.1 fails ten logins: never banned (the set
      stays without it, it is still greeted; the throttle of its logins is
      another matter).
  (3) An outside client (127.0.0.6) asks to relay twice (RCPT to another
      domain): banned with reason relay.
  (4) Directory harvesting from 127.0.0.7 (RCPTs to unknown users): banned
      with reason harvest after the fourth.
  (5) Mixed offences add up: 127.0.0.8 fails 2 of 3 logins and asks to
      relay once (2/3 + 1/2 >= 1): banned, reason login.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from fwtest import banned4, greets  # noqa: E402

FW = os.path.join(boxtest.BUILD, "boxmail-fw")


def failed_login(box, source):
    """One POP3 session from SOURCE with a wrong password (-ERR)."""
    d = boxtest.Pop3Dialogue(box.pop3_port, source=source)
    try:
        d.expect("+OK")
        d.send("USER alice")
        d.expect("+OK")
        d.send("PASS wrong")
        d.expect("-ERR")
        d.send("QUIT")
    finally:
        d.close()


def rcpts(box, source, addresses):
    """One SMTP session from SOURCE: MAIL, then RCPT TO each address; the codes."""
    d = boxtest.Dialogue(box.port, source=source)
    codes = []
    try:
        d.hello("client.test")
        d.send("MAIL FROM:<someone@client.test>")
        d.expect(250)
        for a in addresses:
            d.send(f"RCPT TO:<{a}>")
            codes.append(d.reply()[0])
        d.send("QUIT")
    finally:
        d.close()
    return codes


def main():
    config = {
        "server": {"plaintext_login_networks": "127.0.0.0/8", "login_failures_per_address": "100"},
        "pop3": {"login_delay": "0"},
        "smtp": {"accept_domains": "own.test"},
        "firewall": {"enabled": "yes", "program": FW, "allow": "127.0.0.1",
                     "ban_after_login_failures": "3", "ban_after_relay_attempts": "2",
                     "ban_after_unknown_recipients": "4", "ban_time": "4", "ban_time_max": "60"},
    }
    with boxtest.Box(name="t46", config=config) as box:
        try:
            box.start()
            box.wait_log(r"firewall: applied")
            # (1)
            for i in range(2):
                failed_login(box, "127.0.0.5")
            assert banned4() == [], "banned before the limit"
            failed_login(box, "127.0.0.5")
            box.wait_log(r"auto-ban: client=127\.0\.0\.5 reason=login for 4 s")
            boxtest.poll(lambda: banned4() == ["127.0.0.5"], what="127.0.0.5 in banned4")
            assert not greets(box.pop3_port, "127.0.0.5")
            assert not greets(box.port, "127.0.0.5")
            assert greets(box.pop3_port, "127.0.0.2", b"+OK") and greets(box.port, "127.0.0.2", b"220")
            print("ok (1) three failed POP3 logins from 127.0.0.5: banned 4 s, dropped on POP3 and SMTP; "
                  "127.0.0.2 greeted")
            boxtest.poll(lambda: greets(box.pop3_port, "127.0.0.5", b"+OK", timeout=0.5), timeout=15,
                         what="127.0.0.5 greeted again after the ban")
            for i in range(3):
                failed_login(box, "127.0.0.5")
            box.wait_log(r"auto-ban: client=127\.0\.0\.5 reason=login for 8 s \(earlier bans: 1\)")
            boxtest.poll(lambda: "127.0.0.5" in banned4(), what="127.0.0.5 banned again")
            print("ok (1) the ban expired; three more failures: 8 s (a repeat offender's ban doubles)")

            # (2)
            for i in range(10):
                failed_login(box, "127.0.0.1")
            time.sleep(0.5)
            assert "127.0.0.1" not in banned4(), banned4()
            assert "auto-ban: client=127.0.0.1 " not in box.log()
            assert greets(box.pop3_port, "127.0.0.1", b"+OK")
            print("ok (2) ten failed logins from the allow-listed 127.0.0.1: never banned")

            # (3)
            codes = rcpts(box, "127.0.0.6", ["x@elsewhere.test", "y@elsewhere.test"])
            assert codes == [550, 550], codes
            box.wait_log(r"auto-ban: client=127\.0\.0\.6 reason=relay for 4 s")
            boxtest.poll(lambda: "127.0.0.6" in banned4(), what="127.0.0.6 banned")
            assert not greets(box.port, "127.0.0.6")
            print("ok (3) two relay attempts from 127.0.0.6: banned (relay)")

            # (4)
            codes = rcpts(box, "127.0.0.7", [f"nobody{i}@own.test" for i in range(4)])
            assert codes == [550] * 4, codes
            box.wait_log(r"auto-ban: client=127\.0\.0\.7 reason=harvest")
            boxtest.poll(lambda: "127.0.0.7" in banned4(), what="127.0.0.7 banned")
            print("ok (4) four RCPTs to unknown users from 127.0.0.7: banned (harvest)")

            # (5)
            failed_login(box, "127.0.0.8")
            failed_login(box, "127.0.0.8")
            assert "127.0.0.8" not in banned4()
            rcpts(box, "127.0.0.8", ["x@elsewhere.test"])
            box.wait_log(r"auto-ban: client=127\.0\.0\.8 reason=login")
            boxtest.poll(lambda: "127.0.0.8" in banned4(), what="127.0.0.8 banned")
            print("ok (5) 2 of 3 failed logins and 1 of 2 relay attempts from 127.0.0.8 add up: banned (login)")
            listing = box.ctl("bans").stdout
            for a in ("127.0.0.6", "127.0.0.7", "127.0.0.8"):
                assert a in listing, listing
        except BaseException:
            sys.stderr.write("---- boxmaild log ----\n" + box.log()[-6000:] + "\n")
            raise


if __name__ == "__main__":
    boxtest.run(main)
