"""t-27-forged-counter: the message counters cannot be forged by what a
client sends (issue 8).

The attack on the old counters, which re-parsed log lines: an SMTP client
sends five RCPTs whose quoted local-part holds ` result=accepted `; each is
refused (550 5.1.1 user unknown), but its log line then reads
`... rcpt=<" result=accepted "@example.com> refused: user unknown` and the
status page counted it as received mail.

Client sends / server replies:
  EHLO, MAIL FROM:<a@example.org> -> 250 2.1.0
  5 x RCPT TO:<" result=accepted "@example.com> -> 550 5.1.1
  DATA -> 554 5.5.1 (no valid recipients), QUIT -> 221
Then the control socket's `stats` (the lines the web panel's status page
shows: "today accepted=N refused=M" and one "hour ..." line per hour) says
0 accepted and 5 refused. One real message is delivered afterwards and
counts as 1 accepted, so the counters do count.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

FORGED = '" result=accepted "@example.com'


def stats(box):
    """The body lines of the control socket's `stats` reply."""
    lines = box.control("stats")
    assert lines[0] == "ok", lines[0]
    return lines[1:]


def counts(lines):
    """(accepted, refused) today, and summed over the hour lines."""
    def field(line, key):
        for tok in line.split():
            if tok.startswith(key + "="):
                return int(tok[len(key) + 1:])
        raise AssertionError(f"no {key}= in {line!r}")
    today = [l for l in lines if l.startswith("today ")]
    assert len(today) == 1, lines
    hours = [l for l in lines if l.startswith("hour ")]
    assert len(hours) == 24, lines
    return ((field(today[0], "accepted"), field(today[0], "refused")),
            (sum(field(h, "accepted") for h in hours), sum(field(h, "refused") for h in hours)))


def main():
    with boxtest.Box(config={"smtp": {"accept_domains": "example.com"}}) as box:
        box.start()
        d = box.dialogue()
        d.hello()
        d.send("MAIL FROM:<a@example.org>")
        d.expect(250, "2.1.0")
        for _ in range(5):
            d.send(f"RCPT TO:<{FORGED}>")
            d.expect(550, "5.1.1")
        d.send("DATA")
        d.expect(554, "5.5.1")
        d.send("QUIT")
        d.expect(221)
        d.close()
        # The log still tells a human what happened (with the client's text).
        box.wait_log(r'rcpt=<" result=accepted "@example\.com> refused: user unknown')
        today, hours = counts(stats(box))
        assert today == (0, 5), f"forged local-part moved the counters: today {today}"
        assert hours == (0, 5), f"forged local-part moved the hourly counters: {hours}"
        assert box.delivered() == {}, box.delivered()

        box.deliver("alice@example.com", b"Subject: real\n\nreal mail\n")
        today, hours = counts(stats(box))
        assert today == (1, 5), f"a real message is not counted: today {today}"
        assert hours == (1, 5), hours


if __name__ == "__main__":
    boxtest.run(main)
